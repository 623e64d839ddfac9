/* SPDX-License-Identifier: MIT */
/*
 * Batches of frames a receiver rebuilt itself (a count, a signal's value:
 * every frame IPC_MESSAGE_SIZE bytes), written @stride =
 * TRANSPORT_FRAME_ROOM apart straight into a struct transport_batch.
 */
#ifndef IPC_BATCH_FILL_H
#define IPC_BATCH_FILL_H

#include "../ipc/transport.h"

#include <sys/types.h>

/* @count frames of @len bytes each are in @batch, or none when @count is
 * an error: set batch->count and the lengths, and return @count. */
ssize_t batch_fill_fixed(struct transport_batch *batch, ssize_t count,
			  size_t len);

#endif /* IPC_BATCH_FILL_H */
