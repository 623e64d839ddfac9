// SPDX-License-Identifier: MIT
#include "datagram_io.h"

#include "deadline.h"
#include "fd_wait.h"
#include "stop.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

union datagram_control {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(uint32_t))];
};

/* What one receive hands the kernel. The control buffers must live until
 * keep_whole() has read the drop counts out of them, not just through the
 * system call: the headers point into them. */
struct datagram_slots {
	struct mmsghdr mm[DATAGRAM_BATCH_MAX];
	struct iovec iov[DATAGRAM_BATCH_MAX];
	union datagram_control control[DATAGRAM_BATCH_MAX];
};

/* Keep the kernel's drop count, which comes with each datagram. */
static void note_drops(struct datagram_in *in, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
		    c->cmsg_len >= CMSG_LEN(sizeof(uint32_t)))
			memcpy(&in->kernel_drops, CMSG_DATA(c), sizeof(uint32_t));
}

int datagram_in_block(struct datagram_in *in)
{
	int err = wake_fd_block(&in->wake, in->fd);

	in->timeout_ms = -1;	/* SO_RCVTIMEO: none */
	in->blocking = true;	/* from here datagram_in_close() undoes it */
	return err;
}

void datagram_in_wake(struct datagram_in *in)
{
	if (in->blocking)
		wake_fd_wake(&in->wake);
}

void datagram_in_unwake(struct datagram_in *in)
{
	if (in->blocking)
		wake_fd_restore(&in->wake);
}

void datagram_in_close(struct datagram_in *in)
{
	if (in->blocking)
		wake_fd_close(&in->wake);
	in->blocking = false;
	close(in->fd);
	in->fd = -1;
}

/*
 * One recvmsg(), or one recvmmsg() for more: how many, or -errno. With
 * @sleep, the call waits for the first datagram (MSG_WAITFORONE: not for
 * the others); else it takes only what is there.
 */
static int read_some(struct datagram_in *in, uint8_t *bufs, size_t room,
		     struct datagram_slots *s, size_t max, bool sleep)
{
	const int flags = MSG_TRUNC | MSG_CMSG_CLOEXEC |
			  (!sleep ? MSG_DONTWAIT : max > 1 ? MSG_WAITFORONE : 0);
	struct mmsghdr *mm = s->mm;
	ssize_t n;

	for (size_t i = 0; i < max; i++) {
		s->iov[i] = (struct iovec){ bufs + i * room, room };
		mm[i].msg_hdr = (struct msghdr){
			.msg_iov = &s->iov[i], .msg_iovlen = 1,
			.msg_control = s->control[i].buf,
			.msg_controllen = sizeof(s->control[i].buf),
		};
	}
	if (max == 1) {
		n = recvmsg(in->fd, &mm[0].msg_hdr, flags);
		mm[0].msg_len = n < 0 ? 0 : (unsigned int)n;
		n = n < 0 ? -1 : 1;
	} else {
		n = recvmmsg(in->fd, mm, (unsigned int)max, flags, NULL);
	}
	return n < 0 ? -errno : (int)n;
}

/* Drop the refused ones of @n datagrams, keeping the others in order. */
static size_t keep_whole(struct datagram_in *in, uint8_t *bufs, size_t room,
			 size_t *lens, struct mmsghdr *mm, size_t n,
			 uint64_t *refused)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		note_drops(in, &mm[i].msg_hdr);
		if (mm[i].msg_len > room || (mm[i].msg_hdr.msg_flags & MSG_TRUNC)) {
			in->oversize++;
			(*refused)++;
			continue;
		}
		if (kept != i)
			memmove(bufs + kept * room, bufs + i * room, mm[i].msg_len);
		lens[kept++] = mm[i].msg_len;
	}
	return kept;
}

/*
 * Whether the next receive waits before it reads. A batch says it: fewer
 * datagrams than asked for, the socket is empty now. One datagram alone
 * does not: after a receive that waited, the next waits first only if
 * this one did not (a waited-for datagram may have had others behind it),
 * so a receiver under load soon reads first again and an isolated event
 * costs a failed read only every other time.
 */
static bool next_idle(bool idle, bool waited, size_t n, size_t max)
{
	if (max > 1)
		return n < max;
	return waited && !idle;
}

/*
 * The socket's own receive timeout (SO_RCVTIMEO; 0 waits for ever), set
 * only when it changes, as a lesson does: a timed receive too sleeps in
 * the receiving call with no system call more per event.
 */
static int sleep_timeout(struct datagram_in *in, int timeout_ms)
{
	struct timeval tv = { 0, 0 };

	if (timeout_ms == in->timeout_ms)
		return 0;
	if (timeout_ms > 0)
		tv = (struct timeval){ timeout_ms / 1000,
				       (timeout_ms % 1000) * 1000 };
	if (setsockopt(in->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	in->timeout_ms = timeout_ms;
	return 0;
}

ssize_t datagram_receive(struct datagram_in *in, uint8_t *bufs, size_t room,
			 size_t *lens, size_t max, int timeout_ms,
			 uint64_t *ret_refused)
{
	/* A stop ends any wait of the receiver, the receiving call's too
	 * (lib/wake_fd.h): it may sleep there, no ppoll() before it. */
	bool sleep = in->blocking && timeout_ms && stop_is_let_in();
	struct datagram_slots slots;
	bool waited = false, wait;
	struct deadline end;
	size_t kept;
	int n, r;

	*ret_refused = 0;
	if (max < 1 || max > DATAGRAM_BATCH_MAX)
		return -EINVAL;
	deadline_start(&end, timeout_ms);
	for (;;) {
		wait = sleep || ((in->idle || waited) && timeout_ms);
		if (wait && !end.forever && deadline_left_ns(&end) == 0)
			return -ETIMEDOUT;
		r = 0;
		if (sleep && stop_requested()) {
			/* A stop not yet taken back (stop_rearm) whose swap
			 * was undone (unwake): the call would sleep. */
			return -EINTR;
		} else if (sleep) {	/* the first turn asks what the last set */
			r = sleep_timeout(in, waited ? deadline_left_ms(&end) :
						       timeout_ms);
		} else if (wait) {
			r = fd_wait(in->fd, POLLIN, deadline_left_ms(&end), NULL);
			if (r < 0)
				return r;
		}
		n = r < 0 ? r : read_some(in, bufs, room, &slots, max, sleep);
		waited |= wait;		/* a sleeping call may have slept */
		/* Swapped by a stop, the socket is an ended pipe: ENOTSOCK. */
		if (n <= 0 && (stop_requested() ||
			       (in->blocking && wake_fd_swapped(&in->wake))))
			return -EINTR;
		/* ECONNREFUSED: an ICMP error pending on the socket, not ours
		 * to keep. */
		if (n == -EINTR || n == -ECONNREFUSED)
			continue;
		/* EAGAIN after a sleep: the socket's timeout passed. */
		if (n == -EAGAIN && (!timeout_ms || (sleep && !end.forever)))
			return -ETIMEDOUT;
		if (n == -EAGAIN) {
			waited = true;	/* wait (again) before the next read */
			continue;
		}
		if (n < 0)
			return n;
		kept = keep_whole(in, bufs, room, lens, slots.mm, (size_t)n,
				  ret_refused);
		if (kept) {
			in->idle = next_idle(in->idle, waited, (size_t)n, max);
			return (ssize_t)kept;
		}
	}
}

int datagram_send(int fd, const uint8_t *frames, size_t len, size_t count)
{
	struct mmsghdr mm[DATAGRAM_BATCH_MAX];
	struct iovec iov[DATAGRAM_BATCH_MAX];
	int n;

	if (count < 1 || count > DATAGRAM_BATCH_MAX)
		return -EINVAL;
	if (count == 1)
		return send(fd, frames, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ?
		       -errno : 1;
	for (size_t i = 0; i < count; i++) {
		iov[i] = (struct iovec){ (void *)(frames + i * len), len };
		mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i],
						 .msg_iovlen = 1 };
	}
	n = sendmmsg(fd, mm, (unsigned int)count, MSG_DONTWAIT | MSG_NOSIGNAL);
	return n < 0 ? -errno : n;
}
