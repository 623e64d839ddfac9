// SPDX-License-Identifier: MIT
/*
 * signal: real-time signals carrying a value (sigqueue semantics), sent
 * through a pidfd and received through a signalfd. Each event is one
 * SIGRTMIN, si_code SI_QUEUE, whose 32-bit value packs what the LED needs
 * (lib/signal_value.h); anything else that arrives is counted in
 * t->rejected. Real-time signals queue, in order, up to the receiver's
 * RLIMIT_SIGPENDING (beyond it, TRANSPORT_FULL). The receiver is found
 * through its pid file, an owner lock (lib/owner_lock.h) it holds for its
 * whole life. docs/mechanisms/signal.md tells why the sender checks that
 * lock around pidfd_open(), and what SIGRTMIN is in the receiver before,
 * while and after it receives (open it before other threads start).
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/fd_wait.h"
#include "../lib/message.h"
#include "../lib/owner_lock.h"
#include "../lib/signal_hold.h"
#include "../lib/signal_value.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct signal_state {
	int signo;
	char path[PATH_MAX];
	int pidfile;		/* receiver: its owner lock; sender: read */
	/* Receiver. */
	int sfd;
	struct signal_hold hold;
	struct signal_value_unpacker unpacker;
	/* Sender. */
	int pidfd;
	pid_t self;
	uid_t uid;
};

/* ---- receiver ---------------------------------------------------------- */

static int signal_open_receiver(struct transport *t, struct signal_state *st)
{
	sigset_t set;
	pid_t holder;
	int r;

	/* Blocked first: from now on the signal waits for us, never kills
	 * (what is pending already is stale: nobody knows our PID yet). */
	r = signal_hold_take(&st->hold, st->signo, &set);
	if (r < 0)
		return r;
	st->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (st->sfd < 0)
		return -errno;
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

static ssize_t signal_receive(struct transport *t, uint8_t *buf, size_t size,
			      int timeout_ms)
{
	struct signal_state *st = t->priv;
	struct signalfd_siginfo si;
	struct deadline d;
	ssize_t n;
	int r;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	deadline_start(&d, timeout_ms);
	for (;;) {
		n = read(st->sfd, &si, sizeof(si));
		if (n == sizeof(si) && signal_expected(st, &si)) {
			signal_value_unpack(&st->unpacker, (uint32_t)si.ssi_int,
					    monotonic_ns(), buf);
			return IPC_MESSAGE_SIZE;
		}
		if (n == sizeof(si)) {
			/* Told at 1, 2, 4, 8...: visible, never a flood. */
			t->rejected++;
			if (!(t->rejected & (t->rejected - 1)))
				snprintf(t->detail, sizeof(t->detail),
					 "refused a signal with code %d from pid %u (%llu refused)",
					 si.ssi_code, si.ssi_pid,
					 (unsigned long long)t->rejected);
			continue;
		}
		if (n >= 0)
			return -EIO;	/* signalfd reads whole records */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = fd_wait_keep_blocked(st->sfd, POLLIN, deadline_left_ms(&d),
					 st->signo);
		if (r < 0)
			return r;
	}
}

static void signal_close_receiver(struct transport *t, struct signal_state *st)
{
	struct signalfd_siginfo si;
	unsigned long unread = 0;

	/* Removes the pid file if it is still ours; closing drops the lock. */
	owner_lock_release(st->pidfile, st->path);
	if (st->sfd >= 0) {
		while (read(st->sfd, &si, sizeof(si)) == sizeof(si))
			unread += signal_expected(st, &si);
		if (unread)
			snprintf(t->detail, sizeof(t->detail),
				 "%lu unread events discarded", unread);
		close(st->sfd);
	}
	/* What is left is discarded; a late one is ignored, never kills. */
	signal_hold_release(&st->hold);
}

/* ---- sender ------------------------------------------------------------ */

static int signal_open_sender(struct signal_state *st)
{
	pid_t pid;

	st->self = getpid();
	st->uid = getuid();
	/* The pid file of a live receiver of ours, or none yet (ABSENT). */
	st->pidfile = owner_lock_open_held(st->path, &pid);
	if (st->pidfile < 0)
		return st->pidfile;
	st->pidfd = pidfd_open(pid, 0);
	if (st->pidfd < 0)
		return errno == ESRCH ? TRANSPORT_ABSENT : -errno;
	/* Still locked after the pidfd was made: the receiver lived all
	 * along, so the pidfd is the receiver, not a successor to its PID. */
	return owner_lock_held(st->pidfile) == 1 ? 0 : TRANSPORT_ABSENT;
}

static int signal_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct signal_state *st = t->priv;
	struct pollfd died = { .fd = st->pidfd, .events = POLLIN };
	struct ipc_message m;
	siginfo_t info;

	if (ipc_message_decode(frame, len, &m) != IPC_MESSAGE_OK)
		return -EINVAL;
	if (owner_lock_held(st->pidfile) != 1)
		return TRANSPORT_STALE;		/* the receiver closed */
	if (poll(&died, 1, 0) != 0)
		return TRANSPORT_STALE;		/* the receiver died */

	memset(&info, 0, sizeof(info));
	info.si_signo = st->signo;
	info.si_code = SI_QUEUE;
	info.si_pid = st->self;
	info.si_uid = st->uid;
	info.si_value.sival_int = (int)signal_value_pack(&m);
	if (pidfd_send_signal(st->pidfd, st->signo, &info, 0) < 0)
		return errno == ESRCH ? TRANSPORT_STALE :
		       errno == EAGAIN ? TRANSPORT_FULL : -errno;
	return 0;
}

/* ---- both -------------------------------------------------------------- */

static void signal_close(struct transport *t)
{
	struct signal_state *st = t->priv;

	if (!st)
		return;
	if (t->role == TRANSPORT_RECEIVER) {
		signal_close_receiver(t, st);
	} else {
		if (st->pidfd >= 0)
			close(st->pidfd);
		if (st->pidfile >= 0)
			close(st->pidfile);
	}
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
	st->pidfile = st->sfd = st->pidfd = -1;
	t->priv = st;
	r = transport_object_path(t, st->path, sizeof(st->path));
	if (r == 0)
		r = t->role == TRANSPORT_SENDER ? signal_open_sender(st) :
						  signal_open_receiver(t, st);
	if (r < 0) {
		if (!t->detail[0])
			snprintf(t->detail, sizeof(t->detail), "%s", st->path);
		signal_close(t);
	}
	return r;
}

static int signal_poll_fd(struct transport *t)
{
	struct signal_state *st = t->priv;

	/* A sender has nothing to poll: TRANSPORT_FULL means back off. */
	return t->role == TRANSPORT_RECEIVER ? st->sfd : -1;
}

static const struct transport_ops signal_ops = {
	.name = "signal",
	.summary = "real-time signals with sigqueue values, pidfd sender, signalfd receiver",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_NO_PAYLOAD,
	.open = signal_open,
	.send = signal_send,
	.receive = signal_receive,
	.poll_fd = signal_poll_fd,
	.close = signal_close,
};

TRANSPORT_REGISTER(signal_ops);
