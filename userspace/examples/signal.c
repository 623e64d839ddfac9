// SPDX-License-Identifier: MIT
/*
 * Real-time signal: sigqueue(SIGRTMIN) carries the value, sigwaitinfo()
 * takes it. The receiver blocks the signal first, so it queues instead of
 * running a handler, and publishes its PID where the sender finds it.
 */
#include "lesson.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

static int signal_set(sigset_t *set)
{
	if (sigemptyset(set) < 0 || sigaddset(set, SIGRTMIN) < 0)
		return -errno;
	return 0;
}

/* lesson-excerpt: begin */
static int signal_open(struct lesson *l)
{
	sigset_t set;
	int r;

	if (!l->receiver)
		return 0;
	r = signal_set(&set);
	if (r < 0)
		return r;
	/* Blocked, SIGRTMIN waits in a queue until sigwaitinfo() takes it. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	atomic_store(l->receiver_pid, getpid());
	return 0;
}

static int signal_send(struct lesson *l, uint64_t value)
{
	union sigval v = { .sival_ptr = (void *)(uintptr_t)value };

	if (sigqueue(atomic_load(l->receiver_pid), SIGRTMIN, v) < 0)
		return -errno;	/* EAGAIN: RLIMIT_SIGPENDING reached */
	return 0;
}

static int signal_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	siginfo_t info;
	sigset_t set;
	int r;

	(void)l;
	(void)timeout_ms;
	r = signal_set(&set);
	if (r < 0)
		return r;
	while (sigwaitinfo(&set, &info) < 0)
		if (errno != EINTR)
			return -errno;
	*value = (uintptr_t)info.si_value.sival_ptr;
	return 0;
}
/* lesson-excerpt: end */

/* No close: a signal is no object, there is nothing to remove. */
static const struct lesson_ops lesson_signal = {
	.name = "signal",
	.open = signal_open,
	.send = signal_send,
	.receive = signal_receive,
};
LESSON_REGISTER(lesson_signal);
