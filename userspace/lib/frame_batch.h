/* SPDX-License-Identifier: MIT */
/*
 * Several frames in one message, for the mechanisms whose cost is per
 * message, not per byte (mqtt: one publish and one PUBACK for a batch).
 *
 * Layout: the magic "IM" (a frame's own is "IB", so a single frame is never
 * mistaken for a batch), the layout version (1), the count of frames
 * (1..FRAME_BATCH_MAX), then the frames back to back, all of the same
 * length: (total - FRAME_BATCH_HEADER) / count, at most
 * IPC_MESSAGE_MAX_WIRE bytes. A length that does not divide, an empty
 * batch or a count above the maximum makes the whole message malformed.
 */
#ifndef IPC_FRAME_BATCH_H
#define IPC_FRAME_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_BATCH_HEADER	4
#define FRAME_BATCH_VERSION	1
/* The count is one byte; the transports' TRANSPORT_BATCH_MAX fits. */
#define FRAME_BATCH_MAX		64

/* Whether @bytes starts like a batch (its magic), valid or not. */
bool frame_batch_is_batch(const uint8_t *bytes, size_t len);

/*
 * Write the header and @count frames of @len bytes from @frames into @buf
 * of @size bytes: the message's length, or -EINVAL (count or length out
 * of range) or -ENOBUFS (@buf too small).
 */
int frame_batch_encode(const uint8_t *frames, size_t len, size_t count,
		       uint8_t *buf, size_t size);

/*
 * Check a batch of @total bytes: 0 with the count and each frame's length,
 * or -EBADMSG (wrong magic or version, empty, above the maximum, or a
 * length that does not match the count). Frame i starts at
 * @bytes + FRAME_BATCH_HEADER + i * *@ret_len.
 */
int frame_batch_decode(const uint8_t *bytes, size_t total, size_t *ret_count,
		       size_t *ret_len);

#endif /* IPC_FRAME_BATCH_H */
