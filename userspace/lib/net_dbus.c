// SPDX-License-Identifier: MIT
#include "net_dbus.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int net_dbus_name(const char *name, const char *instance, char *buf,
		  size_t size)
{
	size_t n;

	if (name) {
		if (!sd_bus_service_name_is_valid(name) || name[0] == ':')
			return -EINVAL;
		if (strlen(name) >= size)
			return -ENAMETOOLONG;
		strcpy(buf, name);
		return 0;
	}
	n = (size_t)snprintf(buf, size, "%s", NET_DBUS_NAME_PREFIX);
	for (const char *c = instance; *c; c++) {
		bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			     (*c >= '0' && *c <= '9') || *c == '-';
		int r = plain ? snprintf(buf + n, size - n, "%c", *c) :
				snprintf(buf + n, size - n, "_%02x",
					 (unsigned char)*c);

		if (r < 0 || (size_t)r >= size - n)
			return -ENAMETOOLONG;
		n += (size_t)r;
	}
	return sd_bus_service_name_is_valid(buf) ? 0 : -EINVAL;
}

int net_dbus_connect(const char *which, char *label, size_t label_size,
		     sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	if (!strcmp(which, "session")) {
		snprintf(label, label_size, "session bus");
		r = sd_bus_open_user(&bus);
	} else if (!strcmp(which, "system")) {
		snprintf(label, label_size, "system bus");
		r = sd_bus_open_system(&bus);
	} else {
		snprintf(label, label_size, "bus at %.50s", which);
		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, which);
		if (r >= 0)
			r = sd_bus_set_bus_client(bus, 1);
		if (r >= 0)
			r = sd_bus_start(bus);
	}
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}
