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

/*
 * Fill @batch through t->ops->receive(), which leaves each frame's send
 * time (CLOCK_MONOTONIC, ns; 0 if unknown) in *@sent: batch->count, or
 * the first receive's error. A lone frame (sent after the call began)
 * sets *@expect_empty: the caller's wait (lib/msg_wait.h,
 * lib/mqueue_wait.h) sleeps at once next time, sparing a look that
 * would fail.
 */
ssize_t stamped_batch_receive(struct transport *t,
			      struct transport_batch *batch, int timeout_ms,
			      const uint64_t *sent, bool *expect_empty);

#endif /* IPC_STAMPED_BATCH_H */
