// SPDX-License-Identifier: MIT
/*
 * Unit tests of the wire message codec and the button's backlog, TAP.
 */
#include "backlog.h"
#include "message.h"

#include <stdio.h>
#include <string.h>

static int n, failed;

static void check(int ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	if (!ok)
		failed++;
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
	check(ipc_crc32("123456789", 9) == 0xcbf43926, "CRC-32 check value");
	check(ipc_message_decode(f, 0, &out) == IPC_MESSAGE_SHORT, "empty: short");
	check(ipc_message_decode(f, 39, &out) == IPC_MESSAGE_SHORT, "39 bytes: short");
	check(ipc_message_decode(f, 41, &out) == IPC_MESSAGE_LONG, "41 bytes: long");
	memcpy(g, f, sizeof(g));
	g[0] = 'X';
	check(ipc_message_decode(g, sizeof(g), &out) == IPC_MESSAGE_BAD_MAGIC, "bad magic");
	memcpy(g, f, sizeof(g));
	g[2] = 2;
	check(ipc_message_decode(g, sizeof(g), &out) == IPC_MESSAGE_BAD_VERSION, "version 2");
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

int main(void)
{
	codec();
	backlog();
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
