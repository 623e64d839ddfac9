/* SPDX-License-Identifier: MIT */
/*
 * A publication window: how many messages a sender has handed to a client
 * library whose own network thread takes the acknowledgements (mqtt's
 * libmosquitto), bounded so that a sender without a peer cannot queue
 * without end. It carries the lock and the condition the thread and the
 * caller share, so the caller keeps its other shared state (connected,
 * a sticky error) under the same lock and waits for it with
 * pub_window_wait(). Its eventfd is writable while there is room: a
 * sender's poll_fd().
 *
 * Two bounds. The library's: publications the broker has not acknowledged
 * yet. And, optionally, the receiver's: publications beyond what the
 * receiver reports it applied (pub_window_progress()), each known by the
 * seqno of its last frame, so that a sender cannot run ahead of a slow or
 * absent receiver by more than the broker queues for it without loss.
 */
#ifndef IPC_PUB_WINDOW_H
#define IPC_PUB_WINDOW_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct pub_window {
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* a publication acknowledged, ... */
	uint64_t published, acked;
	unsigned int size;
	int gate_fd;			/* eventfd, see pub_window.c */
	bool gate_closed;
	/* beyond the receiver's progress: a ring of last seqnos, oldest at
	 * ahead_head; ahead_size 0: no such bound */
	uint32_t *ahead;
	unsigned int ahead_size, ahead_head, ahead_count;
	uint32_t newest;		/* seqno of the newest publication */
	bool have_newest;
};

/*
 * Room for @size publications unacknowledged and, unless @ahead is 0, for
 * @ahead beyond the receiver's progress. 0 or a negative errno.
 */
int pub_window_init(struct pub_window *w, unsigned int size,
		    unsigned int ahead);
/* After pub_window_init() succeeded. */
void pub_window_destroy(struct pub_window *w);
/* The eventfd, writable while there is room. */
int pub_window_fd(const struct pub_window *w);
/* The network thread, without the lock: one acknowledged. Wakes waiters. */
void pub_window_acked(struct pub_window *w);
/*
 * The network thread, without the lock: the receiver reports it applied
 * the frame of @seqno. Every publication up to that one leaves the bound;
 * a seqno beyond the newest publication (a report from an earlier run of
 * the sender, or forged) changes nothing.
 */
void pub_window_progress(struct pub_window *w, uint32_t seqno);
/* The receiver's bound is off for good (its reports cannot come). */
void pub_window_no_progress(struct pub_window *w);

/* The rest under w->lock. */

/*
 * Count one publication in flight, before handing it to the library (its
 * thread may acknowledge it before the call returns), whose last frame
 * has @seqno; false when either bound is full (the eventfd stops being
 * writable until there is room).
 */
bool pub_window_take(struct pub_window *w, uint32_t seqno);
/* The library took it: count it beyond the receiver's progress, unless
 * @tracked is false (its frames carry no seqno the receiver reports). */
void pub_window_sent(struct pub_window *w, uint32_t seqno, bool tracked);
/* The library refused the publication taken last. */
void pub_window_untake(struct pub_window *w);
/* Publications beyond the receiver's progress. */
unsigned int pub_window_ahead(const struct pub_window *w);
uint64_t pub_window_unacked(const struct pub_window *w);
/* Wake every pub_window_wait() to look at its predicate again. */
void pub_window_changed(struct pub_window *w);
/*
 * Wait until @done(@ctx) is true, at most @timeout_ms; false if it still
 * is not. @done runs under the lock.
 */
bool pub_window_wait(struct pub_window *w, bool (*done)(void *ctx), void *ctx,
		     int timeout_ms);

#endif /* IPC_PUB_WINDOW_H */
