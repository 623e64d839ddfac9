// SPDX-License-Identifier: MIT
/*
 * stream-batches: host tests of several frames per system call on the
 * pipe, fifo, socketpair, unix, tcp and tls transports (send_many and
 * receive_many, ipc/transport.h), through the transport interface only,
 * printing TAP.
 *
 *   stream-batches [VIA...]      (default: pipe fifo socketpair unix tcp)
 *
 * Sender and receiver run in this one process (tls needs a handshake
 * both ends drive at once: suites 30 and 32 cover it). Each mechanism
 * gets a fresh runtime directory and instance, and tcp a port derived
 * from the pid, so runs never meet. What is checked, per mechanism: a
 * batch of 3 is taken in one call and received as 3, in order; one
 * receive_many hands out a batch in order; a full mechanism takes what
 * fits and says -EAGAIN, and the frames offered again arrive with none
 * lost or duplicated, also when a stream took part of a frame. Packet
 * mechanisms only (a stream has no packets): a batch with a bad frame
 * inside is refused whole and counted once in t->rejected, and a packet
 * of 2.5 frames is one frame, handed out whole for the caller to reject;
 * the good frames after both arrive intact.
 */
#include "lib/tap.h"
#include "../../userspace/ipc/transport.h"
#include "../../userspace/lib/message.h"
#include "../../userspace/lib/stop.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DRAIN_WAIT_MS	300	/* a stream's last bytes may still be in flight */
#define WAIT_MS		5000	/* upper bound of one wait: fail, never hang */
#define BACKLOG_MAX	400000	/* frames a full mechanism may take, and more */

struct subject {
	const char *via;
	const struct transport_ops *ops;
	char dir[PATH_MAX / 2];
	char instance[32];
	char port[32];
	const char *options[3];
	struct transport_config rx_config, tx_config;
	struct transport *rx, *tx;
	bool packets;		/* boundaries kept: not a byte stream */
	uint32_t next;		/* seqno of the next frame to make */
	uint32_t expect;	/* seqno of the next frame to receive */
};

static void make_frame(uint32_t seqno, uint8_t frame[IPC_MESSAGE_SIZE])
{
	struct ipc_message msg = {
		.type = seqno % 2 ? IPC_EVENT_PRESS : IPC_EVENT_RELEASE,
		.led_state = (uint8_t)(seqno / 2 % 2),
		.seqno = seqno,
		.event_ns = seqno,
		.send_ns = seqno,
	};

	ipc_message_encode(&msg, frame);
}

/* Frames @first.. of a backlog, back to back (static: 400,000 of them). */
static uint8_t backlog[BACKLOG_MAX][IPC_MESSAGE_SIZE];

static void make_backlog(uint32_t first, size_t count)
{
	for (size_t i = 0; i < count && i < BACKLOG_MAX; i++)
		make_frame(first + (uint32_t)i, backlog[i]);
}

/* Check one received frame is the next expected one. */
static bool take(struct subject *s, const uint8_t *frame, size_t len,
		 const char *what)
{
	struct ipc_message msg;

	if (len != IPC_MESSAGE_SIZE ||
	    ipc_message_decode(frame, len, &msg) != IPC_MESSAGE_OK) {
		tap_diag("%s: %s: a frame of %zu bytes that does not decode",
			 s->via, what, len);
		return false;
	}
	if (msg.seqno != s->expect) {
		tap_diag("%s: %s: seqno %u, expected %u", s->via, what,
			 msg.seqno, s->expect);
		return false;
	}
	s->expect++;
	return true;
}

static bool receive_one(struct subject *s, const char *what)
{
	uint8_t buf[TRANSPORT_FRAME_ROOM];
	ssize_t n = transport_receive(s->rx, buf, sizeof(buf), WAIT_MS);

	if (n < 0) {
		tap_diag("%s: %s: receive: %s", s->via, what, strerror((int)-n));
		return false;
	}
	return take(s, buf, (size_t)n, what);
}

/* Everything still there, by receive_many: true if all in order. */
static bool drain(struct subject *s, struct transport_batch *batch,
		  const char *what)
{
	ssize_t n;

	for (;;) {
		n = transport_receive_many(s->rx, batch, DRAIN_WAIT_MS);
		if (n == -ETIMEDOUT)
			return true;
		if (n < 0 || (size_t)n != batch->count || !n) {
			tap_diag("%s: %s: receive_many: %zd", s->via, what, n);
			return false;
		}
		for (size_t i = 0; i < batch->count; i++)
			if (!take(s, batch->frame[i], batch->len[i], what))
				return false;
	}
}

static void test_batch_of_three(struct subject *s)
{
	int r;
	bool ok;

	make_backlog(s->next, 3);
	r = transport_send_many(s->tx, backlog[0], IPC_MESSAGE_SIZE, 3);
	s->next += r > 0 ? (uint32_t)r : 0;
	ok = r == 3;
	for (int i = 0; ok && i < 3; i++)
		ok = receive_one(s, "batch of 3");
	tap_ok(ok, "%s: a batch of 3 is taken in one call (%d) and received as 3, in order",
	       s->via, r);
}

static void test_receive_many(struct subject *s, struct transport_batch *batch)
{
	size_t got = 0, calls = 0;
	ssize_t n = 0;
	int r;
	bool ok;

	make_backlog(s->next, 5);
	r = transport_send_many(s->tx, backlog[0], IPC_MESSAGE_SIZE, 5);
	s->next += r > 0 ? (uint32_t)r : 0;
	ok = r == 5;
	while (ok && got < 5) {
		n = transport_receive_many(s->rx, batch, WAIT_MS);
		ok = n > 0 && (size_t)n == batch->count;
		for (size_t i = 0; ok && i < batch->count; i++)
			ok = take(s, batch->frame[i], batch->len[i], "receive_many");
		got += ok ? batch->count : 0;
		calls++;
	}
	/* A packet is one read; a stream may deliver a send in parts. */
	if (s->packets)
		ok = ok && calls == 1;
	tap_ok(ok && got == 5, "%s: receive_many hands out a batch of 5 in order (%zu call(s))",
	       s->via, calls);
}

static void test_bad_frame_inside(struct subject *s)
{
	uint64_t before = s->rx->rejected;
	int r;
	bool ok;

	make_backlog(s->next, 3);
	backlog[1][IPC_MESSAGE_SIZE - 1] ^= 0xff;	/* its checksum breaks */
	r = transport_send_many(s->tx, backlog[0], IPC_MESSAGE_SIZE, 3);
	s->next += 3;
	s->expect += 3;		/* refused whole: none of the three comes */
	make_backlog(s->next, 1);
	ok = r == 3 && transport_send(s->tx, backlog[0], IPC_MESSAGE_SIZE) == 0;
	s->next++;
	ok = ok && receive_one(s, "after a bad batch");
	tap_ok(ok && s->rx->rejected == before + 1,
	       "%s: a batch with a bad frame inside is refused whole, counted once (rejected %llu), the next frame intact",
	       s->via, (unsigned long long)(s->rx->rejected - before));
}

static void test_two_and_a_half(struct subject *s)
{
	uint8_t odd[IPC_MESSAGE_SIZE * 5 / 2], buf[TRANSPORT_FRAME_ROOM];
	ssize_t n;
	bool ok;

	make_backlog(s->next, 3);
	memcpy(odd, backlog[0], sizeof(odd));
	ok = transport_send(s->tx, odd, sizeof(odd)) == 0;
	s->next += 3;
	s->expect += 3;
	n = ok ? transport_receive(s->rx, buf, sizeof(buf), WAIT_MS) : -1;
	ok = n == (ssize_t)sizeof(odd);
	make_backlog(s->next, 1);
	ok = ok && transport_send(s->tx, backlog[0], IPC_MESSAGE_SIZE) == 0;
	s->next++;
	ok = ok && receive_one(s, "after 2.5 frames");
	tap_ok(ok, "%s: a packet of 2.5 frames is one frame of %zd bytes, for the caller to reject; the next frame intact",
	       s->via, n);
}

/*
 * Offer batches of 64 from a backlog until the mechanism is full, as the
 * button does; true when it said -EAGAIN at least once and took the rest
 * after a drain.
 */
static void test_full(struct subject *s, struct transport_batch *batch)
{
	uint32_t first = s->next;
	size_t offered = 0, fulls = 0;
	bool ok = true;
	int r;

	make_backlog(first, BACKLOG_MAX);
	/* A pipe's packets: fill it with single frames, free one slot. */
	if (!strcmp(s->via, "pipe") || !strcmp(s->via, "fifo")) {
		while (offered < BACKLOG_MAX &&
		       transport_send(s->tx, backlog[offered],
				      IPC_MESSAGE_SIZE) == 0)
			offered++;
		ok = offered > 0 && receive_one(s, "full pipe");
		r = ok ? transport_send_many(s->tx, backlog[offered],
					     IPC_MESSAGE_SIZE, 64) : -1;
		ok = r == 64;
		offered += r > 0 ? (size_t)r : 0;
		r = transport_send_many(s->tx, backlog[offered],
					IPC_MESSAGE_SIZE, 64);
		tap_ok(ok && r == TRANSPORT_FULL,
		       "%s: a batch into a pipe with one free slot takes all 64; the next says full (%d)",
		       s->via, r);
	}
	while (ok && offered + TRANSPORT_BATCH_MAX <= BACKLOG_MAX) {
		r = transport_send_many(s->tx, backlog[offered],
					IPC_MESSAGE_SIZE, TRANSPORT_BATCH_MAX);
		if (r == TRANSPORT_FULL) {
			/* Full: take some out, offer the rest again. */
			if (++fulls == 2)
				break;
			ok = drain(s, batch, "full");
			continue;
		}
		ok = r > 0 && r <= TRANSPORT_BATCH_MAX;
		offered += r > 0 ? (size_t)r : 0;
	}
	/* A stream may hold part of the last frame taken: the next send
	 * finishes it first, so one more frame brings it all. */
	ok = ok && drain(s, batch, "full");
	r = ok ? transport_send_many(s->tx, backlog[offered], IPC_MESSAGE_SIZE, 1) : -1;
	ok = r == 1;
	offered += ok;
	s->next = first + (uint32_t)offered;
	ok = ok && drain(s, batch, "full");
	if (s->expect != s->next)
		tap_diag("%s: received up to %u of %u", s->via, s->expect - 1,
			 s->next - 1);
	tap_ok(ok && fulls == 2 && s->expect == s->next,
	       "%s: full twice; %zu frames offered again in batches arrive once each, in order",
	       s->via, offered);
}

static int subject_open(struct subject *s, const char *via)
{
	const char *root = getenv("XDG_RUNTIME_DIR");
	char template[sizeof(s->dir)];
	int pair[2] = { -1, -1 }, r;

	memset(s, 0, sizeof(*s));
	s->via = via;
	s->ops = transport_find(via);
	if (!s->ops)
		return -ENOENT;
	if (!root || access(root, W_OK) < 0)
		root = "/run";
	snprintf(template, sizeof(template), "%s/ipc-button-sb.XXXXXX", root);
	if (!mkdtemp(template))
		return -errno;
	memcpy(s->dir, template, sizeof(s->dir));
	snprintf(s->instance, sizeof(s->instance), "sb%d", (int)getpid());
	snprintf(s->port, sizeof(s->port), "port=%d", 20000 + getpid() % 20000);
	s->options[0] = s->port;
	s->packets = strcmp(via, "tcp") && strcmp(via, "tls");
	s->next = s->expect = 1;
	s->rx_config = (struct transport_config){
		.runtime_dir = s->dir, .instance = s->instance,
		.inherited_fd = -1,
		.options = strcmp(via, "tcp") ? NULL : s->options,
	};
	s->tx_config = s->rx_config;
	if (s->ops->flags & TRANSPORT_INHERITED) {
		r = s->ops->make_pair(pair);
		if (r < 0)
			return r;
		s->rx_config.inherited_fd = pair[0];
		s->tx_config.inherited_fd = pair[1];
	}
	r = transport_open(s->ops, TRANSPORT_RECEIVER, &s->rx_config, &s->rx,
			   NULL);
	if (r == 0)
		r = transport_open(s->ops, TRANSPORT_SENDER, &s->tx_config,
				   &s->tx, NULL);
	return r;
}

static void subject_close(struct subject *s)
{
	transport_close(s->tx, NULL);
	transport_close(s->rx, NULL);
	rmdir(s->dir);
}

int main(int argc, char **argv)
{
	static const char *const all[] = { "pipe", "fifo", "socketpair",
					   "unix", "tcp" };
	static struct transport_batch batch;
	const char *const *vias = all;
	size_t count = sizeof(all) / sizeof(all[0]);
	struct subject s;
	int r;

	if (stop_init() < 0)
		return 2;
	if (argc > 1) {
		vias = (const char *const *)argv + 1;
		count = (size_t)argc - 1;
	}
	for (size_t i = 0; i < count; i++) {
		r = subject_open(&s, vias[i]);
		if (r < 0) {
			tap_ok(false, "%s: open both ends: %s", vias[i],
			       strerror(-r));
			subject_close(&s);
			continue;
		}
		test_batch_of_three(&s);
		test_receive_many(&s, &batch);
		if (s.packets) {
			test_bad_frame_inside(&s);
			test_two_and_a_half(&s);
		}
		test_full(&s, &batch);
		subject_close(&s);
	}
	return tap_done();
}
