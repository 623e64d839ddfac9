// SPDX-License-Identifier: MIT
/*
 * libFuzzer target of the record file's reader and writer (the
 * shared-file transport): the input is a whole file, header and records,
 * as a crash, an older build or a hostile tool of the same user may leave
 * it. Whatever it holds, judging it, taking its records, appending to it
 * and cutting it back must be safe (ASan, UBSan), a frame handed over is
 * never longer than a record holds, the reader never goes below the
 * header, and a frame appended once the reader has caught up with the
 * published end is the next one it takes, whole.
 *
 * The file lives in $IPC_BUTTON_FUZZ_DIR (default: the current directory)
 * and is removed at exit.
 */
#include "file_record.h"
#include "file_record_io.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[PATH_MAX];
static int fd = -1;

static void remove_file(void)
{
	if (path[0])
		unlink(path);
}

static void open_file(void)
{
	const char *dir = getenv("IPC_BUTTON_FUZZ_DIR");

	snprintf(path, sizeof(path), "%s/fuzz-file-record.XXXXXX",
		 dir ? dir : ".");
	fd = mkstemp(path);	/* 0600, ours: a private object */
	if (fd < 0) {
		perror(path);
		abort();
	}
	atexit(remove_file);
}

/* Take all there is, checking what is handed over; how many rounds. */
static void take_all(struct file_record_header *hdr, off_t *offset,
		     uint64_t *rejected)
{
	static uint8_t records[FILE_RECORD_IO_MAX][FILE_RECORD_SIZE];
	uint8_t frame[FILE_RECORD_FRAME_MAX + 1];
	bool busy;
	off_t n;

	for (int round = 0; round < 80; round++) {
		n = file_record_take(fd, hdr, offset, records[0],
				     FILE_RECORD_IO_MAX, rejected, &busy);
		/* No writer runs: what is not whole is dead, and skipped. */
		if (!n && busy)
			n = file_record_take_settled(fd, hdr, offset, records[0],
						     FILE_RECORD_IO_MAX, rejected);
		if (n < 0 || n > FILE_RECORD_IO_MAX || *offset < FILE_RECORD_START)
			abort();
		if (!n && !busy)
			return;
		for (off_t i = 0; i < n; i++)
			if (file_record_unpack(records[i], frame, sizeof(frame)) >
			    FILE_RECORD_FRAME_MAX)
				abort();
		file_record_mark_read(hdr, *offset);
		file_record_trim(fd, hdr, offset);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t frame[FILE_RECORD_FRAME_MAX], records[1][FILE_RECORD_SIZE];
	uint8_t back[FILE_RECORD_FRAME_MAX];
	struct file_record_header *hdr;
	uint64_t rejected = 0;
	off_t offset;
	bool busy, caught_up;
	int r;

	if (fd < 0)
		open_file();
	if (ftruncate(fd, 0) < 0 ||
	    pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (file_record_check(fd, &offset) || file_record_map(fd, &hdr))
		return 0;
	if (!file_record_offset_ok(offset))
		abort();
	take_all(hdr, &offset, &rejected);

	/* A writer comes: what it appends is the next thing read. */
	memset(frame, 0xa5, sizeof(frame));
	caught_up = __atomic_load_n(&hdr->end, __ATOMIC_ACQUIRE) ==
		    (uint64_t)offset;
	r = file_record_append(fd, hdr, frame, sizeof(frame), 1);
	if (r == 1 && caught_up) {
		if (file_record_take(fd, hdr, &offset, records[0], 1, &rejected,
				     &busy) != 1 ||
		    file_record_unpack(records[0], back, sizeof(back)) !=
			    sizeof(frame) || memcmp(back, frame, sizeof(frame)))
			abort();
	}
	take_all(hdr, &offset, &rejected);
	(void)file_record_close(hdr, offset);
	file_record_unmap(hdr);
	return 0;
}
