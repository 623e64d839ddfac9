// SPDX-License-Identifier: MIT
#include "counted_event.h"

void counted_event_frame_at(uint32_t seqno, uint32_t k, uint32_t dropped,
			    uint64_t now_ns, uint8_t frame[IPC_MESSAGE_SIZE])
{
	uint32_t presses = k / 2 + (k & 1);	/* (k + 1) / 2 without overflow */
	struct ipc_message msg = {
		.type = (k & 1) ? IPC_EVENT_PRESS : IPC_EVENT_RELEASE,
		.flags = dropped ? IPC_MESSAGE_F_DROPPED : 0,
		.led_state = presses & 1,
		.seqno = seqno,
		.dropped = dropped,
		.event_ns = now_ns,
		.send_ns = now_ns,
	};

	ipc_message_encode(&msg, frame);
}

uint32_t counted_event_phase(const struct ipc_message *m)
{
	/* k mod 4: 1 press on, 2 release on, 3 press off, 0 release off. */
	uint32_t want = m->type == IPC_EVENT_PRESS ? (m->led_state ? 1 : 3) :
						     (m->led_state ? 2 : 0);

	return (want - m->seqno) & 3;
}

size_t counted_event_run(const uint8_t *frames, size_t len, size_t count,
			 struct ipc_message *first)
{
	struct ipc_message m;
	size_t n = 0;

	for (; n < count; n++) {
		if (ipc_message_decode(frames + n * len, len,
				       n ? &m : first) != IPC_MESSAGE_OK)
			break;
		if (n && (m.seqno != first->seqno + n ||
			  counted_event_phase(&m) != counted_event_phase(first)))
			break;
	}
	return n;
}
