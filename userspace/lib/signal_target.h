/* SPDX-License-Identifier: MIT */
/*
 * A process to send real-time signals to, found through its pid file (an
 * owner lock, lib/owner_lock.h, that it holds for its whole life) and
 * addressed through a pidfd.
 *
 * The pidfd is opened once, on the PID read from the pid file, and the lock
 * is looked at again after it was made: still held, the process lived all
 * along, so the pidfd is that process and no other. The kernel ties a pidfd
 * to the process, not to its number: once the process is gone,
 * pidfd_send_signal() fails with ESRCH even if the number went to a new
 * process. So no check before a send is needed to keep a reused PID from
 * being signalled, and a send is one system call.
 *
 * Whether the process let the lock go (closed) or died (the pidfd readable)
 * is looked at after a refused send, and at most once per SIGNAL_TARGET_
 * LOOK_NS while sends go on: a burst pays it once, events a human makes
 * pay it before each. A signal sent between a close or a death and the
 * next look is lost, as one sent just before it would be: no look before
 * each send could prevent that either, it only made the gap shorter.
 */
#ifndef IPC_SIGNAL_TARGET_H
#define IPC_SIGNAL_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* At most this long between two looks at whether the process is there. */
#define SIGNAL_TARGET_LOOK_NS	1000000ULL

struct signal_target {
	int signo;
	int pidfile;		/* read-only; its lock says "alive, open" */
	int pidfd;
	pid_t self;
	uid_t uid;
	uint64_t looked_ns;	/* when signal_target_gone() last looked */
};

/* Address the live owner of @path, for @signo: 0, -ENOENT when there is
 * none (yet), or another negative errno. Close it even on failure. */
int signal_target_open(struct signal_target *s, const char *path, int signo);

/* Has it let the lock go or died? Looks now. */
bool signal_target_gone(struct signal_target *s);

/* Queue @signo with @value (si_code SI_QUEUE): 0, -EPIPE when the process
 * closed or is gone, -EAGAIN when its queue is full, or -errno. */
int signal_target_send(struct signal_target *s, int value);

void signal_target_close(struct signal_target *s);

#endif /* IPC_SIGNAL_TARGET_H */
