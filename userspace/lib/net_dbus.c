// SPDX-License-Identifier: MIT
#include "net_dbus.h"

#include "deadline.h"
#include "fd_wait.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>

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

static int on_owner_changed(sd_bus_message *m, void *userdata,
			    sd_bus_error *ret_error)
{
	char **owner = userdata;
	const char *name, *old_owner, *new_owner;

	(void)ret_error;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
		return 0;
	free(*owner);
	*owner = *new_owner ? strdup(new_owner) : NULL;
	return 0;
}

int net_dbus_follow_owner(sd_bus *bus, const char *name, char **owner,
			  char *why, size_t size)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *current;
	char match[512];
	int r;

	snprintf(match, sizeof(match),
		 "type='signal',sender='org.freedesktop.DBus',"
		 "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
		 "member='NameOwnerChanged',arg0='%s'", name);
	r = sd_bus_add_match(bus, NULL, match, on_owner_changed, owner);
	if (r < 0) {
		snprintf(why, size, "watching %s: %s", name, strerror(-r));
		return r;
	}
	r = sd_bus_call_method(bus, "org.freedesktop.DBus",
			       "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetNameOwner", &error, &reply, "s", name);
	if (r < 0 && sd_bus_error_has_name(&error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
		r = -ENOENT;
	else if (r < 0)
		snprintf(why, size, "looking up %s: %s", name,
			 error.message ? error.message : strerror(-r));
	if (r >= 0)
		r = sd_bus_message_read(reply, "s", &current);
	if (r >= 0 && !(*owner = strdup(current)))
		r = -ENOMEM;
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

int net_dbus_wait(sd_bus *bus, int timeout_ms, bool stop)
{
	int fd = sd_bus_get_fd(bus), events = sd_bus_get_events(bus);
	struct pollfd pfd = { .fd = fd, .events = (short)events };
	uint64_t usec, now;

	if (fd < 0 || events < 0)
		return fd < 0 ? fd : events;
	if (sd_bus_get_timeout(bus, &usec) >= 0 && usec != UINT64_MAX) {
		now = monotonic_ns() / 1000;
		if (usec <= now)
			timeout_ms = 0;
		else if (timeout_ms < 0 ||
			 (usec - now + 999) / 1000 < (uint64_t)timeout_ms)
			timeout_ms = (int)((usec - now + 999) / 1000);
	}
	if (stop)
		return fd_wait(fd, (short)events, timeout_ms, NULL);
	/* Plain poll(): a stop signal that already came must not cut it. */
	return poll(&pfd, 1, timeout_ms) < 0 ? -errno : 0;
}

bool net_dbus_error_gone(const sd_bus_error *e)
{
	return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN,
				      SD_BUS_ERROR_NAME_HAS_NO_OWNER,
				      SD_BUS_ERROR_NO_REPLY,
				      SD_BUS_ERROR_LIMITS_EXCEEDED,
				      SD_BUS_ERROR_UNKNOWN_OBJECT);
}

int net_dbus_ping(sd_bus *bus, const char *owner, const char *path,
		  char *why, size_t size)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(bus, owner, path, "org.freedesktop.DBus.Peer",
			       "Ping", &error, NULL, NULL);
	if (r >= 0) {
		r = 0;
	} else if (sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED)) {
		snprintf(why, size, "%s",
			 error.message ? error.message : "access denied");
		r = -EACCES;
	} else if (net_dbus_error_gone(&error)) {
		r = -ENOENT;
	} else {
		snprintf(why, size, "%s",
			 error.message ? error.message : strerror(-r));
	}
	sd_bus_error_free(&error);
	return r;
}
