/* SPDX-License-Identifier: MIT */
/*
 * Frames as packets on a byte-less boundary-keeping descriptor: a pipe or
 * FIFO in packet mode (O_DIRECT), or a SOCK_SEQPACKET socket. One write()
 * of a frame is one packet; one read() returns at most one packet, so a
 * malformed frame of another size cannot shift the ones after it.
 */
#ifndef IPC_PACKET_IO_H
#define IPC_PACKET_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Frames a pipe (or FIFO) should hold. In packet mode every frame takes a
 * whole pipe buffer (a page), so the default 64 KiB holds only 16, and a
 * burst above that makes the sender wait for POLLOUT after every 16.
 */
#define PACKET_PIPE_FRAMES	256

/*
 * Give the pipe behind @fd room for PACKET_PIPE_FRAMES frames. Best
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

#endif /* IPC_PACKET_IO_H */
