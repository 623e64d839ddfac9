// SPDX-License-Identifier: MIT
#include "stop.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static volatile sig_atomic_t stop_signo;
static void (*volatile stop_wake)(void *arg);
static void *volatile stop_wake_arg;
static sigset_t stop_set;
static sigset_t wait_mask;
static bool let_in;

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

/*
 * Only a new stop wakes. One that comes while the last is not yet taken
 * back (stop_rearm) is the same stop; its wake would outlive the rearm
 * that forgets it: a token or a wake message the drain takes for an event,
 * a descriptor swapped that reads as the sender gone.
 */
static void stop_handler(int signo)
{
	void (*wake)(void *) = stop_wake;
	int saved_errno = errno;

	if (stop_signo)
		return;
	stop_signo = signo;
	if (wake)
		wake(stop_wake_arg);
	errno = saved_errno;
}

int stop_init(void)
{
	struct sigaction sa;
	sigset_t old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking call the signal lands in must return. */
	sigemptyset(&stop_set);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		sigaddset(&stop_set, stop_signals[i]);
		sigaddset(&sa.sa_mask, stop_signals[i]);
	}
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		if (sigaction(stop_signals[i], &sa, NULL) < 0)
			return -errno;

	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;

	if (sigprocmask(SIG_BLOCK, &stop_set, &old) < 0)
		return -errno;
	wait_mask = old;
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigdelset(&wait_mask, stop_signals[i]);
	return 0;
}

bool stop_requested(void)
{
	return stop_signo != 0;
}

int stop_signal(void)
{
	return stop_signo;
}

int stop_rearm(void)
{
	sigset_t old;
	int signo;

	/* Let in, a second stop could land between the read and the reset
	 * and be forgotten: hold it back for these two steps. */
	(void)sigprocmask(SIG_BLOCK, &stop_set, &old);
	signo = stop_signo;
	stop_signo = 0;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return signo;
}

void stop_request(void)
{
	stop_handler(SIGTERM);
}

void stop_set_wake(void (*wake)(void *arg), void *arg)
{
	stop_wake = NULL;
	stop_wake_arg = arg;
	stop_wake = wake;
}

const sigset_t *stop_wait_mask(void)
{
	return &wait_mask;
}

int stop_let_in(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_handler;
	/* SA_RESTART: a signal that lands anywhere else (a write, an ioctl)
	 * must not make that call fail. The waits do not need EINTR: the
	 * wake callback makes the restarted call return. */
	sa.sa_flags = SA_RESTART;
	sa.sa_mask = stop_set;
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		if (sigaction(stop_signals[i], &sa, NULL) < 0)
			return -errno;
	let_in = true;
	if (sigprocmask(SIG_UNBLOCK, &stop_set, NULL) < 0) {
		let_in = false;
		return -errno;
	}
	return 0;
}

bool stop_is_let_in(void)
{
	return let_in;
}

void stop_unblock(void)
{
	if (!let_in)
		(void)sigprocmask(SIG_UNBLOCK, &stop_set, NULL);
}

void stop_block(void)
{
	if (!let_in)
		(void)sigprocmask(SIG_BLOCK, &stop_set, NULL);
}

void stop_reset_for_exec(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		(void)sigaction(stop_signals[i], &sa, NULL);
	(void)sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	let_in = false;
}
