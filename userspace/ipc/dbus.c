// SPDX-License-Identifier: MIT
/*
 * dbus: the LED process is a D-Bus service; the button process calls it.
 *
 * Push, lossless, in order. The receiver (LED) owns the well-known name
 * io.github.ipcbutton.Led<instance> and exports /io/github/ipcbutton/Led
 * (userspace/dbus/io.github.ipcbutton.Led.xml, lib/net_dbus_led.h):
 * SetState(ay frame) for a lone frame, SetStates(aay frames) -> u applied
 * for a batch, each replied once the LED applied its last frame, and the
 * State property. The sender calls asynchronously, at most DBUS_CALLS_MAX
 * (8) calls unanswered, every run of waiting frames as one call, each
 * frame kept until its call's reply (lib/redelivery.h): what a stopped or
 * killed LED did not confirm goes again, in order, to the name's next
 * owner. Calls go to the owner's unique name, so no frame overtakes an
 * older one. The bus policy decides who may own the name and call
 * (userspace/dbus/io.github.ipcbutton.Led.conf). A lone event costs the
 * sender one sendmsg before it reads the last reply, and the LED one
 * sendmsg after it: the reply (its durability), plus PropertiesChanged
 * when State changed. docs/mechanisms/dbus.md.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/net_dbus.h"
#include "../lib/net_dbus_frames.h"
#include "../lib/net_dbus_led.h"
#include "../lib/net_options.h"
#include "../lib/ready_set.h"
#include "../lib/redelivery.h"
#include "../lib/stop.h"

#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-bus.h>

/* Told to the program at once (transport.h); most end no call. */
#define dbus_notice(st, ...) transport_notice((st)->t, LOG_ERR, __VA_ARGS__)

#define DBUS_OBJECT_PATH	NET_DBUS_LED_PATH
#define DBUS_INTERFACE		NET_DBUS_LED_INTERFACE

_Static_assert(TRANSPORT_BATCH_MAX <= NET_DBUS_LED_BATCH_MAX,
	       "a SetStates call holds a whole batch");

/*
 * Calls unanswered at most (the system bus allows 128 pending replies):
 * few, so that frames coming meanwhile wait and go together, one call
 * of up to TRANSPORT_BATCH_MAX frames, when the daemon or the LED lags.
 */
#define DBUS_CALLS_MAX		8
/* Messages the receiver reads at most before it lets a stop signal in. */
#define DBUS_STOP_CHECK		16
/* How long send() waits for room in a full window before TRANSPORT_FULL. */
#define DBUS_SEND_WAIT_MS	100

static const struct transport_option dbus_options[] = {
	{ "bus", "session", "session, system, or a D-Bus address (unix:path=/run/.../bus)", NULL },
	{ "name", NULL, "well-known bus name (default io.github.ipcbutton.Led<instance>)", NULL },
	{ "linger-ms", "2000", "sender: how long closing waits for the LED to confirm the last frames", NULL },
	{ NULL, NULL, NULL, NULL },
};

struct dbus_state {
	struct transport *t;	/* for notices and t->rejected */
	sd_bus *bus;
	char name[256];
	char bus_label[64];	/* for messages: "session bus" */
	unsigned int linger_ms;
	/* sender */
	char *owner;		/* unique name owning the well-known name */
	struct redelivery_window window;
	unsigned int calls;	/* unanswered */
	int error;		/* sticky fatal error */
	uint64_t refused;	/* frames the LED answered InvalidFrame */
	/* receiver */
	struct net_dbus_led led;	/* the object, its calls queued */
	struct ready_set *ready;	/* kept only once poll_fd() was asked */
	bool polled;
	unsigned int unwaited;		/* messages read without a wait */
};

/* --- sender ------------------------------------------------------------ */

/*
 * The answer to the call of the frames from @userdata's slot on: SetState
 * (one frame) returns nothing, SetStates how many the LED applied (all,
 * or fewer when it stopped in the middle: the rest go again).
 */
static int dbus_on_reply(sd_bus_message *m, void *userdata,
			 sd_bus_error *ret_error)
{
	struct redelivery_slot *slot = userdata;
	struct dbus_state *st = (struct dbus_state *)((char *)slot->window -
		offsetof(struct dbus_state, window));
	const sd_bus_error *e = sd_bus_message_get_error(m);
	bool again = e && !sd_bus_error_has_name(e, NET_DBUS_LED_ERROR_INVALID);
	uint32_t applied = again ? 0 : slot->batch;

	(void)ret_error;
	st->calls--;
	if (e && !again)
		st->refused += slot->batch;	/* sending again would not help */
	if (!e && slot->batch > 1 &&
	    (sd_bus_message_read(m, "u", &applied) < 0 || applied > slot->batch)) {
		dbus_notice(st, "dbus: SetStates answered with no valid count");
		st->error = -EPROTO;
	}
	if (again && sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED)) {
		dbus_notice(st, "dbus: SetState refused by the bus policy: %s",
			    e->message ? e->message : e->name);
		st->error = -EACCES;
	} else if (again && !net_dbus_error_gone(e)) {
		dbus_notice(st, "dbus: SetState failed: %s: %s", e->name,
			    e->message ? e->message : "");
		st->error = -EPROTO;
	}
	redelivery_window_answered_batch(slot, applied);
	return 1;
}

/* One call for @n waiting frames from the window's @i-th on. */
static int dbus_call(struct dbus_state *st, unsigned int i, unsigned int n)
{
	sd_bus_message *m;
	int r;

	r = net_dbus_frames_call(st->bus, &m, st->owner, DBUS_OBJECT_PATH,
				 DBUS_INTERFACE, &st->window, i, n);
	/* The LED may take its time: only its answer ends a call. */
	if (r >= 0)
		r = sd_bus_call_async(st->bus, NULL, m, dbus_on_reply,
				      redelivery_window_at(&st->window, i),
				      UINT64_MAX);
	sd_bus_message_unref(m);
	return r;
}

/*
 * Send every waiting frame, oldest first, to the current owner, if it may:
 * each run of waiting frames as one call (a lone frame alone, at once).
 * A failure is sticky, as all are.
 */
static int dbus_call_waiting(struct dbus_state *st)
{
	struct redelivery_window *w = &st->window;
	unsigned int n;
	int r = 0;

	if (!st->owner || st->error || !redelivery_window_may_send(w, st->owner))
		return st->error;
	for (unsigned int i = 0; i < w->count && st->calls < DBUS_CALLS_MAX;
	     i += n) {
		n = 1;
		if (redelivery_window_at(w, i)->state != REDELIVERY_WAITING)
			continue;
		while (i + n < w->count && n < TRANSPORT_BATCH_MAX &&
		       redelivery_window_at(w, i + n)->state == REDELIVERY_WAITING)
			n++;
		r = dbus_call(st, i, n);
		if (r < 0)
			break;
		st->calls++;
		redelivery_window_at(w, i)->batch = n;
		for (unsigned int k = 0; k < n; k++)
			redelivery_window_sent(redelivery_window_at(w, i + k),
					       st->owner);
	}
	if (r < 0 && r != -ENOBUFS) {	/* sd-bus's queue full: later */
		dbus_notice(st, "dbus: calling %s: %s", st->name, strerror(-r));
		st->error = r == -ENOTCONN || r == -ECONNRESET ? TRANSPORT_STALE : r;
	}
	return st->error;
}

/*
 * Send what waits, then handle everything that arrived, without waiting,
 * then send what that let go (a freed call, frames to resend): a new
 * frame's call leaves before the replies to older ones are read.
 */
static int dbus_pump(struct dbus_state *st)
{
	int r = dbus_call_waiting(st);

	while (r == 0 && (r = sd_bus_process(st->bus, NULL)) > 0 && !st->error)
		r = 0;
	if (r < 0 && !st->error) {
		dbus_notice(st, "dbus: lost the %s: %s (%u frames unconfirmed)",
			    st->bus_label, strerror(-r), st->window.count);
		st->error = TRANSPORT_STALE;
	}
	return dbus_call_waiting(st);
}

static int dbus_open_sender(struct dbus_state *st)
{
	char why[300] = "";
	int r;

	r = net_dbus_follow_owner(st->bus, st->name, &st->owner, why,
				  sizeof(why));
	if (r < 0) {
		if (why[0])
			dbus_notice(st, "dbus: %s (%s)", why, st->bus_label);
		return r;	/* TRANSPORT_ABSENT: no LED yet */
	}
	/* A caller the bus policy refuses learns it now, not at its first press. */
	r = net_dbus_ping(st->bus, st->owner, DBUS_OBJECT_PATH, why, sizeof(why));
	if (r == -EACCES)
		dbus_notice(st, "dbus: the policy of the %s does not let this user call %s: %s",
			    st->bus_label, st->name, why);
	else if (r < 0 && r != TRANSPORT_ABSENT)
		dbus_notice(st, "dbus: %s does not answer: %s", st->name, why);
	return r;	/* TRANSPORT_ABSENT: it left meanwhile */
}

/*
 * Room for frames only when a call can carry them now, for nothing would
 * send them later (a sender has no fd for its caller to poll): what comes
 * meanwhile, or while there is no LED, stays in the caller's backlog,
 * which retries, and goes together next time.
 */
static bool dbus_has_room(const struct dbus_state *st)
{
	return st->window.count < REDELIVERY_WINDOW && st->owner &&
	       st->calls < DBUS_CALLS_MAX;
}

/* As many of @count frames as the window takes, as one call: how many. */
static int dbus_send_many(struct transport *t, const uint8_t *frames,
			  size_t len, size_t count)
{
	struct dbus_state *st = t->priv;
	struct redelivery_window *w = &st->window;
	struct deadline end;
	bool pumped = false;
	size_t added = 0;
	int r = st->error;

	if (len > IPC_MESSAGE_MAX_WIRE)
		return -EMSGSIZE;
	/* What arrived is read after the call leaves, unless room depends
	 * on it; then, with an LED, its replies are worth a short wait. */
	deadline_start(&end, DBUS_SEND_WAIT_MS);
	while (r == 0) {
		while (dbus_has_room(st) && added < count &&
		       redelivery_window_add(w, frames + added * len, len))
			added++;
		if (added)
			break;
		if (pumped && (!st->owner || deadline_left_ns(&end) == 0))
			return TRANSPORT_FULL;
		r = pumped ? net_dbus_wait(st->bus, deadline_left_ms(&end), true) : 0;
		if (r == -ETIMEDOUT || r == -EINTR)
			return TRANSPORT_FULL;
		pumped = true;
		if (r == 0)
			r = dbus_pump(st);
	}
	if (r < 0)
		return r;
	r = dbus_pump(st);
	/* The caller keeps what never left. */
	while (r < 0 && added &&
	       redelivery_window_at(w, w->count - 1)->state == REDELIVERY_WAITING) {
		redelivery_window_drop_last(w);
		added--;
	}
	return added ? (int)added : r;
}

static int dbus_send(struct transport *t, const uint8_t *frame, size_t len)
{
	int r = dbus_send_many(t, frame, len, 1);

	return r > 0 ? 0 : r;
}

/* Give the LED up to linger-ms to confirm what is still in the window. */
static void dbus_close_sender(struct dbus_state *st)
{
	struct deadline end;

	deadline_start(&end, (int)st->linger_ms);
	while (st->window.count && dbus_pump(st) == 0 && st->window.count &&
	       deadline_left_ns(&end) > 0)
		if (net_dbus_wait(st->bus, deadline_left_ms(&end), false) < 0)
			break;
	if (st->window.count)
		dbus_notice(st, "dbus: %u frame(s) not confirmed by %s when closing",
			    st->window.count, st->name);
	if (st->refused)
		dbus_notice(st, "dbus: %s refused %llu frame(s) as invalid",
			    st->name, (unsigned long long)st->refused);
}

/* --- receiver ---------------------------------------------------------- */

static int dbus_open_receiver(struct dbus_state *st)
{
	int r;

	r = ready_set_new(&st->ready);
	if (r < 0)
		return r;
	r = net_dbus_led_export(&st->led, st->bus);
	if (r < 0) {
		dbus_notice(st, "dbus: exporting %s: %s", DBUS_OBJECT_PATH,
			    strerror(-r));
		return r;
	}
	/* The object exists before the name: no call can find it missing. */
	r = sd_bus_request_name(st->bus, st->name, 0);
	if (r == -EEXIST)
		dbus_notice(st, "dbus: %s is already owned on the %s (another LED process?)",
			    st->name, st->bus_label);
	else if (r == -EACCES || r == -EPERM)
		dbus_notice(st, "dbus: the policy of the %s does not let this user own %s (system bus: root or group ipc-button)",
			    st->bus_label, st->name);
	else if (r < 0)
		dbus_notice(st, "dbus: requesting %s on the %s: %s", st->name,
			    st->bus_label, strerror(-r));
	return r == -EPERM ? -EACCES : r < 0 ? r : 0;
}

/*
 * Keep the ready set telling the truth about what receive() would find,
 * for a caller that polls it: two calls per frame (mark, clear) that a
 * caller which just calls receive() again (the LED) does not need.
 */
static int dbus_update_ready(struct dbus_state *st)
{
	int events, r;

	if (!st->polled)
		return 0;
	events = sd_bus_get_events(st->bus);
	if (events < 0)
		return events;
	r = ready_set_watch(st->ready, sd_bus_get_fd(st->bus), (short)events);
	if (r >= 0)
		r = ready_set_mark(st->ready, redelivery_busy(&st->led.calls));
	return r;
}

static ssize_t dbus_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	struct dbus_state *st = t->priv;
	struct deadline end;
	ssize_t n;
	int r;

	deadline_start(&end, timeout_ms);
	r = net_dbus_led_confirm(&st->led);
	while (r >= 0) {
		n = redelivery_pop(&st->led.calls, buf, size);
		if (n >= 0) {
			r = dbus_update_ready(st);
			return r < 0 ? r : n;
		}
		/* The stop signals come in only while waiting (a wait that finds
		 * the bus ready does not let them in), and batches may come for
		 * long without a pause: let them in now and then. */
		if (++st->unwaited >= DBUS_STOP_CHECK) {
			st->unwaited = 0;
			stop_unblock();
			stop_block();
			if (stop_requested())
				return -EINTR;
		}
		/* One message at a time: a frame is returned as soon as seen. */
		r = sd_bus_process(st->bus, NULL);
		if (r > 0)
			continue;
		if (r < 0)
			break;
		r = dbus_update_ready(st);
		if (r < 0)
			return r;
		st->unwaited = 0;
		r = net_dbus_wait(st->bus, deadline_left_ms(&end), true);
		if (r < 0)
			return r;	/* -ETIMEDOUT, -EINTR */
	}
	dbus_notice(st, "dbus: lost the %s: %s", st->bus_label, strerror(-r));
	return r == -ECONNRESET || r == -ENOTCONN ? -ENOTCONN : r;
}

/* --- the transport ----------------------------------------------------- */

static void dbus_close(struct transport *t)
{
	struct dbus_state *st = t->priv;

	if (st->bus && t->role == TRANSPORT_SENDER &&
	    (st->owner || st->window.count))
		dbus_close_sender(st);
	if (st->bus && t->role == TRANSPORT_RECEIVER) {
		net_dbus_led_stop(&st->led);
		(void)sd_bus_release_name(st->bus, st->name);
	}
	if (st->bus)
		sd_bus_flush_close_unref(st->bus);
	net_dbus_led_free(&st->led);
	ready_set_free(st->ready);
	free(st->owner);
	free(st);
	t->priv = NULL;
}

static int dbus_open(struct transport *t)
{
	const char *instance = t->config->instance ? t->config->instance : "0";
	const char *name = transport_option(t, "name");
	bool sender = t->role == TRANSPORT_SENDER;
	struct dbus_state *st;
	int r;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	t->priv = st;
	st->t = t;
	net_dbus_led_init(&st->led, &t->rejected);
	redelivery_window_init(&st->window);
	r = net_options_uint("linger-ms", transport_option(t, "linger-ms"),
			     3600000, &st->linger_ms, t->detail,
			     sizeof(t->detail));
	if (r == 0) {
		r = net_dbus_name(name, instance, st->name, sizeof(st->name));
		if (r == -EINVAL && name)
			snprintf(t->detail, sizeof(t->detail),
				 "'%s' is not a well-known bus name", name);
	}
	if (r < 0)
		goto err_close;
	r = net_dbus_connect(transport_option(t, "bus"), st->bus_label,
			     sizeof(st->bus_label), &st->bus);
	if (r < 0) {
		/* A sender retries: the bus may come up later (said once). */
		static bool told;

		if (!sender || !told)
			dbus_notice(st, "dbus: cannot connect to the %s: %s%s",
				    st->bus_label, strerror(-r),
				    sender ? "; waiting for it" : "");
		told = told || sender;
		r = sender ? TRANSPORT_ABSENT : r;
	}
	if (r == 0)
		r = sender ? dbus_open_sender(st) : dbus_open_receiver(st);
	if (r == 0)
		return 0;
err_close:
	dbus_close(t);
	return r;
}

static int dbus_poll_fd(struct transport *t)
{
	struct dbus_state *st = t->priv;

	int r = 0;

	/* A full sender waits inside send(); the caller's back-off does the rest. */
	if (!st->ready)
		return -1;
	if (!st->polled) {	/* from now on, the set tells the truth */
		st->polled = true;
		r = dbus_update_ready(st);
	}
	return r < 0 ? r : ready_set_fd(st->ready);
}

static const struct transport_ops dbus_ops = {
	.name = "dbus",
	.summary = "D-Bus method calls to the LED's bus name (sd-bus), replied once applied",
	/* Idle reports: frames a killed LED left unconfirmed go to the next
	 * one from a send(), and with no event coming, a report is the send. */
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_DURABLE |
		 TRANSPORT_IDLE_REPORTS,
	.options = dbus_options,
	.open = dbus_open,
	.send = dbus_send,
	.send_many = dbus_send_many,
	.receive = dbus_receive,
	.poll_fd = dbus_poll_fd,
	.close = dbus_close,
};

TRANSPORT_REGISTER(dbus_ops);
