/* SPDX-License-Identifier: MIT */
/*
 * The bare version of each mechanism: what a careful programmer writes when
 * all that must cross is one 8-byte value (the event's seqno) and nothing
 * else matters. No message, no checksum, no validation, no ownership rules,
 * no -EAGAIN (sends block), no reconnecting. The receiver creates the object
 * and removes it on close. Each file is one mechanism, kept as small as the
 * mechanism allows, so that `ours / bare` measures what our framing,
 * validation and abstraction cost.
 */
#ifndef BENCH_BARE_H
#define BENCH_BARE_H

#include "../control.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct bare {
	const struct bare_ops *ops;
	bool receiver;
	const char *dir;		/* 0700, ours alone: files, sockets, ftok */
	const char *instance;		/* for global names */
	int inherited_fd;
	const char *const *options;	/* "port=N" and the like */
	struct bench_control *control;
	void *priv;
};

struct bare_ops {
	const char *name;		/* the mechanism it stands beside */
	bool lossy;
	/* Inherited mechanisms only: @fds[0] for the receiver, [1] the sender. */
	int (*make_pair)(int fds[2]);
	int (*open)(struct bare *b);
	/* 0 or a negative errno (-EAGAIN only where the kernel insists). */
	int (*send)(struct bare *b, uint64_t value);
	/* 0 with *value set, -ETIMEDOUT (lossy ones), or a negative errno. */
	int (*receive)(struct bare *b, uint64_t *value, int timeout_ms);
	void (*close)(struct bare *b);
};

#define BARE_REGISTER(ops_)						\
	static const struct bare_ops *const bare_entry_##ops_		\
	__attribute__((used, section("bench_bare"), aligned(sizeof(void *)))) = &(ops_)

const struct bare_ops *bare_find(const char *name);

/* Helpers the bare files share. */
int bare_path(const struct bare *b, const char *leaf, char *buf, size_t size);
/* "/ipc-bench.<instance>.<leaf>" for POSIX names. */
int bare_global_name(const struct bare *b, const char *leaf, char *buf,
		     size_t size);
/* A System V key from the bare directory, one per @id. */
int bare_sysv_key(const struct bare *b, int id, int *ret_key);
/* Option "port" as a number, or @fallback. */
int bare_port(const struct bare *b, int fallback);
/* read()/write() exactly @len bytes, retrying short transfers. */
int bare_read_full(int fd, void *buf, size_t len);
int bare_write_full(int fd, const void *buf, size_t len);

#endif /* BENCH_BARE_H */
