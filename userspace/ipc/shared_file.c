// SPDX-License-Identifier: MIT
/*
 * shared-file: frames appended as fixed records (lib/file_record.h) to
 * <runtime dir>/shared-file.<instance> (0600) under an OFD write lock, a
 * run in one pwrite(), the new end published in the mapped header; the
 * receiver, asleep in read() of inotify (lib/file_watch.h), takes all
 * published (up to 64) in one lock-free pread(), marking each record read
 * in the header as it hands it over (lib/file_record_io.h). Lone event:
 * lock, pwrite(), unlock; read(), pread(). The end is published before
 * the pwrite(), so the receiver it wakes finds the record whole; one that
 * finds it short yields, then takes under the lock. A sender that
 * finds the file full sleeps on an inotify watch of its own (poll_fd(),
 * readable: TRANSPORT_ROOM_READABLE) until the receiver cuts the file
 * back. Pull, FIFO, lossless, durable.
 * docs/mechanisms/shared-file.md, "How the transport works".
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/file_record_io.h"
#include "../lib/file_watch.h"
#include "../lib/named_object.h"
#include "../lib/shared_object.h"
#include "../lib/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct shared_file_state {
	char path[PATH_MAX];
	int fd;
	struct file_watch watch;	/* the receiver's wake-up, poll_fd */
	int room_fd;	/* the sender's, once full (file_watch_room_open()) */
	struct file_record_header *hdr;	/* mapped: the changing fields */
	off_t read_offset;	/* receiver: where its next pread() starts */
	unsigned int batch_count, batch_next;
	uint8_t batch[TRANSPORT_BATCH_MAX][FILE_RECORD_SIZE];	/* taken */
};

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
	return unlink(((struct shared_file_state *)ctx)->path) ? -errno : 0;
}

static const struct named_object_ops shared_file_object = {
	.create = shared_file_create,
	.adopt = shared_file_adopt,
	.remove = shared_file_remove,
};

static int shared_file_open_receiver(struct shared_file_state *st)
{
	int r = named_object_get(&shared_file_object, st);

	/* An adopted file's unread frames: the first receive() finds them. */
	r = r < 0 ? r : file_record_map(st->fd, &st->hdr);
	return r < 0 ? r : file_watch_open(&st->watch, st->path);
}

/* Records taken already, or else wait for some: 0 when there are. One
 * not whole yet is an append under way whose writer may have woken us
 * already (lib/file_record.h): we do not sleep on it. We give its writer
 * the CPU once (on two cores it is mid-pwrite()), then take under the
 * lock, which waits for it or finds it dead. */
static int shared_file_fill(struct transport *t, int timeout_ms)
{
	struct shared_file_state *st = t->priv;
	bool yielded = false;
	struct deadline d;
	bool busy;
	off_t r;

	deadline_start(&d, timeout_ms);
	while (st->batch_next >= st->batch_count) {
		if (stop_requested())
			return -EINTR;
		file_record_trim(st->fd, st->hdr, &st->read_offset);
		r = file_record_take(st->fd, st->hdr, &st->read_offset,
				     st->batch[0], TRANSPORT_BATCH_MAX,
				     &t->rejected, &busy);
		if (!r && busy && !yielded) {
			r = sched_yield() < 0 ? -errno : 0;
			yielded = true;
		} else if (!r && busy) {
			r = file_record_take_settled(st->fd, st->hdr,
						     &st->read_offset,
						     st->batch[0],
						     TRANSPORT_BATCH_MAX,
						     &t->rejected);
			yielded = false;
		} else if (!r) {
			r = file_watch_wait(&st->watch, st->fd, deadline_left_ms(&d));
			yielded = false;	/* what comes next woke us anew */
		}
		if (r > 0) {
			st->batch_count = r;
			st->batch_next = 0;
		}
		if (r == -EIDRM)
			snprintf(t->detail, sizeof(t->detail),
				 "%s was removed or opened up", st->path);
		if (r < 0)
			return (int)r;
	}
	return 0;
}

/* The next record taken, into @buf; marked read only now: killed, we leave it. */
static size_t shared_file_hand(struct shared_file_state *st, uint8_t *buf,
			       size_t size)
{
	size_t len = file_record_unpack(st->batch[st->batch_next++], buf, size);
	off_t left = st->batch_count - st->batch_next;

	file_record_mark_read(st->hdr, st->read_offset - left * FILE_RECORD_SIZE);
	return len;
}

static ssize_t shared_file_receive(struct transport *t, uint8_t *buf,
				   size_t size, int timeout_ms)
{
	int r = shared_file_fill(t, timeout_ms);

	return r < 0 ? r : (ssize_t)shared_file_hand(t->priv, buf, size);
}

static ssize_t shared_file_receive_many(struct transport *t,
					struct transport_batch *batch,
					int timeout_ms)
{
	struct shared_file_state *st = t->priv;
	int r = shared_file_fill(t, timeout_ms);

	for (batch->count = 0; !r && st->batch_next < st->batch_count &&
	     batch->count < TRANSPORT_BATCH_MAX; batch->count++)
		batch->len[batch->count] = shared_file_hand(
			st, batch->frame[batch->count], sizeof(batch->frame[0]));
	return r < 0 ? r : (ssize_t)batch->count;
}

static int shared_file_open_sender(struct shared_file_state *st)
{
	int r;

	st->fd = open(st->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (st->fd < 0)
		return errno == ENOENT || errno == ELOOP ? TRANSPORT_ABSENT : -errno;
	/* Not ours, or closed: our receiver will make a new one. */
	r = file_record_check(st->fd, NULL) ?: file_record_map(st->fd, &st->hdr);
	return r == -ENODATA ? TRANSPORT_ABSENT : r;
}

/*
 * The file was full: make sure a change that may bring room wakes the
 * sender's poll_fd() from now on. Its watch is made the first time (a
 * sender that never meets a full file pays nothing for it per append);
 * after that its queue is emptied of the events our own appends raised,
 * so that only what happens after this wakes the poll (no stale event
 * makes the caller spin). The caller then looks for room once more: a
 * cut-back between our first look and now is found by that look, one
 * after it by the poll. 0, or a negative errno; -EAGAIN when a watch
 * cannot be made (no /proc, no inotify watches left): poll_fd() stays -1,
 * the caller backs off on its timer, and a second look would buy nothing.
 *
 * Why room always comes with an event, so that a sender asleep on it is
 * never left there: the file is full when it holds FILE_RECORD_UNREAD_MAX
 * unread records or FILE_RECORD_KEPT_MAX records in all (lib/file_record.h).
 * Either way no append can happen until there is room, so the end stays
 * put and a live reader reads up to it, marking records read through the
 * mapping (no event: room by UNREAD_MAX comes back silently, we sleep on)
 * until it has caught up; then, before it sleeps, it cuts the file back
 * (file_record_trim(): it has read FILE_RECORD_TRIM_AT records or more,
 * fewer than either bound), and its ftruncate() raises IN_MODIFY. A reader
 * that leaves marks the file closed and removes it: IN_ATTRIB, and the
 * next look gets -ENODATA (TRANSPORT_STALE). A reader killed leaves the
 * file full and says nothing: we sleep until a new reader adopts it and
 * catches up (IN_MODIFY), or replaces it (IN_ATTRIB, the file has no name
 * left: -ENODATA).
 */
static int shared_file_await_room(struct shared_file_state *st)
{
	if (st->room_fd >= 0)
		return file_watch_drain(st->room_fd);
	st->room_fd = file_watch_room_open(st->fd);
	if (st->room_fd < 0) {
		st->room_fd = -1;	/* try again when next full */
		return -EAGAIN;
	}
	return 0;	/* a new watch has no stale events */
}

/* Up to @count records in one pwrite() under one lock; -EAGAIN: full, and
 * poll_fd() wakes when that may have changed (shared_file_await_room()). */
static int shared_file_send_many(struct transport *t, const uint8_t *frames,
				 size_t len, size_t count)
{
	struct shared_file_state *st = t->priv;
	int r = file_record_append(st->fd, st->hdr, frames, len, count);

	if (r == -EAGAIN)
		r = shared_file_await_room(st) ?:
		    file_record_append(st->fd, st->hdr, frames, len, count);
	return r == -ENODATA ? TRANSPORT_STALE : r;
}

static int shared_file_send(struct transport *t, const uint8_t *frame, size_t len)
{
	int r = shared_file_send_many(t, frame, len, 1);

	return r > 0 ? 0 : r;
}

static void shared_file_close(struct transport *t)
{
	struct shared_file_state *st = t->priv;
	off_t unread = st->batch_count - st->batch_next;

	/* Under the write lock, so that no sender appends in between. */
	if (t->role == TRANSPORT_RECEIVER && st->fd >= 0 &&
	    !shared_object_lock_data(st->fd, F_WRLCK)) {
		unread += st->hdr ? file_record_close(st->hdr, st->read_offset) : 0;
		shared_object_unlink(st->fd, st->path);
		(void)shared_object_lock_data(st->fd, F_UNLCK);
		if (unread)
			snprintf(t->detail, sizeof(t->detail),
				 "%lld unread frames discarded with %s",
				 (long long)unread, st->path);
	}
	file_record_unmap(st->hdr);
	if (st->fd >= 0)
		close(st->fd);
	file_watch_close(&st->watch);
	if (st->room_fd >= 0)
		close(st->room_fd);
	free(st);
	t->priv = NULL;
}

static int shared_file_open(struct transport *t)
{
	struct shared_file_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->fd = st->room_fd = -1;
	file_watch_init(&st->watch);
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

static void shared_file_wake(struct transport *t)
{
	file_watch_wake(&((struct shared_file_state *)t->priv)->watch);
}

static void shared_file_unwake(struct transport *t)
{
	file_watch_unwake(&((struct shared_file_state *)t->priv)->watch);
}

/* The receiver's watch; the sender's for room, -1 until it was full. */
static int shared_file_poll_fd(struct transport *t)
{
	struct shared_file_state *st = t->priv;

	return t->role == TRANSPORT_RECEIVER ? st->watch.fd : st->room_fd;
}

static const struct transport_ops shared_file_ops = {
	.name = "shared-file",
	.summary = "records appended to a file under fcntl locks, inotify wake-up",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_DURABLE | TRANSPORT_WAKE_ANYWHERE |
		 TRANSPORT_ROOM_READABLE,
	.open = shared_file_open,
	.send = shared_file_send,
	.send_many = shared_file_send_many,
	.receive = shared_file_receive,
	.receive_many = shared_file_receive_many,
	.poll_fd = shared_file_poll_fd,
	.wake = shared_file_wake,
	.unwake = shared_file_unwake,
	.close = shared_file_close,
};

TRANSPORT_REGISTER(shared_file_ops);
