// SPDX-License-Identifier: MIT
#include "wake_fd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

int wake_fd_init(struct wake_fd *w, int fd)
{
	int ends[2];

	w->fd = fd;
	w->kept = -1;
	w->ended = -1;
	w->swapped = 0;
	if (pipe2(ends, O_CLOEXEC) < 0)
		return -errno;
	close(ends[1]);		/* no writer: the read end is at EOF for ever */
	w->kept = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (w->kept < 0) {
		int err = errno;

		close(ends[0]);
		return -err;
	}
	w->ended = ends[0];	/* armed last: the handler may swap from here */
	return 0;
}

int wake_fd_block(struct wake_fd *w, int fd)
{
	int flags = fcntl(fd, F_GETFL);

	w->kept = -1;
	w->ended = -1;
	w->swapped = 0;
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return -errno;
	return wake_fd_init(w, fd);
}

void wake_fd_wake(struct wake_fd *w)
{
	int saved_errno = errno;
	int ended = w->ended;

	if (ended >= 0 && !w->swapped && dup3(ended, w->fd, O_CLOEXEC) >= 0)
		w->swapped = 1;
	errno = saved_errno;
}

void wake_fd_restore(struct wake_fd *w)
{
	sigset_t all, old;

	/* A stop landing between the two steps would find the flag and the
	 * descriptor disagreeing, and be lost: hold signals back for them. */
	sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old);
	if (w->swapped && dup3(w->kept, w->fd, O_CLOEXEC) >= 0)
		w->swapped = 0;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
}

void wake_fd_close(struct wake_fd *w)
{
	int ended = w->ended;

	w->ended = -1;		/* from here the handler leaves @w->fd alone */
	if (w->swapped && dup3(w->kept, w->fd, O_CLOEXEC) >= 0)
		w->swapped = 0;
	if (w->kept >= 0)
		close(w->kept);
	if (ended >= 0)
		close(ended);
	w->kept = -1;
}
