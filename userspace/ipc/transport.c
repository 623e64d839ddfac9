// SPDX-License-Identifier: MIT
/*
 * The registry of mechanisms and the dispatcher of the contract in
 * transport.h: option checks, the receiver's owner lock, the names of an
 * instance's objects. Everything else a mechanism needs is in lib/.
 */
#include "transport.h"

#include "../lib/stop.h"

#include "../lib/key_record.h"
#include "../lib/message.h"
#include "../lib/owner_lock.h"
#include "../lib/stop.h"

#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bounds of the "ipc_transports" section, provided by the linker. */
extern const struct transport_ops *const __start_ipc_transports[];
extern const struct transport_ops *const __stop_ipc_transports[];

/*
 * The one order of the mechanisms, from the simplest (inherited descriptors)
 * to the buses, as the README and docs list them: listings and tests follow it.
 */
static const char *const canonical_order[] = {
	"pipe", "fifo", "shared-file", "shm-sysv", "shm-posix", "mmap",
	"mq-sysv", "mq-posix", "sem-sysv", "sem-posix", "signal",
	"socketpair", "unix", "tcp", "udp", "udp-broadcast", "udp-multicast",
	"tls", "dbus", "mqtt",
};

static size_t order_of(const char *name)
{
	size_t n = sizeof(canonical_order) / sizeof(canonical_order[0]);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(canonical_order[i], name))
			return i;
	return n;
}

const struct transport_ops *transport_find(const char *name)
{
	for (const struct transport_ops *const *p = __start_ipc_transports;
	     p < __stop_ipc_transports; p++)
		if (!strcmp((*p)->name, name))
			return *p;
	return NULL;
}

static int compare_order(const void *a, const void *b)
{
	const struct transport_ops *const *x = a, *const *y = b;
	size_t ox = order_of((*x)->name), oy = order_of((*y)->name);

	if (ox != oy)
		return ox < oy ? -1 : 1;
	return strcmp((*x)->name, (*y)->name);
}

size_t transport_list(const struct transport_ops **ret, size_t max)
{
	size_t n = 0;

	for (const struct transport_ops *const *p = __start_ipc_transports;
	     p < __stop_ipc_transports && n < max; p++)
		ret[n++] = *p;
	qsort(ret, n, sizeof(*ret), compare_order);
	return n;
}

static const struct transport_option *find_option(const struct transport_ops *ops,
						  const char *key, size_t keylen)
{
	if (!ops->options)
		return NULL;
	for (const struct transport_option *o = ops->options; o->name; o++)
		if (strlen(o->name) == keylen && !strncmp(o->name, key, keylen))
			return o;
	return NULL;
}

static void set_detail(char *detail, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_detail(char *detail, const char *fmt, ...)
{
	va_list ap;

	if (!detail)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, TRANSPORT_DETAIL_MAX, fmt, ap);
	va_end(ap);
}

static int check_options(const struct transport_ops *ops,
			 const struct transport_config *config, char *detail)
{
	if (!config->options)
		return 0;
	for (const char *const *opt = config->options; *opt; opt++) {
		const char *eq = strchr(*opt, '=');

		if (!eq) {
			set_detail(detail, "option '%s' is not key=value", *opt);
			return -EINVAL;
		}
		if (!find_option(ops, *opt, eq - *opt)) {
			set_detail(detail, "unknown option '%.*s' (see --list-options)",
				   (int)(eq - *opt), *opt);
			return -EINVAL;
		}
	}
	return 0;
}

static const char *instance_of(const struct transport *t)
{
	return t->config->instance ? t->config->instance : "0";
}

/* "<runtime_dir>/<mechanism>.<instance><suffix>" */
static int instance_path(const struct transport *t, const char *suffix,
			 char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s.%s%s", t->config->runtime_dir,
			 t->ops->name, instance_of(t), suffix);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int take_owner_lock(struct transport *t)
{
	char path[PATH_MAX];
	pid_t holder;
	int r;

	r = instance_path(t, ".lock", path, sizeof(path));
	if (r < 0)
		return r;
	r = owner_lock_take(path, &holder);
	if (r == -EBUSY && holder > 0)
		set_detail(t->detail, "instance '%s' already has a receiver (pid %ld, %s); refusing a second one",
			   instance_of(t), (long)holder, path);
	else if (r == -EBUSY)
		set_detail(t->detail, "instance '%s' already has a receiver (%s); refusing a second one",
			   instance_of(t), path);
	else if (r < 0)
		set_detail(t->detail, "lock %s", path);
	if (r < 0)
		return r;
	t->owner_fd = r;
	return 0;
}

static void release_owner_lock(struct transport *t)
{
	char path[PATH_MAX];

	if (t->owner_fd < 0)
		return;
	if (instance_path(t, ".lock", path, sizeof(path)) == 0)
		owner_lock_release(t->owner_fd, path);
	else
		close(t->owner_fd);
	t->owner_fd = -1;
}

/*
 * What the system answers when nobody is there yet: open(2) of a FIFO
 * without a reader, connect(2) to a socket nobody listens on.
 */
static bool nobody_there(int r)
{
	return r == -ENXIO || r == -ECONNREFUSED;
}

int transport_open(const struct transport_ops *ops, enum transport_role role,
		   const struct transport_config *config,
		   struct transport **ret, char *ret_detail)
{
	struct transport *t;
	int r;

	*ret = NULL;
	if (ret_detail)
		ret_detail[0] = '\0';
	r = check_options(ops, config, ret_detail);
	if (r < 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ops = ops;
	t->role = role;
	t->config = config;
	t->owner_fd = -1;
	if (role == TRANSPORT_RECEIVER &&
	    !(ops->flags & (TRANSPORT_INHERITED | TRANSPORT_FAN_OUT))) {
		r = take_owner_lock(t);
		if (r < 0)
			goto err_free;
	}
	r = ops->open(t);
	if (r < 0)
		goto err_release_lock;
	*ret = t;
	return 0;

err_release_lock:
	release_owner_lock(t);
	if (role == TRANSPORT_SENDER && nobody_there(r))
		r = TRANSPORT_ABSENT;
err_free:
	if (ret_detail)
		memcpy(ret_detail, t->detail, TRANSPORT_DETAIL_MAX);
	free(t);
	return r;
}

void transport_close(struct transport *t, char *ret_detail)
{
	if (ret_detail)
		ret_detail[0] = '\0';
	if (!t)
		return;
	t->detail[0] = '\0';
	t->ops->close(t);
	if (ret_detail)
		memcpy(ret_detail, t->detail, TRANSPORT_DETAIL_MAX);
	if (t->sysv_recorded) {
		char path[PATH_MAX];

		/* After the objects: a record without them is harmless. */
		if (instance_path(t, ".key", path, sizeof(path)) == 0)
			key_record_remove(path, t->sysv_key);
	}
	release_owner_lock(t);
	free(t);
}

int transport_send(struct transport *t, const uint8_t *frame, size_t len)
{
	return t->ops->send(t, frame, len);
}

ssize_t transport_receive(struct transport *t, uint8_t *buf, size_t size,
			  int timeout_ms)
{
	return t->ops->receive(t, buf, size, timeout_ms);
}

_Static_assert(TRANSPORT_FRAME_ROOM == IPC_MESSAGE_MAX_WIRE,
	       "a batch's frame has the room of a receive buffer");
_Static_assert(TRANSPORT_BATCH_MAX * IPC_MESSAGE_SIZE <= 4096,
	       "a batch of frames fits one atomic pipe write (PIPE_BUF)");

int transport_send_many(struct transport *t, const uint8_t *frames,
			size_t len, size_t count)
{
	size_t sent;
	int r;

	if (!count)
		return -EINVAL;
	if (count > TRANSPORT_BATCH_MAX)
		count = TRANSPORT_BATCH_MAX;
	if (t->ops->send_many)
		return t->ops->send_many(t, frames, len, count);
	for (sent = 0; sent < count; sent++) {
		r = t->ops->send(t, frames + sent * len, len);
		/* What was taken counts; the refusal comes again next call. */
		if (r < 0)
			return sent ? (int)sent : r;
	}
	return (int)sent;
}

ssize_t transport_receive_many(struct transport *t,
			       struct transport_batch *batch, int timeout_ms)
{
	ssize_t n;

	batch->count = 0;
	if (t->ops->receive_many)
		return t->ops->receive_many(t, batch, timeout_ms);
	n = t->ops->receive(t, batch->frame[0], sizeof(batch->frame[0]),
			    timeout_ms);
	if (n < 0)
		return n;
	batch->len[0] = (size_t)n;
	batch->count = 1;
	return 1;
}

int transport_poll_fd(struct transport *t)
{
	return t->ops->poll_fd ? t->ops->poll_fd(t) : -1;
}

short transport_room_events(const struct transport *t)
{
	return t->ops->flags & TRANSPORT_ROOM_READABLE ? POLLIN : POLLOUT;
}

static void transport_wake(void *arg)
{
	struct transport *t = arg;

	t->ops->wake(t);
}

int transport_arm_stop(struct transport *t)
{
	if (t->role != TRANSPORT_RECEIVER || !t->ops->wake)
		return 0;
	stop_set_wake(transport_wake, t);
	return t->ops->flags & TRANSPORT_WAKE_ANYWHERE ? stop_let_in() : 0;
}

void transport_unwake(struct transport *t)
{
	if (t && t->ops->unwake)
		t->ops->unwake(t);
}

void transport_notice(const struct transport *t, int priority,
		      const char *fmt, ...)
{
	char text[TRANSPORT_DETAIL_MAX];
	va_list ap;

	if (!t->config->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	t->config->notice(t->config->notice_ctx, priority, text);
}

const char *transport_option(const struct transport *t, const char *key)
{
	const struct transport_option *o = find_option(t->ops, key, strlen(key));
	size_t keylen = strlen(key);
	const char *value = o ? o->default_value : NULL;

	/* The last occurrence wins, like repeated command-line options. */
	if (t->config->options)
		for (const char *const *opt = t->config->options; *opt; opt++)
			if (!strncmp(*opt, key, keylen) && (*opt)[keylen] == '=')
				value = *opt + keylen + 1;
	return value;
}

int transport_object_path(const struct transport *t, char *buf, size_t size)
{
	return instance_path(t, "", buf, size);
}

int transport_global_name(const struct transport *t, char *buf, size_t size)
{
	int n = snprintf(buf, size, "/ipc-button.%u.%s.%s", (unsigned int)getuid(),
			 instance_of(t), t->ops->name);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	/* POSIX names are one path component: no '/' after the first. */
	if (strchr(buf + 1, '/'))
		return -EINVAL;
	return 0;
}

int transport_sysv_key(const struct transport *t, int *ret_key)
{
	char path[PATH_MAX];
	int r;

	r = instance_path(t, ".key", path, sizeof(path));
	if (r < 0)
		return r;
	r = key_record_read(path, ret_key);
	/* Missing or half-written: the receiver is not there yet. */
	return r == -EINVAL || r == -ENOENT ? TRANSPORT_ABSENT : r;
}

struct sysv_open_call {
	struct transport *t;
	int (*open_at)(struct transport *t, int key);
};

static int call_open_at(void *ctx, int key)
{
	struct sysv_open_call *call = ctx;

	return call->open_at(call->t, key);
}

int transport_sysv_open_receiver(struct transport *t,
				 int (*open_at)(struct transport *t, int key))
{
	struct sysv_open_call call = { .t = t, .open_at = open_at };
	char path[PATH_MAX];
	int r;

	r = instance_path(t, ".key", path, sizeof(path));
	if (r < 0)
		return r;
	r = key_record_claim(t->config->runtime_dir, path, call_open_at, &call,
			     &t->sysv_key);
	if (r == 0)
		t->sysv_recorded = true;
	return r;
}
