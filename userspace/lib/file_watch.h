/* SPDX-License-Identifier: MIT */
/*
 * A reader's wake-up for a file others write to: an inotify descriptor
 * watching the file for IN_MODIFY (a write(), pwrite() or truncate; not a
 * store through a mapping) and IN_ATTRIB (its link count, owner or mode
 * changed, as when it is removed or opened up by hand), non-blocking, to
 * wait on with fd_wait().
 */
#ifndef IPC_FILE_WATCH_H
#define IPC_FILE_WATCH_H

/* Watch @path: the inotify descriptor (O_CLOEXEC), or a negative errno. */
int file_watch_open(const char *path);

/*
 * Empty the queue of @fd: one read() takes all that is queued (more only
 * when it filled the buffer). Events queued after it make @fd readable
 * again, so a reader that empties the queue before it looks cannot miss
 * a write after the look (an overflowed queue still holds IN_Q_OVERFLOW,
 * so it wakes too). 0; -EIDRM when an IN_ATTRIB (or an overflow, which
 * may have dropped one) came and the watched file, open as @file_fd, has
 * no name left or is no longer private (private_object_file()): nobody
 * new can find or would trust it, its reader should leave; or another
 * negative errno.
 */
int file_watch_drain(int fd, int file_fd);

#endif /* IPC_FILE_WATCH_H */
