/* SPDX-License-Identifier: MIT */
/*
 * Reaching a D-Bus bus by the name the user gives it, and the well-known
 * name an instance's LED owns: what the dbus transport needs before it can
 * make its first call.
 */
#ifndef IPC_NET_DBUS_H
#define IPC_NET_DBUS_H

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

#endif /* IPC_NET_DBUS_H */
