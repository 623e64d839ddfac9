// SPDX-License-Identifier: MIT
/*
 * shared-file: frames appended to a regular file in the runtime directory
 * under an fcntl write lock; the receiver learns of new ones from inotify
 * (IN_MODIFY), reads them under a read lock, and truncates the file once
 * it has read everything, so the file stays small.
 *
 * Pull, lossless while both run: at most UNREAD_MAX unread frames wait in
 * the file; beyond that send() is TRANSPORT_FULL and the button keeps the
 * frame, so a receiver that is gone cannot make the file grow forever.
 * FIFO: appends are serialised by the lock.
 * Object: <runtime dir>/shared-file.<instance>, mode 0600. The receiver
 * makes it unnamed (O_TMPFILE), writes its header, and only then links it
 * under its name; it removes it on close if the name is still its file.
 * Locks are OFD record locks (lib/shared_object.h): byte 0 is the
 * receiver's claim for its whole life; data locks cover the header's
 * mutable fields and the records. A dead process's locks vanish with it.
 * Layout: a 64-byte header (magic, version, record size, creator uid,
 * closed flag, offset of the first unread record), then fixed records
 * (u32 length, up to 256 bytes of frame). A record torn by a sender killed
 * mid-write leaves a size that is not a whole number of records: the next
 * sender cuts it off, and the receiver never reads past the last whole one.
 * Receiver restart: stopped, it marks the file closed and removes it under
 * the write lock, and says how many unread frames went with it; the sender
 * sees the mark or the missing name (TRANSPORT_STALE) and reopens. Killed,
 * the file stays; the next receiver adopts it and reads every unread
 * frame but those of the batch the dead one had taken (up to BATCH).
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/fd_wait.h"
#include "../lib/named_object.h"
#include "../lib/private_object.h"
#include "../lib/shared_object.h"
#include "../lib/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHARED_FILE_MAGIC	0x49425346u	/* "IBSF" */
#define SHARED_FILE_VERSION	1
#define FRAME_MAX		256	/* = IPC_MESSAGE_MAX_WIRE */
#define RECORD_SIZE		(sizeof(uint32_t) + FRAME_MAX)
#define UNREAD_MAX		1024	/* then send() is TRANSPORT_FULL */
#define BATCH			32	/* records read under one lock */

struct shared_file_header {
	uint32_t magic;
	uint16_t version;
	uint16_t record_size;
	uint32_t creator_uid;
	uint32_t closed;	/* 1: the receiver left; written under lock */
	uint64_t read_offset;	/* first unread record; receiver only */
	uint8_t reserved[40];
};

_Static_assert(sizeof(struct shared_file_header) == 64, "header layout");
_Static_assert(offsetof(struct shared_file_header, closed) >=
	       SHARED_OBJECT_DATA_START, "data locks cover the header fields");

#define HEADER_SIZE	((off_t)sizeof(struct shared_file_header))
#define CLOSED_AT	offsetof(struct shared_file_header, closed)
#define READ_OFFSET_AT	offsetof(struct shared_file_header, read_offset)

struct shared_file_state {
	char path[PATH_MAX];
	const char *dir;
	int fd;
	int inotify_fd;		/* receiver: wake-up and poll_fd */
	off_t read_offset;	/* receiver: its own copy, the truth */
	unsigned int batch_count, batch_next;
	uint8_t batch[BATCH][RECORD_SIZE];
};

/* The header, if it is whole, ours and not closed: 0, else -ENODATA. */
static int read_header(int fd, struct shared_file_header *hdr)
{
	ssize_t n = pread(fd, hdr, sizeof(*hdr), 0);

	if (n < 0)
		return -errno;
	if (n != sizeof(*hdr) || hdr->magic != SHARED_FILE_MAGIC ||
	    hdr->version != SHARED_FILE_VERSION || hdr->record_size != RECORD_SIZE ||
	    hdr->creator_uid != (uint32_t)geteuid() || hdr->closed)
		return -ENODATA;
	return 0;
}

static int write_field(int fd, const void *value, size_t size, off_t offset)
{
	ssize_t n = pwrite(fd, value, size, offset);

	return n < 0 ? -errno : (size_t)n == size ? 0 : -EIO;
}

/* The end of the last whole record: what lies beyond is a torn append. */
static off_t whole_records_end(off_t size)
{
	if (size < HEADER_SIZE)
		return HEADER_SIZE;
	return HEADER_SIZE + (size - HEADER_SIZE) / RECORD_SIZE * RECORD_SIZE;
}

/* A read offset from the file, made safe: on a record, inside the file. */
static off_t sane_read_offset(uint64_t offset, off_t size)
{
	off_t end = whole_records_end(size);

	if (offset < (uint64_t)HEADER_SIZE || offset > (uint64_t)end ||
	    (offset - HEADER_SIZE) % RECORD_SIZE)
		return end;	/* garbled: skip what we cannot place */
	return (off_t)offset;
}

/* Under the write lock: a sender still attached sees it and reopens. */
static void mark_closed(int fd)
{
	uint32_t closed = 1;

	(void)write_field(fd, &closed, sizeof(closed), CLOSED_AT);
}

/* ---- receiver ---------------------------------------------------------- */

static int shared_file_create(void *ctx)
{
	struct shared_file_state *st = ctx;
	struct shared_file_header hdr = {
		.magic = SHARED_FILE_MAGIC,
		.version = SHARED_FILE_VERSION,
		.record_size = RECORD_SIZE,
		.creator_uid = geteuid(),
		.read_offset = HEADER_SIZE,
	};
	int r;

	st->fd = shared_object_tmpfile(st->dir);
	if (st->fd < 0)
		return st->fd;
	r = shared_object_claim(st->fd, SHARED_OBJECT_RECEIVER);
	if (!r)
		r = write_field(st->fd, &hdr, sizeof(hdr), 0);
	if (!r)
		r = shared_object_link(st->fd, st->path);
	if (r < 0)
		goto err_close_fd;
	st->read_offset = HEADER_SIZE;
	return 0;

err_close_fd:
	close(st->fd);
	st->fd = -1;
	return r;
}

static int shared_file_adopt(void *ctx)
{
	struct shared_file_state *st = ctx;
	struct shared_file_header hdr;
	struct stat sb;
	int r;

	st->fd = open(st->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (st->fd < 0)
		return errno == ENOENT ? NAMED_OBJECT_GONE :
		       errno == ELOOP ? NAMED_OBJECT_STALE : -errno;
	if (fstat(st->fd, &sb) < 0 || !private_object_file(&sb)) {
		close(st->fd);
		st->fd = -1;		/* not ours: removed by name */
		return NAMED_OBJECT_STALE;
	}
	r = shared_object_claim(st->fd, SHARED_OBJECT_RECEIVER);
	if (!r)
		r = shared_object_lock_data(st->fd, F_RDLCK);
	if (r < 0)
		goto err_close_fd;
	r = read_header(st->fd, &hdr);
	if (!r && fstat(st->fd, &sb) < 0)
		r = -errno;
	(void)shared_object_lock_data(st->fd, F_UNLCK);
	if (!r) {
		st->read_offset = sane_read_offset(hdr.read_offset, sb.st_size);
		return NAMED_OBJECT_OURS;	/* left by a killed receiver */
	}
	if (r == -ENODATA)
		return NAMED_OBJECT_STALE;
err_close_fd:
	close(st->fd);
	st->fd = -1;
	return r;
}

static int shared_file_remove(void *ctx)
{
	struct shared_file_state *st = ctx;

	if (st->fd < 0)
		return unlink(st->path) == 0 ? 0 : -errno;
	if (!shared_object_lock_data(st->fd, F_WRLCK)) {
		mark_closed(st->fd);
		(void)shared_object_lock_data(st->fd, F_UNLCK);
	}
	shared_object_unlink(st->fd, st->path);
	close(st->fd);
	st->fd = -1;
	return 0;
}

static const struct named_object_ops shared_file_object = {
	.create = shared_file_create,
	.adopt = shared_file_adopt,
	.remove = shared_file_remove,
};

static int shared_file_open_receiver(struct shared_file_state *st)
{
	int r = named_object_get(&shared_file_object, st);

	if (r < 0)
		return r;
	/* Watch the file we hold, whatever happens to its name later. */
	st->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (st->inotify_fd < 0 ||
	    inotify_add_watch(st->inotify_fd, st->path, IN_MODIFY) < 0)
		return -errno;
	/* Unread frames of an adopted file: the first receive() finds them. */
	return 0;
}

/*
 * Read up to BATCH whole records under the read lock, then record that
 * they are consumed under the write lock, and truncate the file when
 * nothing is left. Returns how many were read.
 */
static int shared_file_read_batch(struct transport *t,
				  struct shared_file_state *st)
{
	off_t end, count = 0;
	uint64_t offset;
	struct stat sb;
	ssize_t n = 0;
	int r;

	r = shared_object_lock_data(st->fd, F_RDLCK);
	if (r < 0)
		return r;
	if (fstat(st->fd, &sb) < 0) {
		r = -errno;
		goto out_unlock;
	}
	end = whole_records_end(sb.st_size);
	if (st->read_offset > end) {
		/* Someone cut the file below what we read: start over. */
		t->rejected++;
		st->read_offset = end;
	}
	count = (end - st->read_offset) / RECORD_SIZE;
	if (count > BATCH)
		count = BATCH;
	if (count)
		n = pread(st->fd, st->batch, count * RECORD_SIZE, st->read_offset);
	if (n < 0)
		r = -errno;
	count = n / RECORD_SIZE;
out_unlock:
	(void)shared_object_lock_data(st->fd, F_UNLCK);
	if (r < 0 || !count)
		return r;

	r = shared_object_lock_data(st->fd, F_WRLCK);
	if (r < 0)
		return r;
	st->read_offset += count * RECORD_SIZE;
	if (!fstat(st->fd, &sb) && sb.st_size == st->read_offset &&
	    !ftruncate(st->fd, HEADER_SIZE))
		st->read_offset = HEADER_SIZE;
	offset = st->read_offset;
	r = write_field(st->fd, &offset, sizeof(offset), READ_OFFSET_AT);
	(void)shared_object_lock_data(st->fd, F_UNLCK);
	if (r < 0)
		return r;
	st->batch_count = count;
	st->batch_next = 0;
	return count;
}

/* Empty the inotify queue: what it said is about to be looked at. */
static int drain_inotify(int fd)
{
	char events[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(fd, events, sizeof(events))) > 0)
		;
	return n < 0 && errno == EAGAIN ? 0 : n < 0 ? -errno : -EIO;
}

static ssize_t shared_file_receive(struct transport *t, uint8_t *buf,
				   size_t size, int timeout_ms)
{
	struct shared_file_state *st = t->priv;
	struct deadline d;
	uint32_t len;
	int r;

	deadline_start(&d, timeout_ms);
	for (;;) {
		if (st->batch_next < st->batch_count) {
			const uint8_t *record = st->batch[st->batch_next++];

			memcpy(&len, record, sizeof(len));
			len = len > FRAME_MAX ? FRAME_MAX : len;  /* the decoder judges */
			len = len > size ? size : len;
			memcpy(buf, record + sizeof(uint32_t), len);
			return len;
		}
		if (stop_requested())
			return -EINTR;
		/* Drain before reading: an append after this point queues a
		 * new event, so the wait below cannot miss it. */
		r = drain_inotify(st->inotify_fd);
		if (!r)
			r = shared_file_read_batch(t, st);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (!d.forever && !deadline_left_ns(&d))
			return -ETIMEDOUT;
		r = fd_wait(st->inotify_fd, POLLIN, deadline_left_ms(&d), NULL);
		if (r < 0 && r != -ETIMEDOUT)
			return r;
	}
}

/* Under the write lock: mark closed and remove, so no sender appends in
 * between; say how many unread frames went with the file. */
static void shared_file_close_receiver(struct transport *t,
				       struct shared_file_state *st)
{
	off_t end, unread = st->batch_count - st->batch_next;
	struct stat sb;

	if (st->fd < 0 || shared_object_lock_data(st->fd, F_WRLCK) < 0)
		return;
	if (!fstat(st->fd, &sb)) {
		end = whole_records_end(sb.st_size);
		if (end > st->read_offset)
			unread += (end - st->read_offset) / RECORD_SIZE;
	}
	mark_closed(st->fd);
	shared_object_unlink(st->fd, st->path);
	(void)shared_object_lock_data(st->fd, F_UNLCK);
	if (unread)
		snprintf(t->detail, sizeof(t->detail),
			 "%lld unread frames discarded with %s", (long long)unread,
			 st->path);
}

/* ---- sender ------------------------------------------------------------ */

static int shared_file_open_sender(struct shared_file_state *st)
{
	struct shared_file_header hdr;
	struct stat sb;
	int r;

	st->fd = open(st->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (st->fd < 0)
		return errno == ENOENT || errno == ELOOP ? TRANSPORT_ABSENT : -errno;
	if (fstat(st->fd, &sb) < 0)
		return -errno;
	/* Not ours, or closed: our receiver will make a new one. */
	r = private_object_file(&sb) ? read_header(st->fd, &hdr) : -ENODATA;
	return r == -ENODATA ? TRANSPORT_ABSENT : r;
}

/* Under the write lock: check the file is still live, cut off a torn
 * append, and append one whole record. */
static int shared_file_append(struct shared_file_state *st,
			      const uint8_t *frame, size_t len)
{
	uint8_t record[RECORD_SIZE] = { 0 };
	uint32_t len32 = (uint32_t)len;
	struct shared_file_header hdr;
	struct stat sb;
	off_t end;
	ssize_t n;
	int r;

	if (fstat(st->fd, &sb) < 0)
		return -errno;
	r = sb.st_nlink == 0 ? -ENODATA : read_header(st->fd, &hdr);
	if (r < 0)
		return r == -ENODATA ? TRANSPORT_STALE : r;	/* removed or closed */
	end = whole_records_end(sb.st_size);
	if (end != sb.st_size && ftruncate(st->fd, end) < 0)
		return -errno;
	if ((end - sane_read_offset(hdr.read_offset, end)) / RECORD_SIZE >= UNREAD_MAX)
		return TRANSPORT_FULL;
	memcpy(record, &len32, sizeof(len32));
	memcpy(record + sizeof(len32), frame, len);
	n = pwrite(st->fd, record, sizeof(record), end);
	if (n == sizeof(record))
		return 0;
	r = n < 0 ? -errno : -ENOSPC;
	/* Leave no partial record behind (fortified builds insist on the check). */
	if (ftruncate(st->fd, end) < 0) {
		/* Then the next append cuts it off: whole_records_end(). */
	}
	return r;
}

static int shared_file_send(struct transport *t, const uint8_t *frame,
			    size_t len)
{
	struct shared_file_state *st = t->priv;
	int r;

	if (len > FRAME_MAX)
		return -EMSGSIZE;
	r = shared_object_lock_data(st->fd, F_WRLCK);
	if (r < 0)
		return r;
	r = shared_file_append(st, frame, len);
	(void)shared_object_lock_data(st->fd, F_UNLCK);
	return r;
}

/* ---- both -------------------------------------------------------------- */

static void shared_file_close(struct transport *t);

static int shared_file_open(struct transport *t)
{
	struct shared_file_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->fd = st->inotify_fd = -1;
	st->dir = t->config->runtime_dir;
	t->priv = st;
	r = transport_object_path(t, st->path, sizeof(st->path));
	if (!r)
		r = t->role == TRANSPORT_RECEIVER ? shared_file_open_receiver(st) :
						    shared_file_open_sender(st);
	if (r < 0) {
		if (!t->detail[0])
			snprintf(t->detail, sizeof(t->detail), "%s", st->path);
		shared_file_close(t);
	}
	return r;
}

static int shared_file_poll_fd(struct transport *t)
{
	struct shared_file_state *st = t->priv;

	/* The sender has nothing to wait on: TRANSPORT_FULL means back off. */
	return t->role == TRANSPORT_RECEIVER ? st->inotify_fd : -1;
}

static void shared_file_close(struct transport *t)
{
	struct shared_file_state *st = t->priv;

	if (!st)
		return;
	if (t->role == TRANSPORT_RECEIVER)
		shared_file_close_receiver(t, st);
	if (st->fd >= 0)
		close(st->fd);
	if (st->inotify_fd >= 0)
		close(st->inotify_fd);
	free(st);
	t->priv = NULL;
}

static const struct transport_ops shared_file_ops = {
	.name = "shared-file",
	.summary = "records appended to a file under fcntl locks, inotify wake-up",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_DURABLE,
	.open = shared_file_open,
	.send = shared_file_send,
	.receive = shared_file_receive,
	.poll_fd = shared_file_poll_fd,
	.close = shared_file_close,
};

TRANSPORT_REGISTER(shared_file_ops);
