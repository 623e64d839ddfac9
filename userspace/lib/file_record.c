// SPDX-License-Identifier: MIT
#include "file_record.h"
#include "named_object.h"
#include "private_object.h"
#include "shared_object.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_RECORD_MAGIC	0x49425346u	/* "IBSF" */
#define FILE_RECORD_VERSION	1

_Static_assert(sizeof(struct file_record_header) == 64, "header layout");
_Static_assert(offsetof(struct file_record_header, closed) >=
	       SHARED_OBJECT_DATA_START, "data locks cover the header fields");

static int write_field(int fd, const void *value, size_t size, off_t offset)
{
	ssize_t n = pwrite(fd, value, size, offset);

	return n < 0 ? -errno : (size_t)n == size ? 0 : -EIO;
}

/* Whole records between offsets @from and @to (0 if @to is below). */
static off_t count_records(off_t from, off_t to)
{
	return to > from ? (to - from) / (off_t)FILE_RECORD_SIZE : 0;
}

/* The end of the last whole record in a file of @size bytes: what lies
 * beyond is a torn append. */
static off_t whole_end(off_t size)
{
	return FILE_RECORD_START +
	       count_records(FILE_RECORD_START, size) * (off_t)FILE_RECORD_SIZE;
}

/* The same for @fd as it is now, or a negative errno. */
static off_t whole_end_now(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) < 0 ? -errno : whole_end(sb.st_size);
}

/* file_record_check(), with the size and the end found on the way. */
static int check_live(int fd, off_t *ret_size, off_t *ret_end,
		      off_t *ret_read_offset)
{
	struct file_record_header hdr;
	struct stat sb;
	off_t end;
	ssize_t n;

	if (fstat(fd, &sb) < 0)
		return -errno;
	if (sb.st_nlink == 0 || !private_object_file(&sb))
		return -ENODATA;	/* removed (as good as closed), or not ours */
	n = pread(fd, &hdr, sizeof(hdr), 0);
	if (n < 0)
		return -errno;
	if (n != sizeof(hdr) || hdr.magic != FILE_RECORD_MAGIC ||
	    hdr.version != FILE_RECORD_VERSION ||
	    hdr.record_size != FILE_RECORD_SIZE ||
	    hdr.creator_uid != (uint32_t)geteuid() || hdr.closed)
		return -ENODATA;
	end = whole_end(sb.st_size);
	*ret_size = sb.st_size;
	*ret_end = end;
	/* A garbled offset: skip what we cannot place. */
	*ret_read_offset = end;
	if (hdr.read_offset >= (uint64_t)FILE_RECORD_START &&
	    hdr.read_offset <= (uint64_t)end &&
	    (hdr.read_offset - FILE_RECORD_START) % FILE_RECORD_SIZE == 0)
		*ret_read_offset = (off_t)hdr.read_offset;
	return 0;
}

int file_record_create(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct file_record_header hdr = {
		.magic = FILE_RECORD_MAGIC,
		.version = FILE_RECORD_VERSION,
		.record_size = FILE_RECORD_SIZE,
		.creator_uid = geteuid(),
		.read_offset = FILE_RECORD_START,
	};
	char dir[PATH_MAX];
	int fd, r;

	if (!slash || slash - path >= (ptrdiff_t)sizeof(dir))
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = shared_object_tmpfile(slash == path ? "/" : dir);
	if (fd < 0)
		return fd;
	r = shared_object_claim(fd, SHARED_OBJECT_RECEIVER);
	if (!r)
		r = write_field(fd, &hdr, sizeof(hdr), 0);
	if (!r)
		r = shared_object_link(fd, path);
	if (r < 0) {
		close(fd);	/* unnamed: it goes with its descriptor */
		return r;
	}
	return fd;
}

int file_record_adopt(int *fd, off_t *ret_read_offset)
{
	int r = file_record_check(*fd, ret_read_offset);

	if (!r)
		r = shared_object_claim(*fd, SHARED_OBJECT_RECEIVER);
	if (!r)
		return NAMED_OBJECT_OURS;	/* left by a killed reader */
	close(*fd);
	*fd = -1;
	return r == -ENODATA ? NAMED_OBJECT_STALE : r;
}

int file_record_check(int fd, off_t *ret_read_offset)
{
	off_t size, end, read_offset;
	int r = check_live(fd, &size, &end, &read_offset);

	if (!r && ret_read_offset)
		*ret_read_offset = read_offset;
	return r;
}

off_t file_record_unread(int fd, off_t *offset, off_t max, uint64_t *rejected)
{
	off_t end = whole_end_now(fd), count;

	if (end < 0)
		return end;
	if (*offset > end) {
		(*rejected)++;
		*offset = end;
	}
	count = count_records(*offset, end);
	return count < max ? count : max;
}

int file_record_append_at(int fd, off_t *ret_end)
{
	off_t size, end, read_offset;
	int r = check_live(fd, &size, &end, &read_offset);

	if (r < 0)
		return r;
	/* A writer killed mid-append left part of a record: cut it off. */
	if (size != end && ftruncate(fd, end) < 0)
		return -errno;
	if (count_records(read_offset, end) >= FILE_RECORD_UNREAD_MAX)
		return -EAGAIN;
	*ret_end = end;
	return (int)(FILE_RECORD_UNREAD_MAX - count_records(read_offset, end));
}

int file_record_waiting(int fd, off_t offset)
{
	off_t end = whole_end_now(fd);

	return end < 0 ? (int)end : end != offset;
}

int file_record_consume(int fd, off_t *offset, off_t count)
{
	uint64_t value;
	struct stat sb;

	*offset += count * (off_t)FILE_RECORD_SIZE;
	if (!fstat(fd, &sb) && sb.st_size == *offset &&
	    !ftruncate(fd, FILE_RECORD_START))
		*offset = FILE_RECORD_START;
	value = *offset;
	return write_field(fd, &value, sizeof(value),
			   offsetof(struct file_record_header, read_offset));
}

off_t file_record_close(int fd, off_t read_offset)
{
	uint32_t closed = 1;

	(void)write_field(fd, &closed, sizeof(closed),
			  offsetof(struct file_record_header, closed));
	return count_records(read_offset, whole_end_now(fd));
}

void file_record_pack(uint8_t *record, const uint8_t *frame, size_t len)
{
	uint32_t len32 = len;

	memset(record, 0, FILE_RECORD_SIZE);
	memcpy(record, &len32, sizeof(len32));
	memcpy(record + sizeof(len32), frame, len);
}

size_t file_record_unpack(const uint8_t *record, uint8_t *buf, size_t size)
{
	uint32_t len;

	memcpy(&len, record, sizeof(len));
	if (len > FILE_RECORD_FRAME_MAX)
		len = FILE_RECORD_FRAME_MAX;
	if (len > size)
		len = size;
	memcpy(buf, record + sizeof(len), len);
	return len;
}
