/* SPDX-License-Identifier: MIT */
/*
 * One side of a benchmarked mechanism, behind the same three calls whether
 * it is our transport (userspace/ipc, with the wire message) or its bare
 * version (its lesson, userspace/examples: a raw 8-byte value): the measuring loops in roles.c are
 * then identical for both, and their cost cancels in `ours / bare`.
 */
#ifndef BENCH_ENDPOINT_H
#define BENCH_ENDPOINT_H

#include "control.h"
#include "transport.h"

#include <stdbool.h>
#include <stdint.h>

struct endpoint_config {
	const char *mechanism;		/* mechanism name (--via), or "futex" (the floor) */
	bool bare;			/* the bare version instead of ours */
	enum transport_role role;
	const char *runtime_dir;	/* ours: the transport's directory */
	const char *bare_dir;		/* bare: a directory of its own */
	const char *instance;
	int inherited_fd;		/* pipe, socketpair: our end */
	const char *const *options;	/* key=value, for ours and bare alike */
	struct bench_control *control;
};

/* What one receive_many() returned: @count frames, in order. */
struct endpoint_batch {
	size_t count;
	uint32_t seqno[TRANSPORT_BATCH_MAX];
	bool valid[TRANSPORT_BATCH_MAX];	/* false: failed validation */
};

struct endpoint {
	const char *name;
	bool lossless;
	/* 0, -EAGAIN (full: retry later), or a fatal negative errno. */
	int (*send)(struct endpoint *ep, uint32_t seqno);
	/*
	 * 1 with *ret_seqno set; 0 when a frame arrived but failed
	 * validation (the caller counts it); -ETIMEDOUT; -EPIPE at the
	 * sender's end; another negative errno is fatal.
	 */
	int (*receive)(struct endpoint *ep, uint32_t *ret_seqno, int timeout_ms);
	/*
	 * Optional, as the button and the LED do with a backlog: offer
	 * events @seqno..@seqno+@count-1 (@count <= TRANSPORT_BATCH_MAX) in
	 * one call; how many were taken from the front (1..@count), or as
	 * send(). NULL (the bare lessons: one value per system call): one
	 * send() per call, through endpoint_send_many().
	 */
	int (*send_many)(struct endpoint *ep, uint32_t seqno, size_t count);
	/* Optional: wait as receive() for the first frame, add what is
	 * there; the count (1 or more), or as receive(). NULL: one receive(). */
	int (*receive_many)(struct endpoint *ep, struct endpoint_batch *batch,
			    int timeout_ms);
	/* A descriptor that polls ready for *@ret_events (POLLOUT, or POLLIN:
	 * transport_room_events()) when -EAGAIN may have cleared, or -1.
	 * Ask after the -EAGAIN: it may be made by the send that gave it. */
	int (*poll_fd)(struct endpoint *ep, short *ret_events);
	void (*close)(struct endpoint *ep);
	void *priv;
};

int endpoint_open_ours(const struct endpoint_config *cfg, struct endpoint *ep);
int endpoint_open_bare(const struct endpoint_config *cfg, struct endpoint *ep);
/* The futex floor (floor.c), the bare variant of "futex". */
int endpoint_open_floor(const struct endpoint_config *cfg, struct endpoint *ep);

static inline int endpoint_open(const struct endpoint_config *cfg,
				struct endpoint *ep)
{
	return cfg->bare ? endpoint_open_bare(cfg, ep) : endpoint_open_ours(cfg, ep);
}

/* ep->send_many, or one ep->send(): how many of the @count were taken
 * (at least 1), or the refusal. */
static inline int endpoint_send_many(struct endpoint *ep, uint32_t seqno,
				     size_t count)
{
	int r;

	if (ep->send_many)
		return ep->send_many(ep, seqno, count);
	r = ep->send(ep, seqno);
	return r < 0 ? r : 1;
}

/* ep->receive_many, or one ep->receive() into batch slot 0. */
static inline int endpoint_receive_many(struct endpoint *ep,
					struct endpoint_batch *batch,
					int timeout_ms)
{
	int r;

	if (ep->receive_many)
		return ep->receive_many(ep, batch, timeout_ms);
	r = ep->receive(ep, &batch->seqno[0], timeout_ms);
	if (r < 0)
		return r;
	batch->valid[0] = r == 1;
	batch->count = 1;
	return 1;
}

/* The value of option @key in @options, or NULL. */
const char *option_value(const char *const *options, const char *key);

#endif /* BENCH_ENDPOINT_H */
