// SPDX-License-Identifier: MIT
#include "batch_fill.h"

ssize_t batch_fill_fixed(struct transport_batch *batch, ssize_t count,
			  size_t len)
{
	batch->count = count < 0 ? 0 : (size_t)count;
	for (size_t i = 0; i < batch->count; i++)
		batch->len[i] = len;
	return count;
}
