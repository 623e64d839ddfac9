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

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void stop_handler(int signo)
{
	void (*wake)(void *) = stop_wake;
	int saved_errno = errno;

	if (!stop_signo)
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
	int signo = stop_signo;

	stop_signo = 0;
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

void stop_unblock(void)
{
	(void)sigprocmask(SIG_UNBLOCK, &stop_set, NULL);
}

void stop_block(void)
{
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
}
