/* SPDX-License-Identifier: MIT */
/*
 * The record file's per-event path (the shared-file transport), in as few
 * system calls as the format (lib/file_record.h) allows. A writer appends
 * under the data write lock (shared_object_lock_data()): lock, one
 * pwrite() of a run of records, unlock; the header's fields are loads and
 * stores in its mapping. A reader takes what is published without a
 * lock: one pread() of all that waits, up to a maximum; it locks only to
 * cut the file back (every FILE_RECORD_TRIM_AT records at most) and, now
 * and then, to take what it found short once no writer can be at it
 * (file_record_take_settled()).
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
 * The end moves before the pwrite() and back if it falls short.
 */
int file_record_append(int fd, struct file_record_header *hdr,
		       const uint8_t *frames, size_t len, size_t count);

/*
 * Reader, without a lock: read up to @max published records at *@offset
 * into @records (*@offset moves past them; the header's read offset does
 * not: the caller moves it with file_record_mark_read() as it hands them
 * over): how many (0: none waits; no system call then), or -errno. Only
 * whole records are taken; *@ret_busy says the next one is not whole yet:
 * its append is under way, and its writer may have woken us already, so
 * do not sleep on it (give the writer the CPU, then
 * file_record_take_settled()). An end garbled below *@offset counts one
 * in *@rejected and is skipped to.
 */
off_t file_record_take(int fd, struct file_record_header *hdr, off_t *offset,
		       uint8_t *records, off_t max, uint64_t *rejected,
		       bool *ret_busy);

/*
 * Reader, having found an append under way (*@ret_busy): file_record_take()
 * under the read lock, which waits for its writer to finish. A record
 * still not whole then has no writer left (killed mid-append, or cut off
 * by hand): those in a row, or all to the end if the file is cut short,
 * count one in *@rejected and are skipped. Returns as file_record_take().
 */
off_t file_record_take_settled(int fd, struct file_record_header *hdr,
			       off_t *offset, uint8_t *records, off_t max,
			       uint64_t *rejected);

/* Reader: the records below @offset are handed over; a successor to a
 * reader killed now starts there (a store in the mapping, no system call). */
void file_record_mark_read(struct file_record_header *hdr, off_t offset);

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
