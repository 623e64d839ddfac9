// SPDX-License-Identifier: MIT
#include "frame_batch.h"

#include "message.h"

#include <errno.h>
#include <string.h>

#define FRAME_BATCH_MAGIC0	'I'
#define FRAME_BATCH_MAGIC1	'M'

bool frame_batch_is_batch(const uint8_t *bytes, size_t len)
{
	return len >= 2 && bytes[0] == FRAME_BATCH_MAGIC0 &&
	       bytes[1] == FRAME_BATCH_MAGIC1;
}

int frame_batch_encode(const uint8_t *frames, size_t len, size_t count,
		       uint8_t *buf, size_t size)
{
	size_t total = FRAME_BATCH_HEADER + len * count;

	if (!count || count > FRAME_BATCH_MAX || !len ||
	    len > IPC_MESSAGE_MAX_WIRE)
		return -EINVAL;
	if (total > size)
		return -ENOBUFS;
	buf[0] = FRAME_BATCH_MAGIC0;
	buf[1] = FRAME_BATCH_MAGIC1;
	buf[2] = FRAME_BATCH_VERSION;
	buf[3] = (uint8_t)count;
	memcpy(buf + FRAME_BATCH_HEADER, frames, len * count);
	return (int)total;
}

int frame_batch_decode(const uint8_t *bytes, size_t total, size_t *ret_count,
		       size_t *ret_len)
{
	size_t count, len;

	if (total < FRAME_BATCH_HEADER || !frame_batch_is_batch(bytes, total) ||
	    bytes[2] != FRAME_BATCH_VERSION)
		return -EBADMSG;
	count = bytes[3];
	if (!count || count > FRAME_BATCH_MAX)
		return -EBADMSG;
	len = (total - FRAME_BATCH_HEADER) / count;
	if (!len || len > IPC_MESSAGE_MAX_WIRE ||
	    len * count != total - FRAME_BATCH_HEADER)
		return -EBADMSG;
	*ret_count = count;
	*ret_len = len;
	return 0;
}
