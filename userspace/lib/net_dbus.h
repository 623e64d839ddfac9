/* SPDX-License-Identifier: MIT */
/*
 * Reaching a D-Bus bus by the name the user gives it, and the well-known
 * name an instance's LED owns: what the dbus transport needs before it can
 * make its first call.
 */
#ifndef IPC_NET_DBUS_H
#define IPC_NET_DBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#define NET_DBUS_NAME_PREFIX	"io.github.ipcbutton.Led"

/*
 * @name if given (it must be a well-known bus name), else
 * io.github.ipcbutton.Led + @instance, whose characters a bus name element
 * does not allow become _XX (hex), and "_" itself "_5f", so two instances
 * never share a name. 0, -EINVAL or -ENAMETOOLONG.
 */
int net_dbus_name(const char *name, const char *instance, char *buf,
		  size_t size);

/*
 * Connect to @which: "session", "system", or a D-Bus address
 * ("unix:path=..."). @label receives its description for messages
 * ("session bus", "bus at unix:path=..."). 0 or a negative errno.
 */
int net_dbus_connect(const char *which, char *label, size_t label_size,
		     sd_bus **ret);

/*
 * Keep *@owner (malloc'd; NULL while nobody owns it) set to the unique name
 * that owns @name on @bus, from now on (a NameOwnerChanged match) and
 * starting with the current owner. 0; -ENOENT when nobody owns it now (the
 * match stays); another negative errno with @why (of @size bytes) set.
 */
int net_dbus_follow_owner(sd_bus *bus, const char *name, char **owner,
			  char *why, size_t size);

/*
 * Wait until @bus has something to process (a message, or its own
 * timeout), at most @timeout_ms (-1: forever); with @stop, a stop signal ends the wait
 * (fd_wait); without, it does not (closing, finishing the work).
 * 0, -ETIMEDOUT, -EINTR or another negative errno.
 */
int net_dbus_wait(sd_bus *bus, int timeout_ms, bool stop);

/*
 * Whether a call failed with @e because the callee is gone or never got
 * it (no owner, no reply, too many calls pending, no such object): the
 * call may go again, to the next owner of the name.
 */
bool net_dbus_error_gone(const sd_bus_error *e);

/*
 * Ask @owner whether it answers at @path (org.freedesktop.DBus.Peer.Ping),
 * so that a caller the bus policy refuses learns it now rather than at its
 * first call. 0; -ENOENT when it left meanwhile; -EACCES (refused by the
 * policy) or another negative errno with the bus's reason in @why (of
 * @size bytes).
 */
int net_dbus_ping(sd_bus *bus, const char *owner, const char *path,
		  char *why, size_t size);

#endif /* IPC_NET_DBUS_H */
