/* SPDX-License-Identifier: MIT */
/*
 * Where the button process gets its events:
 *  - the driver's character device (/dev/ipc-button0): non-blocking reads of
 *    whole struct ipc_button_event records, woken by poll;
 *  - standard input (PC mode): each line is a click (a press then a
 *    release), "press" or "release" alone is that event only; on a terminal
 *    each key is a click and 'q' or Ctrl-D ends;
 *  - a synthetic source of N alternating presses and releases, made only
 *    when the caller has room, for tests and benchmarks.
 */
#ifndef IPC_EVENT_SOURCE_H
#define IPC_EVENT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

struct button_event {
	uint32_t type;		/* IPC_EVENT_PRESS or IPC_EVENT_RELEASE */
	uint32_t seqno;
	uint32_t dropped;	/* events the source lost just before this one */
	uint64_t event_ns;	/* CLOCK_MONOTONIC of the edge */
};

struct event_source;

int event_source_open_device(const char *path, struct event_source **ret);
int event_source_open_stdin(struct event_source **ret);
int event_source_open_synthetic(uint64_t count, struct event_source **ret);
void event_source_free(struct event_source *src);

/* The fd to wait on for POLLIN; -1 when the source is always ready. */
int event_source_fd(const struct event_source *src);

/*
 * Take up to @max events that are available now, without blocking.
 * Returns how many (0: none yet, wait on the fd), -ENODATA when the source
 * has ended normally (end of input, N events made), -ENODEV when the device
 * went away, or another negative errno.
 */
int event_source_read(struct event_source *src, struct button_event *ev,
		      size_t max);

/* "device /dev/ipc-button0", "standard input", "synthetic": for messages. */
const char *event_source_describe(const struct event_source *src);

#endif /* IPC_EVENT_SOURCE_H */
