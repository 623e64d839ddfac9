/* SPDX-License-Identifier: MIT */
/*
 * An event in the 32 bits a queued signal carries (sival_int, 32 bits on
 * every ABI), for the signal transport:
 *     bit  0      0 press, 1 release
 *     bit  1      desired LED state
 *     bit  2      events were dropped before this one
 *     bit  3      always 1: a value of ours, so a stray signal is refused
 *     bits 4..31  seqno modulo 2^28
 * The receiver rebuilds the frame: the full seqno from the 28 bits and
 * the previous event's seqno, by serial-number arithmetic (less than 2^27
 * ahead is forward, more is back: a new sender counting from 1 again),
 * exact while seqnos stay below 2^28 across restarts; the dropped count as
 * the seqno gap when the flag is set (0 for the first event after a
 * receiver start: nothing to compare with). Lost on the way: the driver's
 * timestamp and the send time (both become the receive time).
 */
#ifndef IPC_SIGNAL_VALUE_H
#define IPC_SIGNAL_VALUE_H

#include "message.h"

#include <stdbool.h>
#include <stdint.h>

#define SIGNAL_VALUE_MARK	(1u << 3)

uint32_t signal_value_pack(const struct ipc_message *m);

/* The receiver's memory of the last seqno, for the lost high bits. */
struct signal_value_unpacker {
	bool have_last;
	uint32_t last_seqno;
};

/* Rebuild the frame of value @v received at @now_ns into @frame. */
void signal_value_unpack(struct signal_value_unpacker *u, uint32_t v,
			 uint64_t now_ns, uint8_t frame[IPC_MESSAGE_SIZE]);

#endif /* IPC_SIGNAL_VALUE_H */
