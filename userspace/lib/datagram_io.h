/* SPDX-License-Identifier: MIT */
/*
 * Frames as datagrams on a non-blocking UDP socket, one datagram per
 * frame, several per system call when several are there: sendmmsg() for a
 * backlog, recvmmsg() for what is queued. Each datagram stays its own: a
 * datagram larger than its buffer is refused whole (MSG_TRUNC), never cut
 * to look like a frame, and the others of its batch are kept, in order.
 * The kernel's count of datagrams it dropped for a full receive queue
 * (SO_RXQ_OVFL, set by the caller) comes with each datagram and is kept.
 */
#ifndef IPC_DATAGRAM_IO_H
#define IPC_DATAGRAM_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The most datagrams one call moves. */
#define DATAGRAM_BATCH_MAX	64

struct datagram_in {
	int fd;
	bool idle;		/* the last receive had to wait */
	uint32_t kernel_drops;	/* SO_RXQ_OVFL as of the last datagram */
	uint64_t oversize;	/* datagrams refused whole, in all */
};

/*
 * Up to @max (1..DATAGRAM_BATCH_MAX) datagrams into @bufs (@max buffers
 * of @room bytes, back to back), their lengths into @lens. Waits up to
 * @timeout_ms (-1: forever) for the first with the stop signals let in
 * (fd_wait.h), then takes only what is there. When the socket is likely
 * empty (the last batch was short, or the last datagram alone was waited
 * for), it waits before it reads, sparing the read that would fail.
 * Returns how many (1..@max), -ETIMEDOUT, -EINTR, or a negative errno.
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
