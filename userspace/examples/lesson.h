/* SPDX-License-Identifier: MIT */
/*
 * A lesson: one IPC mechanism used in as few lines as it allows, to carry
 * one 8-byte value (a button press's number) from a sender to a receiver.
 * No framing, no validation, no ownership rules, no reconnecting: what a
 * careful programmer writes first. The receiver creates the object and
 * removes it on close; the sender only opens it.
 *
 * Each lesson file fills one struct lesson_ops and registers it. Two
 * programs run them: ipc-lesson (main.c: fork a receiver and a sender,
 * send a few presses, print what arrives) and the benchmark (ipc-bench,
 * where a lesson is the "bare" baseline its transport is measured beside).
 * Both open and close a lesson with lesson_open() and lesson_close(), which
 * own the lesson's state: a lesson's open finds it zeroed in l->priv and
 * undoes only the objects it made itself.
 */
#ifndef LESSON_H
#define LESSON_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lesson {
	const struct lesson_ops *ops;
	bool receiver;
	const char *dir;		/* 0700, ours alone: files, sockets, ftok */
	const char *instance;		/* makes global names unique per run */
	int inherited_fd;		/* pipe, socketpair: our end, or -1 */
	const char *const *options;	/* "key=value", NULL-terminated */
	_Atomic int32_t *receiver_pid;	/* signal: the receiver publishes it here */
	void *priv;			/* ops->state_size bytes, or NULL */
};

struct lesson_ops {
	const char *name;		/* as --via names the mechanism */
	/* The size of the lesson's state (struct <name>_state), or 0. */
	size_t state_size;
	bool lossy;			/* a receive may time out: datagrams */
	/* One line: what must run first (a bus, a broker, certificates). */
	const char *needs;
	/* Inherited mechanisms only: @fds[0] for the receiver, [1] the sender. */
	int (*make_pair)(int fds[2]);
	/*
	 * 0 or a negative errno. The receiver's open creates the object. A
	 * failed open has undone what it made; its state is freed for it.
	 */
	int (*open)(struct lesson *l);
	/* 0 or a negative errno (-EAGAIN only where the kernel insists). */
	int (*send)(struct lesson *l, uint64_t value);
	/* 0 with *value set, -ETIMEDOUT (lossy ones), or a negative errno. */
	int (*receive)(struct lesson *l, uint64_t *value, int timeout_ms);
	/* Closes; the receiver also removes the object. NULL: nothing to do. */
	void (*close)(struct lesson *l);
};

/* Every lesson registers its ops in one linker section: the registry. */
#define LESSON_REGISTER(ops_)						\
	static const struct lesson_ops *const lesson_entry_##ops_	\
	__attribute__((used, section("lessons"), aligned(sizeof(void *)))) = &(ops_)

const struct lesson_ops *lesson_find(const char *name);
/* The registered lessons, in link order: *ret_count of them. */
const struct lesson_ops *const *lesson_all(size_t *ret_count);

/*
 * Runs @l->ops->open with l->priv set to zeroed state of
 * @l->ops->state_size bytes: 0, -ENOMEM, or what the open returned.
 */
int lesson_open(struct lesson *l);
/* Runs @l->ops->close, then frees the state. */
void lesson_close(struct lesson *l);

/* Helpers the lessons share. */
/* "<dir>/<leaf>". */
int lesson_path(const struct lesson *l, const char *leaf, char *buf, size_t size);
/* "/ipc-lesson.<instance>.<leaf>", for POSIX names. */
int lesson_global_name(const struct lesson *l, const char *leaf, char *buf,
		       size_t size);
/* A System V key from the lesson's directory, one per @id. */
int lesson_sysv_key(const struct lesson *l, int id, int *ret_key);
/* The value of option @key, or NULL. */
const char *lesson_option(const struct lesson *l, const char *key);
/* Option "port" (1-65535), @fallback without it, or -EINVAL. */
int lesson_port(const struct lesson *l, int fallback);
/* IPv4 address @ip ("127.0.0.1") with option port= or @default_port. */
int lesson_inet_address(const struct lesson *l, const char *ip,
			int default_port, struct sockaddr_in *ret_addr);
/* read()/write() exactly @len bytes, retrying short transfers. */
int lesson_read_full(int fd, void *buf, size_t len);
int lesson_write_full(int fd, const void *buf, size_t len);

#endif /* LESSON_H */
