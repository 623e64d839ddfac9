/* SPDX-License-Identifier: MIT */
/*
 * Orderly stop on SIGINT, SIGTERM and SIGHUP, without races and without
 * polling. Two ways, chosen per process:
 *
 * Blocked (stop_init(), every program): the stop signals stay blocked,
 * and are let in only where the process waits (ppoll in fd_wait, or
 * stop_unblock()/stop_block() around a blocking call that has no fd).
 * The handler records the signal and calls the registered wake callback,
 * which makes such a blocking call return (sem_post, futex wake), so no
 * stop is ever missed. The price: one system call more per wait.
 *
 * Let in (stop_let_in(), a receiver whose transport's wake() ends every
 * one of its waits wherever the handler lands): the stop signals stay let
 * in, with SA_RESTART so that no other call fails with EINTR, and the
 * receiver sleeps in the mechanism's own blocking call (read(), futex,
 * semop(), msgrcv()), as a lesson does. A stop that lands before that
 * call is not lost: the wake callback has made it return at once (the
 * receiver's descriptor swapped for one at end of file, lib/wake_fd.h;
 * a token posted). stop_unblock()/stop_block() then do nothing.
 * Only for a receiver whose other threads, if any, keep the stop signals
 * blocked: the handler must interrupt the thread that sleeps.
 *
 * Either way, only a new stop wakes: one that comes before the last is
 * taken back (stop_rearm) is the same stop, and its wake would outlive
 * the rearm (a token taken for an event, a descriptor that reads as the
 * sender gone).
 */
#ifndef IPC_STOP_H
#define IPC_STOP_H

#include <signal.h>
#include <stdbool.h>

/* Install the handler (without SA_RESTART), block the stop signals, and
 * ignore SIGPIPE so writes to a dead peer fail with EPIPE instead. */
int stop_init(void);

/* True once a stop signal arrived; stop_signal() says which. */
bool stop_requested(void);
int stop_signal(void);

/*
 * Forget the stop that arrived and return its signal (0 if none), so that
 * a finishing phase (the LED applying what is already queued) can wait
 * again; a second stop signal interrupts that phase.
 */
int stop_rearm(void);

/* Ask for a stop from inside the program (as if a signal came). */
void stop_request(void);

/* Called from the handler, so it must be async-signal-safe. */
void stop_set_wake(void (*wake)(void *arg), void *arg);

/* The signal mask for ppoll/pselect/epoll_pwait: stop signals let in. */
const sigset_t *stop_wait_mask(void);

/*
 * Let the stop signals in for good, with SA_RESTART, once the wake
 * callback is set (stop_set_wake) and ends every wait of this process.
 * A stop already pending is handled here.
 */
int stop_let_in(void);

/* True after stop_let_in(): a blocking call of the receiver may sleep
 * without ppoll(), its wake callback answers a stop. */
bool stop_is_let_in(void);

/* Let the stop signals in / block them again around a wait (no-ops once
 * they are let in for good). */
void stop_unblock(void);
void stop_block(void);

/* Restore the default dispositions and mask, for a child before exec. */
void stop_reset_for_exec(void);

#endif /* IPC_STOP_H */
