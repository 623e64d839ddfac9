/* SPDX-License-Identifier: MIT */
/*
 * One file descriptor a caller can poll for a transport built on a client
 * library (sd-bus, libmosquitto) whose own socket does not tell the whole
 * story: the library may already hold work in memory (a frame read but not
 * yet returned, a reply to send) while its socket is quiet, or it may need
 * to be called at a certain time (an MQTT keep-alive, a reconnection).
 *
 * The ready set is an epoll instance holding three sources, so it is
 * readable when any of them is:
 *   - the library's socket, for the events the library asks for;
 *   - a "pending" mark (an eventfd) the transport sets while it has work
 *     that does not show on the socket;
 *   - a deadline (a timerfd on CLOCK_MONOTONIC).
 * A wake-up means "call the transport now"; it may find nothing to do.
 */
#ifndef IPC_READY_SET_H
#define IPC_READY_SET_H

#include <stdbool.h>
#include <stdint.h>

struct ready_set;

/* A new, empty set (no socket, not pending, no deadline); 0 or -errno. */
int ready_set_new(struct ready_set **ret);
/* Accepts NULL. Does not close the watched socket: the library owns it. */
void ready_set_free(struct ready_set *set);

/* The fd to poll for POLLIN. */
int ready_set_fd(const struct ready_set *set);

/*
 * Watch @fd for @events (POLLIN, POLLOUT), replacing the socket watched
 * before; @fd -1 watches nothing. Call it with -1 as soon as the library
 * drops its connection: its next socket may get the same number.
 */
int ready_set_watch(struct ready_set *set, int fd, short events);

/* Set or clear the pending mark. */
int ready_set_mark(struct ready_set *set, bool pending);

/* Readable from @when_ns (CLOCK_MONOTONIC) on, or earlier: a deadline
 * later than the one armed and not passed yet leaves that one armed, and
 * its wake-up is the call that arms the later one (no system call until
 * then). 0 removes the deadline. */
int ready_set_deadline(struct ready_set *set, uint64_t when_ns);

/*
 * Wait until the set is readable or @timeout_ms (-1: forever) passes, with
 * the stop signals let in: 0, -ETIMEDOUT or -EINTR (see fd_wait).
 */
int ready_set_wait(struct ready_set *set, int timeout_ms);

#endif /* IPC_READY_SET_H */
