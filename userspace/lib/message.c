// SPDX-License-Identifier: MIT
/*
 * Wire layout of a version 2 frame (all integers big-endian):
 *
 *   0  magic     'I' 'B'
 *   2  version   2 (1 had the Ethernet CRC-32; see crc32c.h for why not)
 *   3  type      1 press, 2 release, 3 state report
 *   4  flags     IPC_MESSAGE_F_*
 *   5  led       0 or 1
 *   6  reserved  0, 2 bytes
 *   8  seqno     u32
 *  12  dropped   u32
 *  16  event_ns  u64
 *  24  send_ns   u64
 *  32  reserved  0, 4 bytes
 *  36  crc32c    u32 over bytes 0..35 (crc32c.h)
 */
#include "message.h"

#include "crc32c.h"

#include <string.h>

#define OFF_MAGIC	0
#define OFF_VERSION	2
#define OFF_TYPE	3
#define OFF_FLAGS	4
#define OFF_LED		5
#define OFF_RESERVED1	6
#define OFF_SEQNO	8
#define OFF_DROPPED	12
#define OFF_EVENT_NS	16
#define OFF_SEND_NS	24
#define OFF_RESERVED2	32
#define OFF_CRC		36

static const uint8_t magic[2] = { 'I', 'B' };

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

void ipc_message_encode(const struct ipc_message *msg,
			uint8_t frame[IPC_MESSAGE_SIZE])
{
	memset(frame, 0, IPC_MESSAGE_SIZE);
	memcpy(frame + OFF_MAGIC, magic, sizeof(magic));
	frame[OFF_VERSION] = IPC_MESSAGE_VERSION;
	frame[OFF_TYPE] = msg->type;
	frame[OFF_FLAGS] = msg->flags;
	frame[OFF_LED] = msg->led_state;
	put_be32(frame + OFF_SEQNO, msg->seqno);
	put_be32(frame + OFF_DROPPED, msg->dropped);
	put_be64(frame + OFF_EVENT_NS, msg->event_ns);
	put_be64(frame + OFF_SEND_NS, msg->send_ns);
	put_be32(frame + OFF_CRC, crc32c(frame, OFF_CRC));
}

enum ipc_message_error ipc_message_decode(const void *buf, size_t len,
					  struct ipc_message *ret)
{
	static const uint8_t zero[4];
	const uint8_t *frame = buf;
	struct ipc_message msg;

	/* Identify first, so a foreign frame of the right size says "magic". */
	if (len >= sizeof(magic) && memcmp(frame, magic, sizeof(magic)))
		return IPC_MESSAGE_BAD_MAGIC;
	if (len > OFF_VERSION && frame[OFF_VERSION] != IPC_MESSAGE_VERSION)
		return IPC_MESSAGE_BAD_VERSION;
	if (len < IPC_MESSAGE_SIZE)
		return IPC_MESSAGE_SHORT;
	if (len > IPC_MESSAGE_SIZE)
		return IPC_MESSAGE_LONG;
	if (get_be32(frame + OFF_CRC) != crc32c(frame, OFF_CRC))
		return IPC_MESSAGE_BAD_CHECKSUM;

	msg.type = frame[OFF_TYPE];
	msg.flags = frame[OFF_FLAGS];
	msg.led_state = frame[OFF_LED];
	if (msg.type != IPC_EVENT_PRESS && msg.type != IPC_EVENT_RELEASE &&
	    msg.type != IPC_EVENT_STATE)
		return IPC_MESSAGE_BAD_FIELD;
	if (msg.flags & ~IPC_MESSAGE_F_ALL || msg.led_state > 1)
		return IPC_MESSAGE_BAD_FIELD;
	if (memcmp(frame + OFF_RESERVED1, zero, 2) ||
	    memcmp(frame + OFF_RESERVED2, zero, 4))
		return IPC_MESSAGE_BAD_FIELD;

	msg.seqno = get_be32(frame + OFF_SEQNO);
	msg.dropped = get_be32(frame + OFF_DROPPED);
	msg.event_ns = get_be64(frame + OFF_EVENT_NS);
	msg.send_ns = get_be64(frame + OFF_SEND_NS);
	*ret = msg;
	return IPC_MESSAGE_OK;
}

const char *ipc_message_error_name(enum ipc_message_error err)
{
	static const char *const names[IPC_MESSAGE_ERROR_COUNT] = {
		[IPC_MESSAGE_OK] = "ok",
		[IPC_MESSAGE_SHORT] = "short",
		[IPC_MESSAGE_LONG] = "long",
		[IPC_MESSAGE_BAD_MAGIC] = "bad-magic",
		[IPC_MESSAGE_BAD_VERSION] = "bad-version",
		[IPC_MESSAGE_BAD_CHECKSUM] = "bad-checksum",
		[IPC_MESSAGE_BAD_FIELD] = "bad-field",
	};

	if ((unsigned int)err >= IPC_MESSAGE_ERROR_COUNT)
		return "unknown";
	return names[err];
}
