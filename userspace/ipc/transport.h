/* SPDX-License-Identifier: MIT */
/*
 * The transport contract: one file per IPC mechanism in this directory,
 * chosen at run time by name (--via NAME). docs/architecture.md explains
 * the layers and rules; this header is the whole interface.
 *
 * Roles. A transport moves opaque frames (lib/message.h) from one SENDER
 * (the button) to one RECEIVER (the LED). It never interprets them: the
 * receiver's caller validates every frame. A mechanism that cannot carry
 * bytes rebuilds the frame on the receiving side and says so
 * (TRANSPORT_NO_PAYLOAD).
 *
 * Ownership. The RECEIVER creates every named object (adopting one a
 * killed receiver left, replacing a stale or foreign one) and removes it
 * on close, only if it is still its own. The SENDER only opens it. Before
 * a receiver's open() runs, transport_open() takes the instance's owner
 * lock, so a second receiver is refused (TRANSPORT_BUSY) and the first
 * goes on undisturbed. Not for TRANSPORT_INHERITED (the launcher hands out
 * one pair) nor TRANSPORT_FAN_OUT (every receiver has its own copy).
 *
 * Names. An instance's objects are named from the runtime directory, the
 * mechanism and the instance, by transport_object_path(),
 * transport_global_name() and transport_sysv_key(); nothing else.
 *
 * Returns. 0 (or a length), a status below, or another negative errno,
 * which is fatal. Nothing here prints: when there is more to say than the
 * errno (who holds the lock, which file went), t->detail says it, and the
 * program prints it once (lib/log.h). What happens while a call goes on
 * and ends no call (a bus lost, a peer refused, frames left unconfirmed at
 * close) goes to the program's notice callback (transport_notice()).
 */
#ifndef IPC_TRANSPORT_H
#define IPC_TRANSPORT_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Batches. When events queue up, a mechanism may carry several frames per
 * system call (one packet of several frames, sendmmsg(), a ring drained
 * in one go). At most TRANSPORT_BATCH_MAX frames: 64 frames of 40 bytes
 * are 2560, below PIPE_BUF, so one pipe or FIFO packet holds them all.
 */
#define TRANSPORT_BATCH_MAX	64
/* Room for one received frame: the largest valid one, with room to spare
 * to detect an oversized one (IPC_MESSAGE_MAX_WIRE, lib/message.h). */
#define TRANSPORT_FRAME_ROOM	256

/* What one receive_many() returned: @count frames, in order. */
struct transport_batch {
	size_t count;
	size_t len[TRANSPORT_BATCH_MAX];
	uint8_t frame[TRANSPORT_BATCH_MAX][TRANSPORT_FRAME_ROOM];
};

enum transport_role {
	TRANSPORT_SENDER,
	TRANSPORT_RECEIVER,
};

/*
 * The answers a caller acts on, one meaning each. They are negative errno
 * values so that strerror() still reads them, but a mechanism returns each
 * only with the meaning given here (ENXIO, ECONNREFUSED and the like are
 * translated into TRANSPORT_ABSENT where the system says "nobody there").
 */
enum transport_status {
	/* open(), sender: no receiver yet. Keep the events; open again later. */
	TRANSPORT_ABSENT = -ENOENT,
	/* send(): the receiver went away or its object was replaced. Keep the
	 * frame, close, open again later. receive(): no sender can ever come
	 * back (end of an inherited pipe or socketpair). */
	TRANSPORT_STALE = -EPIPE,
	/* open(): another live process holds this role of the instance;
	 * t->detail (or transport_open's @ret_detail) names it. */
	TRANSPORT_BUSY = -EBUSY,
	/* send(): full right now. Keep the frame; retry when poll_fd() is
	 * ready for transport_room_events(), or after a back-off
	 * (lib/backoff.h) when there is none. Ask for poll_fd() after this
	 * answer: a sender's may be made by the send() that gave it. */
	TRANSPORT_FULL = -EAGAIN,
};

/* Properties of a mechanism, for listings, docs and tests. */
#define TRANSPORT_LOSSLESS	(1U << 0) /* nothing lost while both run */
#define TRANSPORT_PUSH		(1U << 1) /* data pushed to a waiting receiver,
					   * else it reads shared state */
#define TRANSPORT_INHERITED	(1U << 2) /* needs an fd from the launcher */
#define TRANSPORT_NETWORK	(1U << 3) /* may cross hosts */
#define TRANSPORT_NO_PAYLOAD	(1U << 4) /* frames rebuilt by the receiver */
#define TRANSPORT_DURABLE	(1U << 5) /* queued frames survive the
					   * receiver's death (tests check) */
#define TRANSPORT_FAN_OUT	(1U << 6) /* every receiver gets a copy */
#define TRANSPORT_IDLE_REPORTS	(1U << 7) /* the sender needs the button's
					   * idle state reports to answer a
					   * receiver that came while no
					   * event did (sem-posix, dbus) */
#define TRANSPORT_WAKE_ANYWHERE	(1U << 8) /* wake() ends every wait of the
					   * receiver wherever the stop
					   * handler lands, so the stop
					   * signals may stay let in
					   * (stop_let_in, lib/stop.h) and
					   * it sleeps in the mechanism's
					   * own blocking call */
#define TRANSPORT_ROOM_READABLE	(1U << 9) /* a sender's poll_fd() says
					   * room by POLLIN, not POLLOUT (an
					   * inotify descriptor: shared-file;
					   * an epoll one: mq-posix);
					   * transport_room_events() */

struct transport_option {
	const char *name;		/* key of --opt key=value */
	const char *default_value;	/* NULL: no default */
	const char *help;		/* one line */
	/* Optional: NULL when @value is fine, else why not (one phrase);
	 * the programs check every --opt with it while parsing. */
	const char *(*check)(const char *value);
};

struct transport_config {
	const char *runtime_dir;	/* per-user directory, 0700 */
	const char *instance;		/* tells concurrent runs apart; NULL: "0" */
	int inherited_fd;		/* the launcher's end, or -1 */
	const char *const *options;	/* NULL-terminated "key=value" */
	/* Optional: told at once, one line starting with the mechanism's
	 * name, at a syslog priority (LOG_ERR, LOG_WARNING); NULL: dropped.
	 * May be called from a transport's own thread (mqtt's sender). */
	void (*notice)(void *ctx, int priority, const char *text);
	void *notice_ctx;
};

struct transport;

struct transport_ops {
	const char *name;	/* the --via value: "fifo", "mq-posix", ... */
	const char *summary;	/* one line for --list */
	unsigned int flags;	/* TRANSPORT_* */
	const struct transport_option *options;	/* NULL-name terminated, or NULL */

	/* Set up t->priv for t->role: 0, TRANSPORT_ABSENT (sender),
	 * TRANSPORT_BUSY, or a fatal errno. */
	int (*open)(struct transport *t);
	/* One frame, without blocking for long: 0, TRANSPORT_FULL,
	 * TRANSPORT_STALE, or a fatal errno. */
	int (*send)(struct transport *t, const uint8_t *frame, size_t len);
	/* Wait up to @timeout_ms (-1: forever) for one frame: its length (the
	 * caller validates it), -ETIMEDOUT, -EINTR (stop signal, lib/stop.h),
	 * TRANSPORT_STALE, or a fatal errno. Frames the transport itself
	 * refuses are counted in t->rejected, not returned. */
	ssize_t (*receive)(struct transport *t, uint8_t *buf, size_t size,
			   int timeout_ms);
	/* Optional: @count (1..TRANSPORT_BATCH_MAX) frames of @len bytes
	 * each, back to back at @frames, in order, in as few system calls
	 * as the mechanism allows. Returns how many it took from the front
	 * (1..@count; the rest stay the caller's, to offer again), or as
	 * send() when it took none. NULL: transport_send_many() calls
	 * send() once per frame. */
	int (*send_many)(struct transport *t, const uint8_t *frames,
			 size_t len, size_t count);
	/* Optional: wait as receive() for the first frame, then add what is
	 * already there without waiting, up to TRANSPORT_BATCH_MAX, in
	 * order, into @batch. Returns batch->count (1 or more), or as
	 * receive() when there is no frame. A frame is never split between
	 * two calls, and what is not taken stays in the mechanism. NULL:
	 * transport_receive_many() calls receive() once. */
	ssize_t (*receive_many)(struct transport *t,
				struct transport_batch *batch, int timeout_ms);
	/* Optional: an fd to poll, readable when receive() has something;
	 * for a sender, ready for transport_room_events() when its
	 * TRANSPORT_FULL may have cleared (send again to know; a readable
	 * one is emptied by the send() that answers TRANSPORT_FULL, so it
	 * does not wake for what came before); -1 if none. */
	int (*poll_fd)(struct transport *t);
	/* Optional, async-signal-safe: make a receive() blocked where no
	 * signal can interrupt it race-free (semop, futex, read) return
	 * -EINTR. */
	void (*wake)(struct transport *t);
	/* Optional: undo what wake() did (a descriptor swapped, lib/wake_fd.h)
	 * once the stop is taken, so that what is queued can still be
	 * received and a second stop wakes again. Not from a handler. */
	void (*unwake)(struct transport *t);
	/* Release everything; the receiver removes what is still its own
	 * (and says in t->detail what went with it). */
	void (*close)(struct transport *t);
	/* TRANSPORT_INHERITED only: the pair the launcher hands out,
	 * close-on-exec: [0] for the receiver, [1] for the sender. */
	int (*make_pair)(int ret_fds[2]);
};

/* Room for a path and a sentence about it. */
#define TRANSPORT_DETAIL_MAX	(PATH_MAX + 256)

struct transport {
	const struct transport_ops *ops;
	enum transport_role role;
	const struct transport_config *config;
	void *priv;			/* struct <mechanism>_state */
	uint64_t rejected;		/* frames refused by the transport */
	char detail[TRANSPORT_DETAIL_MAX]; /* more than the errno says, or "" */
	/* The dispatcher's own: */
	int owner_fd;			/* receiver: the instance lock, or -1 */
	bool sysv_recorded;		/* receiver: sysv_key is recorded */
	int sysv_key;
};

/* Each mechanism file ends with TRANSPORT_REGISTER(its_ops): the registry
 * finds them in a linker section, with no central list to edit. */
#define TRANSPORT_REGISTER(ops_)					\
	static const struct transport_ops *const transport_entry_##ops_ \
	__attribute__((used, section("ipc_transports"), aligned(sizeof(void *)))) = &(ops_)

/* Lookup by name; NULL if unknown. */
const struct transport_ops *transport_find(const char *name);
/* All mechanisms in the canonical order; returns the count. */
size_t transport_list(const struct transport_ops **ret, size_t max);

/*
 * Check every option key, take the owner lock (a receiver), then ops->open.
 * 0 and a new *@ret (free it with transport_close()), or as ops->open;
 * -EINVAL for an option this mechanism does not have. On failure,
 * @ret_detail (TRANSPORT_DETAIL_MAX bytes, may be NULL) gets t->detail.
 */
int transport_open(const struct transport_ops *ops, enum transport_role role,
		   const struct transport_config *config,
		   struct transport **ret, char *ret_detail);
/* Close and free @t (NULL is fine). What the close had to say (frames
 * discarded with the object) goes to @ret_detail if not NULL, else "". */
void transport_close(struct transport *t, char *ret_detail);
int transport_send(struct transport *t, const uint8_t *frame, size_t len);
ssize_t transport_receive(struct transport *t, uint8_t *buf, size_t size,
			  int timeout_ms);
int transport_poll_fd(struct transport *t);
/* What a sender polls its poll_fd() for after TRANSPORT_FULL: POLLOUT, or
 * POLLIN for a mechanism with TRANSPORT_ROOM_READABLE. */
short transport_room_events(const struct transport *t);
/*
 * A receiver's way of taking a stop signal (lib/stop.h): the handler
 * calls ops->wake; and when the mechanism says TRANSPORT_WAKE_ANYWHERE,
 * the stop signals are let in for good, so it sleeps in its own blocking
 * call with no system call more per event. Returns 0 or -errno.
 */
int transport_arm_stop(struct transport *t);
/* After a stop was taken (stop_rearm): ops->unwake, if any. */
void transport_unwake(struct transport *t);
/* ops->send_many, or send() frame by frame until one is not taken: how
 * many were taken (the caller drops them from its backlog), or send()'s
 * answer for the first when none was. @count above TRANSPORT_BATCH_MAX
 * offers the first TRANSPORT_BATCH_MAX. */
int transport_send_many(struct transport *t, const uint8_t *frames,
			size_t len, size_t count);
/* ops->receive_many, or one receive() into batch->frame[0]. */
ssize_t transport_receive_many(struct transport *t,
			       struct transport_batch *batch, int timeout_ms);

/* Format one line and hand it to the program's notice callback, if any. */
void transport_notice(const struct transport *t, int priority,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The value of option @key: the configured one, else its default, or NULL. */
const char *transport_option(const struct transport *t, const char *key);

/* "<runtime_dir>/<mechanism>.<instance>": a file-system object. */
int transport_object_path(const struct transport *t, char *buf, size_t size);

/* "/ipc-button.<uid>.<instance>.<mechanism>": a POSIX shm, semaphore or
 * message queue name, per user and per instance. */
int transport_global_name(const struct transport *t, char *buf, size_t size);

/*
 * System V keys are handed out, not derived (lib/key_record.h), and
 * recorded in "<runtime_dir>/<mechanism>.<instance>.key".
 * Sender: the recorded key, or TRANSPORT_ABSENT while there is none.
 * Receiver: call @open_at(t, key) with this instance's recorded key, else
 * with a free one, and record it; @open_at returns 0, -EEXIST (try the
 * next key) or an error. transport_close() removes the record.
 */
int transport_sysv_key(const struct transport *t, int *ret_key);
int transport_sysv_open_receiver(struct transport *t,
				 int (*open_at)(struct transport *t, int key));

#endif /* IPC_TRANSPORT_H */
