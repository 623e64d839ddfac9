/* SPDX-License-Identifier: MIT */
/*
 * Frames for mechanisms that carry no payload (sem-sysv, sem-posix): what
 * crosses is a count, one post per event, and the receiver rebuilds each
 * frame from the number k of the event in the stream.
 *
 * That works because of what the button sends: its events strictly
 * alternate press, release, starting with a press (the button is up when
 * the button process starts, and the driver's seqnos start at 1), and it
 * toggles the desired LED state on every press. So the k-th event
 * (k = 1, 2, ...) is a press when k is odd, and after it the LED is on when
 * the number of presses so far, (k + 1) / 2, is odd: press on, release on,
 * press off, release off, press on... k modulo 4 gives both.
 *
 * What a count cannot carry, and a rebuilt frame therefore lacks: the
 * driver's timestamp and the sender's send time (both are set to the time
 * the receiver took the event, so the latency the LED reports covers only
 * its own decoding). How k is kept in step with the button's seqno, and
 * what becomes of the dropped count, is each mechanism's own (see its
 * header comment).
 */
#ifndef IPC_COUNTED_EVENT_H
#define IPC_COUNTED_EVENT_H

#include "message.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Encode the frame of event @seqno, @dropped events after the previous
 * one's, received at @now_ns: a press or release, LED on or off, as the
 * @k-th event of the stream would be (only k modulo 4 counts; the sender
 * keeps seqno and phase apart, see counted_event_phase()).
 */
void counted_event_frame_at(uint32_t seqno, uint32_t k, uint32_t dropped,
			    uint64_t now_ns, uint8_t frame[IPC_MESSAGE_SIZE]);

/*
 * The phase of @m: the p for which event @m->seqno is a press or release,
 * LED on or off, as @m says, when numbered @m->seqno + p in the stream
 * above (for counted_event_frame_at()). 0..3.
 */
uint32_t counted_event_phase(const struct ipc_message *m);

/*
 * How many of @count frames of @len bytes at @frames, from the front,
 * decode and follow one another as counted events do (seqno one up, the
 * same phase): a count can carry them in one go. The first one decoded
 * in *@first; 0 when it does not decode.
 */
size_t counted_event_run(const uint8_t *frames, size_t len, size_t count,
			 struct ipc_message *first);

#endif /* IPC_COUNTED_EVENT_H */
