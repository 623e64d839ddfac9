/* SPDX-License-Identifier: MIT */
/*
 * Frames in D-Bus calls, both ends: a lone frame goes as SetState(ay), a
 * run of them as SetStates(aay), whose answer (u) says how many of them
 * the LED applied: all of them, or fewer when it stopped in the middle.
 */
#ifndef IPC_NET_DBUS_FRAMES_H
#define IPC_NET_DBUS_FRAMES_H

#include "redelivery.h"

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/*
 * A new call to @dest at @path of @interface carrying the @n frames kept
 * in @w from its @i-th on: SetState for one, SetStates for more. 0 or a
 * negative errno.
 */
int net_dbus_frames_call(sd_bus *bus, sd_bus_message **ret, const char *dest,
			 const char *path, const char *interface,
			 struct redelivery_window *w, unsigned int i,
			 unsigned int n);

/*
 * Read SetStates' frames into @bytes and @len (pointers into @m, valid
 * while @m is), at most @max: how many (0 for an empty batch), @max + 1
 * when there are more, or a negative errno.
 */
int net_dbus_frames_read(sd_bus_message *m, const void **bytes, size_t *len,
			 unsigned int max);

/* Answer @call (SetState or SetStates), @applied of its frames applied. */
int net_dbus_frames_answer(sd_bus_message *call, uint32_t applied);

#endif /* IPC_NET_DBUS_FRAMES_H */
