// SPDX-License-Identifier: MIT
#include "file_record.h"
#include "named_object.h"
#include "private_object.h"
#include "shared_object.h"

#include <errno.h>
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

static int write_header(int fd)
{
	struct file_record_header hdr = {
		.magic = FILE_RECORD_MAGIC,
		.version = FILE_RECORD_VERSION,
		.record_size = FILE_RECORD_SIZE,
		.creator_uid = geteuid(),
		.read_offset = FILE_RECORD_START,
	};

	return write_field(fd, &hdr, sizeof(hdr), 0);
}

int file_record_create(const char *dir, const char *path)
{
	int fd = shared_object_tmpfile(dir);
	int r;

	if (fd < 0)
		return fd;
	r = shared_object_claim(fd, SHARED_OBJECT_RECEIVER);
	if (!r)
		r = write_header(fd);
	if (!r)
		r = shared_object_link(fd, path);
	if (r < 0) {
		close(fd);	/* unnamed: gone with it */
		return r;
	}
	return fd;
}

/* file_record_check(), with the size and the end found on the way. */
static int check(int fd, off_t *ret_size, off_t *ret_end, off_t *ret_read_offset)
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
	end = file_record_end(sb.st_size);
	*ret_size = sb.st_size;
	*ret_end = end;
	*ret_read_offset = end;
	if (hdr.read_offset >= (uint64_t)FILE_RECORD_START &&
	    hdr.read_offset <= (uint64_t)end &&
	    (hdr.read_offset - FILE_RECORD_START) % FILE_RECORD_SIZE == 0)
		*ret_read_offset = (off_t)hdr.read_offset;
	return 0;
}

int file_record_check(int fd, off_t *ret_read_offset)
{
	off_t size, end, read_offset;
	int r = check(fd, &size, &end, &read_offset);

	if (!r && ret_read_offset)
		*ret_read_offset = read_offset;
	return r;
}

int file_record_adopt(int *fd, off_t *ret_read_offset)
{
	int r = file_record_check(*fd, ret_read_offset);

	if (r == -ENODATA)
		return NAMED_OBJECT_STALE;
	if (!r)
		r = shared_object_claim(*fd, SHARED_OBJECT_RECEIVER);
	if (!r)
		return NAMED_OBJECT_OURS;	/* left by a killed reader */
	close(*fd);
	*fd = -1;
	return r;
}

off_t file_record_end(off_t size)
{
	return FILE_RECORD_START + file_record_count(FILE_RECORD_START, size) *
				   (off_t)FILE_RECORD_SIZE;
}

off_t file_record_tail(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) < 0 ? -errno : file_record_end(sb.st_size);
}

off_t file_record_count(off_t from, off_t to)
{
	return to > from ? (to - from) / (off_t)FILE_RECORD_SIZE : 0;
}

int file_record_append_at(int fd, off_t *ret_end)
{
	off_t size, end, read_offset;
	int r = check(fd, &size, &end, &read_offset);

	if (r < 0)
		return r;
	/* A writer killed mid-append left part of a record: cut it off. */
	if (size != end && ftruncate(fd, end) < 0)
		return -errno;
	if (file_record_count(read_offset, end) >= FILE_RECORD_UNREAD_MAX)
		return -EAGAIN;
	*ret_end = end;
	return 0;
}

off_t file_record_consume(int fd, off_t offset)
{
	uint64_t value;
	struct stat sb;
	int r;

	if (!fstat(fd, &sb) && sb.st_size == offset &&
	    !ftruncate(fd, FILE_RECORD_START))
		offset = FILE_RECORD_START;
	value = offset;
	r = write_field(fd, &value, sizeof(value),
			offsetof(struct file_record_header, read_offset));
	return r < 0 ? r : offset;
}

off_t file_record_close(int fd, off_t read_offset)
{
	uint32_t closed = 1;

	(void)write_field(fd, &closed, sizeof(closed),
			  offsetof(struct file_record_header, closed));
	return file_record_count(read_offset, file_record_tail(fd));
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
