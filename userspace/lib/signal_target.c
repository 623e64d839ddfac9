// SPDX-License-Identifier: MIT
#include "signal_target.h"

#include "deadline.h"
#include "owner_lock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

int signal_target_open(struct signal_target *s, const char *path, int signo)
{
	pid_t pid;

	*s = (struct signal_target){ .signo = signo, .pidfile = -1,
				     .pidfd = -1, .self = getpid(),
				     .uid = getuid() };
	s->pidfile = owner_lock_open_held(path, &pid);
	if (s->pidfile < 0)
		return s->pidfile;
	s->pidfd = pidfd_open(pid, 0);
	if (s->pidfd < 0)
		return errno == ESRCH ? -ENOENT : -errno;
	/* Still locked after the pidfd was made: the owner lived all along,
	 * so the pidfd is the owner, not a successor to its PID. */
	return signal_target_gone(s) ? -ENOENT : 0;
}

bool signal_target_gone(struct signal_target *s)
{
	struct pollfd died = { .fd = s->pidfd, .events = POLLIN };

	s->looked_ns = monotonic_ns();
	return owner_lock_held(s->pidfile) != 1 || poll(&died, 1, 0) != 0;
}

int signal_target_send(struct signal_target *s, int value)
{
	siginfo_t info;
	int e;

	if (monotonic_ns() - s->looked_ns >= SIGNAL_TARGET_LOOK_NS &&
	    signal_target_gone(s))
		return -EPIPE;
	memset(&info, 0, sizeof(info));
	info.si_signo = s->signo;
	info.si_code = SI_QUEUE;
	info.si_pid = s->self;
	info.si_uid = s->uid;
	info.si_value.sival_int = value;
	if (pidfd_send_signal(s->pidfd, s->signo, &info, 0) == 0)
		return 0;
	e = errno;
	/* ESRCH: that process is gone, whoever has its PID now. */
	if (e == ESRCH || signal_target_gone(s))
		return -EPIPE;
	return -e;
}

void signal_target_close(struct signal_target *s)
{
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->pidfile >= 0)
		close(s->pidfile);
	s->pidfd = s->pidfile = -1;
}
