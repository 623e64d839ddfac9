// SPDX-License-Identifier: MIT
#include "roles.h"

#include "backlog.h"
#include "stop.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

/* The button's back-off when the mechanism is full and has no fd. */
#define BACKOFF_FIRST_NS	(BACKLOG_RETRY_FULL_MS * 1000000ull)
#define BACKOFF_MAX_NS		(BACKLOG_RETRY_MAX_MS * 1000000ull)
/* Rate runs: events due are generated in slices of this length. */
#define SLICE_NS		100000ull
/* A lossless sender waits this long for an acknowledgement (latency). */
#define LOSSLESS_TIMEOUT_MS	10000
/* A lossy receiver: nothing for this long after the sender's last event
 * means the rest was lost. (A lossless one waits untimed, as the LED.) */
#define LOSSY_TIMEOUT_MS	300

const char *mode_name(enum bench_mode mode)
{
	static const char *const names[] = {
		[MODE_LATENCY] = "latency",
		[MODE_SATURATION] = "saturation",
		[MODE_RATE] = "rate",
	};

	return names[mode];
}

static int fail(struct bench_side *s, int r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(s->error))
		snprintf(s->error + n, sizeof(s->error) - n, ": %s", strerror(-r));
	s->status = r;
	return r;
}

static void sleep_until(uint64_t when_ns)
{
	struct timespec ts = {
		.tv_sec = when_ns / 1000000000ull,
		.tv_nsec = when_ns % 1000000000ull,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/*
 * The mechanism is full: sleep until it has room. Its own fd when it has
 * one; otherwise the receiver's progress (its ack word), which it wakes
 * only when told that a sender sleeps on it. @seen is the ack read before
 * the send that failed, so progress made since then is never slept through.
 */
static void wait_room(struct endpoint *ep, struct bench_control *c,
		      uint32_t seen)
{
	short events = POLLOUT;
	int fd = ep->poll_fd(ep, &events);

	if (fd >= 0) {
		struct pollfd p = { fd, events, 0 };

		(void)poll(&p, 1, 1000);
		return;
	}
	atomic_store(&c->sender_waiting, 1);
	(void)futex_wait_shared(&c->ack, seen, 100);
}

static int send_one(struct endpoint *ep, struct bench_control *c,
		    uint32_t seqno)
{
	for (;;) {
		uint32_t seen = atomic_load(&c->ack);
		int r = ep->send(ep, seqno);

		if (r != -EAGAIN)
			return r;
		c->sender.eagain++;
		wait_room(ep, c, seen);
	}
}

static void sender_finish(struct bench_control *c, uint32_t last)
{
	atomic_store(&c->last_seqno, last);
	atomic_store(&c->sender_done, 1);
	/* The receiver may sleep on the ack word in a latency run. */
	futex_wake_shared(&c->ack);
	futex_wake_shared(&c->sender_done);
}

/* A pause of @ns, relative; the timer slack was set to 1 ns. */
static void pause_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ull,
			       .tv_nsec = ns % 1000000000ull };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static int sender_latency(struct endpoint *ep, struct bench_control *c,
			  const struct role_params *p)
{
	struct bench_side *s = &c->sender;
	uint64_t total = p->warmup + p->events, cpu0 = 0, wall0 = 0;
	int timeout = ep->lossless ? LOSSLESS_TIMEOUT_MS : LOSSY_TIMEOUT_MS;
	uint32_t acked;
	int r;

	if (p->gap_ns)
		(void)prctl(PR_SET_TIMERSLACK, 1UL);
	for (uint64_t seq = 1; seq <= total; seq++) {
		if (seq == p->warmup + 1) {
			cpu0 = process_cpu_ns();
			wall0 = now_ns();
		}
		atomic_store(&c->send_ns, now_ns());
		r = send_one(ep, c, (uint32_t)seq);
		if (r < 0)
			return fail(s, r, "send of event %lu", (unsigned long)seq);
		s->events++;
		/* One event in flight: wait for its acknowledgement. */
		while ((acked = atomic_load(&c->ack)) < seq) {
			r = futex_wait_shared(&c->ack, acked, timeout);
			if (r == -ETIMEDOUT) {
				if (ep->lossless)
					return fail(s, r, "no acknowledgement of event %lu",
						    (unsigned long)seq);
				break;	/* lost on the way: the receiver counts it */
			}
		}
		if (p->gap_ns)
			pause_ns(p->gap_ns);
	}
	s->cpu_ns = process_cpu_ns() - cpu0;
	s->wall_ns = now_ns() - wall0;
	s->events = p->events;
	sender_finish(c, (uint32_t)total);
	return 0;
}

/*
 * Offer events @seqno..@last, as many per call as the endpoint takes (up
 * to TRANSPORT_BATCH_MAX, as the button does with a backlog that holds
 * them); on -EAGAIN wait for room. Returns how many were taken, or a
 * fatal negative errno.
 */
static int send_batch(struct endpoint *ep, struct bench_control *c,
		      uint64_t seqno, uint64_t last)
{
	uint64_t count = last - seqno + 1;

	if (count > TRANSPORT_BATCH_MAX)
		count = TRANSPORT_BATCH_MAX;
	for (;;) {
		uint32_t seen = atomic_load(&c->ack);
		int r = endpoint_send_many(ep, (uint32_t)seqno, (size_t)count);

		if (r != -EAGAIN)
			return r;
		c->sender.eagain++;
		wait_room(ep, c, seen);
	}
}

static int sender_saturation(struct endpoint *ep, struct bench_control *c,
			     const struct role_params *p)
{
	struct bench_side *s = &c->sender;
	uint64_t cpu0 = process_cpu_ns(), start = now_ns();
	int r;

	atomic_store(&c->start_ns, start);
	for (uint64_t seq = 1; seq <= p->events; seq += (uint64_t)r) {
		r = send_batch(ep, c, seq, p->events);
		if (r < 0)
			return fail(s, r, "send of event %lu", (unsigned long)seq);
		s->events += (uint64_t)r;
	}
	s->cpu_ns = process_cpu_ns() - cpu0;
	s->wall_ns = now_ns() - start;
	sender_finish(c, (uint32_t)p->events);
	return 0;
}

/*
 * The button's loop, fed by a clock instead of the driver: push what is
 * due into the backlog (losing the oldest when it is full), hand the
 * backlog to the mechanism until it pushes back, then wait for whichever
 * comes first: the next slice of events, room on the mechanism's fd, or
 * the back-off.
 */
static int sender_rate(struct endpoint *ep, struct bench_control *c,
		       const struct role_params *p)
{
	struct bench_side *s = &c->sender;
	uint64_t generated = 0, backoff = 0, retry_at = 0, cpu0, start;
	bool wait_writable = false, retry_pending = false;
	struct ipc_message *head;
	struct backlog backlog;
	short events = POLLOUT;
	int fd = -1, r;

	if (backlog_init(&backlog, p->backlog) < 0)
		return fail(s, -ENOMEM, "backlog");
	(void)prctl(PR_SET_TIMERSLACK, 1UL);
	cpu0 = process_cpu_ns();
	start = now_ns();
	atomic_store(&c->start_ns, start);
	for (;;) {
		uint64_t now = now_ns(), wake;
		uint64_t due = (uint64_t)((double)(now - start) * p->rate / 1e9);

		if (due > p->events)
			due = p->events;
		while (generated < due) {
			struct ipc_message msg = { .seqno = (uint32_t)++generated };

			if (backlog_push(&backlog, &msg))
				s->overflowed++;
		}
		if (retry_pending && now >= retry_at)
			retry_pending = false;
		while (!retry_pending && !wait_writable &&
		       (head = backlog_head(&backlog))) {
			/* The backlog's seqnos are consecutive: a dropped
			 * event is always its oldest. */
			size_t count = backlog.count < TRANSPORT_BATCH_MAX ?
				       backlog.count : TRANSPORT_BATCH_MAX;

			r = endpoint_send_many(ep, head->seqno, count);
			if (r > 0) {
				s->events += (uint64_t)r;
				backoff = 0;
				while (r--)
					backlog_pop(&backlog);
				continue;
			}
			if (r != -EAGAIN) {
				backlog_free(&backlog);
				return fail(s, r, "send of event %u", head->seqno);
			}
			s->eagain++;
			/* Asked now: the send that was refused may make it. */
			fd = ep->poll_fd(ep, &events);
			if (fd >= 0) {
				wait_writable = true;
			} else {
				backoff = backoff ? backoff * 2 : BACKOFF_FIRST_NS;
				if (backoff > BACKOFF_MAX_NS)
					backoff = BACKOFF_MAX_NS;
				retry_at = now_ns() + backoff;
				retry_pending = true;
			}
		}
		if (generated == p->events && backlog_empty(&backlog))
			break;

		/* The next slice of events, or the end of the back-off. */
		wake = UINT64_MAX;
		if (generated < p->events) {
			wake = start + (uint64_t)((double)(generated + 1) * 1e9 / p->rate);
			if (wake < now + SLICE_NS)
				wake = now + SLICE_NS;
		}
		if (retry_pending && retry_at < wake)
			wake = retry_at;
		if (wait_writable) {
			struct pollfd pfd = { fd, events, 0 };
			int ms = wake == UINT64_MAX ? 1000 :
				 (int)((wake - now + 999999) / 1000000);

			if (poll(&pfd, 1, ms) > 0)
				wait_writable = false;
		} else if (wake != UINT64_MAX) {
			sleep_until(wake);
		}
	}
	backlog_free(&backlog);
	s->cpu_ns = process_cpu_ns() - cpu0;
	s->wall_ns = now_ns() - start;
	sender_finish(c, (uint32_t)p->events);
	return 0;
}

int role_sender(struct endpoint *ep, struct bench_control *c,
		const struct role_params *p)
{
	int r;

	switch (p->mode) {
	case MODE_LATENCY:
		r = sender_latency(ep, c, p);
		break;
	case MODE_SATURATION:
		r = sender_saturation(ep, c, p);
		break;
	default:
		r = sender_rate(ep, c, p);
		break;
	}
	if (r < 0) {
		sender_finish(c, 0);
		return r;
	}
	/* Close only once the receiver has everything it will get. */
	while (!atomic_load(&c->receiver_done))
		if (futex_wait_shared(&c->receiver_done, 0, 30000) == -ETIMEDOUT)
			break;
	c->sender.rss_peak_kb = peak_rss_kb();
	return 0;
}

/*
 * Latency runs count the receives that never slept: the receiving thread's
 * voluntary context switches, read once per event after its timestamp and
 * before its acknowledgement (outside the timed part). Only receive() can
 * sleep in between: the acknowledgement's FUTEX_WAKE does not.
 */
static uint64_t latency_sleeps_init(const struct role_params *p)
{
	return p->mode == MODE_LATENCY ? thread_sleeps() : 0;
}

/* What the receiver's loop carries from one frame to the next. */
struct receiver_state {
	uint64_t total;		/* the last seqno there will be */
	uint64_t expected;	/* the next seqno in order */
	uint64_t cpu0, wall0, last_rx, sleeps;
};

/*
 * One frame received at @t1, as the LED takes it: count a failed
 * validation, a reordering or a gap; time it (latency runs). Returns true
 * when it was the last event.
 */
static bool receiver_take(struct bench_control *c, const struct role_params *p,
			  struct receiver_state *rs, uint32_t seq, bool valid,
			  uint64_t t1)
{
	struct bench_side *s = &c->receiver;

	if (!valid) {
		s->rejected++;
		return false;
	}
	if (seq < rs->expected) {
		s->reordered++;
		return false;
	}
	if (seq > rs->expected) {
		s->gaps++;
		s->lost += seq - rs->expected;
	}
	rs->expected = (uint64_t)seq + 1;
	rs->last_rx = t1;
	if (p->mode == MODE_LATENCY) {
		uint64_t now_sleeps = thread_sleeps();

		if (seq > p->warmup) {
			histogram_add(&c->latency, t1 - atomic_load(&c->send_ns));
			s->events++;
			if (now_sleeps == rs->sleeps)
				s->unslept++;
		} else if (seq == p->warmup) {
			rs->cpu0 = process_cpu_ns();
			rs->wall0 = now_ns();
		}
		rs->sleeps = now_sleeps;
	} else {
		s->events++;
	}
	atomic_store(&c->ack, seq);
	return seq >= rs->total;
}

/*
 * A stop signal came: the run's watchdog (spawn.c) stops a receiver that
 * waits without a timeout when the sender died, or when nothing came for
 * long after the sender's last event. A failure either way, unless the
 * sender already said why it failed.
 */
static int receiver_stopped(struct bench_control *c, struct receiver_state *rs)
{
	struct bench_side *s = &c->receiver;
	unsigned long after = (unsigned long)(rs->expected - 1);

	if (c->sender.status)
		return 0;
	if (!atomic_load(&c->sender_done))
		return fail(s, -ECANCELED,
			    "stopped by the watchdog after event %lu: the sender ended before its last event",
			    after);
	s->lost += rs->total - after;
	return fail(s, -ETIMEDOUT,
		    "stopped by the watchdog after event %lu: %lu events never came after the sender's last",
		    after, (unsigned long)(rs->total - after));
}

int role_receiver(struct endpoint *ep, struct bench_control *c,
		  const struct role_params *p)
{
	struct bench_side *s = &c->receiver;
	struct receiver_state rs = {
		.total = p->mode == MODE_LATENCY ? p->warmup + p->events : p->events,
		.expected = 1,
		.cpu0 = process_cpu_ns(),
		.wall0 = now_ns(),
		.sleeps = latency_sleeps_init(p),
	};
	/* Lossless: wait as the LED does, untimed; lossy: a timeout tells a
	 * lost datagram at the end. */
	int timeout = ep->lossless ? -1 : LOSSY_TIMEOUT_MS;
	struct endpoint_batch batch;
	bool finished = false;
	int r = 0;

	atomic_store(&c->ready, 1);
	futex_wake_shared(&c->ready);
	while (!finished) {
		uint64_t t1;

		r = endpoint_receive_many(ep, &batch, timeout);
		t1 = now_ns();
		if (r == -EINTR && stop_requested()) {
			r = receiver_stopped(c, &rs);
			break;
		}
		if (r == -ETIMEDOUT || r == -EINTR) {
			if (atomic_load(&c->sender_done) || c->sender.status) {
				r = 0;
				break;
			}
			continue;
		}
		if (r < 0) {
			fail(s, r, "receive after event %lu", (unsigned long)(rs.expected - 1));
			break;
		}
		r = 0;
		for (size_t i = 0; i < batch.count && !finished; i++)
			finished = receiver_take(c, p, &rs, batch.seqno[i],
						 batch.valid[i], t1);
		if (p->mode == MODE_LATENCY || atomic_exchange(&c->sender_waiting, 0))
			futex_wake_shared(&c->ack);
	}
	s->cpu_ns = process_cpu_ns() - rs.cpu0;
	s->wall_ns = (rs.last_rx ? rs.last_rx : now_ns()) - rs.wall0;
	atomic_store(&c->last_rx_ns, rs.last_rx);
	if (r == 0 && !s->status && rs.expected <= rs.total)
		s->lost += rs.total - (rs.expected - 1);
	s->rss_peak_kb = peak_rss_kb();
	atomic_store(&c->receiver_done, 1);
	futex_wake_shared(&c->receiver_done);
	return r;
}
