/* SPDX-License-Identifier: MIT */
/*
 * The LED's D-Bus object (userspace/dbus/io.github.ipcbutton.Led.xml):
 * SetState(ay) for one frame, SetStates(aay) -> u for several, and the
 * State property. Every frame a call brings is queued in order
 * (lib/redelivery.h) for the transport's receive() to hand out one by
 * one; a call is answered only once the LED applied its last frame, so a
 * killed LED has answered nothing and the caller sends it again. Stopped
 * in the middle of a batch, the LED answers how many of it it applied, and
 * the caller sends only the rest again. The library never prints.
 */
#ifndef IPC_NET_DBUS_LED_H
#define IPC_NET_DBUS_LED_H

#include "redelivery.h"

#include <stdint.h>
#include <systemd/sd-bus.h>

#define NET_DBUS_LED_PATH		"/io/github/ipcbutton/Led"
#define NET_DBUS_LED_INTERFACE		"io.github.ipcbutton.Led"
#define NET_DBUS_LED_ERROR_INVALID	"io.github.ipcbutton.Led.Error.InvalidFrame"
/* Frames one SetStates call may carry; more, or none, is InvalidFrame. */
#define NET_DBUS_LED_BATCH_MAX		64

struct net_dbus_led {
	sd_bus *bus;
	struct redelivery calls;	/* cookie: the call that brought it */
	uint64_t *rejected;		/* calls refused whole are counted here */
	int led_state;			/* the State property: -1 unknown */
	int told_state;			/* as PropertiesChanged told it */
};

/* Frames refused whole (an empty or too large batch, wrong arguments)
 * are counted in *@rejected. */
void net_dbus_led_init(struct net_dbus_led *l, uint64_t *rejected);
/* Export the object on @bus (before requesting the name). 0 or -errno. */
int net_dbus_led_export(struct net_dbus_led *l, sd_bus *bus);
/*
 * The frame handed out last was applied: answer its call if it was the
 * call's last frame, and tell a changed State. 0 or a negative errno.
 */
int net_dbus_led_confirm(struct net_dbus_led *l);
/*
 * Closing: confirm the frame handed out last, and answer a call whose
 * frames were handed out in part with how many were. The other calls
 * stay unanswered: the bus tells their callers, who send them again.
 */
void net_dbus_led_stop(struct net_dbus_led *l);
/* Release every queued call. */
void net_dbus_led_free(struct net_dbus_led *l);

#endif /* IPC_NET_DBUS_LED_H */
