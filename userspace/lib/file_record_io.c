// SPDX-License-Identifier: MIT
#include "file_record_io.h"

#include "shared_object.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOAD(field)	__atomic_load_n(&(field), __ATOMIC_ACQUIRE)
#define STORE(field, v)	__atomic_store_n(&(field), (v), __ATOMIC_RELEASE)

/*
 * Under the write lock: the published end in *@ret_end, after mending
 * what a dead writer or a stray tool left, and how many records may be
 * appended there (1 or more), -ENODATA or -EAGAIN.
 */
static int append_room(int fd, struct file_record_header *hdr, off_t *ret_end)
{
	uint64_t end = LOAD(hdr->end), read = LOAD(hdr->read_offset);
	off_t unread, total;
	struct stat sb;

	if (LOAD(hdr->closed))
		return -ENODATA;
	if (!file_record_offset_ok(read))
		read = FILE_RECORD_START;
	/* Past the end only if a reader was killed cutting the file back
	 * (file_record_trim()): all from the start is new, tell its successor
	 * before it is written over. */
	if (read > end && file_record_offset_ok(end)) {
		read = FILE_RECORD_START;
		STORE(hdr->read_offset, read);
	}
	if (!file_record_offset_ok(end)) {
		end = read;	/* garbled: what cannot be placed is lost */
		STORE(hdr->end, end);
	}
	if (LOAD(hdr->next_end) != end)
		STORE(hdr->next_end, end);	/* a writer died mid-append */
	unread = file_record_count(read <= end ? read : FILE_RECORD_START, end);
	total = file_record_count(FILE_RECORD_START, end);
	if (unread >= FILE_RECORD_UNREAD_MAX || total >= FILE_RECORD_KEPT_MAX) {
		/* Nobody may ever read a file removed by hand: say so. */
		if (fstat(fd, &sb) < 0)
			return -errno;
		return sb.st_nlink == 0 ? -ENODATA : -EAGAIN;
	}
	*ret_end = end;
	unread = FILE_RECORD_UNREAD_MAX - unread;
	total = FILE_RECORD_KEPT_MAX - total;
	return (int)(unread < total ? unread : total);
}

int file_record_append(int fd, struct file_record_header *hdr,
		       const uint8_t *frames, size_t len, size_t count)
{
	uint8_t records[FILE_RECORD_IO_MAX][FILE_RECORD_SIZE];
	off_t end = FILE_RECORD_START;
	ssize_t n;
	int r;

	if (len > FILE_RECORD_FRAME_MAX)
		return -EMSGSIZE;
	if (count > FILE_RECORD_IO_MAX)
		count = FILE_RECORD_IO_MAX;
	r = shared_object_lock_data(fd, F_WRLCK);
	if (r < 0)
		return r;
	r = append_room(fd, hdr, &end);
	if (r > 0) {
		r = (size_t)r < count ? r : (int)count;
		for (int i = 0; i < r; i++)
			file_record_pack(records[i], frames + i * len, len);
		/* Announced first: a reader woken by the pwrite() who does
		 * not see the new end yet knows to wait for our unlock. */
		STORE(hdr->next_end, end + r * (off_t)FILE_RECORD_SIZE);
		n = pwrite(fd, records, r * sizeof(records[0]), end);
		/* Torn by a full disk: publish the whole records only. */
		if (n >= 0 && n < (ssize_t)(r * sizeof(records[0])))
			r = n / (ssize_t)FILE_RECORD_SIZE;
		end += (r > 0 && n >= 0 ? r : 0) * (off_t)FILE_RECORD_SIZE;
		STORE(hdr->end, end);
		STORE(hdr->next_end, end);
		if (n < 0 || !r)
			r = n < 0 ? -errno : -ENOSPC;
	}
	(void)shared_object_lock_data(fd, F_UNLCK);
	return r;
}

/* Move the reader past what it cannot read, counting it once. */
static off_t skip_to(struct file_record_header *hdr, off_t *offset, off_t to,
		     uint64_t *rejected)
{
	(*rejected)++;
	*offset = to;
	STORE(hdr->read_offset, to);
	return 0;
}

off_t file_record_take(int fd, struct file_record_header *hdr, off_t *offset,
		       uint8_t *records, off_t max, uint64_t *rejected,
		       bool *ret_busy)
{
	uint64_t end = LOAD(hdr->end);
	off_t count;
	ssize_t n;

	*ret_busy = LOAD(hdr->next_end) != end;
	if (!file_record_offset_ok(end))
		return 0;	/* garbled: the next writer mends it */
	if ((off_t)end < *offset)
		return skip_to(hdr, offset, end, rejected);
	count = file_record_count(*offset, end);
	if (!count)
		return 0;
	if (count > max)
		count = max;
	n = pread(fd, records, count * FILE_RECORD_SIZE, *offset);
	if (n < 0)
		return -errno;
	count = n / (off_t)FILE_RECORD_SIZE;
	if (!count)	/* cut by hand below the end: those records are gone */
		return skip_to(hdr, offset, end, rejected);
	*offset += count * (off_t)FILE_RECORD_SIZE;
	return count;
}

void file_record_mark_read(struct file_record_header *hdr, off_t offset)
{
	STORE(hdr->read_offset, offset);
}

int file_record_settle(int fd, unsigned int step)
{
	int r;

	if (!step)
		return sched_yield() < 0 ? -errno : 0;
	r = shared_object_lock_data(fd, F_RDLCK);
	return r < 0 ? r : shared_object_lock_data(fd, F_UNLCK);
}

void file_record_trim(int fd, struct file_record_header *hdr, off_t *offset)
{
	if (file_record_count(FILE_RECORD_START, *offset) < FILE_RECORD_TRIM_AT ||
	    LOAD(hdr->end) != (uint64_t)*offset ||
	    shared_object_lock_data(fd, F_WRLCK) < 0)
		return;
	if (LOAD(hdr->end) == (uint64_t)*offset) {
		/* The header first, the end before the read offset: killed
		 * in between, a read offset past the end is moved to the
		 * start by the next writer (append_room()), and a successor
		 * with no append since starts at the end; never a record
		 * twice. A cut that fails leaves only bytes past the end,
		 * which are never read. */
		*offset = FILE_RECORD_START;
		STORE(hdr->end, *offset);
		STORE(hdr->next_end, *offset);
		STORE(hdr->read_offset, *offset);
		(void)!ftruncate(fd, FILE_RECORD_START);
	}
	(void)shared_object_lock_data(fd, F_UNLCK);
}
