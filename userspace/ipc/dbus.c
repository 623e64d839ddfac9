// SPDX-License-Identifier: MIT
/*
 * dbus: the LED process is a D-Bus service; the button process calls it.
 *
 * Push, lossless, in order. The receiver (LED) owns the well-known name
 * io.github.ipcbutton.Led<instance> (e.g. io.github.ipcbutton.Led0) on the
 * chosen bus and exports the object /io/github/ipcbutton/Led with the
 * interface io.github.ipcbutton.Led (userspace/dbus/io.github.ipcbutton.Led.xml):
 *   SetState(ay frame)   one encoded message; the reply comes once the LED
 *                        process has applied it (it is sent when the process
 *                        asks for the next frame), or an InvalidFrame error
 *                        naming what the frame's validation found wrong;
 *   State (b)            the LED state last applied, with PropertiesChanged.
 * The sender (button) calls SetState asynchronously, keeping up to
 * DBUS_WINDOW calls unanswered: each frame stays in its window until its
 * reply comes, so an LED that stops or is killed loses nothing; what it did
 * not confirm is sent again, in order, to the next owner of the name.
 * Calls go to the owner's unique name (":1.42"), never to the well-known
 * name, so no frame can reach a new LED before the older ones that went to
 * the old one have come back. A frame that an LED applied but was killed
 * before confirming is applied twice (absolute state: harmless).
 *
 * Receiving: receive() processes the bus one message at a time until a
 * frame arrives or the timeout passes. poll_fd() is an epoll set (see
 * lib/ready_set.h) holding the sd-bus fd and a mark that is set while a
 * returned frame waits for its reply, so a caller that polls before
 * calling receive() also sends the reply without delay. A sender whose
 * window is full waits in send() up to DBUS_SEND_WAIT_MS for replies, then
 * returns -EAGAIN (its poll_fd() is -1: the caller's back-off applies).
 *
 * Objects: the bus daemon owns everything; the name disappears with the
 * LED process, so nothing can be left behind. Access: the session bus lets
 * only its own user connect; on the system bus the shipped policy
 * (userspace/dbus/io.github.ipcbutton.Led.conf) lets only root and the
 * group ipc-button own the name and call SetState.
 *
 * Why sd-bus (libsystemd) rather than libdbus: it is a small, plain C API
 * with a fd-and-timeout main loop that fits our poll()-based programs, it
 * generates introspection from a static vtable, supports deferred replies
 * and asynchronous calls directly, and libsystemd is already on every
 * systemd board; libdbus's own manual warns that whoever uses its
 * low-level API directly is "signing up for some pain".
 */
#include "transport.h"

#include "../lib/message.h"
#include "../lib/ready_set.h"
#include "../lib/deadline.h"
#include "../lib/fd_wait.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define DBUS_NAME_PREFIX	"io.github.ipcbutton.Led"
#define DBUS_OBJECT_PATH	"/io/github/ipcbutton/Led"
#define DBUS_INTERFACE		"io.github.ipcbutton.Led"
#define DBUS_ERROR_INVALID	"io.github.ipcbutton.Led.Error.InvalidFrame"

/*
 * Calls a sender keeps unanswered. Well below the system bus's default of
 * 128 pending replies per connection (max_replies_per_connection), which
 * would otherwise refuse calls and break the order.
 */
#define DBUS_WINDOW		64
/* How long send() waits for room in a full window before -EAGAIN. */
#define DBUS_SEND_WAIT_MS	100

static const struct transport_option dbus_options[] = {
	{ "bus", "session",
	  "session, system, or a D-Bus address (unix:path=/run/.../bus)", NULL },
	{ "name", NULL,
	  "well-known bus name (default io.github.ipcbutton.Led<instance>)", NULL },
	{ "linger-ms", "2000",
	  "sender: how long closing waits for the LED to confirm the last frames", NULL },
	{ NULL, NULL, NULL, NULL },
};

struct dbus_frame {
	uint8_t bytes[IPC_MESSAGE_MAX_WIRE];
	size_t len;
	enum { FRAME_WAITING, FRAME_IN_FLIGHT, FRAME_DONE } state;
	struct dbus_sender *sender;
};

struct dbus_sender {
	sd_bus *bus;
	char *owner;		/* unique name owning the well-known name */
	char *target;		/* where the calls in flight went */
	struct dbus_frame window[DBUS_WINDOW];	/* a ring, oldest at head */
	unsigned int head, count, in_flight;
	bool resending;		/* a call failed: resend once all are answered */
	int error;		/* sticky fatal error */
	uint64_t refused;	/* frames the LED answered InvalidFrame */
};

/* A SetState call received and not yet returned by receive(). */
struct dbus_call {
	sd_bus_message *msg;
	const uint8_t *frame;	/* points into msg */
	size_t len;
	bool valid;
	uint8_t led_state;
};

struct dbus_receiver {
	sd_bus *bus;
	uint64_t *rejected;		/* the transport's counter */
	struct ready_set *ready;
	struct dbus_call *queue;	/* a growing ring, oldest at head */
	size_t head, count, size;
	struct dbus_call delivered;	/* returned, awaiting its reply */
	int state;			/* the State property: -1 unknown */
};

struct dbus_priv {
	char name[256];
	char bus_label[64];	/* for messages: "session bus" */
	struct dbus_sender *sender;
	struct dbus_receiver *receiver;
};

/* -- common ------------------------------------------------------------ */

/*
 * io.github.ipcbutton.Led + the instance, which may only keep the
 * characters a bus name element allows; others become _XX (hex), and "_"
 * itself "_5f", so two instances never share a name.
 */
static int dbus_build_name(const struct transport *t, char *buf, size_t size)
{
	const char *name = transport_option(t, "name");
	const char *instance = t->config->instance ? t->config->instance : "0";
	size_t n;

	if (name) {
		if (!sd_bus_service_name_is_valid(name) || name[0] == ':') {
			fprintf(stderr, "dbus: '%s' is not a well-known bus name\n",
				name);
			return -EINVAL;
		}
		if (strlen(name) >= size)
			return -ENAMETOOLONG;
		strcpy(buf, name);
		return 0;
	}
	n = (size_t)snprintf(buf, size, "%s", DBUS_NAME_PREFIX);
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

static int dbus_connect(const struct transport *t, sd_bus **ret)
{
	struct dbus_priv *p = t->priv;
	const char *which = transport_option(t, "bus");
	sd_bus *bus = NULL;
	int r;

	if (!strcmp(which, "session")) {
		snprintf(p->bus_label, sizeof(p->bus_label), "session bus");
		r = sd_bus_open_user(&bus);
	} else if (!strcmp(which, "system")) {
		snprintf(p->bus_label, sizeof(p->bus_label), "system bus");
		r = sd_bus_open_system(&bus);
	} else {
		snprintf(p->bus_label, sizeof(p->bus_label), "bus at %.50s", which);
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

static bool dbus_error_is(const sd_bus_error *e, const char *name)
{
	return sd_bus_error_has_name(e, name);
}

/* -- sender ------------------------------------------------------------ */

static struct dbus_frame *sender_frame(struct dbus_sender *s, unsigned int i)
{
	return &s->window[(s->head + i) % DBUS_WINDOW];
}

/* The LED is gone (or never got it): the frame must go again. */
static bool dbus_error_means_resend(const sd_bus_error *e)
{
	return dbus_error_is(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	       dbus_error_is(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
	       dbus_error_is(e, SD_BUS_ERROR_NO_REPLY) ||
	       dbus_error_is(e, SD_BUS_ERROR_LIMITS_EXCEEDED) ||
	       dbus_error_is(e, SD_BUS_ERROR_UNKNOWN_OBJECT);
}

static int sender_on_reply(sd_bus_message *m, void *userdata,
			   sd_bus_error *ret_error)
{
	struct dbus_frame *f = userdata;
	struct dbus_sender *s = f->sender;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	(void)ret_error;
	s->in_flight--;
	if (!e) {
		f->state = FRAME_DONE;
	} else if (dbus_error_is(e, DBUS_ERROR_INVALID)) {
		/* Sending it again would not make it valid. */
		f->state = FRAME_DONE;
		s->refused++;
	} else if (dbus_error_means_resend(e)) {
		f->state = FRAME_WAITING;
		s->resending = true;
	} else if (dbus_error_is(e, SD_BUS_ERROR_ACCESS_DENIED)) {
		fprintf(stderr, "dbus: SetState refused by the bus policy: %s\n",
			e->message ? e->message : e->name);
		s->error = -EACCES;
	} else {
		fprintf(stderr, "dbus: SetState failed: %s: %s\n", e->name,
			e->message ? e->message : "");
		s->error = -EPROTO;
	}
	/* Replies come in order, so the confirmed ones form a prefix. */
	while (s->count && sender_frame(s, 0)->state == FRAME_DONE) {
		s->head = (s->head + 1) % DBUS_WINDOW;
		s->count--;
	}
	if (s->in_flight == 0) {
		s->resending = false;
		free(s->target);
		s->target = NULL;
	}
	return 1;
}

static int sender_on_owner_changed(sd_bus_message *m, void *userdata,
				   sd_bus_error *ret_error)
{
	struct dbus_sender *s = userdata;
	const char *name, *old_owner, *new_owner;

	(void)ret_error;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
		return 0;
	free(s->owner);
	s->owner = *new_owner ? strdup(new_owner) : NULL;
	return 0;
}

/*
 * Send every waiting frame, oldest first, to the current owner, unless
 * calls to an earlier owner (or a failed batch) are still unanswered:
 * they must come back first, or frames could overtake each other.
 */
static int sender_kick(struct dbus_sender *s)
{
	if (!s->owner || s->error)
		return 0;
	if (s->in_flight && (s->resending || strcmp(s->target, s->owner)))
		return 0;
	for (unsigned int i = 0; i < s->count; i++) {
		struct dbus_frame *f = sender_frame(s, i);
		sd_bus_message *m = NULL;
		int r;

		if (f->state != FRAME_WAITING)
			continue;
		r = sd_bus_message_new_method_call(s->bus, &m, s->owner,
						   DBUS_OBJECT_PATH,
						   DBUS_INTERFACE, "SetState");
		if (r >= 0)
			r = sd_bus_message_append_array(m, 'y', f->bytes, f->len);
		/* The LED may take its time: only its answer ends a call. */
		if (r >= 0)
			r = sd_bus_call_async(s->bus, NULL, m, sender_on_reply,
					      f, UINT64_MAX);
		sd_bus_message_unref(m);
		if (r == -ENOBUFS)
			return 0;	/* sd-bus's queue is full: later */
		if (r < 0)
			return r;
		if (!s->target) {
			s->target = strdup(s->owner);
			if (!s->target)
				return -ENOMEM;
		}
		f->state = FRAME_IN_FLIGHT;
		s->in_flight++;
	}
	return 0;
}

/* Handle everything that arrived, without waiting, then send. */
static int sender_pump(struct transport *t)
{
	struct dbus_priv *p = t->priv;
	struct dbus_sender *s = p->sender;
	int r;

	if (s->error)
		return s->error;
	do {
		r = sd_bus_process(s->bus, NULL);
	} while (r > 0 && !s->error);
	if (r < 0) {
		fprintf(stderr, "dbus: lost the %s: %s (%u frames unconfirmed)\n",
			p->bus_label, strerror(-r), s->count);
		s->error = -EPIPE;
	}
	if (s->error)
		return s->error;
	r = sender_kick(s);
	if (r < 0) {
		fprintf(stderr, "dbus: calling %s: %s\n", p->name, strerror(-r));
		s->error = r == -ENOTCONN || r == -ECONNRESET ? -EPIPE : r;
	}
	return s->error;
}

/* Wait for the bus (replies, owner changes) up to @timeout_ms. */
static int sender_wait(struct dbus_sender *s, int timeout_ms)
{
	uint64_t usec;
	int fd = sd_bus_get_fd(s->bus);
	int events = sd_bus_get_events(s->bus);

	if (fd < 0)
		return fd;
	if (events < 0)
		return events;
	if (sd_bus_get_timeout(s->bus, &usec) >= 0 && usec != UINT64_MAX) {
		uint64_t now = monotonic_ns() / 1000;
		int ms = usec <= now ? 0 : (int)((usec - now + 999) / 1000);

		if (timeout_ms < 0 || ms < timeout_ms)
			timeout_ms = ms;
	}
	return fd_wait(fd, (short)events, timeout_ms, NULL);
}

static int sender_open(struct transport *t)
{
	struct dbus_priv *p = t->priv;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct dbus_sender *s;
	const char *owner;
	char match[512];
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	p->sender = s;
	for (unsigned int i = 0; i < DBUS_WINDOW; i++)
		s->window[i].sender = s;

	r = dbus_connect(t, &s->bus);
	if (r < 0) {
		/* The bus may come up later: the caller retries the open. */
		static bool told;

		if (!told)
			fprintf(stderr, "dbus: cannot connect to the %s: %s; waiting for it\n",
				p->bus_label, strerror(-r));
		told = true;
		return -ECONNREFUSED;
	}

	/* Follow the name's owner from now on, then ask who owns it. */
	snprintf(match, sizeof(match),
		 "type='signal',sender='org.freedesktop.DBus',"
		 "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
		 "member='NameOwnerChanged',arg0='%s'", p->name);
	r = sd_bus_add_match(s->bus, NULL, match, sender_on_owner_changed, s);
	if (r < 0) {
		fprintf(stderr, "dbus: watching %s on the %s: %s\n", p->name,
			p->bus_label, strerror(-r));
		return r;
	}
	r = sd_bus_call_method(s->bus, "org.freedesktop.DBus",
			       "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetNameOwner", &error, &reply, "s", p->name);
	if (r < 0) {
		if (sd_bus_error_has_name(&error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
			r = -ENOENT;		/* no LED yet: retry later */
		else
			fprintf(stderr, "dbus: looking up %s on the %s: %s\n",
				p->name, p->bus_label,
				error.message ? error.message : strerror(-r));
		goto out;
	}
	r = sd_bus_message_read(reply, "s", &owner);
	if (r < 0)
		goto out;
	s->owner = strdup(owner);
	if (!s->owner) {
		r = -ENOMEM;
		goto out;
	}

	/*
	 * Ask the LED itself, so that a caller the bus policy refuses learns
	 * it now, with a clear message, rather than at its first press.
	 */
	r = sd_bus_call_method(s->bus, s->owner, DBUS_OBJECT_PATH,
			       "org.freedesktop.DBus.Peer", "Ping", &error,
			       NULL, NULL);
	if (r >= 0)
		goto out;
	if (sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED)) {
		fprintf(stderr, "dbus: the policy of the %s does not let this user call %s: %s\n",
			p->bus_label, p->name,
			error.message ? error.message : "access denied");
		r = -EACCES;
	} else if (dbus_error_means_resend(&error)) {
		r = -ENOENT;		/* it left meanwhile: retry later */
	} else {
		fprintf(stderr, "dbus: %s does not answer: %s\n", p->name,
			error.message ? error.message : strerror(-r));
	}
out:
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

static int sender_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct dbus_priv *p = t->priv;
	struct dbus_sender *s = p->sender;
	uint64_t deadline = monotonic_ns() + DBUS_SEND_WAIT_MS * 1000000ULL;
	struct dbus_frame *f;
	int r;

	if (len > IPC_MESSAGE_MAX_WIRE)
		return -EMSGSIZE;
	r = sender_pump(t);
	if (r < 0)
		return r;
	/*
	 * A full window with an LED that answers: its replies are on their
	 * way, worth a short wait. Without an LED, the caller's back-off
	 * will call again.
	 */
	while (s->count == DBUS_WINDOW) {
		uint64_t now = monotonic_ns();

		if (!s->owner || now >= deadline)
			return -EAGAIN;
		r = sender_wait(s, (int)((deadline - now) / 1000000) + 1);
		if (r == -ETIMEDOUT || r == -EINTR)
			return -EAGAIN;
		if (r < 0)
			return r;
		r = sender_pump(t);
		if (r < 0)
			return r;
	}
	f = sender_frame(s, s->count);
	memcpy(f->bytes, frame, len);
	f->len = len;
	f->state = FRAME_WAITING;
	s->count++;
	r = sender_pump(t);
	if (r < 0 && f->state == FRAME_WAITING)
		s->count--;	/* never left: the caller keeps it */
	return r;
}

/*
 * Give the LED up to linger-ms to confirm what is still in the window
 * (resending to a new owner if one appears), so a button that exits right
 * after its last press does not lose it. Plain poll(): a stop signal that
 * already arrived must not cut this short.
 */
static void sender_linger(struct transport *t)
{
	struct dbus_priv *p = t->priv;
	struct dbus_sender *s = p->sender;
	const char *opt = transport_option(t, "linger-ms");
	long linger = strtol(opt, NULL, 10);
	uint64_t deadline = monotonic_ns() + (uint64_t)(linger > 0 ? linger : 0) * 1000000ULL;

	while (s->count && sender_pump(t) == 0 && s->count) {
		uint64_t now = monotonic_ns();
		struct pollfd pfd = { .fd = sd_bus_get_fd(s->bus) };

		if (now >= deadline)
			break;
		pfd.events = (short)sd_bus_get_events(s->bus);
		if (poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1) < 0)
			break;
	}
	if (s->count)
		fprintf(stderr, "dbus: %u frame(s) not confirmed by %s when closing\n",
			s->count, p->name);
	if (s->refused)
		fprintf(stderr, "dbus: %s refused %llu frame(s) as invalid\n",
			p->name, (unsigned long long)s->refused);
}

static void sender_close(struct transport *t)
{
	struct dbus_priv *p = t->priv;
	struct dbus_sender *s = p->sender;

	if (!s)
		return;
	if (s->bus) {
		if (s->owner || s->count)
			sender_linger(t);
		sd_bus_flush_close_unref(s->bus);
	}
	free(s->owner);
	free(s->target);
	free(s);
}

/* -- receiver ---------------------------------------------------------- */

static void call_release(struct dbus_call *c)
{
	c->msg = sd_bus_message_unref(c->msg);
}

static int receiver_enqueue(struct dbus_receiver *r, const struct dbus_call *c)
{
	if (r->count == r->size) {
		/* Bounded by the senders' windows, not by us. */
		size_t size = r->size ? 2 * r->size : 16;
		struct dbus_call *q = calloc(size, sizeof(*q));

		if (!q)
			return -ENOMEM;
		for (size_t i = 0; i < r->count; i++)
			q[i] = r->queue[(r->head + i) % r->size];
		free(r->queue);
		r->queue = q;
		r->head = 0;
		r->size = size;
	}
	r->queue[(r->head + r->count) % r->size] = *c;
	r->count++;
	return 0;
}

static int receiver_set_state(sd_bus_message *m, void *userdata,
			      sd_bus_error *ret_error)
{
	struct dbus_receiver *r = userdata;
	struct dbus_call c = { 0 };
	struct ipc_message msg;
	enum ipc_message_error err;
	const void *bytes;
	size_t len;
	int ret;

	ret = sd_bus_message_read_array(m, 'y', &bytes, &len);
	if (ret < 0)
		return ret;
	err = ipc_message_decode(bytes, len, &msg);
	c.msg = sd_bus_message_ref(m);
	c.frame = bytes;
	c.len = len;
	c.valid = err == IPC_MESSAGE_OK;
	c.led_state = c.valid ? msg.led_state : 0;
	/* The caller validates and counts it too: queue it either way. */
	ret = receiver_enqueue(r, &c);
	if (ret < 0) {
		call_release(&c);
		return ret;
	}
	if (!c.valid)
		return sd_bus_error_setf(ret_error, DBUS_ERROR_INVALID,
					 "invalid frame: %s",
					 ipc_message_error_name(err));
	return 1;	/* replied later, once the LED applied it */
}

static int receiver_get_state(sd_bus *bus, const char *path,
			      const char *interface, const char *property,
			      sd_bus_message *reply, void *userdata,
			      sd_bus_error *ret_error)
{
	struct dbus_receiver *r = userdata;
	int state = r->state > 0;

	(void)bus, (void)path, (void)interface, (void)property, (void)ret_error;
	return sd_bus_message_append(reply, "b", state);
}

/*
 * sd-bus answers a SetState call with the wrong argument types itself
 * (InvalidArgs) before our handler sees it; count those here, as refused
 * by the transport.
 */
static int receiver_filter(sd_bus_message *m, void *userdata,
			   sd_bus_error *ret_error)
{
	struct dbus_receiver *r = userdata;

	(void)ret_error;
	if (sd_bus_message_is_method_call(m, DBUS_INTERFACE, "SetState") &&
	    !sd_bus_message_has_signature(m, "ay"))
		(*r->rejected)++;
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
				SD_BUS_NO_RESULT, receiver_set_state,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_PROPERTY("State", "b", receiver_get_state, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END
};

/* The frame returned last was applied: reply, and publish the state. */
static int receiver_confirm(struct transport *t)
{
	struct dbus_priv *p = t->priv;
	struct dbus_receiver *r = p->receiver;
	struct dbus_call *c = &r->delivered;
	int ret = 0;

	if (!c->msg)
		return 0;
	if (c->valid) {
		ret = sd_bus_reply_method_return(c->msg, NULL);
		if (ret >= 0 && r->state != c->led_state) {
			r->state = c->led_state;
			ret = sd_bus_emit_properties_changed(r->bus,
							     DBUS_OBJECT_PATH,
							     DBUS_INTERFACE,
							     "State", NULL);
		}
	}
	call_release(c);
	/* A caller that already left is no error of ours. */
	return ret == -ENOTCONN || ret == -ECONNRESET ? 0 : ret;
}

static int receiver_open(struct transport *t)
{
	struct dbus_priv *p = t->priv;
	struct dbus_receiver *r;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	p->receiver = r;
	r->state = -1;
	r->rejected = &t->rejected;
	ret = ready_set_new(&r->ready);
	if (ret < 0)
		return ret;
	ret = dbus_connect(t, &r->bus);
	if (ret < 0) {
		fprintf(stderr, "dbus: cannot connect to the %s: %s\n",
			p->bus_label, strerror(-ret));
		return ret;
	}
	ret = sd_bus_add_filter(r->bus, NULL, receiver_filter, r);
	if (ret >= 0)
		ret = sd_bus_add_object_vtable(r->bus, NULL, DBUS_OBJECT_PATH,
					       DBUS_INTERFACE, led_vtable, r);
	if (ret < 0) {
		fprintf(stderr, "dbus: exporting %s: %s\n", DBUS_OBJECT_PATH,
			strerror(-ret));
		return ret;
	}
	/* The object exists before the name: no call can find it missing. */
	ret = sd_bus_request_name(r->bus, p->name, 0);
	if (ret == -EEXIST) {
		fprintf(stderr, "dbus: %s is already owned on the %s (another LED process?)\n",
			p->name, p->bus_label);
		return ret;
	}
	if (ret == -EACCES || ret == -EPERM) {
		fprintf(stderr, "dbus: the policy of the %s does not let this user own %s (system bus: root or group ipc-button)\n",
			p->bus_label, p->name);
		return -EACCES;
	}
	if (ret < 0) {
		fprintf(stderr, "dbus: requesting %s on the %s: %s\n", p->name,
			p->bus_label, strerror(-ret));
		return ret;
	}
	return 0;
}

/* Keep the ready set telling the truth about what receive() would find. */
static int receiver_update_ready(struct dbus_receiver *r)
{
	int events = sd_bus_get_events(r->bus);
	int ret;

	if (events < 0)
		return events;
	ret = ready_set_watch(r->ready, sd_bus_get_fd(r->bus), (short)events);
	if (ret >= 0)
		ret = ready_set_mark(r->ready, r->count || r->delivered.msg);
	return ret;
}

static ssize_t receiver_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct dbus_priv *p = t->priv;
	struct dbus_receiver *r = p->receiver;
	uint64_t deadline = timeout_ms < 0 ? 0 :
		monotonic_ns() + (uint64_t)timeout_ms * 1000000ULL;
	int wait_ms, ret;

	ret = receiver_confirm(t);
	if (ret < 0)
		goto bus_error;
	for (;;) {
		if (r->count) {
			struct dbus_call *c = &r->queue[r->head];
			size_t n = c->len < size ? c->len : size;

			if (n)	/* an empty array may have no data pointer */
				memcpy(buf, c->frame, n);
			r->delivered = *c;
			r->head = (r->head + 1) % r->size;
			r->count--;
			ret = receiver_update_ready(r);
			return ret < 0 ? ret : (ssize_t)n;
		}
		/* One message at a time: a frame is returned as soon as seen. */
		ret = sd_bus_process(r->bus, NULL);
		if (ret < 0)
			goto bus_error;
		if (ret > 0)
			continue;

		ret = receiver_update_ready(r);
		if (ret < 0)
			return ret;
		wait_ms = -1;
		if (timeout_ms >= 0) {
			uint64_t now = monotonic_ns();

			wait_ms = now >= deadline ? 0 :
				  (int)((deadline - now + 999999) / 1000000);
		}
		ret = fd_wait(sd_bus_get_fd(r->bus),
					(short)sd_bus_get_events(r->bus),
					wait_ms, NULL);
		if (ret < 0)
			return ret;	/* -ETIMEDOUT, -EINTR */
	}

bus_error:
	fprintf(stderr, "dbus: lost the %s: %s\n", p->bus_label, strerror(-ret));
	return ret == -ECONNRESET || ret == -ENOTCONN ? -ENOTCONN : ret;
}

static int receiver_poll_fd(struct dbus_receiver *r)
{
	return ready_set_fd(r->ready);
}

static void receiver_close(struct transport *t)
{
	struct dbus_priv *p = t->priv;
	struct dbus_receiver *r = p->receiver;

	if (!r)
		return;
	if (r->bus) {
		/* The last frame was applied; the rest go back unanswered. */
		(void)receiver_confirm(t);
		(void)sd_bus_release_name(r->bus, p->name);
		sd_bus_flush_close_unref(r->bus);
	}
	call_release(&r->delivered);
	for (size_t i = 0; i < r->count; i++)
		call_release(&r->queue[(r->head + i) % r->size]);
	free(r->queue);
	ready_set_free(r->ready);
	free(r);
}

/* -- the transport ----------------------------------------------------- */

static void dbus_close(struct transport *t)
{
	struct dbus_priv *p = t->priv;

	if (!p)
		return;
	sender_close(t);
	receiver_close(t);
	free(p);
	t->priv = NULL;
}

static int dbus_open(struct transport *t)
{
	struct dbus_priv *p;
	long linger;
	char *end;
	int r;

	linger = strtol(transport_option(t, "linger-ms"), &end, 10);
	if (*end || linger < 0) {
		fprintf(stderr, "dbus: linger-ms must be a number of milliseconds\n");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	t->priv = p;
	r = dbus_build_name(t, p->name, sizeof(p->name));
	if (r >= 0)
		r = t->role == TRANSPORT_SENDER ? sender_open(t) : receiver_open(t);
	if (r < 0)
		dbus_close(t);
	return r;
}

static int dbus_send(struct transport *t, const uint8_t *frame, size_t len)
{
	return sender_send(t, frame, len);
}

static ssize_t dbus_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	return receiver_receive(t, buf, size, timeout_ms);
}

static int dbus_poll_fd(struct transport *t)
{
	struct dbus_priv *p = t->priv;

	/* A full sender waits inside send(); the caller's back-off does the rest. */
	return p->receiver ? receiver_poll_fd(p->receiver) : -1;
}

static const struct transport_ops dbus_ops = {
	.name = "dbus",
	.summary = "D-Bus method calls to the LED's bus name (sd-bus), replied once applied",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_DURABLE,
	.options = dbus_options,
	.open = dbus_open,
	.send = dbus_send,
	.receive = dbus_receive,
	.poll_fd = dbus_poll_fd,
	.close = dbus_close,
};

TRANSPORT_REGISTER(dbus_ops);
