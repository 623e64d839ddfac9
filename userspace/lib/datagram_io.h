/* SPDX-License-Identifier: MIT */
/*
 * Frames as datagrams on a UDP socket, one datagram per frame, several per
 * system call when several are there: sendmmsg() for a backlog, recvmmsg()
 * for what is queued. Each datagram stays its own: a datagram larger than
 * its buffer is refused whole (MSG_TRUNC), never cut to look like a frame,
 * and the others of its batch are kept, in order. The kernel's count of
 * datagrams it dropped for a full receive queue (SO_RXQ_OVFL, set by the
 * caller) comes with each datagram and is kept.
 *
 * The receiver's socket blocks (datagram_in_block), and a stop signal's
 * handler swaps it for an ended pipe (lib/wake_fd.h): with the stop
 * signals let in (stop_let_in, lib/stop.h), a receive sleeps in the one
 * recvmmsg() (MSG_WAITFORONE) or recvmsg() that takes the datagrams, a
 * lesson's single system call per lone event; a timed one as a lesson
 * does too, under the socket's own timeout (SO_RCVTIMEO, set only when it
 * changes). Else, and to drain (timeout 0), every receive passes
 * MSG_DONTWAIT, after a ppoll() when it is likely to wait.
 */
#ifndef IPC_DATAGRAM_IO_H
#define IPC_DATAGRAM_IO_H

#include "wake_fd.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The most datagrams one call moves. */
#define DATAGRAM_BATCH_MAX	64

struct datagram_in {
	int fd;
	bool idle;		/* the last receive had to wait */
	bool blocking;		/* @fd blocks; a stop swaps it (wake) */
	int timeout_ms;		/* @fd's SO_RCVTIMEO, if blocking; -1: none */
	struct wake_fd wake;
	uint32_t kernel_drops;	/* SO_RXQ_OVFL as of the last datagram */
	uint64_t oversize;	/* datagrams refused whole, in all */
};

/*
 * Make @in->fd a blocking socket that a stop signal's handler can swap,
 * so that a receive may sleep in recvmmsg() itself. Returns 0 or
 * -errno; datagram_in_close() after, even on failure.
 */
int datagram_in_block(struct datagram_in *in);
/* The transport's wake() (async-signal-safe) and unwake(): swap @in->fd
 * for the ended pipe, put it back. Harmless unless datagram_in_block(). */
void datagram_in_wake(struct datagram_in *in);
void datagram_in_unwake(struct datagram_in *in);
/* Close @in->fd and what datagram_in_block() added. */
void datagram_in_close(struct datagram_in *in);

/*
 * Up to @max (1..DATAGRAM_BATCH_MAX) datagrams into @bufs (@max buffers
 * of @room bytes, back to back), their lengths into @lens. Waits up to
 * @timeout_ms (-1: forever) for the first, then takes only what is there.
 * On a blocking socket with the stop signals let in, it sleeps in the
 * receiving call itself; else it waits in ppoll() (fd_wait.h) when the
 * socket is likely empty (the last batch was short, or the last datagram
 * alone was waited for), sparing the read that would fail.
 * Returns how many (1..@max), -ETIMEDOUT, -EINTR (a stop), or a negative
 * errno.
 * Refused datagrams are counted in @in->oversize and in *@ret_refused.
 */
ssize_t datagram_receive(struct datagram_in *in, uint8_t *bufs, size_t room,
			 size_t *lens, size_t max, int timeout_ms,
			 uint64_t *ret_refused);

/*
 * @count (1..DATAGRAM_BATCH_MAX) frames of @len bytes, back to back at
 * @frames, one datagram each, to the connected non-blocking @fd, in one
 * system call. Returns how many the kernel took (1..@count), or the
 * negative errno of the first (-EAGAIN when the socket buffer is full).
 */
int datagram_send(int fd, const uint8_t *frames, size_t len, size_t count);

#endif /* IPC_DATAGRAM_IO_H */
