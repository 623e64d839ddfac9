/* SPDX-License-Identifier: MIT */
/*
 * receive_many() for a queue whose messages carry their send time
 * (mq-posix: lib/send_stamp.h; mq-sysv: the message type). The first
 * frame is waited for as receive() would; one sent after this call began
 * found the queue empty, so it is the batch alone (what came with it, the
 * next call takes at once) and the caller's next wait may sleep at once:
 * a lone event costs one receive, no failing look. After an older frame,
 * what is queued is added without waiting, up to TRANSPORT_BATCH_MAX. A
 * wrong guess (another time namespace, a foreign message) costs a call or
 * ends a batch early; it never loses, splits or reorders a frame.
 */
#ifndef IPC_STAMPED_BATCH_H
#define IPC_STAMPED_BATCH_H

#include "../ipc/transport.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One frame into @buf (@size bytes) as the transport's receive(), its
 * send time (CLOCK_MONOTONIC, ns; 0 if unknown) in *@sent. */
typedef ssize_t (*stamped_batch_take)(struct transport *t, uint8_t *buf,
				      size_t size, int timeout_ms,
				      uint64_t *sent);

/* Fill @batch through @take: batch->count, or the first take's error.
 * *@ret_lone: the frame was sent after the call began. */
ssize_t stamped_batch_receive(struct transport *t,
			      struct transport_batch *batch, int timeout_ms,
			      stamped_batch_take take, bool *ret_lone);

#endif /* IPC_STAMPED_BATCH_H */
