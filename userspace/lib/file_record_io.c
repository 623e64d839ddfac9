// SPDX-License-Identifier: MIT
#include "file_record_io.h"

#include "shared_object.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int file_record_append(int fd, const uint8_t *frames, size_t len,
		       size_t count)
{
	uint8_t records[FILE_RECORD_IO_MAX][FILE_RECORD_SIZE];
	off_t end;
	ssize_t n;
	int r;

	if (len > FILE_RECORD_FRAME_MAX)
		return -EMSGSIZE;
	if (count > FILE_RECORD_IO_MAX)
		count = FILE_RECORD_IO_MAX;
	r = shared_object_lock_data(fd, F_WRLCK);
	if (r < 0)
		return r;
	r = file_record_append_at(fd, &end);	/* the room left, or -errno */
	if (r > 0) {
		r = (size_t)r < count ? r : (int)count;
		for (int i = 0; i < r; i++)
			file_record_pack(records[i], frames + i * len, len);
		/* Torn by a crash or a full disk: the next append cuts it off. */
		n = pwrite(fd, records, r * sizeof(records[0]), end);
		if (n != (ssize_t)(r * sizeof(records[0])))
			r = n < 0 ? -errno : -ENOSPC;
	}
	(void)shared_object_lock_data(fd, F_UNLCK);
	return r;
}

off_t file_record_take(int fd, off_t *offset, uint8_t *records, off_t max,
		       uint64_t *rejected)
{
	ssize_t n = 0;
	off_t count;
	int r = shared_object_lock_data(fd, F_WRLCK);

	if (r < 0)
		return r;
	/* One hold of the write lock: a read lock for the read and then the
	 * write lock for the consume took two more system calls. */
	count = file_record_unread(fd, offset, max, rejected);
	if (count > 0)
		n = pread(fd, records, count * FILE_RECORD_SIZE, *offset);
	r = count < 0 ? count : n < 0 ? -errno : 0;
	count = n > 0 ? n / (ssize_t)FILE_RECORD_SIZE : 0;
	if (!r && count)
		r = file_record_consume(fd, offset, count);
	(void)shared_object_lock_data(fd, F_UNLCK);
	return r < 0 ? r : count;
}
