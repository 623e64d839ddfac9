/* SPDX-License-Identifier: MIT */
/*
 * Frames for mechanisms that carry no payload (sem-sysv, sem-posix): what
 * crosses is a count, one post per event, and the receiver rebuilds each
 * frame from the position of the event in the stream.
 *
 * That works because of what the button sends: its events strictly
 * alternate press, release, starting with a press (the button is up when
 * the button process starts), and it toggles the desired LED state on every
 * press. So the k-th event (k = 1, 2, ...) is a press when k is odd, and
 * after it the LED is on when the number of presses so far, (k + 1) / 2, is
 * odd: press on, release on, press off, release off, press on...
 *
 * What a count cannot carry, and the rebuilt frame therefore lacks:
 *   - the driver's timestamp and the sender's send time: both are set to
 *     the time the receiver took the event, so the latency the LED reports
 *     covers only its own decoding;
 *   - the real seqno: the frame carries k, which equals the button's seqno
 *     only while no event was dropped before the sender and both sides
 *     started counting together;
 *   - drops: the dropped flag and count are always 0. An odd number of
 *     events dropped before the sender (driver queue overflow, backlog
 *     overflow) inverts the rebuilt press/release and LED state from then
 *     on, because the alternation is counted, not carried.
 */
#ifndef IPC_COUNTED_EVENT_H
#define IPC_COUNTED_EVENT_H

#include "message.h"

#include <stdint.h>

/* Encode the frame of event @k (k >= 1) received at @now_ns. */
void counted_event_frame(uint32_t k, uint64_t now_ns,
			 uint8_t frame[IPC_MESSAGE_SIZE]);

/* 0 when @frame (@len bytes) is a valid frame, else -EINVAL: for senders
 * that carry only the fact of an event and refuse what they cannot carry. */
int counted_event_check(const uint8_t *frame, size_t len);

#endif /* IPC_COUNTED_EVENT_H */
