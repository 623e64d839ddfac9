// SPDX-License-Identifier: MIT
#include "frame_batch.h"

ssize_t frame_batch_fixed(struct transport_batch *batch, ssize_t count,
			  size_t len)
{
	batch->count = count < 0 ? 0 : (size_t)count;
	for (size_t i = 0; i < batch->count; i++)
		batch->len[i] = len;
	return count;
}
