// SPDX-License-Identifier: MIT
#include "file_record_io.h"

#include "shared_object.h"

#include <errno.h>
#include <fcntl.h>
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
		/* Published first: the reader our pwrite() wakes must find
		 * it, not an append under way (lib/file_record.h). */
		STORE(hdr->end, end + r * (off_t)FILE_RECORD_SIZE);
		n = pwrite(fd, records, r * sizeof(records[0]), end);
		if (n < (ssize_t)(r * sizeof(records[0]))) {
			/* Torn by a full disk, or failed: the end comes back
			 * to the whole records. None past them was taken:
			 * pread() returns no more than was written. */
			r = n > 0 ? n / (ssize_t)FILE_RECORD_SIZE : 0;
			STORE(hdr->end, end + r * (off_t)FILE_RECORD_SIZE);
			if (!r)
				r = n < 0 ? -errno : -ENOSPC;
		}
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

/*
 * Of the @read records pread() returned whole into @records, how many
 * lead that were written (FILE_RECORD_WRITTEN; a hole's zeros are not).
 */
static off_t written_records(const uint8_t *records, off_t read)
{
	off_t i;

	for (i = 0; i < read; i++)
		if (!file_record_written(records + i * FILE_RECORD_SIZE))
			break;
	return i;
}

/*
 * The reader's pread() of the records from *@offset to the end, up to
 * @max. @settled: no writer can be mid-append (we hold the read lock), so
 * a record that is not whole never will be: skip past it, and past all
 * there is to read if the rest is cut off.
 */
static off_t take_records(int fd, struct file_record_header *hdr,
			  off_t *offset, uint8_t *records, off_t max,
			  uint64_t *rejected, bool settled, bool *ret_busy)
{
	uint64_t end = LOAD(hdr->end);
	off_t count, read, whole, next;
	ssize_t n;

	*ret_busy = false;
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
	read = n / (off_t)FILE_RECORD_SIZE;	/* short: past the file's size */
	whole = written_records(records, read);
	if (whole) {
		*offset += whole * (off_t)FILE_RECORD_SIZE;
		return whole;
	}
	if (!settled) {
		*ret_busy = true;	/* an append under way */
		return 0;
	}
	/* Dead: skip to the next written record read; with none, past all
	 * read, or to the end if the file is cut short. */
	for (next = 1; next < read; next++)
		if (file_record_written(records + next * FILE_RECORD_SIZE))
			break;
	return skip_to(hdr, offset, next < read || read == count ?
			*offset + next * (off_t)FILE_RECORD_SIZE : (off_t)end,
		       rejected);
}

off_t file_record_take(int fd, struct file_record_header *hdr, off_t *offset,
		       uint8_t *records, off_t max, uint64_t *rejected,
		       bool *ret_busy)
{
	return take_records(fd, hdr, offset, records, max, rejected, false,
			    ret_busy);
}

off_t file_record_take_settled(int fd, struct file_record_header *hdr,
			       off_t *offset, uint8_t *records, off_t max,
			       uint64_t *rejected)
{
	bool busy;
	off_t r;

	r = shared_object_lock_data(fd, F_RDLCK);
	if (r < 0)
		return r;
	r = take_records(fd, hdr, offset, records, max, rejected, true, &busy);
	(void)shared_object_lock_data(fd, F_UNLCK);
	return r;
}

void file_record_mark_read(struct file_record_header *hdr, off_t offset)
{
	STORE(hdr->read_offset, offset);
}

void file_record_trim(int fd, struct file_record_header *hdr, off_t *offset)
{
	if (file_record_count(FILE_RECORD_START, *offset) < FILE_RECORD_TRIM_AT ||
	    LOAD(hdr->end) != (uint64_t)*offset ||
	    shared_object_lock_data(fd, F_WRLCK) < 0)
		return;
	/* The file first: a cut that fails leaves all as it was, so no old
	 * record ever lies past the end for an append to be mistaken for.
	 * Killed after it, the end and read offset say all is read, and
	 * the next append leaves a hole below it (never read); killed
	 * between the two stores, a read offset past the end is moved to
	 * the start by the next writer (append_room()). */
	if (LOAD(hdr->end) == (uint64_t)*offset &&
	    !ftruncate(fd, FILE_RECORD_START)) {
		*offset = FILE_RECORD_START;
		STORE(hdr->end, *offset);
		STORE(hdr->read_offset, *offset);
	}
	(void)shared_object_lock_data(fd, F_UNLCK);
}
