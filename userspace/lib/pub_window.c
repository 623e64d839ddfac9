// SPDX-License-Identifier: MIT
#include "pub_window.h"

#include "deadline.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/*
 * The gate: an eventfd is writable while its counter is below the largest
 * value it holds, 0xfffffffffffffffe. Writing that value makes it not
 * writable; reading resets it to 0, writable again.
 */
#define GATE_SHUT	0xfffffffffffffffeULL

static void gate(struct pub_window *w, bool open)
{
	uint64_t v = GATE_SHUT;

	if (open == !w->gate_closed)
		return;
	if (open)
		(void)!read(w->gate_fd, &v, sizeof(v));
	else
		(void)!write(w->gate_fd, &v, sizeof(v));
	w->gate_closed = !open;
}

/* Seqnos wrap: @a is at or before @b when less than half the range back. */
static bool seqno_le(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) >= 0;
}

static bool room(const struct pub_window *w)
{
	return w->published - w->acked < w->size &&
	       (!w->ahead_size || w->ahead_count < w->ahead_size);
}

int pub_window_init(struct pub_window *w, unsigned int size,
		    unsigned int ahead)
{
	pthread_condattr_t attr;
	int r;

	w->published = w->acked = 0;
	w->size = size;
	w->gate_closed = false;
	w->ahead_size = ahead;
	w->ahead_head = w->ahead_count = 0;
	w->have_newest = false;
	w->ahead = ahead ? calloc(ahead, sizeof(*w->ahead)) : NULL;
	if (ahead && !w->ahead)
		return -ENOMEM;
	w->gate_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->gate_fd < 0) {
		r = -errno;
		free(w->ahead);
		return r;
	}
	/* deadline.h counts on CLOCK_MONOTONIC: so do the waits. */
	r = pthread_condattr_init(&attr);
	if (r == 0) {
		r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		if (r == 0)
			r = pthread_cond_init(&w->changed, &attr);
		pthread_condattr_destroy(&attr);
	}
	if (r == 0) {
		r = pthread_mutex_init(&w->lock, NULL);
		if (r)
			pthread_cond_destroy(&w->changed);
	}
	if (r) {
		close(w->gate_fd);
		w->gate_fd = -1;
		free(w->ahead);
		return -r;
	}
	return 0;
}

void pub_window_destroy(struct pub_window *w)
{
	close(w->gate_fd);
	w->gate_fd = -1;
	free(w->ahead);
	w->ahead = NULL;
	pthread_cond_destroy(&w->changed);
	pthread_mutex_destroy(&w->lock);
}

int pub_window_fd(const struct pub_window *w)
{
	return w->gate_fd;
}

bool pub_window_take(struct pub_window *w, uint32_t seqno)
{
	if (!room(w)) {
		gate(w, false);
		return false;
	}
	w->published++;
	/* A report of it may come before pub_window_sent(): let it count. */
	if (!w->have_newest || seqno_le(w->newest, seqno))
		w->newest = seqno;
	w->have_newest = true;
	return true;
}

void pub_window_sent(struct pub_window *w, uint32_t seqno, bool tracked)
{
	if (!tracked || !w->ahead_size)
		return;
	w->ahead[(w->ahead_head + w->ahead_count) % w->ahead_size] = seqno;
	w->ahead_count++;
}

unsigned int pub_window_ahead(const struct pub_window *w)
{
	return w->ahead_count;
}

void pub_window_untake(struct pub_window *w)
{
	w->published--;
}

void pub_window_acked(struct pub_window *w)
{
	pthread_mutex_lock(&w->lock);
	w->acked++;
	if (room(w))
		gate(w, true);
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

void pub_window_progress(struct pub_window *w, uint32_t seqno)
{
	pthread_mutex_lock(&w->lock);
	if (w->ahead_size && w->have_newest && seqno_le(seqno, w->newest)) {
		while (w->ahead_count &&
		       seqno_le(w->ahead[w->ahead_head], seqno)) {
			w->ahead_head = (w->ahead_head + 1) % w->ahead_size;
			w->ahead_count--;
		}
		if (room(w))
			gate(w, true);
		pthread_cond_broadcast(&w->changed);
	}
	pthread_mutex_unlock(&w->lock);
}

void pub_window_no_progress(struct pub_window *w)
{
	pthread_mutex_lock(&w->lock);
	w->ahead_size = 0;
	w->ahead_count = 0;
	if (room(w))
		gate(w, true);
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

uint64_t pub_window_unacked(const struct pub_window *w)
{
	return w->published - w->acked;
}

void pub_window_changed(struct pub_window *w)
{
	pthread_cond_broadcast(&w->changed);
}

bool pub_window_wait(struct pub_window *w, bool (*done)(void *ctx), void *ctx,
		     int timeout_ms)
{
	struct deadline end;
	struct timespec ts;

	deadline_start(&end, timeout_ms);
	ts = deadline_end_timespec(&end);
	while (!done(ctx))
		if (pthread_cond_timedwait(&w->changed, &w->lock, &ts) == ETIMEDOUT)
			return done(ctx);
	return true;
}
