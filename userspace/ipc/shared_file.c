// SPDX-License-Identifier: MIT
/*
 * shared-file: frames appended to a regular file in the runtime directory
 * under an fcntl write lock; the receiver learns of new ones from inotify
 * (IN_MODIFY), reads them under a read lock, and truncates the file once
 * it has read everything, so the file stays small.
 *
 * Pull: the sender appends; the receiver, woken by inotify, reads.
 * Lossless while both run: at most 1024 unread frames may wait in the
 *   file; beyond that send() returns -EAGAIN and the button keeps the
 *   frame, so a receiver that is gone cannot make the file grow forever.
 * Ordering: FIFO (appends are serialised by the lock). Several senders may
 *   append, but one at a time is what the button does.
 * Object: <runtime dir>/shared-file.<instance>, mode 0600, created by
 *   the receiver as an unnamed file (O_TMPFILE), given its header, and
 *   only then linked under its name; removed by the receiver on close
 *   (only if the name still is its file).
 * Locks are open file description (OFD) record locks, taken with
 *   F_OFD_SETLKW: a process waits in the kernel for the lock, it never
 *   spins on it, and a dead process's locks vanish with it. Byte 0 is the
 *   receiver's claim for its whole life (lib/shared_object.h); data locks
 *   cover the header's mutable fields and the records, bytes 2 and on.
 * File layout: a 64-byte header (magic, version, record size, creator uid,
 *   closed flag, offset of the first unread record), then fixed 260-byte
 *   records (u32 length, up to 256 bytes of frame). Fixed records make a
 *   record torn by a sender killed mid-write easy to spot (the file size
 *   is not a whole number of records): the next sender cuts it off, and
 *   the receiver never reads past the last whole record.
 * Receiver restart:
 *   - SIGTERM/SIGINT: the receiver marks the file closed and removes it,
 *     under the write lock. The sender's next send() sees the mark, or
 *     that its file has no name left, and gets -EPIPE: it keeps its
 *     backlog, reopens once the new receiver has made a new file, and
 *     delivers the backlog. Frames unread at that moment are discarded,
 *     and the receiver says how many on stderr (normally none).
 *   - SIGKILL: the file stays. The sender keeps appending (up to 1024
 *     unread), then keeps a backlog. The next receiver adopts the file
 *     (same owner, mode, version, not closed, receiver claim free) and
 *     reads every unread frame; the frames of the batch the killed
 *     receiver had already read (the header says where it got to, up to
 *     32 frames) are lost. A file it cannot use is replaced; a sender
 *     attached to it gets -EPIPE and reopens.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/private_object.h"
#include "../lib/shared_object.h"
#include "../lib/stop.h"
#include "../lib/fd_wait.h"

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
#define UNREAD_MAX		1024	/* then send() says -EAGAIN */
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

struct shared_file {
	char path[PATH_MAX];
	int fd;
	int inotify_fd;		/* receiver: wake-up and poll_fd */
	off_t read_offset;	/* receiver: its own copy, the truth */
	unsigned int batch_count, batch_next;
	uint8_t batch[BATCH][RECORD_SIZE];
};

/* A data lock (F_RDLCK, F_WRLCK or F_UNLCK) over the header and records. */
static int data_lock(int fd, short type)
{
	struct flock lock = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = SHARED_OBJECT_DATA_START,
		.l_len = 0,	/* to the end, however far it grows */
	};

	/* Waits in the kernel; EINTR only for a signal, then wait again. */
	while (fcntl(fd, F_OFD_SETLKW, &lock) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int read_header(int fd, struct shared_file_header *hdr)
{
	ssize_t n = pread(fd, hdr, sizeof(*hdr), 0);

	if (n < 0)
		return -errno;
	return n == sizeof(*hdr) ? 0 : -ENODATA;
}

static bool header_ours(const struct shared_file_header *hdr)
{
	return hdr->magic == SHARED_FILE_MAGIC &&
	       hdr->version == SHARED_FILE_VERSION &&
	       hdr->record_size == RECORD_SIZE &&
	       hdr->creator_uid == (uint32_t)geteuid();
}

static int write_field(int fd, const void *value, size_t size, off_t offset)
{
	ssize_t n = pwrite(fd, value, size, offset);

	if (n < 0)
		return -errno;
	return (size_t)n == size ? 0 : -EIO;
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

static void shared_file_release(struct shared_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->inotify_fd >= 0)
		close(f->inotify_fd);
	f->inotify_fd = -1;
}

/*
 * Receiver: look at the existing file. 0: adopted; 1: stale or foreign,
 * and gone now; -EBUSY: a live receiver has it; other negative: fatal.
 */
static int shared_file_adopt(struct transport *t, struct shared_file *f)
{
	struct shared_file_header hdr;
	struct stat st;
	int r;

	if (fstat(f->fd, &st) < 0)
		return -errno;
	if (!private_object_file(&st)) {
		if (unlink(f->path) < 0 && errno != ENOENT) {
			r = -errno;
			fprintf(stderr, "%s: %s is not ours (uid %u, mode %04o) and cannot be removed: %s\n",
				t->ops->name, f->path, (unsigned int)st.st_uid,
				(unsigned int)(st.st_mode & 07777), strerror(-r));
			return r;
		}
		shared_file_release(f);
		return 1;
	}
	r = shared_object_claim(f->fd, SHARED_OBJECT_RECEIVER);
	if (r < 0)
		return r;
	r = data_lock(f->fd, F_RDLCK);
	if (r < 0)
		return r;
	r = read_header(f->fd, &hdr);
	if (!r && fstat(f->fd, &st) < 0)
		r = -errno;
	(void)data_lock(f->fd, F_UNLCK);
	if (r < 0 && r != -ENODATA)
		return r;
	if (!r && header_ours(&hdr) && !hdr.closed) {
		f->read_offset = sane_read_offset(hdr.read_offset, st.st_size);
		return 0;
	}
	/* Stale: tell a sender still appending to it, then replace it. */
	if (!r && hdr.magic == SHARED_FILE_MAGIC &&
	    !data_lock(f->fd, F_WRLCK)) {
		uint32_t closed = 1;

		(void)write_field(f->fd, &closed, sizeof(closed),
				  offsetof(struct shared_file_header, closed));
		(void)data_lock(f->fd, F_UNLCK);
	}
	shared_object_unlink(f->fd, f->path);
	shared_file_release(f);
	return 1;
}

/* Receiver: a new file. -EEXIST if another receiver was faster. */
static int shared_file_create(struct transport *t, struct shared_file *f)
{
	struct shared_file_header hdr = {
		.magic = SHARED_FILE_MAGIC,
		.version = SHARED_FILE_VERSION,
		.record_size = RECORD_SIZE,
		.creator_uid = geteuid(),
		.read_offset = HEADER_SIZE,
	};
	int r;

	r = shared_object_tmpfile(t->config->runtime_dir);
	if (r < 0) {
		fprintf(stderr, "%s: unnamed file in %s: %s\n", t->ops->name,
			t->config->runtime_dir, strerror(-r));
		return r;
	}
	f->fd = r;
	r = shared_object_claim(f->fd, SHARED_OBJECT_RECEIVER);
	if (!r)
		r = write_field(f->fd, &hdr, sizeof(hdr), 0);
	if (r < 0)
		return r;
	f->read_offset = HEADER_SIZE;
	return shared_object_link(f->fd, f->path);
}

static int shared_file_open_receiver(struct transport *t, struct shared_file *f)
{
	int r = -EBUSY;

	for (int attempt = 0; attempt < 3; attempt++) {
		f->fd = open(f->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (f->fd >= 0) {
			r = shared_file_adopt(t, f);
			if (r <= 0)
				break;
		} else if (errno == ELOOP) {
			if (unlink(f->path) < 0 && errno != ENOENT)
				return -errno;
		} else if (errno != ENOENT) {
			return -errno;
		}
		r = shared_file_create(t, f);
		if (r != -EEXIST)
			break;
		shared_file_release(f);
		r = -EBUSY;
	}
	if (r < 0)
		return r;

	/* Watch the file we hold, whatever happens to its name later. */
	f->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->inotify_fd < 0)
		return -errno;
	if (inotify_add_watch(f->inotify_fd, f->path, IN_MODIFY) < 0)
		return -errno;
	/* Unread frames of an adopted file: the first receive() finds them. */
	return 0;
}

static int shared_file_open_sender(struct shared_file *f)
{
	struct shared_file_header hdr;
	struct stat st;
	int r;

	f->fd = open(f->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (f->fd < 0)
		return errno == ENOENT || errno == ELOOP ? -ENOENT : -errno;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	if (!private_object_file(&st))
		return -ENOENT;	/* the receiver will replace it */
	r = read_header(f->fd, &hdr);
	if (r == -ENODATA || (!r && (!header_ours(&hdr) || hdr.closed)))
		return -ENOENT;
	return r;
}

static int shared_file_open(struct transport *t)
{
	struct shared_file *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->fd = f->inotify_fd = -1;
	t->priv = f;
	r = transport_object_path(t, f->path, sizeof(f->path));
	if (!r)
		r = t->role == TRANSPORT_RECEIVER ?
			shared_file_open_receiver(t, f) :
			shared_file_open_sender(f);
	if (r < 0) {
		shared_file_release(f);
		free(f);
		t->priv = NULL;
	}
	return r;
}

/* The sender's part, under the write lock. */
static int shared_file_append(struct shared_file *f, const uint8_t *frame,
			      size_t len)
{
	uint8_t record[RECORD_SIZE] = { 0 };
	uint32_t len32 = (uint32_t)len;
	struct shared_file_header hdr;
	struct stat st;
	off_t end, unread;
	ssize_t n;
	int r;

	if (fstat(f->fd, &st) < 0)
		return -errno;
	if (st.st_nlink == 0)
		return -EPIPE;		/* removed or replaced */
	r = read_header(f->fd, &hdr);
	if (r == -ENODATA || (!r && (!header_ours(&hdr) || hdr.closed)))
		return -EPIPE;
	if (r < 0)
		return r;

	end = whole_records_end(st.st_size);
	if (end != st.st_size && ftruncate(f->fd, end) < 0)
		return -errno;	/* could not cut off a torn append */
	unread = (end - sane_read_offset(hdr.read_offset, end)) / RECORD_SIZE;
	if (unread >= UNREAD_MAX)
		return -EAGAIN;

	memcpy(record, &len32, sizeof(len32));
	memcpy(record + sizeof(len32), frame, len);
	n = pwrite(f->fd, record, sizeof(record), end);
	if (n == sizeof(record))
		return 0;
	r = n < 0 ? -errno : -ENOSPC;
	/* Leave no partial record behind (fortified builds insist on the check). */
	if (ftruncate(f->fd, end) < 0) {
		/* Then the next append cuts it off: whole_records_end(). */
	}
	return r;
}

static int shared_file_send(struct transport *t, const uint8_t *frame,
			    size_t len)
{
	struct shared_file *f = t->priv;
	int r;

	if (len > FRAME_MAX)
		return -EMSGSIZE;
	r = data_lock(f->fd, F_WRLCK);
	if (r < 0)
		return r;
	r = shared_file_append(f, frame, len);
	(void)data_lock(f->fd, F_UNLCK);
	return r;
}

/*
 * Receiver: read up to BATCH whole records under the read lock, then
 * record that they are consumed under the write lock, and truncate the
 * file when nothing is left. Returns how many were read.
 */
static int shared_file_read_batch(struct transport *t, struct shared_file *f)
{
	struct stat st;
	off_t end, count = 0;
	uint64_t offset;
	ssize_t n;
	int r;

	r = data_lock(f->fd, F_RDLCK);
	if (r < 0)
		return r;
	if (fstat(f->fd, &st) < 0) {
		r = -errno;
		goto unlock;
	}
	end = whole_records_end(st.st_size);
	if (f->read_offset > end) {
		/* Someone cut the file below what we read: start over. */
		t->rejected++;
		f->read_offset = end;
	}
	count = (end - f->read_offset) / RECORD_SIZE;
	if (count > BATCH)
		count = BATCH;
	n = 0;
	if (count)
		n = pread(f->fd, f->batch, count * RECORD_SIZE, f->read_offset);
	if (n < 0)
		r = -errno;
	else
		count = n / RECORD_SIZE;
unlock:
	(void)data_lock(f->fd, F_UNLCK);
	if (r < 0 || !count)
		return r;

	/* Consumed: move the read offset; empty the file if we are done. */
	r = data_lock(f->fd, F_WRLCK);
	if (r < 0)
		return r;
	f->read_offset += count * RECORD_SIZE;
	if (!fstat(f->fd, &st) && st.st_size == f->read_offset &&
	    !ftruncate(f->fd, HEADER_SIZE))
		f->read_offset = HEADER_SIZE;
	offset = f->read_offset;
	r = write_field(f->fd, &offset, sizeof(offset),
			offsetof(struct shared_file_header, read_offset));
	(void)data_lock(f->fd, F_UNLCK);
	if (r < 0)
		return r;
	f->batch_count = count;
	f->batch_next = 0;
	return count;
}

/* Empty the inotify queue: what it said is about to be looked at. */
static int drain_inotify(int fd)
{
	char events[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(fd, events, sizeof(events));

		if (n > 0)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		return n < 0 ? -errno : -EIO;
	}
}

static ssize_t shared_file_receive(struct transport *t, uint8_t *buf,
				   size_t size, int timeout_ms)
{
	struct shared_file *f = t->priv;
	struct deadline deadline;
	int r;

	/* One deadline for the whole call, however often we wake. */
	deadline_start(&deadline, timeout_ms);
	for (;;) {
		if (f->batch_next < f->batch_count) {
			const uint8_t *record = f->batch[f->batch_next++];
			uint32_t len;

			memcpy(&len, record, sizeof(len));
			if (len > FRAME_MAX)
				len = FRAME_MAX;	/* for the decoder */
			if (len > size)
				len = size;
			memcpy(buf, record + sizeof(uint32_t), len);
			return len;
		}
		if (stop_requested())
			return -EINTR;
		/*
		 * Drain before reading: an append after this point queues a
		 * new event, so the wait below cannot miss it.
		 */
		r = drain_inotify(f->inotify_fd);
		if (!r)
			r = shared_file_read_batch(t, f);
		if (r < 0)
			return r;
		if (r > 0)
			continue;

		if (!deadline.forever && !deadline_left_ns(&deadline))
			return -ETIMEDOUT;
		r = fd_wait(f->inotify_fd, POLLIN,
				      deadline_left_ms(&deadline), NULL);
		if (r < 0 && r != -ETIMEDOUT)
			return r;
	}
}

static int shared_file_poll_fd(struct transport *t)
{
	struct shared_file *f = t->priv;

	/* The sender has nothing to wait on: -EAGAIN means back off. */
	return t->role == TRANSPORT_RECEIVER ? f->inotify_fd : -1;
}

static void shared_file_close(struct transport *t)
{
	struct shared_file *f = t->priv;

	if (!f)
		return;
	if (t->role == TRANSPORT_RECEIVER && f->fd >= 0 &&
	    !data_lock(f->fd, F_WRLCK)) {
		uint32_t closed = 1;
		struct stat st;
		off_t end, unread = f->batch_count - f->batch_next;

		/* Under the lock: no sender appends between mark and unlink. */
		if (!fstat(f->fd, &st)) {
			end = whole_records_end(st.st_size);
			if (end > f->read_offset)
				unread += (end - f->read_offset) / RECORD_SIZE;
		}
		(void)write_field(f->fd, &closed, sizeof(closed),
				  offsetof(struct shared_file_header, closed));
		shared_object_unlink(f->fd, f->path);
		(void)data_lock(f->fd, F_UNLCK);
		if (unread)
			fprintf(stderr, "%s: %lld unread frames discarded with %s\n",
				t->ops->name, (long long)unread, f->path);
	}
	shared_file_release(f);
	free(f);
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
