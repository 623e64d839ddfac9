// SPDX-License-Identifier: MIT
#include "signal_value.h"

#define SIGVAL_RELEASE		(1u << 0)
#define SIGVAL_LED		(1u << 1)
#define SIGVAL_DROPPED		(1u << 2)
#define SIGVAL_SEQ_SHIFT	4
#define SIGVAL_SEQ_MASK		(UINT32_MAX >> SIGVAL_SEQ_SHIFT)

uint32_t signal_value_pack(const struct ipc_message *m)
{
	uint32_t v = SIGNAL_VALUE_MARK |
		     (m->seqno & SIGVAL_SEQ_MASK) << SIGVAL_SEQ_SHIFT;

	if (m->type == IPC_EVENT_RELEASE)
		v |= SIGVAL_RELEASE;
	if (m->led_state)
		v |= SIGVAL_LED;
	if (m->flags & IPC_MESSAGE_F_DROPPED)
		v |= SIGVAL_DROPPED;
	return v;
}

void signal_value_unpack(struct signal_value_unpacker *u, uint32_t v,
			 uint64_t now_ns, uint8_t frame[IPC_MESSAGE_SIZE])
{
	uint32_t raw = v >> SIGVAL_SEQ_SHIFT, seqno = raw, gap = 0;
	struct ipc_message m = {
		.type = v & SIGVAL_RELEASE ? IPC_EVENT_RELEASE : IPC_EVENT_PRESS,
		.led_state = !!(v & SIGVAL_LED),
	};

	/*
	 * The seqno's lost high bits, by serial-number arithmetic (RFC 1982):
	 * less than half the range ahead of the last one, it moved forward
	 * (gap); further, it went back: a new sender numbering from 1 again.
	 */
	if (u->have_last) {
		uint32_t ahead = (raw - u->last_seqno) & SIGVAL_SEQ_MASK;

		if (ahead <= SIGVAL_SEQ_MASK / 2) {
			seqno = u->last_seqno + ahead;
			gap = ahead;
		} else {
			seqno = u->last_seqno - (SIGVAL_SEQ_MASK + 1 - ahead);
		}
	}
	if (v & SIGVAL_DROPPED) {
		m.flags = IPC_MESSAGE_F_DROPPED;
		m.dropped = gap ? gap - 1 : 0;
	}
	m.seqno = seqno;
	m.event_ns = m.send_ns = now_ns;
	u->last_seqno = seqno;
	u->have_last = true;
	ipc_message_encode(&m, frame);
}
