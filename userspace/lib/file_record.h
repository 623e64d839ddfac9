/* SPDX-License-Identifier: MIT */
/*
 * The record file's format (the shared-file transport): a 64-byte header,
 * then fixed-size records, each a 32-bit length and room for the largest
 * frame. The header says whose file it is (magic, version, record size,
 * creator uid), whether its reader has left (closed), where the unread
 * records start (the reader's offset) and where the records end (the
 * writers' end).
 *
 * The records a reader may read are those below the header's end. A
 * writer publishes the end just before its pwrite(), so the reader that
 * the pwrite() wakes (its inotify event comes when the write is done)
 * finds the end moved already and takes the records at once: on one core
 * it runs before the writer does again. A reader that looks while the
 * write is under way is told by the data: pread() returns only what is
 * written (the kernel sets the file's size after the bytes below it),
 * and a record is whole only with FILE_RECORD_WRITTEN in its length word,
 * so the zeros of a hole are never taken for one. What it finds short is
 * an append under way; still short under the lock, no writer is left to
 * finish it (killed mid-append, or cut by hand): skipped and counted.
 * Fixed records bound the damage a writer or a stray tool can do: a
 * length that lies is clamped to the record.
 *
 * The changing header fields (closed, read_offset, end) are
 * read and written through a shared mapping of the header
 * (file_record_map()): loads and stores, no system call, and no inotify
 * event (a write() would wake the reader's own watch).
 *
 * These functions make, judge and map the header and lay out the
 * records; lib/file_record_io.h appends and takes them.
 */
#ifndef IPC_FILE_RECORD_H
#define IPC_FILE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FILE_RECORD_FRAME_MAX	256	/* = IPC_MESSAGE_MAX_WIRE */
#define FILE_RECORD_SIZE	(sizeof(uint32_t) + FILE_RECORD_FRAME_MAX)
/* Set in every record's length word: a record without it (a hole's
 * zeros) is not written yet. */
#define FILE_RECORD_WRITTEN	0x80000000u
/* Unread records a writer may leave; beyond, the file is full, so a reader
 * that is gone cannot make it grow forever. */
#define FILE_RECORD_UNREAD_MAX	1024
/* Records, read or not, the file may hold: the reader cuts it back to its
 * header once it has read everything and FILE_RECORD_TRIM_AT are there,
 * so this is reached only while it lags behind; a writer then waits too. */
#define FILE_RECORD_KEPT_MAX	(4 * FILE_RECORD_UNREAD_MAX)
#define FILE_RECORD_TRIM_AT	64

struct file_record_header {
	uint32_t magic;
	uint16_t version;
	uint16_t record_size;
	uint32_t creator_uid;
	uint32_t closed;	/* 1: the reader has left */
	uint64_t read_offset;	/* first unread record; the reader's */
	uint64_t end;		/* end of the last record published */
	uint8_t reserved[32];
};

/* Where the first record starts. */
#define FILE_RECORD_START	((off_t)sizeof(struct file_record_header))

/* Records between offsets @from and @to (0 if @to is below). */
static inline off_t file_record_count(off_t from, off_t to)
{
	return to > from ? (to - from) / (off_t)FILE_RECORD_SIZE : 0;
}

/* Can @offset be a read offset or an end: on a record boundary, within
 * FILE_RECORD_KEPT_MAX records? (A garbled header field cannot be
 * followed.) */
bool file_record_offset_ok(uint64_t offset);

/*
 * Receiver, as its named_object_ops.create(): a new record file @path,
 * made unnamed in its directory (shared_object_tmpfile()), claimed
 * (SHARED_OBJECT_RECEIVER) and given its header before it is linked, so
 * nobody ever opens a half-made one. Its descriptor, or a negative errno
 * (-EEXIST: the name is taken).
 */
int file_record_create(const char *path);

/*
 * Receiver, as its named_object_ops.adopt(), with *@fd opened by name: a
 * live record file of ours (file_record_check()) is claimed and
 * NAMED_OBJECT_OURS, with its first unread record in *@ret_read_offset.
 * Else *@fd is closed and set to -1, and the answer is NAMED_OBJECT_STALE
 * (not ours, not whole, or closed: remove it by name) or a negative errno
 * (-EBUSY: a live reader has it).
 */
int file_record_adopt(int *fd, off_t *ret_read_offset);

/*
 * Is @fd a live record file of ours? 0 when it still has a name, is ours
 * (private_object_file()), and its header is whole, of this format (its
 * end one that can be placed), made by our uid and not closed, with the
 * first unread record in
 * *@ret_read_offset if not NULL (a garbled offset becomes the end: what
 * cannot be placed is skipped); -ENODATA when not; another negative errno
 * when it cannot tell.
 */
int file_record_check(int fd, off_t *ret_read_offset);

/* The header of @fd, mapped shared, in *@ret: 0 or a negative errno. A
 * file cut by hand to nothing faults (SIGBUS), as any mapped file does;
 * left so: only its owner can, and a handler or an fstat() per access
 * would cost more than it saves (docs/mechanisms/shared-file.md). */
int file_record_map(int fd, struct file_record_header **ret);
void file_record_unmap(struct file_record_header *hdr);

/*
 * Under the write lock, as the reader leaves: mark the file closed, so
 * that a writer still attached sees it before its next append and goes to
 * look for a new file. Returns how many published records lie unread past
 * @read_offset.
 */
off_t file_record_close(struct file_record_header *hdr, off_t read_offset);

/* Lay out a record for @frame (@len <= FILE_RECORD_FRAME_MAX). */
void file_record_pack(uint8_t *record, const uint8_t *frame, size_t len);

/* Was @record written whole (FILE_RECORD_WRITTEN in its length word)? */
bool file_record_written(const uint8_t *record);

/* Copy the frame of @record into @buf (@size bytes): its length, a length
 * beyond the record clamped to it (the frame's decoder judges the rest). */
size_t file_record_unpack(const uint8_t *record, uint8_t *buf, size_t size);

#endif /* IPC_FILE_RECORD_H */
