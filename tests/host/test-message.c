// SPDX-License-Identifier: MIT
/*
 * Unit tests of the wire message codec, the button's backlog, the
 * dispatcher's batch fallbacks (what the button and the LED go through
 * with a mechanism that has no batch ops) and the ready set's deadline
 * (dbus and mqtt), TAP.
 */
#include "backlog.h"
#include "crc32c.h"
#include "deadline.h"
#include "message.h"
#include "ready_set.h"
#include "transport.h"

#include <errno.h>

#include <stdio.h>
#include <string.h>

static int n, failed;

static void check(int ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	if (!ok)
		failed++;
}

/*
 * The CPU's instruction and the tables agree on every length from 0 to
 * 100 bytes, at every alignment of the first byte: the instruction path
 * takes 8, 4 and 1 bytes a step, the tables 8, 4 and 1 too, and a frame
 * written on one machine is checked on another that may use the other.
 */
static void crc_agree(void)
{
	uint8_t buf[128];
	uint32_t x = 12345;
	int bad = 0;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 100; len++)
			bad += crc32c(buf + off, len) != crc32c_portable(buf + off, len);
	printf("# crc32c() uses %s here\n",
	       crc32c_uses_cpu() ? "the CPU's instruction" : "the tables");
	check(!bad, "crc32c() and the tables agree, 0..100 bytes at 8 alignments");
	check(crc32c("", 0) == 0, "CRC-32C of nothing is 0");
}

static void codec(void)
{
	struct ipc_message in = {
		.type = IPC_EVENT_RELEASE, .flags = IPC_MESSAGE_F_DROPPED,
		.led_state = 1, .seqno = 0xdeadbeef, .dropped = 7,
		.event_ns = 0x0102030405060708ull, .send_ns = 0x1112131415161718ull,
	}, out;
	uint8_t f[IPC_MESSAGE_SIZE + 8], g[IPC_MESSAGE_SIZE];

	ipc_message_encode(&in, f);
	check(ipc_message_decode(f, IPC_MESSAGE_SIZE, &out) == IPC_MESSAGE_OK &&
	      out.seqno == in.seqno && out.dropped == 7 &&
	      out.event_ns == in.event_ns && out.send_ns == in.send_ns &&
	      out.led_state == 1 && out.type == IPC_EVENT_RELEASE &&
	      out.flags == IPC_MESSAGE_F_DROPPED,
	      "encode then decode gives every field back");
	check(f[8] == 0xde && f[9] == 0xad && f[10] == 0xbe && f[11] == 0xef,
	      "seqno is big-endian on the wire");
	check(crc32c("123456789", 9) == 0xe3069283, "CRC-32C check value");
	check(crc32c_portable("123456789", 9) == 0xe3069283,
	      "CRC-32C check value, from the tables");
	check(f[36] == (crc32c(f, 36) >> 24) && f[39] == (crc32c(f, 36) & 0xff),
	      "the frame's last four bytes are the CRC-32C of the 36 before, big-endian");
	check(ipc_message_decode(f, 0, &out) == IPC_MESSAGE_SHORT, "empty: short");
	check(ipc_message_decode(f, 39, &out) == IPC_MESSAGE_SHORT, "39 bytes: short");
	check(ipc_message_decode(f, 41, &out) == IPC_MESSAGE_LONG, "41 bytes: long");
	memcpy(g, f, sizeof(g));
	g[0] = 'X';
	check(ipc_message_decode(g, sizeof(g), &out) == IPC_MESSAGE_BAD_MAGIC, "bad magic");
	memcpy(g, f, sizeof(g));
	check(f[2] == 2, "the frame says version 2");
	g[2] = 1;
	check(ipc_message_decode(g, sizeof(g), &out) == IPC_MESSAGE_BAD_VERSION,
	      "version 1 (the Ethernet CRC-32's): bad version, not a checksum");
	memcpy(g, f, sizeof(g));
	g[2] = 3;
	check(ipc_message_decode(g, sizeof(g), &out) == IPC_MESSAGE_BAD_VERSION, "version 3");
	memcpy(g, f, sizeof(g));
	g[20] ^= 1;
	check(ipc_message_decode(g, sizeof(g), &out) == IPC_MESSAGE_BAD_CHECKSUM, "one flipped bit: bad checksum");
	in.led_state = 2;
	ipc_message_encode(&in, g);
	check(ipc_message_decode(g, sizeof(g), &out) == IPC_MESSAGE_BAD_FIELD, "LED state 2: bad field");
	in.led_state = 0;
	in.type = IPC_EVENT_STATE;
	ipc_message_encode(&in, g);
	check(ipc_message_decode(g, sizeof(g), &out) == IPC_MESSAGE_OK &&
	      out.type == IPC_EVENT_STATE, "type 3, a state report: valid");
	in.type = 4;
	ipc_message_encode(&in, g);
	check(ipc_message_decode(g, sizeof(g), &out) == IPC_MESSAGE_BAD_FIELD, "event type 4: bad field");
	check(!strcmp(ipc_message_error_name(IPC_MESSAGE_BAD_CHECKSUM), "bad-checksum") &&
	      !strcmp(ipc_message_error_name(99), "unknown"), "error names");
}

static void backlog(void)
{
	struct backlog b;
	struct ipc_message m = { .type = IPC_EVENT_PRESS };
	int dropped = 0;

	check(backlog_init(&b, 3) == 0, "backlog of 3");
	for (uint32_t s = 1; s <= 5; s++) {
		m.seqno = s;
		dropped += backlog_push(&b, &m);
	}
	check(dropped == 2 && b.overflowed == 2 && b.count == 3, "5 into 3: the 2 oldest dropped and counted");
	check(backlog_head(&b)->seqno == 3 && backlog_head(&b)->dropped == 2 &&
	      backlog_head(&b)->flags & IPC_MESSAGE_F_DROPPED,
	      "the new oldest carries the loss (dropped 2, flag set)");
	backlog_pop(&b);
	m.seqno = 6;
	backlog_push(&b, &m);
	m.seqno = 7;
	backlog_push(&b, &m);	/* drops 4, which carried nothing */
	check(backlog_head(&b)->seqno == 5 && backlog_head(&b)->dropped == 1,
	      "a second overflow carries only its own loss");
	backlog_pop(&b);
	backlog_pop(&b);
	backlog_pop(&b);
	check(backlog_empty(&b) && !backlog_head(&b), "empty after popping all");
	/* A batch is read from the head by index, across the wrap. */
	for (uint32_t s = 8; s <= 10; s++) {
		m.seqno = s;
		backlog_push(&b, &m);
	}
	check(b.head != 0 && backlog_at(&b, 0)->seqno == 8 &&
	      backlog_at(&b, 1)->seqno == 9 && backlog_at(&b, 2)->seqno == 10 &&
	      !backlog_at(&b, 3) && backlog_at(&b, 0) == backlog_head(&b),
	      "backlog_at: oldest first across the wrap, NULL past the newest");
	backlog_free(&b);
	check(backlog_init(&b, 1) == 0, "backlog of 1");
	m.seqno = 1;
	m.dropped = 0;
	m.flags = 0;
	backlog_push(&b, &m);
	m.seqno = 2;
	backlog_push(&b, &m);
	check(backlog_head(&b)->seqno == 2 && backlog_head(&b)->dropped == 1,
	      "capacity 1: the newest stays and carries the loss");
	backlog_free(&b);
}

/* A mechanism without batch ops: takes frames until its room is used up. */
static size_t fake_room, fake_taken, fake_receives;
static uint8_t fake_first[TRANSPORT_BATCH_MAX];

static int fake_send(struct transport *t, const uint8_t *frame, size_t len)
{
	(void)t;
	(void)len;
	if (fake_taken == fake_room)
		return TRANSPORT_FULL;
	fake_first[fake_taken++] = frame[0];
	return 0;
}

static ssize_t fake_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	(void)t;
	(void)timeout_ms;
	fake_receives++;
	if (size < 3)
		return -EMSGSIZE;
	memcpy(buf, "abc", 3);
	return 3;
}

static void batch_fallbacks(void)
{
	static const struct transport_ops ops = {
		.name = "fake", .send = fake_send, .receive = fake_receive,
	};
	struct transport t = { .ops = &ops };
	static struct transport_batch batch;
	uint8_t frames[100][4];
	bool in_order = true;

	for (int i = 0; i < 100; i++)
		frames[i][0] = (uint8_t)i;
	fake_room = 3;
	check(transport_send_many(&t, frames[0], 4, 5) == 3,
	      "send fallback: 5 offered, room for 3: 3 taken");
	for (size_t i = 0; i < fake_taken; i++)
		in_order &= fake_first[i] == i;
	check(in_order, "send fallback: the ones taken are the first, in order");
	check(transport_send_many(&t, frames[3], 4, 2) == TRANSPORT_FULL,
	      "send fallback: none taken: send()'s answer");
	fake_room = SIZE_MAX;
	fake_taken = 0;
	check(transport_send_many(&t, frames[0], 4, 100) == TRANSPORT_BATCH_MAX &&
	      fake_taken == TRANSPORT_BATCH_MAX,
	      "send fallback: 100 offered: TRANSPORT_BATCH_MAX taken");
	check(transport_receive_many(&t, &batch, -1) == 1 && batch.count == 1 &&
	      batch.len[0] == 3 && !memcmp(batch.frame[0], "abc", 3) &&
	      fake_receives == 1,
	      "receive fallback: one receive(), one frame");
}

/* Readable at once? (Its deadline passed, nothing else is watched.) */
static bool ready_now(struct ready_set *set)
{
	return ready_set_wait(set, 0) == 0;
}

static void ready_set_deadlines(void)
{
	const uint64_t ms = 1000000;
	struct ready_set *set;
	uint64_t t0;

	if (ready_set_new(&set) < 0) {
		check(0, "ready set: a new one");
		return;
	}
	t0 = monotonic_ns();
	check(!ready_set_deadline(set, t0 + 20 * ms) &&
	      !ready_set_deadline(set, t0 + 60000 * ms) &&
	      ready_set_wait(set, 30000) == 0 &&
	      monotonic_ns() - t0 < 30000 * ms,
	      "ready set: a later deadline leaves the earlier armed: readable at the earlier");
	check(!ready_set_deadline(set, t0 + 60000 * ms) && !ready_now(set),
	      "ready set: once the armed one passed, a later one is armed: the expiry is cleared");
	t0 = monotonic_ns();
	check(!ready_set_deadline(set, t0 + 20 * ms) &&
	      ready_set_wait(set, 30000) == 0 && monotonic_ns() - t0 < 30000 * ms,
	      "ready set: an earlier deadline replaces the armed one");
	check(!ready_set_deadline(set, t0 + 60000 * ms) && !ready_now(set) &&
	      !ready_set_deadline(set, 0) && !ready_set_deadline(set, monotonic_ns()) &&
	      ready_now(set),
	      "ready set: a deadline removed, then one of now: readable");
	ready_set_free(set);
}

int main(void)
{
	crc_agree();
	codec();
	backlog();
	batch_fallbacks();
	ready_set_deadlines();
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
