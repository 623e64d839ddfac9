// SPDX-License-Identifier: MIT
/*
 * Bare D-Bus (sd-bus): the sender emits a signal carrying the value as a
 * "t"; the receiver matches it and takes it from sd_bus_process(), sleeping
 * in sd_bus_wait() in between. One way, no reply, no name to own, on the
 * bus of option bus= (an address), as our dbus transport is run here.
 */
#include "bare.h"

#include "../endpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define BARE_PATH	"/io/github/ipcbutton/Bench"
#define BARE_IFACE	"io.github.ipcbutton.Bench"

struct dbus_bare {
	sd_bus *bus;
	bool have;
	uint64_t value;
};

static int on_value(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct dbus_bare *d = userdata;

	(void)err;
	if (sd_bus_message_read(m, "t", &d->value) > 0)
		d->have = true;
	return 0;
}

static int dbus_open(struct bare *b)
{
	const char *addr = option_value(b->options, "bus");
	struct dbus_bare *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	r = sd_bus_new(&d->bus);
	if (r >= 0)
		r = addr && strcmp(addr, "session") ? sd_bus_set_address(d->bus, addr) : -EINVAL;
	if (r >= 0)
		r = sd_bus_set_bus_client(d->bus, 1);
	if (r >= 0)
		r = sd_bus_start(d->bus);
	if (r >= 0 && b->receiver)
		r = sd_bus_match_signal(d->bus, NULL, NULL, BARE_PATH, BARE_IFACE,
					"Value", on_value, d);
	if (r < 0) {
		sd_bus_unref(d->bus);
		free(d);
		return r;
	}
	b->priv = d;
	return 0;
}

static int dbus_send(struct bare *b, uint64_t value)
{
	struct dbus_bare *d = b->priv;
	int r = sd_bus_emit_signal(d->bus, BARE_PATH, BARE_IFACE, "Value", "t", value);

	return r < 0 ? r : sd_bus_flush(d->bus) < 0 ? -EPIPE : 0;
}

static int dbus_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct dbus_bare *d = b->priv;
	int r;

	while (!d->have) {
		r = sd_bus_process(d->bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		r = sd_bus_wait(d->bus, timeout_ms < 0 ? UINT64_MAX :
					(uint64_t)timeout_ms * 1000);
		if (r < 0)
			return r;
		if (r == 0)
			return -ETIMEDOUT;
	}
	d->have = false;
	*value = d->value;
	return 0;
}

static void dbus_close(struct bare *b)
{
	struct dbus_bare *d = b->priv;

	sd_bus_flush_close_unref(d->bus);
	free(d);
}

static const struct bare_ops bare_dbus = {
	.name = "dbus",
	.open = dbus_open,
	.send = dbus_send,
	.receive = dbus_receive,
	.close = dbus_close,
};
BARE_REGISTER(bare_dbus);
