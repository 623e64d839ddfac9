// SPDX-License-Identifier: MIT
/*
 * Bare real-time signal: sigqueue(SIGRTMIN) with the value, sigwaitinfo()
 * to take it (the signal blocked). The receiver's PID from the harness.
 */
#include "bare.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

static int signal_open(struct bare *b)
{
	sigset_t set;

	if (b->receiver) {
		sigemptyset(&set);
		sigaddset(&set, SIGRTMIN);
		if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
			return -errno;
		atomic_store(&b->control->receiver_pid, getpid());
	}
	return 0;
}

static int signal_send(struct bare *b, uint64_t value)
{
	union sigval v = { .sival_ptr = (void *)(uintptr_t)value };

	if (sigqueue(atomic_load(&b->control->receiver_pid), SIGRTMIN, v) < 0)
		return -errno;	/* EAGAIN: RLIMIT_SIGPENDING reached */
	return 0;
}

static int signal_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	siginfo_t info;
	sigset_t set;

	(void)b;
	(void)timeout_ms;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	while (sigwaitinfo(&set, &info) < 0)
		if (errno != EINTR)
			return -errno;
	*value = (uintptr_t)info.si_value.sival_ptr;
	return 0;
}

static void signal_close(struct bare *b)
{
	(void)b;
}

static const struct bare_ops bare_signal = {
	.name = "signal",
	.open = signal_open,
	.send = signal_send,
	.receive = signal_receive,
	.close = signal_close,
};
BARE_REGISTER(bare_signal);
