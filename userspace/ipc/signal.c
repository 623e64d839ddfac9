// SPDX-License-Identifier: MIT
/*
 * signal: real-time signals carrying a value (sigqueue semantics), sent
 * through a pidfd and received through a signalfd. Each event is one
 * SIGRTMIN, si_code SI_QUEUE, whose 32-bit value packs what the LED needs
 * (lib/signal_value.h); anything else that arrives is counted in
 * t->rejected. Real-time signals queue, in order, up to the receiver's
 * RLIMIT_SIGPENDING (beyond it, TRANSPORT_FULL). The receiver is found
 * through its pid file, an owner lock (lib/owner_lock.h) held for its
 * whole life; the sender addresses it through a pidfd made once, so a
 * send is one system call and a reused PID is never signalled
 * (lib/signal_target.h). The receiver reads what is queued, up to
 * TRANSPORT_BATCH_MAX, in one read() of a blocking signalfd, and with the
 * stop signals let in (TRANSPORT_WAKE_ANYWHERE) sleeps in that read(): a
 * lone event costs one call, as sigtimedwait(); a stop swaps the
 * signalfd's number for an ended pipe (lib/signal_fd.h, lib/wake_fd.h).
 * SIGRTMIN stays blocked in the receiver before, while and after it
 * receives: open it before other threads start (docs/mechanisms/signal.md).
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/batch_fill.h"
#include "../lib/message.h"
#include "../lib/owner_lock.h"
#include "../lib/signal_fd.h"
#include "../lib/signal_target.h"
#include "../lib/signal_value.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct signal_state {
	int signo;
	char path[PATH_MAX];
	/* Receiver. */
	int pidfile;		/* its owner lock */
	struct signal_fd sig;	/* the held signal's signalfd */
	struct signal_value_unpacker unpacker;
	struct signal_target target;	/* sender */
};

/* ---- receiver ---------------------------------------------------------- */

static int signal_open_receiver(struct transport *t, struct signal_state *st)
{
	pid_t holder;
	int r;

	/* Held first, so that it never kills (lib/signal_fd.h). */
	r = signal_fd_open(&st->sig, st->signo);
	if (r < 0)
		return r;
	/* Publish our PID, locked for as long as we receive. */
	r = owner_lock_take(st->path, &holder);
	if (r == -EBUSY)
		snprintf(t->detail, sizeof(t->detail),
			 "another receiver (pid %d) holds %s", (int)holder, st->path);
	if (r < 0)
		return r;
	st->pidfile = r;
	return 0;
}

static bool signal_expected(const struct signal_state *st,
			    const struct signalfd_siginfo *si)
{
	return (int)si->ssi_signo == st->signo && si->ssi_code == SI_QUEUE &&
	       (si->ssi_int & SIGNAL_VALUE_MARK);
}

/* Refused records are counted, told at 1, 2, 4, 8...: visible, no flood. */
static void signal_refused(struct transport *t,
			   const struct signalfd_siginfo *si)
{
	t->rejected++;
	if (!(t->rejected & (t->rejected - 1)))
		snprintf(t->detail, sizeof(t->detail),
			 "refused a signal with code %d from pid %u (%llu refused)",
			 si->ssi_code, si->ssi_pid, (unsigned long long)t->rejected);
}

/* Up to @max events queued, in one read() after a wait of up to
 * @timeout_ms: how many went to @frames (@stride bytes apart), or as
 * receive(). */
static ssize_t signal_read(struct transport *t, uint8_t *frames,
			   size_t stride, size_t max, int timeout_ms)
{
	struct signal_state *st = t->priv;
	struct signalfd_siginfo si[TRANSPORT_BATCH_MAX];
	size_t taken = 0;
	struct deadline d;
	ssize_t n;

	deadline_start(&d, timeout_ms);
	while (!taken) {	/* refused ones only, or nothing: again */
		n = signal_fd_read(&st->sig, si, max, deadline_left_ms(&d));
		if (n < 0)
			return n;
		for (ssize_t i = 0; i < n; i++) {
			if (!signal_expected(st, &si[i])) {
				signal_refused(t, &si[i]);
				continue;
			}
			signal_value_unpack(&st->unpacker, (uint32_t)si[i].ssi_int,
					    monotonic_ns(),
					    frames + taken++ * stride);
		}
	}
	return (ssize_t)taken;
}

static ssize_t signal_receive(struct transport *t, uint8_t *buf, size_t size,
			      int timeout_ms)
{
	ssize_t r;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	r = signal_read(t, buf, 0, 1, timeout_ms);
	return r < 0 ? r : IPC_MESSAGE_SIZE;
}

static ssize_t signal_receive_many(struct transport *t,
				   struct transport_batch *batch, int timeout_ms)
{
	ssize_t n = signal_read(t, batch->frame[0], sizeof(batch->frame[0]),
				TRANSPORT_BATCH_MAX, timeout_ms);

	return batch_fill_fixed(batch, n, IPC_MESSAGE_SIZE);
}

static void signal_close_receiver(struct transport *t, struct signal_state *st)
{
	struct signalfd_siginfo si;
	unsigned long unread = 0;

	/* Removes the pid file if it is still ours; closing drops the lock. */
	owner_lock_release(st->pidfile, st->path);
	while (signal_fd_take_left(&st->sig, &si))
		unread += signal_expected(st, &si);
	if (unread)
		snprintf(t->detail, sizeof(t->detail),
			 "%lu unread events discarded", unread);
	signal_fd_close(&st->sig);
}

/* ---- sender ------------------------------------------------------------ */

static int signal_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct signal_state *st = t->priv;
	struct ipc_message m;
	int r;

	if (ipc_message_decode(frame, len, &m) != IPC_MESSAGE_OK)
		return -EINVAL;
	r = signal_target_send(&st->target, (int)signal_value_pack(&m));
	return r == -EPIPE ? TRANSPORT_STALE : r == -EAGAIN ? TRANSPORT_FULL : r;
}

/* ---- both -------------------------------------------------------------- */

static void signal_close(struct transport *t)
{
	struct signal_state *st = t->priv;

	if (!st)
		return;
	if (t->role == TRANSPORT_RECEIVER)
		signal_close_receiver(t, st);
	else
		signal_target_close(&st->target);
	free(st);
	t->priv = NULL;
}

static int signal_open(struct transport *t)
{
	struct signal_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->signo = SIGRTMIN;
	st->pidfile = st->target.pidfile = st->target.pidfd = -1;
	signal_fd_init(&st->sig);
	t->priv = st;
	r = transport_object_path(t, st->path, sizeof(st->path));
	if (r == 0)
		r = t->role == TRANSPORT_SENDER ?
		    signal_target_open(&st->target, st->path, st->signo) :
		    signal_open_receiver(t, st);
	if (r < 0) {
		if (!t->detail[0])
			snprintf(t->detail, sizeof(t->detail), "%s", st->path);
		signal_close(t);
	}
	return r;
}

static void signal_wake(struct transport *t)
{
	signal_fd_wake(&((struct signal_state *)t->priv)->sig);
}

static void signal_unwake(struct transport *t)
{
	signal_fd_unwake(&((struct signal_state *)t->priv)->sig);
}

static int signal_poll_fd(struct transport *t)
{
	struct signal_state *st = t->priv;

	/* A sender has nothing to poll: TRANSPORT_FULL means back off. */
	return t->role == TRANSPORT_RECEIVER ? st->sig.fd : -1;
}

static const struct transport_ops signal_ops = {
	.name = "signal",
	.summary = "real-time signals with sigqueue values, pidfd sender, signalfd receiver",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_NO_PAYLOAD |
		 TRANSPORT_WAKE_ANYWHERE,
	.open = signal_open,
	.send = signal_send,
	.receive = signal_receive,
	.receive_many = signal_receive_many,
	.poll_fd = signal_poll_fd,
	.wake = signal_wake,
	.unwake = signal_unwake,
	.close = signal_close,
};

TRANSPORT_REGISTER(signal_ops);
