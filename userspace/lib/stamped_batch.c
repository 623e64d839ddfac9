// SPDX-License-Identifier: MIT
#include "stamped_batch.h"

#include "deadline.h"

ssize_t stamped_batch_receive(struct transport *t,
			      struct transport_batch *batch, int timeout_ms,
			      const uint64_t *sent, bool *expect_empty)
{
	uint64_t begun = monotonic_ns();
	ssize_t n = t->ops->receive(t, batch->frame[0],
				    sizeof(batch->frame[0]), timeout_ms);
	bool lone = n >= 0 && *sent >= begun;

	if (lone)
		*expect_empty = true;
	while (n >= 0) {
		batch->len[batch->count++] = (size_t)n;
		if (lone || batch->count == TRANSPORT_BATCH_MAX)
			break;
		n = t->ops->receive(t, batch->frame[batch->count],
				    sizeof(batch->frame[0]), 0);
	}
	/* Whatever ended the batch comes again with the next call. */
	return batch->count ? (ssize_t)batch->count : n;
}
