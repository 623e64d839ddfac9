// SPDX-License-Identifier: MIT
#include "msg_doorbell.h"
#include "deadline.h"
#include "fd_wait.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/msg.h>
#include <unistd.h>

struct msg_doorbell {
	int msqid;
	int bell;			/* eventfd, readable while it rang */
	sem_t rearm;			/* posted when the reader found it empty */
	pthread_t thread;
	atomic_bool closing;
	atomic_int error;		/* errno that ended the watch, or 0 */
	atomic_uint empty_taken;	/* empty messages the watcher took */
};

static void *msg_doorbell_watch(void *arg)
{
	struct msg_doorbell *d = arg;
	const uint64_t ring = 1;
	long mtype;	/* where msgrcv() stores the type of an empty message */

	while (!atomic_load(&d->closing)) {
		/* With room for no text, a non-empty message is refused with
		 * E2BIG and stays queued; only an empty one is taken. */
		if (msgrcv(d->msqid, &mtype, 0, 0, 0) == 0) {
			atomic_fetch_add(&d->empty_taken, 1);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != E2BIG)
			atomic_store(&d->error, errno);
		while (write(d->bell, &ring, sizeof(ring)) < 0 && errno == EINTR)
			;
		if (atomic_load(&d->error))
			break;
		while (sem_wait(&d->rearm) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

int msg_doorbell_start(int msqid, struct msg_doorbell **ret)
{
	struct msg_doorbell *d = calloc(1, sizeof(*d));
	sigset_t all, old;
	int r;

	if (!d)
		return -ENOMEM;
	d->msqid = msqid;
	d->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->bell < 0) {
		r = -errno;
		goto err_free;
	}
	if (sem_init(&d->rearm, 0, 0) < 0) {
		r = -errno;
		goto err_close_bell;
	}
	/* Every signal stays with the caller's thread (stop signals, ppoll). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&d->thread, NULL, msg_doorbell_watch, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto err_destroy_sem;
	*ret = d;
	return 0;

err_destroy_sem:
	sem_destroy(&d->rearm);
err_close_bell:
	close(d->bell);
err_free:
	free(d);
	return r;
}

int msg_doorbell_fd(const struct msg_doorbell *d)
{
	return d ? d->bell : -1;
}

/* The reader found the queue empty: clear the bell, watch again. */
static void rearm(struct msg_doorbell *d)
{
	uint64_t rings;

	if (read(d->bell, &rings, sizeof(rings)) == sizeof(rings))
		sem_post(&d->rearm);
}

int msg_doorbell_error(const struct msg_doorbell *d)
{
	return atomic_load(&d->error);
}

int msg_doorbell_wait(struct msg_doorbell *d, int timeout_ms)
{
	int error = atomic_load(&d->error);

	if (error)
		return -error;
	rearm(d);
	return fd_wait(d->bell, POLLIN, timeout_ms, NULL);
}

bool msg_doorbell_took_empty(struct msg_doorbell *d)
{
	unsigned int empty = atomic_load(&d->empty_taken);

	return empty && atomic_compare_exchange_strong(&d->empty_taken, &empty,
						       empty - 1);
}

ssize_t msg_doorbell_receive(struct msg_doorbell **d, struct msg_wait *w,
			     void *msg, size_t text_size, int timeout_ms)
{
	struct deadline end;
	ssize_t n;
	int r;

	if (!*d && msg_doorbell_start(w->msqid, d) < 0)
		return -ECHILD;
	deadline_start(&end, timeout_ms);
	for (;;) {
		if (msg_doorbell_took_empty(*d))
			return 0;
		n = msg_wait_receive(w, msg, text_size, false);
		if (n != -ENOMSG)
			return n;
		r = msg_doorbell_wait(*d, deadline_left_ms(&end));
		if (r == -EINTR)
			msg_wait_take_back(w);
		if (r < 0)
			return r;
	}
}

void msg_doorbell_stop(struct msg_doorbell *d, bool queue_removed)
{
	struct { long mtype; char mtext[1]; } wake = { 1, { 0 } };

	if (!d)
		return;
	atomic_store(&d->closing, true);
	if (!queue_removed)
		(void)msgsnd(d->msqid, &wake, sizeof(wake.mtext), IPC_NOWAIT);
	sem_post(&d->rearm);	/* in case it waits to be re-armed */
	pthread_join(d->thread, NULL);
	sem_destroy(&d->rearm);
	close(d->bell);
	free(d);
}
