// SPDX-License-Identifier: MIT
#include "signal_hold.h"

#include <errno.h>
#include <pthread.h>

/* Discard every pending @signo; keep it ignored, or restore its action. */
static void signal_hold_discard(int signo, bool keep_ignored)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old;

	sigemptyset(&ignore.sa_mask);
	/* Setting SIG_IGN discards pending instances, blocked or not. */
	if (sigaction(signo, &ignore, &old) == 0 && !keep_ignored)
		(void)sigaction(signo, &old, NULL);
}

int signal_hold_take(struct signal_hold *h, int signo, sigset_t *ret_set)
{
	sigset_t old;
	int r;

	sigemptyset(ret_set);
	sigaddset(ret_set, signo);
	r = pthread_sigmask(SIG_BLOCK, ret_set, &old);
	if (r)
		return -r;
	h->signo = signo;
	h->held = true;
	h->was_blocked = sigismember(&old, signo);
	signal_hold_discard(signo, false);
	return 0;
}

void signal_hold_release(struct signal_hold *h)
{
	sigset_t set;

	if (!h->held)
		return;
	signal_hold_discard(h->signo, true);
	if (!h->was_blocked) {
		sigemptyset(&set);
		sigaddset(&set, h->signo);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	}
	h->held = false;
}
