/* SPDX-License-Identifier: MIT */
/*
 * The record file's per-event path (the shared-file transport), in as few
 * system calls as the format (lib/file_record.h) allows. A writer appends
 * under the data write lock (shared_object_lock_data()): lock, one
 * pwrite() of a run of records, unlock; the header's fields are loads and
 * stores in its mapping. A reader takes what is published without a
 * lock: one pread() of all that waits, up to a maximum; it locks only to
 * cut the file back (every FILE_RECORD_TRIM_AT records at most) and, now
 * and then, to let a writer that is mid-append finish when yielding the
 * CPU was not enough (file_record_settle()).
 */
#ifndef IPC_FILE_RECORD_IO_H
#define IPC_FILE_RECORD_IO_H

#include "file_record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Most records one call appends. */
#define FILE_RECORD_IO_MAX	64

/*
 * Append up to @count (FILE_RECORD_IO_MAX at most) frames of @len bytes
 * each, back to back at @frames, to the record file @fd whose header is
 * mapped at @hdr: how many were (1 or more, as many as the file has room
 * for), -ENODATA when the file is not live (its reader closed it; or,
 * found when it is full, it has no name or is not ours), -EAGAIN when it
 * is full, -EMSGSIZE for @len above FILE_RECORD_FRAME_MAX, or -errno.
 * What a writer that died mid-append left past the end is written over.
 */
int file_record_append(int fd, struct file_record_header *hdr,
		       const uint8_t *frames, size_t len, size_t count);

/*
 * Reader, without a lock: read up to @max published records at *@offset
 * into @records (*@offset moves past them; the header's read offset does
 * not: the caller moves it with file_record_mark_read() as it hands them
 * over): how many (0: none waits; no system call then), or -errno.
 * *@ret_busy says an append is under way: its writer may have woken us
 * already, so do not sleep before file_record_settle(). Records cut off
 * by hand below the end, or an end garbled below *@offset, count one in
 * *@rejected and are skipped.
 */
off_t file_record_take(int fd, struct file_record_header *hdr, off_t *offset,
		       uint8_t *records, off_t max, uint64_t *rejected,
		       bool *ret_busy);

/* Reader: the records below @offset are handed over; a successor to a
 * reader killed now starts there (a store in the mapping, no system call). */
void file_record_mark_read(struct file_record_header *hdr, off_t offset);

/*
 * Reader, having seen an append under way (*@ret_busy of file_record_take())
 * that may have woken it already, so that it must not sleep on it: let its
 * writer finish. @step 0: give up the CPU (sched_yield()): on one core the
 * writer was preempted by our wake-up between its pwrite() and its
 * publishing the end, and it runs now; on two it is mostly done already.
 * No lock, no wake-up owed by the writer: look again. @step 1 and up: wait
 * for it under the read lock (taken and let go), which also gets past a
 * writer that died mid-append. 0 or -errno.
 */
int file_record_settle(int fd, unsigned int step);

/*
 * Reader, with all it took handed over: if it read everything up to
 * *@offset and that is FILE_RECORD_TRIM_AT records or more, cut the file
 * back to its header under the write lock (unless a writer appended
 * meanwhile), *@offset with it. No system call otherwise. Nothing to
 * report: a failure leaves the file as it was, only bigger, and writers
 * stop at FILE_RECORD_KEPT_MAX.
 */
void file_record_trim(int fd, struct file_record_header *hdr, off_t *offset);

#endif /* IPC_FILE_RECORD_IO_H */
