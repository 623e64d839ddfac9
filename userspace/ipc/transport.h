/* SPDX-License-Identifier: MIT */
/*
 * The transport interface: one implementation per IPC mechanism, one .c file
 * each in this directory, selected at run time by name (--via NAME).
 *
 * A transport moves opaque frames (encoded struct ipc_message, see
 * lib/message.h) from one sender (the button process) to one receiver (the
 * LED process). It does not interpret frames: the receiver's caller decodes
 * and validates every frame it gets, so validation is the same everywhere.
 * A mechanism that cannot carry bytes (semaphores, plain counts) builds the
 * frame on the receiving side from what did cross, and says so in its header
 * comment.
 *
 * One receiver per instance: transport_open() gives the RECEIVER of a named
 * mechanism (every one but the TRANSPORT_INHERITED ones, whose pair the
 * launcher hands out once, and the TRANSPORT_FAN_OUT ones, where a second
 * receiver is a second audience, not a thief) the lock "<runtime_dir>/<mechanism>.<instance>
 * .lock" (lib/owner_lock.h) before the mechanism opens anything, and holds
 * it until transport_close(). A second receiver of the same instance is
 * refused there with -EBUSY and one line naming the first, which goes on
 * undisturbed: no mechanism needs its own way of telling.
 *
 * Object ownership, the same for every named object: the RECEIVER creates it
 * (replacing a stale or foreign one, adopting a compatible one left by a
 * killed receiver so queued events survive), and removes it on close. The
 * SENDER only opens it, and reports when it disappears so the caller can
 * keep events in its backlog and reopen later.
 *
 * Return values are 0 or a negative errno; see each operation.
 */
#ifndef IPC_TRANSPORT_H
#define IPC_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum transport_role {
	TRANSPORT_SENDER,
	TRANSPORT_RECEIVER,
};

/* Properties of a mechanism, for listings, docs and tests. */
#define TRANSPORT_LOSSLESS	(1U << 0) /* nothing lost while both run */
#define TRANSPORT_PUSH		(1U << 1) /* data pushed to a waiting receiver;
					   * otherwise pull: the receiver reads
					   * shared state after a wake-up */
#define TRANSPORT_INHERITED	(1U << 2) /* needs an fd from the launcher */
#define TRANSPORT_NETWORK	(1U << 3) /* may cross hosts */
#define TRANSPORT_NO_PAYLOAD	(1U << 4) /* frames rebuilt by the receiver */
#define TRANSPORT_DURABLE	(1U << 5) /* frames queued in the mechanism
					   * survive the receiver's death: a
					   * restarted receiver adopts the
					   * object and gets them (tests check) */
#define TRANSPORT_FAN_OUT	(1U << 6) /* every receiver gets its own copy
					   * of every frame (broadcast,
					   * multicast): receivers of one
					   * instance may be many, none takes
					   * anything from another */
#define TRANSPORT_IDLE_REPORTS	(1U << 7) /* lossless, but the sender needs
					   * the button's idle state reports
					   * (IPC_EVENT_STATE, never posted as
					   * an event) to answer a receiver
					   * that came while no event did */

struct transport_option {
	const char *name;		/* key of --opt key=value */
	const char *default_value;	/* NULL: no default */
	const char *help;		/* one line */
	/*
	 * Optional: NULL when @value is acceptable, else why not (one
	 * phrase). The programs check every --opt with it while parsing
	 * their arguments, so a bad value is a usage error (exit 2, one
	 * line), not a failure found when the transport opens.
	 */
	const char *(*check)(const char *value);
};

struct transport_config {
	/* Existing per-user directory (0700) for named objects. */
	const char *runtime_dir;
	/* Distinguishes concurrent runs in global namespaces (POSIX, SysV). */
	const char *instance;
	/* The launcher's pipe or socketpair end, -1 when there is none. */
	int inherited_fd;
	/* NULL-terminated "key=value" strings, keys from ops->options. */
	const char *const *options;
};

struct transport;

struct transport_ops {
	const char *name;	/* the --via value: "fifo", "mq-posix", ... */
	const char *summary;	/* one line for --list */
	unsigned int flags;	/* TRANSPORT_* */
	/* Options this mechanism accepts, terminated by a NULL name; may be NULL. */
	const struct transport_option *options;

	/*
	 * Set up t->priv for t->role. A sender returns -ENOENT, -ENXIO or
	 * -ECONNREFUSED when the receiver is not there yet: the caller
	 * retries later. Anything else negative is fatal.
	 */
	int (*open)(struct transport *t);

	/*
	 * Send one frame without blocking for long. 0: sent. -EAGAIN: the
	 * mechanism is full right now, the caller keeps the frame and retries
	 * (after poll_fd() is writable when there is one, else after a
	 * back-off). -EPIPE: the receiver is gone or its object was
	 * replaced; the caller keeps the frame, closes and reopens later.
	 * Other negative values are fatal.
	 */
	int (*send)(struct transport *t, const uint8_t *frame, size_t len);

	/*
	 * Wait up to @timeout_ms (-1: forever) for one frame and copy it to
	 * @buf. Returns its length (which may differ from IPC_MESSAGE_SIZE:
	 * the caller validates), -ETIMEDOUT, -EINTR when a stop signal
	 * arrived (see stop.h), -EPIPE when no sender can ever come back
	 * (pipe or socketpair end of file), or another fatal negative errno.
	 * Frames the transport itself refuses (a peer with the wrong
	 * credentials) are counted in t->rejected and not returned.
	 */
	ssize_t (*receive)(struct transport *t, uint8_t *buf, size_t size,
			   int timeout_ms);

	/*
	 * Optional. A file descriptor the caller may poll: readable when
	 * receive() has something for a receiver, writable when a sender's
	 * -EAGAIN has cleared. NULL or -1 when the mechanism has none.
	 */
	int (*poll_fd)(struct transport *t);

	/*
	 * Optional, async-signal-safe: make a receive() blocked in a call
	 * that cannot be interrupted race-free (semop, sem_wait, futex)
	 * return -EINTR. Called from the stop signal handler.
	 */
	void (*wake)(struct transport *t);

	/* Release everything; the receiver also removes what it created. */
	void (*close)(struct transport *t);

	/*
	 * TRANSPORT_INHERITED only: create the connected pair the launcher
	 * hands out, close-on-exec: @ret_fds[0] for the receiver,
	 * @ret_fds[1] for the sender. 0 or a negative errno.
	 */
	int (*make_pair)(int ret_fds[2]);
};

struct transport {
	const struct transport_ops *ops;
	enum transport_role role;
	const struct transport_config *config;
	void *priv;			/* the mechanism's own state */
	int owner_fd;			/* receiver: the instance lock, or -1 */
	bool sysv_recorded;		/* receiver: sysv_key is recorded */
	int sysv_key;
	uint64_t rejected;		/* frames refused by the transport itself */
};

/*
 * Registration without a central list: each mechanism file ends with
 * TRANSPORT_REGISTER(its_ops); the registry finds them in a linker section.
 */
#define TRANSPORT_REGISTER(ops_)					\
	static const struct transport_ops *const transport_entry_##ops_ \
	__attribute__((used, section("ipc_transports"), aligned(sizeof(void *)))) = &(ops_)

/* Lookup by name; NULL if unknown. */
const struct transport_ops *transport_find(const char *name);
/* All registered mechanisms in the canonical order; returns the count. */
size_t transport_list(const struct transport_ops **ret, size_t max);

/*
 * Open @ops as @role. Checks every option key against ops->options first
 * (-EINVAL with a message on stderr for an unknown one); a receiver then
 * takes the instance lock (-EBUSY with a message on stderr when another
 * receiver of the instance runs). On success *ret
 * is a new transport; free it with transport_close().
 */
int transport_open(const struct transport_ops *ops, enum transport_role role,
		   const struct transport_config *config,
		   struct transport **ret);
void transport_close(struct transport *t);
int transport_send(struct transport *t, const uint8_t *frame, size_t len);
ssize_t transport_receive(struct transport *t, uint8_t *buf, size_t size,
			  int timeout_ms);
int transport_poll_fd(struct transport *t);

/* The value of option @key: the configured one, else its default, else NULL. */
const char *transport_option(const struct transport *t, const char *key);

/* "<runtime_dir>/<leaf>" into @buf; -ENAMETOOLONG if it does not fit. */
int transport_path(const struct transport *t, const char *leaf, char *buf,
		   size_t size);

/*
 * The path of this mechanism's named object in the runtime directory:
 * "<runtime_dir>/<mechanism>.<instance>", e.g. /run/ipc-button/fifo.0.
 */
int transport_object_path(const struct transport *t, char *buf, size_t size);

/* The receiver's instance lock: "<runtime_dir>/<mechanism>.<instance>.lock". */
int transport_owner_path(const struct transport *t, char *buf, size_t size);

/*
 * A name for global namespaces (POSIX shm, semaphores, message queues):
 * "/ipc-button.<uid>.<instance>.<mechanism>". Per user and per instance,
 * so neither other users nor concurrent runs collide with it.
 */
int transport_global_name(const struct transport *t, char *buf, size_t size);

/*
 * System V keys are handed out, not derived from names (lib/key_record.h):
 * the receiver of an instance records its key in "<runtime_dir>/
 * <mechanism>.<instance>.key", and no two records name one key.
 *
 * Sender: the key the receiver recorded; -ENOENT while there is none.
 */
int transport_sysv_key(const struct transport *t, int *ret_key);

/*
 * Receiver: call @open_at(t, key) with the key this instance recorded
 * before (its objects, left by a killed receiver, are adopted there), else
 * with the first key ftok(runtime_dir, 1..255) that no other record names
 * and under which no System V object exists, and record it. All under the
 * directory's lock. @open_at returns 0, -EEXIST (the key was taken
 * meanwhile: the next one is tried) or an error. transport_close() removes
 * the record. -ENOSPC when every key of the directory is taken.
 */
int transport_sysv_open_receiver(struct transport *t,
				 int (*open_at)(struct transport *t, int key));

/*
 * Wait until @fd is ready for @events (POLLIN, POLLOUT) or @timeout_ms
 * (-1 forever) passes, letting the stop signals in atomically (ppoll).
 * Returns 0 when ready (revents in *ret_revents if not NULL), -ETIMEDOUT,
 * -EINTR on a stop signal, or another negative errno.
 */
int transport_wait_fd(int fd, short events, int timeout_ms,
		      short *ret_revents);

/*
 * Give the pipe (or FIFO) behind @fd room for TRANSPORT_PIPE_PACKETS
 * frames. In packet mode every frame takes a whole pipe buffer, so the
 * default 64 KiB holds only 16 of them, and a burst above that makes the
 * button wait for POLLOUT after every 16 events. Best effort: the default
 * still works, only with less room (the kernel may refuse past
 * /proc/sys/fs/pipe-max-size or the user's pipe-user-pages-soft).
 */
#define TRANSPORT_PIPE_PACKETS	256
void transport_grow_pipe(int fd);

/*
 * Read one packet from the non-blocking @fd (a pipe or FIFO in packet
 * mode, a SOCK_SEQPACKET socket) into @buf,
 * waiting for POLLIN up to @timeout_ms (transport_wait_fd). Returns what
 * read() returned (0 is end of file) or a negative errno.
 * *@idle remembers whether the previous call had to wait: if it did, the
 * next packet is most likely not there yet either, so this one waits
 * before it reads and spares the read that would fail with EAGAIN, one
 * system call per isolated event (the button's usual case). A receiver
 * that keeps finding packets reads first.
 */
ssize_t transport_read_packet(int fd, uint8_t *buf, size_t size,
			      int timeout_ms, bool *idle);

/* CLOCK_MONOTONIC in nanoseconds, the clock of every timestamp we carry. */
uint64_t transport_now_ns(void);

#endif /* IPC_TRANSPORT_H */
