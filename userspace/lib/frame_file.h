/* SPDX-License-Identifier: MIT */
/*
 * A few frames kept in a file from one process to the next: mqtt's LED,
 * stopped in the middle of a batch it cannot acknowledge in part, leaves
 * the frames of it that it applied, so that the next LED of the instance
 * recognises them when the broker delivers the whole batch again.
 */
#ifndef IPC_FRAME_FILE_H
#define IPC_FRAME_FILE_H

#include "message.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write @n frames of IPC_MESSAGE_SIZE bytes to @path (mode 0600,
 * replacing it). 0 or a negative errno. */
int frame_file_save(const char *path, const uint8_t (*frames)[IPC_MESSAGE_SIZE],
		    size_t n);

/*
 * Read up to @max frames from @path, then remove it: how many (0 when
 * there is no such file), or a negative errno.
 */
ssize_t frame_file_take(const char *path, uint8_t (*frames)[IPC_MESSAGE_SIZE],
			size_t max);

#endif /* IPC_FRAME_FILE_H */
