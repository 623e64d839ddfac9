// SPDX-License-Identifier: MIT
#include "send_stamp.h"

#include "deadline.h"

#include <string.h>

_Static_assert(SEND_STAMP_SIZE == sizeof(uint64_t), "a stamp is a uint64_t");

size_t send_stamp_append(uint8_t *msg, const uint8_t *frame, size_t len)
{
	uint64_t now;

	memmove(msg, frame, len);
	now = monotonic_ns();
	memcpy(msg + len, &now, sizeof(now));
	return len + sizeof(now);
}

size_t send_stamp_strip(const uint8_t *msg, size_t len, uint64_t *sent)
{
	*sent = 0;
	if (len < SEND_STAMP_SIZE)
		return len;
	memcpy(sent, msg + len - SEND_STAMP_SIZE, SEND_STAMP_SIZE);
	return len - SEND_STAMP_SIZE;
}
