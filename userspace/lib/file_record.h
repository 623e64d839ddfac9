/* SPDX-License-Identifier: MIT */
/*
 * The record file's format (the shared-file transport): a 64-byte header,
 * then fixed-size records, each a 32-bit length and room for the largest
 * frame. Fixed records bound the damage a writer or a stray tool can do:
 * an append torn by a writer killed mid-write leaves a size that is not a
 * whole number of records, so readers stop at the last whole one and the
 * next writer cuts the rest off; a length that lies is clamped to the
 * record. The header says whose file it is (magic, version, record size,
 * creator uid), whether its reader has left (closed), and where the
 * unread records start.
 *
 * These functions make, read and judge the header and lay out the
 * records. They take no data lock: where a comment says "under the write
 * lock", the caller holds it (shared_object_lock_data()). Appending and
 * reading the records themselves is the transport's own pwrite() and
 * pread(); the wake-up is its own too.
 */
#ifndef IPC_FILE_RECORD_H
#define IPC_FILE_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FILE_RECORD_FRAME_MAX	256	/* = IPC_MESSAGE_MAX_WIRE */
#define FILE_RECORD_SIZE	(sizeof(uint32_t) + FILE_RECORD_FRAME_MAX)
/* Unread records a writer may leave; beyond, the file is full, so a reader
 * that is gone cannot make it grow forever. */
#define FILE_RECORD_UNREAD_MAX	1024

struct file_record_header {
	uint32_t magic;
	uint16_t version;
	uint16_t record_size;
	uint32_t creator_uid;
	uint32_t closed;	/* 1: the reader has left */
	uint64_t read_offset;	/* first unread record; the reader's */
	uint8_t reserved[40];
};

/* Where the first record starts. */
#define FILE_RECORD_START	((off_t)sizeof(struct file_record_header))

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
 * (private_object_file()), and its header is whole, of this format, made
 * by our uid and not closed, with the first unread record in
 * *@ret_read_offset if not NULL (a garbled offset becomes the end: what
 * cannot be placed is skipped); -ENODATA when not; another negative errno
 * when it cannot tell.
 */
int file_record_check(int fd, off_t *ret_read_offset);

/*
 * Under the read lock, before a read at *@offset: how many whole records
 * lie there, at most @max, or a negative errno. A file cut below *@offset
 * (by hand: nothing here cuts it there) lost what we had not read yet:
 * *@offset moves to its end, and *@rejected counts one.
 */
off_t file_record_unread(int fd, off_t *offset, off_t max, uint64_t *rejected);

/*
 * Under the write lock, before an append: where the next record goes.
 * How many records may be appended (1 or more, up to FILE_RECORD_UNREAD_MAX
 * unread in all) and *@ret_end, after cutting off a torn append; -ENODATA
 * when the file is not live (file_record_check()); -EAGAIN when
 * FILE_RECORD_UNREAD_MAX records wait unread.
 */
int file_record_append_at(int fd, off_t *ret_end);

/*
 * Without a lock, a hint only: is there something past @offset to read
 * (or has the file shrunk below it, which the locked read counts)? 1, 0,
 * or a negative errno. One fstat(): a receiver looks before it locks.
 */
int file_record_waiting(int fd, off_t offset);

/*
 * Under the write lock, after reading @count records at *@offset: they
 * are consumed, *@offset moves past them. When none is left, the file is
 * cut back to its header (and *@offset with it), so it stays small. The
 * offset is stored in the header for a successor (a killed reader's
 * adopts it): 0, or a negative errno.
 */
int file_record_consume(int fd, off_t *offset, off_t count);

/*
 * Under the write lock, as the reader leaves: mark the file closed, so
 * that a writer still attached sees it before its next append and goes to
 * look for a new file. Returns how many whole records lie unread past
 * @read_offset.
 */
off_t file_record_close(int fd, off_t read_offset);

/* Lay out a record for @frame (@len <= FILE_RECORD_FRAME_MAX). */
void file_record_pack(uint8_t *record, const uint8_t *frame, size_t len);

/* Copy the frame of @record into @buf (@size bytes): its length, a length
 * beyond the record clamped to it (the frame's decoder judges the rest). */
size_t file_record_unpack(const uint8_t *record, uint8_t *buf, size_t size);

#endif /* IPC_FILE_RECORD_H */
