/* SPDX-License-Identifier: MIT */
/*
 * A receiver's take of events from a System V semaphore set numbered by
 * lib/sem_tally.h (the sem-sysv transport), its waits ended by a stop
 * through lib/sem_wait.h. Once it numbered an event, and while MOVED
 * stays 0, a lone event costs the take alone: the semop() it sleeps in
 * (with the stop signals let in for good; blocked, two sigprocmask() more
 * around it), numbered on from the last one without reading. Before it
 * sleeps it asks how many wait (one GETVAL) and takes them all in one
 * semop() if any do; a stop since the look undoes that take. Else (a new
 * receiver, a set adopted, MOVED raised, a stop token in EVENTS) it takes
 * one with BUSY and numbers by reading (sem_tally_number()): two system
 * calls more; a stop before the reading undoes the take.
 */
#ifndef IPC_SEM_TALLY_TAKE_H
#define IPC_SEM_TALLY_TAKE_H

#include "sem_tally.h"
#include "sem_wait.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Take one event from the set @w waits on (@w->id, @w->num EVENTS), up to
 * @timeout_ms (-1: forever), and up to @more of those waiting with it;
 * write their frames @stride bytes apart from @frames. How many frames,
 * or as sem_wait_take() (-EINTR on a stop, -ETIMEDOUT), or -errno.
 */
ssize_t sem_tally_take(struct sem_tally *t, struct sem_wait *w,
		       unsigned int more, uint8_t *frames, size_t stride,
		       int timeout_ms);

#endif /* IPC_SEM_TALLY_TAKE_H */
