// SPDX-License-Identifier: MIT
/*
 * D-Bus (sd-bus): the sender emits a signal carrying the value as a "t"
 * (uint64); the receiver subscribed to it with a match rule and takes it
 * from sd_bus_process(), sleeping in sd_bus_wait() in between. One way, no
 * reply, no name to own. The bus: option bus= (an address), else the
 * session bus ($DBUS_SESSION_BUS_ADDRESS).
 */
#include "lesson.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define LESSON_IFACE	"io.github.ipcbutton.Lesson"

struct dbus_state {
	sd_bus *bus;
	char path[96];		/* one object path per run: runs share a bus */
	bool have;
	uint64_t value;
};

static int on_press(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct dbus_state *st = userdata;

	(void)err;
	if (sd_bus_message_read(m, "t", &st->value) > 0)
		st->have = true;
	return 0;
}

/* lesson-excerpt: begin */
static int dbus_connect(struct lesson *l, sd_bus **ret_bus)
{
	const char *address = lesson_option(l, "bus");
	int r;

	if (!address || !strcmp(address, "session"))
		return sd_bus_open_user(ret_bus);
	r = sd_bus_new(ret_bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(*ret_bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(*ret_bus, 1);	/* say Hello() */
	if (r >= 0)
		r = sd_bus_start(*ret_bus);
	if (r < 0)
		*ret_bus = sd_bus_unref(*ret_bus);
	return r;
}

static int dbus_open(struct lesson *l)
{
	struct dbus_state *st = l->priv;
	int r;

	snprintf(st->path, sizeof(st->path), "/io/github/ipcbutton/Lesson/%s",
		 l->instance);
	r = dbus_connect(l, &st->bus);
	if (r < 0)
		return r;
	/* The bus delivers to us only the signals this rule matches. */
	if (l->receiver) {
		r = sd_bus_match_signal(st->bus, NULL, NULL, st->path, LESSON_IFACE,
					"Press", on_press, st);
		if (r < 0)
			goto err_unref;
	}
	return 0;
err_unref:
	sd_bus_unref(st->bus);
	return r;
}

static int dbus_send(struct lesson *l, uint64_t value)
{
	struct dbus_state *st = l->priv;
	int r;

	r = sd_bus_emit_signal(st->bus, st->path, LESSON_IFACE, "Press", "t", value);
	if (r < 0)
		return r;
	return sd_bus_flush(st->bus) < 0 ? -EPIPE : 0;
}

static int dbus_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct dbus_state *st = l->priv;
	int r;

	while (!st->have) {
		r = sd_bus_process(st->bus, NULL);	/* runs on_press */
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		r = sd_bus_wait(st->bus, timeout_ms < 0 ? UINT64_MAX :
					 (uint64_t)timeout_ms * 1000);
		if (r < 0)
			return r;
		if (r == 0)
			return -ETIMEDOUT;
	}
	st->have = false;
	*value = st->value;
	return 0;
}
/* lesson-excerpt: end */

static void dbus_close(struct lesson *l)
{
	struct dbus_state *st = l->priv;

	sd_bus_flush_close_unref(st->bus);
}

static const struct lesson_ops lesson_dbus = {
	.name = "dbus",
	.state_size = sizeof(struct dbus_state),
	.needs = "a session bus (dbus-run-session -- ipc-lesson dbus) or bus=ADDRESS",
	.open = dbus_open,
	.send = dbus_send,
	.receive = dbus_receive,
	.close = dbus_close,
};
LESSON_REGISTER(lesson_dbus);
