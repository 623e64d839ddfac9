/* SPDX-License-Identifier: MIT */
/*
 * The record file's per-event path (the shared-file transport): records
 * appended, and records taken, each under one hold of the data write lock
 * (shared_object_lock_data()) and in as few system calls as the format
 * (lib/file_record.h) allows: a run of records in one pwrite(), all that
 * waits (up to a maximum) in one pread().
 */
#ifndef IPC_FILE_RECORD_IO_H
#define IPC_FILE_RECORD_IO_H

#include "file_record.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Most records one call appends. */
#define FILE_RECORD_IO_MAX	64

/*
 * Append up to @count (FILE_RECORD_IO_MAX at most) frames of @len bytes
 * each, back to back at @frames: how many were (1 or more, as many as the
 * file has room for), -ENODATA when the file is not live, -EAGAIN when it
 * is full, -EMSGSIZE for @len above FILE_RECORD_FRAME_MAX, or -errno.
 */
int file_record_append(int fd, const uint8_t *frames, size_t len,
		       size_t count);

/*
 * Read up to @max records at *@offset into @records and mark them
 * consumed (*@offset moves past them): how many (0: none waits), or
 * -errno. A file cut below *@offset counts one in *@rejected.
 */
off_t file_record_take(int fd, off_t *offset, uint8_t *records, off_t max,
		       uint64_t *rejected);

#endif /* IPC_FILE_RECORD_IO_H */
