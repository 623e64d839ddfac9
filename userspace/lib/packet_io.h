/* SPDX-License-Identifier: MIT */
/*
 * Frames as packets on a byte-less boundary-keeping descriptor: a pipe or
 * FIFO in packet mode (O_DIRECT), or a SOCK_SEQPACKET socket. One write()
 * is one packet; one read() returns at most one packet, so a malformed
 * frame of another size cannot shift the ones after it.
 *
 * A packet holds one frame, or a batch: several frames of
 * IPC_MESSAGE_SIZE back to back, written at once when events queue up
 * (one system call for many). The reader splits a batch and hands its
 * frames out one by one, in order. A packet of any other length is one
 * frame, handed out whole as before (the caller rejects it by reason); a
 * batch with a frame inside that does not decode is refused whole and
 * counted once, as a transport refusal: its boundaries cannot be trusted.
 */
#ifndef IPC_PACKET_IO_H
#define IPC_PACKET_IO_H

#include "message.h"
#include "wake_fd.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Frames a pipe (or FIFO) should hold. In packet mode every packet takes a
 * whole pipe buffer (a page), so the default 64 KiB holds only 16, and a
 * burst above that makes the sender wait for POLLOUT after every 16.
 */
#define PACKET_PIPE_FRAMES	256

/* The largest packet read at once: a page, above PIPE_BUF, so any packet
 * a single atomic write made arrives whole. */
#define PACKET_READ_MAX		4096

/*
 * Give the pipe behind @fd room for PACKET_PIPE_FRAMES packets. Best
 * effort: the default still works, only with less room (the kernel may
 * refuse past /proc/sys/fs/pipe-max-size or pipe-user-pages-soft).
 */
void packet_pipe_grow(int fd);

/*
 * Write @frame as one packet to the non-blocking @fd: 0, -EMSGSIZE (empty,
 * which makes no packet, or above PIPE_BUF, which is neither atomic nor
 * one packet), -EAGAIN when full, -EPIPE when no reader is left, or
 * another negative errno.
 */
int packet_write(int fd, const uint8_t *frame, size_t len);

/*
 * Write @count frames of @len bytes at @frames as one batch packet (at
 * most PIPE_BUF bytes of them: the rest stay the caller's). All or
 * nothing, as one atomic write is: how many frames it took, or as
 * packet_write(). A single frame is written as packet_write() does.
 */
int packet_write_many(int fd, const uint8_t *frames, size_t len,
		      size_t count);

/*
 * The same on a SOCK_SEQPACKET socket @fd, by send(2) without blocking
 * and without SIGPIPE: one record of the batch. How many frames it took,
 * or -errno as send() failed (EAGAIN: full; EPIPE, ECONNRESET: gone).
 */
int packet_send_many(int fd, const uint8_t *frames, size_t len,
		     size_t count);

/*
 * Read one packet from the non-blocking @fd into @buf, waiting for POLLIN
 * up to @timeout_ms with the stop signals let in (fd_wait.h). Returns what
 * read() returned (0 is end of file) or a negative errno (-ETIMEDOUT,
 * -EINTR on a stop signal).
 * *@idle remembers whether the previous call had to wait: if it did, the
 * next packet is most likely not there yet either, so this one waits
 * before it reads and spares the read that would fail with EAGAIN: one
 * system call per isolated event (the button's usual case). A reader that
 * keeps finding packets reads first.
 */
ssize_t packet_read(int fd, uint8_t *buf, size_t size, int timeout_ms,
		    bool *idle);

/* A receiver's side of packets: what is left of a batch it read. */
struct packet_reader {
	bool idle;		/* the last read waited (packet_read) */
	bool zero;		/* a read returned 0 while filling a batch */
	bool blocking;		/* the fd blocks; a stop swaps it (wake) */
	struct wake_fd wake;
	size_t off, len;	/* frames still to hand out: buf[off, len) */
	uint8_t buf[PACKET_READ_MAX];
};

/*
 * Make @fd, the receiver's, a blocking descriptor that a stop signal's
 * handler can swap (lib/wake_fd.h): once the stop signals are let in
 * (stop_let_in), an untimed read sleeps in read() itself, the one system
 * call of a lesson, instead of ppoll() then read(). Timed and draining
 * reads still wait in ppoll() first. Returns 0 or -errno.
 */
int packet_reader_block(struct packet_reader *r, int fd);
/* The transport's wake() and unwake(), and its close: the extra
 * descriptors. Harmless on a reader that packet_reader_block() did not
 * set up. */
void packet_reader_wake(struct packet_reader *r);
void packet_reader_unwake(struct packet_reader *r);
void packet_reader_close(struct packet_reader *r);

/*
 * Split the @n bytes just read into @r->buf (a non-blocking read of the
 * caller's, e.g. after its own wait): the first frame into @buf (of
 * @size bytes; a longer one is cut, as a short read would), the rest kept
 * for packet_reader_take(). Returns the first frame's length (0: an empty
 * read), or -EAGAIN when the packet was a batch refused whole (counted in
 * *@rejected).
 */
ssize_t packet_reader_split(struct packet_reader *r, size_t n, uint8_t *buf,
			    size_t size, uint64_t *rejected);

/* How many frames of the last batch are still to hand out: a receiver
 * that closes now discards them, and says so. */
static inline size_t packet_reader_left(const struct packet_reader *r)
{
	return r->off < r->len ? (r->len - r->off) / IPC_MESSAGE_SIZE : 0;
}

/* The next frame left of a batch into @buf: its length, or -EAGAIN. */
ssize_t packet_reader_take(struct packet_reader *r, uint8_t *buf,
			   size_t size);

/*
 * One frame, from the last batch or else from the next packet on @fd
 * (packet_read: waits first if the last read waited). Returns as
 * packet_read(); batches refused whole are counted in *@rejected and
 * skipped.
 */
ssize_t packet_reader_read(struct packet_reader *r, int fd, uint8_t *buf,
			   size_t size, int timeout_ms, uint64_t *rejected);

/*
 * As packet_reader_read() for the first frame, then up to @max frames in
 * all that are already there, without waiting: into @frames, their
 * lengths in @lens. Returns how many (0 only when the first read returned
 * 0: end of file or an empty packet), or a negative errno as
 * packet_read(). After a read that had to wait (on a blocking @fd, after
 * any: another would sleep) it adds only that packet's frames: reading
 * again would most likely find nothing and cost a system call per
 * isolated event.
 */
ssize_t packet_reader_read_many(struct packet_reader *r, int fd,
				uint8_t (*frames)[IPC_MESSAGE_MAX_WIRE],
				size_t *lens, size_t max, int timeout_ms,
				uint64_t *rejected);

/*
 * One non-blocking read of the connected SOCK_SEQPACKET @fd, split as
 * packet_reader_split() does (batches refused whole are skipped): the
 * first frame's length, 0 for an empty record from a live peer (for the
 * caller to reject), -EPIPE when the peer is gone (end of file or reset),
 * or -errno as read() failed (-EAGAIN: nothing there).
 */
ssize_t packet_reader_recv(struct packet_reader *r, int fd, uint8_t *buf,
			   size_t size, uint64_t *rejected);

/*
 * The second half of packet_reader_read_many(), for a caller that got the
 * first frame its own way: add to the @count frames already in @frames
 * what is left of the last batch, then (unless the last read waited) what
 * non-blocking reads of @fd find, up to @max. Returns the new count. A
 * read that returns 0 is kept for the next packet_reader_read() (or the
 * caller's check of r->zero): end of file, or an empty packet to reject.
 */
size_t packet_reader_more(struct packet_reader *r, int fd,
			  uint8_t (*frames)[IPC_MESSAGE_MAX_WIRE], size_t *lens,
			  size_t count, size_t max, uint64_t *rejected);

#endif /* IPC_PACKET_IO_H */
