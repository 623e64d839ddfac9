// SPDX-License-Identifier: MIT
/*
 * shared-file: frames appended as fixed records (lib/file_record.h) to
 * <runtime dir>/shared-file.<instance> (0600) under an OFD write lock; the
 * receiver, woken by inotify (IN_MODIFY), reads them under a read lock and
 * empties the file once it has read all. Pull, FIFO, lossless, durable.
 * Step by step: docs/mechanisms/shared-file.md, "How the transport works".
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/fd_wait.h"
#include "../lib/file_record.h"
#include "../lib/named_object.h"
#include "../lib/shared_object.h"
#include "../lib/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

#define BATCH	32	/* records read under one lock */

struct shared_file_state {
	char path[PATH_MAX];
	int fd;
	int inotify_fd;		/* receiver: wake-up and poll_fd */
	off_t read_offset;	/* receiver: its own copy, the truth */
	unsigned int batch_count, batch_next;
	uint8_t batch[BATCH][FILE_RECORD_SIZE];
};

/* ---- receiver ---------------------------------------------------------- */

static int shared_file_create(void *ctx)
{
	struct shared_file_state *st = ctx;

	st->fd = file_record_create(st->path);
	st->read_offset = FILE_RECORD_START;
	return st->fd < 0 ? st->fd : 0;
}

static int shared_file_adopt(void *ctx)
{
	struct shared_file_state *st = ctx;

	st->fd = open(st->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (st->fd < 0)
		return errno == ENOENT ? NAMED_OBJECT_GONE :
		       errno == ELOOP ? NAMED_OBJECT_STALE : -errno;
	return file_record_adopt(&st->fd, &st->read_offset);
}

static int shared_file_remove(void *ctx)
{
	struct shared_file_state *st = ctx;

	/* A sender still attached sees the name gone: file_record_check(). */
	return unlink(st->path) == 0 ? 0 : -errno;
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
	/* An adopted file's unread frames: the first receive() finds them. */
	st->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (st->inotify_fd < 0 ||
	    inotify_add_watch(st->inotify_fd, st->path, IN_MODIFY) < 0)
		return -errno;
	return 0;
}

/* Read up to BATCH records (read lock), then mark them consumed (write lock). */
static int shared_file_read_batch(struct transport *t,
				  struct shared_file_state *st)
{
	ssize_t n = 0;
	off_t count;
	int r = shared_object_lock_data(st->fd, F_RDLCK);

	if (r < 0)
		return r;
	count = file_record_unread(st->fd, &st->read_offset, BATCH, &t->rejected);
	if (count > 0)
		n = pread(st->fd, st->batch, count * FILE_RECORD_SIZE, st->read_offset);
	r = count < 0 ? count : n < 0 ? -errno : 0;
	(void)shared_object_lock_data(st->fd, F_UNLCK);
	count = n / FILE_RECORD_SIZE;
	if (r < 0 || !count)
		return r;

	r = shared_object_lock_data(st->fd, F_WRLCK);
	if (r < 0)
		return r;
	r = file_record_consume(st->fd, &st->read_offset, count);
	(void)shared_object_lock_data(st->fd, F_UNLCK);
	if (r < 0)
		return r;
	st->batch_count = count;
	st->batch_next = 0;
	return count;
}

static ssize_t shared_file_receive(struct transport *t, uint8_t *buf,
				   size_t size, int timeout_ms)
{
	struct shared_file_state *st = t->priv;
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct deadline d;
	ssize_t r;

	deadline_start(&d, timeout_ms);
	for (;;) {
		if (st->batch_next < st->batch_count)
			return file_record_unpack(st->batch[st->batch_next++], buf, size);
		if (stop_requested())
			return -EINTR;
		/* Drain before reading: an append after this point queues a
		 * new event, so the wait below cannot miss it. */
		while ((r = read(st->inotify_fd, events, sizeof(events))) > 0)
			;
		if (r < 0 && errno != EAGAIN)
			return -errno;
		r = shared_file_read_batch(t, st);
		if (!r)
			r = fd_wait(st->inotify_fd, POLLIN, deadline_left_ms(&d), NULL);
		if (r < 0)
			return r;
	}
}

/* ---- sender ------------------------------------------------------------ */

static int shared_file_open_sender(struct shared_file_state *st)
{
	int r;

	st->fd = open(st->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (st->fd < 0)
		return errno == ENOENT || errno == ELOOP ? TRANSPORT_ABSENT : -errno;
	/* Not ours, or closed: our receiver will make a new one. */
	r = file_record_check(st->fd, NULL);
	return r == -ENODATA ? TRANSPORT_ABSENT : r;
}

static int shared_file_send(struct transport *t, const uint8_t *frame,
			    size_t len)
{
	struct shared_file_state *st = t->priv;
	uint8_t record[FILE_RECORD_SIZE];
	off_t end;
	ssize_t n;
	int r;

	if (len > FILE_RECORD_FRAME_MAX)
		return -EMSGSIZE;
	file_record_pack(record, frame, len);
	r = shared_object_lock_data(st->fd, F_WRLCK);
	if (r < 0)
		return r;
	/* -ENODATA: removed or closed; -EAGAIN: full (TRANSPORT_FULL). */
	r = file_record_append_at(st->fd, &end);
	if (!r) {
		/* Torn by a crash or a full disk: the next append cuts it off. */
		n = pwrite(st->fd, record, sizeof(record), end);
		r = n == sizeof(record) ? 0 : n < 0 ? -errno : -ENOSPC;
	}
	(void)shared_object_lock_data(st->fd, F_UNLCK);
	return r == -ENODATA ? TRANSPORT_STALE : r;
}

/* ---- both -------------------------------------------------------------- */

static void shared_file_close(struct transport *t)
{
	struct shared_file_state *st = t->priv;
	off_t unread = st->batch_count - st->batch_next;

	/* Under the write lock, so that no sender appends in between. */
	if (t->role == TRANSPORT_RECEIVER && st->fd >= 0 &&
	    !shared_object_lock_data(st->fd, F_WRLCK)) {
		unread += file_record_close(st->fd, st->read_offset);
		shared_object_unlink(st->fd, st->path);
		(void)shared_object_lock_data(st->fd, F_UNLCK);
		if (unread)
			snprintf(t->detail, sizeof(t->detail),
				 "%lld unread frames discarded with %s",
				 (long long)unread, st->path);
	}
	if (st->fd >= 0)
		close(st->fd);
	if (st->inotify_fd >= 0)
		close(st->inotify_fd);
	free(st);
	t->priv = NULL;
}

static int shared_file_open(struct transport *t)
{
	struct shared_file_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->fd = st->inotify_fd = -1;
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
	/* -1 for the sender: TRANSPORT_FULL means back off. */
	return ((struct shared_file_state *)t->priv)->inotify_fd;
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
