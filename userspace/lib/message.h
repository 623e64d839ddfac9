/* SPDX-License-Identifier: MIT */
/*
 * The wire message the button process sends and the LED process receives,
 * over every transport. Fixed size, versioned, big-endian on the wire,
 * protected by a CRC-32C (crc32c.h), so that every receiver can validate
 * every frame.
 *
 * It carries the *absolute* desired LED state, so a lost or repeated message
 * can never leave the LED out of step: the next good one corrects it.
 */
#ifndef IPC_MESSAGE_H
#define IPC_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#define IPC_MESSAGE_SIZE	40	/* bytes on the wire, every version 2 frame */
#define IPC_MESSAGE_VERSION	2
#define IPC_MESSAGE_MAX_WIRE	256	/* receive buffers: room to detect oversize */

enum ipc_event_type {
	IPC_EVENT_PRESS = 1,
	IPC_EVENT_RELEASE = 2,
	/*
	 * Not an event: the sender's state report. seqno is the last event's
	 * seqno, led_state the state after it. Over a mechanism that can
	 * lose frames, the button sends one when it has been idle for a
	 * while and a few when it ends, so a receiver that lost the tail of
	 * a stream learns how far it went, counts what it missed and ends in
	 * the button's state.
	 */
	IPC_EVENT_STATE = 3,
};

/* Events were lost (driver queue overflow or relay backlog) before this one. */
#define IPC_MESSAGE_F_DROPPED	0x01
#define IPC_MESSAGE_F_ALL	IPC_MESSAGE_F_DROPPED

struct ipc_message {
	uint8_t type;		/* enum ipc_event_type */
	uint8_t flags;		/* IPC_MESSAGE_F_* */
	uint8_t led_state;	/* desired LED state: 0 off, 1 on */
	uint32_t seqno;		/* the driver's event seqno (or the source's) */
	uint32_t dropped;	/* events lost just before this one */
	uint64_t event_ns;	/* CLOCK_MONOTONIC of the edge, from the kernel */
	uint64_t send_ns;	/* CLOCK_MONOTONIC when the sender sent it */
};

enum ipc_message_error {
	IPC_MESSAGE_OK = 0,
	IPC_MESSAGE_SHORT,		/* fewer bytes than a frame */
	IPC_MESSAGE_LONG,		/* more bytes than a frame */
	IPC_MESSAGE_BAD_MAGIC,		/* not one of ours */
	IPC_MESSAGE_BAD_VERSION,	/* ours, but a version we do not speak */
	IPC_MESSAGE_BAD_CHECKSUM,	/* corrupted or torn */
	IPC_MESSAGE_BAD_FIELD,		/* a field out of range, reserved bits set */
	IPC_MESSAGE_ERROR_COUNT
};

/* Writes exactly IPC_MESSAGE_SIZE bytes. */
void ipc_message_encode(const struct ipc_message *msg,
			uint8_t frame[IPC_MESSAGE_SIZE]);

/*
 * Validates @len bytes at @buf and, only when they are a valid frame, fills
 * @ret. Never reads beyond @len; any input is safe.
 */
enum ipc_message_error ipc_message_decode(const void *buf, size_t len,
					  struct ipc_message *ret);

/* A short stable name for counters and logs ("bad-checksum"). */
const char *ipc_message_error_name(enum ipc_message_error err);

#endif /* IPC_MESSAGE_H */
