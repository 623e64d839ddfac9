// SPDX-License-Identifier: MIT
#include "file_record.h"
#include "named_object.h"
#include "private_object.h"
#include "shared_object.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_RECORD_MAGIC	0x49425346u	/* "IBSF" */
#define FILE_RECORD_VERSION	3	/* 3: the end is published before the write */

_Static_assert(sizeof(struct file_record_header) == 64, "header layout");
_Static_assert(offsetof(struct file_record_header, closed) >=
	       SHARED_OBJECT_DATA_START, "data locks cover the header fields");
_Static_assert(offsetof(struct file_record_header, end) % 8 == 0 &&
	       offsetof(struct file_record_header, read_offset) % 8 == 0,
	       "the shared offsets are naturally aligned: atomic loads and stores");

static int write_field(int fd, const void *value, size_t size, off_t offset)
{
	ssize_t n = pwrite(fd, value, size, offset);

	return n < 0 ? -errno : (size_t)n == size ? 0 : -EIO;
}

bool file_record_offset_ok(uint64_t offset)
{
	return offset >= (uint64_t)FILE_RECORD_START &&
	       (offset - FILE_RECORD_START) % FILE_RECORD_SIZE == 0 &&
	       (offset - FILE_RECORD_START) / FILE_RECORD_SIZE <=
		       FILE_RECORD_KEPT_MAX;
}

/* file_record_check(), with the first unread record found on the way. */
static int check_live(int fd, off_t *ret_read_offset)
{
	struct file_record_header hdr;
	struct stat sb;
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
	    hdr.creator_uid != (uint32_t)geteuid() || hdr.closed ||
	    !file_record_offset_ok(hdr.end))
		return -ENODATA;
	/* A garbled offset: skip what we cannot place. */
	*ret_read_offset = (off_t)hdr.end;
	if (file_record_offset_ok(hdr.read_offset) && hdr.read_offset <= hdr.end)
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
		.end = FILE_RECORD_START,
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
	/* Judged without a lock first, so that a foreign file is never
	 * waited for; then again under the read lock, the header in one
	 * pread(): a writer may be mending the read offset (file_record_io.c). */
	int r = file_record_check(*fd, NULL);

	if (!r)
		r = shared_object_lock_data(*fd, F_RDLCK);
	if (!r) {
		r = file_record_check(*fd, ret_read_offset);
		(void)shared_object_lock_data(*fd, F_UNLCK);
	}
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
	off_t read_offset;

	return check_live(fd, ret_read_offset ? ret_read_offset : &read_offset);
}

int file_record_map(int fd, struct file_record_header **ret)
{
	void *mem = mmap(NULL, sizeof(**ret), PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);

	if (mem == MAP_FAILED)
		return -errno;
	*ret = mem;
	return 0;
}

void file_record_unmap(struct file_record_header *hdr)
{
	if (hdr)
		(void)munmap(hdr, sizeof(*hdr));
}

off_t file_record_close(struct file_record_header *hdr, off_t read_offset)
{
	uint64_t end = __atomic_load_n(&hdr->end, __ATOMIC_ACQUIRE);

	__atomic_store_n(&hdr->closed, 1, __ATOMIC_RELEASE);
	return file_record_offset_ok(end) ? file_record_count(read_offset, end) : 0;
}

void file_record_pack(uint8_t *record, const uint8_t *frame, size_t len)
{
	uint32_t len32 = (uint32_t)len | FILE_RECORD_WRITTEN;

	memset(record, 0, FILE_RECORD_SIZE);
	memcpy(record, &len32, sizeof(len32));
	memcpy(record + sizeof(len32), frame, len);
}

bool file_record_written(const uint8_t *record)
{
	uint32_t len;

	memcpy(&len, record, sizeof(len));
	return len & FILE_RECORD_WRITTEN;
}

size_t file_record_unpack(const uint8_t *record, uint8_t *buf, size_t size)
{
	uint32_t len;

	memcpy(&len, record, sizeof(len));
	len &= ~FILE_RECORD_WRITTEN;
	if (len > FILE_RECORD_FRAME_MAX)
		len = FILE_RECORD_FRAME_MAX;
	if (len > size)
		len = size;
	memcpy(buf, record + sizeof(len), len);
	return len;
}
