// SPDX-License-Identifier: MIT
#include "counted_event.h"

#include <errno.h>

void counted_event_frame(uint32_t k, uint32_t dropped, uint64_t now_ns,
			 uint8_t frame[IPC_MESSAGE_SIZE])
{
	counted_event_frame_at(k, k, dropped, now_ns, frame);
}

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

int counted_event_check(const uint8_t *frame, size_t len)
{
	struct ipc_message msg;

	/*
	 * A count cannot carry a malformed frame for the receiver to reject:
	 * posting it would turn garbage into a valid rebuilt event. Refuse it.
	 */
	if (ipc_message_decode(frame, len, &msg) != IPC_MESSAGE_OK)
		return -EINVAL;
	return 0;
}
