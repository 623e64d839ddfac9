// SPDX-License-Identifier: MIT
#include "net_dbus_led.h"

#include "message.h"
#include "net_dbus_frames.h"

#include <errno.h>

static void release_call(void *cookie)
{
	sd_bus_message_unref(cookie);
}

static int led_on_set_state(sd_bus_message *m, void *userdata,
			     sd_bus_error *ret_error)
{
	struct net_dbus_led *l = userdata;
	enum ipc_message_error err;
	struct ipc_message msg;
	const void *bytes;
	size_t len;
	int r;

	r = sd_bus_message_read_array(m, 'y', &bytes, &len);
	if (r < 0)
		return r;
	err = ipc_message_decode(bytes, len, &msg);
	/* The caller validates and counts it too: queue it either way; an
	 * invalid one is answered now, so it keeps no call to answer. */
	r = redelivery_push(&l->calls, bytes, len,
			    err == IPC_MESSAGE_OK ? sd_bus_message_ref(m) : NULL);
	if (r < 0) {
		if (err == IPC_MESSAGE_OK)
			sd_bus_message_unref(m);
		return r;
	}
	if (err != IPC_MESSAGE_OK)
		return sd_bus_error_setf(ret_error, NET_DBUS_LED_ERROR_INVALID,
					 "invalid frame: %s",
					 ipc_message_error_name(err));
	return 1;	/* replied later, once the LED applied it */
}

/*
 * Several frames in one call (aay): queued in order, each validated and
 * counted by the caller as a lone one; the call is answered with how many
 * the LED applied once the last one is. An empty batch or one above
 * NET_DBUS_LED_BATCH_MAX is refused whole (InvalidFrame, counted here).
 */
static int led_on_set_states(sd_bus_message *m, void *userdata,
			      sd_bus_error *ret_error)
{
	struct net_dbus_led *l = userdata;
	const void *bytes[NET_DBUS_LED_BATCH_MAX];
	size_t len[NET_DBUS_LED_BATCH_MAX];
	int n;

	n = net_dbus_frames_read(m, bytes, len, NET_DBUS_LED_BATCH_MAX);
	if (n < 0)
		return n;
	if (!n || n > NET_DBUS_LED_BATCH_MAX) {
		(*l->rejected)++;
		return sd_bus_error_setf(ret_error, NET_DBUS_LED_ERROR_INVALID,
					 "a batch of %s frames: 1 to %d",
					 n ? "more" : "no", NET_DBUS_LED_BATCH_MAX);
	}
	for (int i = 0; i < n; i++) {
		int r = redelivery_push_part(&l->calls, bytes[i], len[i],
					     (unsigned int)i, (unsigned int)n,
					     sd_bus_message_ref(m));

		if (r < 0) {
			sd_bus_message_unref(m);
			return r;
		}
	}
	return 1;	/* replied later, once the LED applied them */
}

static int led_get_state(sd_bus *bus, const char *path,
			  const char *interface, const char *property,
			  sd_bus_message *reply, void *userdata,
			  sd_bus_error *ret_error)
{
	struct net_dbus_led *l = userdata;

	(void)bus, (void)path, (void)interface, (void)property, (void)ret_error;
	return sd_bus_message_append(reply, "b", l->led_state > 0);
}

/*
 * sd-bus answers a SetState(s) call with the wrong argument types itself
 * (InvalidArgs) before our handler sees it; count those here, as refused
 * by the transport.
 */
static int led_filter(sd_bus_message *m, void *userdata,
		       sd_bus_error *ret_error)
{
	struct net_dbus_led *l = userdata;

	(void)ret_error;
	if ((sd_bus_message_is_method_call(m, NET_DBUS_LED_INTERFACE, "SetState") &&
	     !sd_bus_message_has_signature(m, "ay")) ||
	    (sd_bus_message_is_method_call(m, NET_DBUS_LED_INTERFACE, "SetStates") &&
	     !sd_bus_message_has_signature(m, "aay")))
		(*l->rejected)++;
	return 0;
}

/*
 * Who may call SetState is the bus policy's business (the system bus policy
 * lets root and the group ipc-button), not a capability: without
 * UNPRIVILEGED, sd-bus would demand CAP_SYS_ADMIN from callers on the
 * system bus.
 */
static const sd_bus_vtable led_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("SetState", SD_BUS_ARGS("ay", frame),
				SD_BUS_NO_RESULT, led_on_set_state,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetStates", SD_BUS_ARGS("aay", frames),
				SD_BUS_RESULT("u", applied), led_on_set_states,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_PROPERTY("State", "b", led_get_state, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END
};

/* Answer @call, @applied of its frames applied, and publish the state. */
static int led_answer(struct net_dbus_led *l, sd_bus_message *call,
		       uint32_t applied)
{
	int r = net_dbus_frames_answer(call, applied);

	/* Once the LED caught up: while frames wait, the bus carries the
	 * answers, and the state they lead to is told after the last. */
	if (r >= 0 && l->told_state != l->led_state && !l->calls.count) {
		l->told_state = l->led_state;
		r = sd_bus_emit_properties_changed(l->bus, NET_DBUS_LED_PATH,
						   NET_DBUS_LED_INTERFACE, "State",
						   NULL);
	}
	return r;
}

/* The frame returned last was applied: reply once its call's last is. */
int net_dbus_led_confirm(struct net_dbus_led *l)
{
	struct redelivery_frame f;
	int r = 0;

	if (!redelivery_confirm(&l->calls, &f))
		return 0;
	if (f.led_state >= 0)
		l->led_state = f.led_state;
	if (f.cookie && f.batch_index + 1 == f.batch_count)
		r = led_answer(l, f.cookie, f.batch_count);
	release_call(f.cookie);
	/* A caller that already left is no error of ours. */
	return r == -ENOTCONN || r == -ECONNRESET ? 0 : r;
}

void net_dbus_led_init(struct net_dbus_led *l, uint64_t *rejected)
{
	l->bus = NULL;
	l->rejected = rejected;
	l->led_state = l->told_state = -1;
	redelivery_init(&l->calls, release_call);
}

int net_dbus_led_export(struct net_dbus_led *l, sd_bus *bus)
{
	int r;

	l->bus = bus;
	r = sd_bus_add_filter(bus, NULL, led_filter, l);
	if (r >= 0)
		r = sd_bus_add_object_vtable(bus, NULL, NET_DBUS_LED_PATH,
					     NET_DBUS_LED_INTERFACE, led_vtable,
					     l);
	return r < 0 ? r : 0;
}

void net_dbus_led_stop(struct net_dbus_led *l)
{
	const struct redelivery_frame *next;

	(void)net_dbus_led_confirm(l);
	next = redelivery_peek(&l->calls);
	if (next && next->batch_index && next->cookie)
		(void)led_answer(l, next->cookie, next->batch_index);
}

void net_dbus_led_free(struct net_dbus_led *l)
{
	redelivery_free(&l->calls);
}
