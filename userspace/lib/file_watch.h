/* SPDX-License-Identifier: MIT */
/*
 * A reader's wake-up for a file others write to: an inotify descriptor
 * watching the file for IN_MODIFY (a write(), pwrite() or truncate; not a
 * store through a mapping) and IN_ATTRIB (its link count, owner or mode
 * changed, as when it is removed or opened up by hand).
 *
 * The descriptor blocks, so that with the stop signals let in
 * (stop_let_in()) an untimed wait is the one read() that also empties
 * the queue, as the lesson's; a stop swaps its number for an ended pipe
 * (lib/wake_fd.h), so a stop that lands before that read still ends it.
 * Otherwise, and for a timed wait, ppoll() waits first (fd_wait()).
 */
#ifndef IPC_FILE_WATCH_H
#define IPC_FILE_WATCH_H

#include "wake_fd.h"

struct file_watch {
	int fd;			/* inotify, blocking; -1: none */
	struct wake_fd wake;	/* a stop swaps @fd (file_watch_wake) */
};

/* Nothing open yet: file_watch_close() may follow. */
void file_watch_init(struct file_watch *w);

/* Watch @path: 0, or a negative errno. */
int file_watch_open(struct file_watch *w, const char *path);

/*
 * Wait up to @timeout_ms (-1: no limit) for an event, then empty the
 * queue: one read() takes all that is queued (a full buffer leaves the
 * rest, which only wakes the next wait early). Events queued after it
 * make the next wait return, so a reader that empties the queue before
 * it looks cannot miss a write after the look (an overflowed queue still
 * holds IN_Q_OVERFLOW, so it wakes too). 0; -EINTR on a stop; -ETIMEDOUT;
 * -EIDRM when an IN_ATTRIB (or an overflow, which may have dropped one)
 * came and the watched file, open as @file_fd, has no name left or is no
 * longer private (private_object_file()): nobody new can find or would
 * trust it, its reader should leave; or another negative errno.
 */
int file_watch_wait(struct file_watch *w, int file_fd, int timeout_ms);

/* The transport's wake() (async-signal-safe) and unwake(). */
void file_watch_wake(struct file_watch *w);
void file_watch_unwake(struct file_watch *w);

void file_watch_close(struct file_watch *w);

/*
 * A writer's wake-up for room (the shared-file sender, once the file was
 * full): a non-blocking inotify descriptor, close-on-exec, watching the
 * very file open as @file_fd (through /proc/self/fd, so that a successor
 * made at its path meanwhile is never watched instead) for IN_MODIFY and
 * IN_ATTRIB: the reader cutting it back (ftruncate()) and removing it.
 * It polls readable (POLLIN), never writable. The writer's own appends
 * queue IN_MODIFY too: empty it with file_watch_drain() before the last
 * look for room, so that only what comes after wakes the poll. Its
 * descriptor, or a negative errno.
 */
int file_watch_room_open(int file_fd);

/* Empty the queue of @fd (from file_watch_room_open()) without waiting:
 * 0, or a negative errno. */
int file_watch_drain(int fd);

#endif /* IPC_FILE_WATCH_H */
