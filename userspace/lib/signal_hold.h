/* SPDX-License-Identifier: MIT */
/*
 * A signal held for a signalfd (as the old sighold() did): blocked in the
 * calling thread, so that it waits to be read from the signalfd instead of
 * running its action (for SIGRTMIN: killing the process). Take it before
 * other threads start: they inherit the mask of the thread that makes them.
 *
 * Taking it discards whatever instance is pending already: it was sent
 * before anyone could know it was for us. Releasing it discards what is
 * left and leaves the signal ignored, so that a late one cannot kill the
 * process either; it is unblocked again only if it was not blocked before.
 */
#ifndef IPC_SIGNAL_HOLD_H
#define IPC_SIGNAL_HOLD_H

#include <signal.h>
#include <stdbool.h>

struct signal_hold {
	int signo;
	bool held;		/* blocked by signal_hold_take() */
	bool was_blocked;	/* before it */
};

/* Block @signo, its set in *@ret_set for signalfd(), and discard what is
 * pending: 0 or -errno. */
int signal_hold_take(struct signal_hold *h, int signo, sigset_t *ret_set);

/* Discard what is pending, keep it ignored, unblock it if it was not
 * blocked before. Nothing if not held. */
void signal_hold_release(struct signal_hold *h);

#endif /* IPC_SIGNAL_HOLD_H */
