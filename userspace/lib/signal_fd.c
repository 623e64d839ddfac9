// SPDX-License-Identifier: MIT
#include "signal_fd.h"

#include "fd_wait.h"
#include "stop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

void signal_fd_init(struct signal_fd *s)
{
	s->fd = -1;
	s->hold.held = false;
	s->wake.fd = s->wake.kept = s->wake.ended = -1;
	s->wake.swapped = 0;
}

int signal_fd_open(struct signal_fd *s, int signo)
{
	sigset_t set;
	int r;

	/* Blocked first: from now on the signal waits for us, never kills
	 * (what is pending already is stale: nobody knows our PID yet). */
	r = signal_hold_take(&s->hold, signo, &set);
	if (r < 0)
		return r;
	s->fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	r = wake_fd_init(&s->wake, s->fd);
	if (r < 0) {
		/* Blocking and never swapped: signal_fd_take_left() must
		 * not read from it. */
		close(s->fd);
		s->fd = -1;
	}
	return r;
}

ssize_t signal_fd_read(struct signal_fd *s, struct signalfd_siginfo *si,
		       size_t max, int timeout_ms)
{
	ssize_t n;
	int r;

	if (timeout_ms >= 0 || !stop_is_let_in()) {
		/* After it, the read() does not block: no other thread
		 * takes the held signal (lib/signal_hold.h). */
		r = fd_wait_keep_blocked(s->fd, POLLIN, timeout_ms,
					 s->hold.signo);
		if (r < 0)
			return r;
	} else if (stop_requested()) {
		/* A stop not yet taken back (stop_rearm) whose swap was
		 * undone (unwake): the read would sleep on the real one. */
		return -EINTR;
	}
	n = read(s->fd, si, max * sizeof(*si));
	if (n <= 0 && stop_requested())
		return -EINTR;	/* the ended pipe's end of file, or EINTR */
	if (n < 0)
		return errno == EINTR ? 0 : -errno;	/* another signal */
	/* Whole records, and never 0 from a signalfd. */
	return n && !(n % sizeof(*si)) ? n / (ssize_t)sizeof(*si) : -EIO;
}

void signal_fd_wake(struct signal_fd *s)
{
	wake_fd_wake(&s->wake);
}

void signal_fd_unwake(struct signal_fd *s)
{
	wake_fd_restore(&s->wake);
}

int signal_fd_take_left(struct signal_fd *s, struct signalfd_siginfo *si)
{
	/* The first time: s->fd is the signalfd again, and not blocking
	 * (while s->fd is open, the wake is armed until this). */
	if (s->wake.ended >= 0) {
		wake_fd_close(&s->wake);
		if (fcntl(s->fd, F_SETFL, O_NONBLOCK) < 0) {
			close(s->fd);	/* what is left goes unread */
			s->fd = -1;
		}
	}
	return s->fd >= 0 && read(s->fd, si, sizeof(*si)) == sizeof(*si);
}

void signal_fd_close(struct signal_fd *s)
{
	wake_fd_close(&s->wake);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	/* What is left is discarded; a late one is ignored, never kills. */
	signal_hold_release(&s->hold);
}
