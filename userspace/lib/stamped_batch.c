// SPDX-License-Identifier: MIT
#include "stamped_batch.h"

#include "deadline.h"

ssize_t stamped_batch_receive(struct transport *t,
			      struct transport_batch *batch, int timeout_ms,
			      stamped_batch_take take, bool *ret_lone)
{
	uint64_t begun = monotonic_ns(), sent = 0;
	ssize_t n = take(t, batch->frame[0], sizeof(batch->frame[0]),
			 timeout_ms, &sent);

	*ret_lone = n >= 0 && sent >= begun;
	while (n >= 0) {
		batch->len[batch->count++] = (size_t)n;
		if (*ret_lone || batch->count == TRANSPORT_BATCH_MAX)
			break;
		n = take(t, batch->frame[batch->count],
			 sizeof(batch->frame[0]), 0, &sent);
	}
	/* Whatever ended the batch comes again with the next call. */
	return batch->count ? (ssize_t)batch->count : n;
}
