// SPDX-License-Identifier: MIT
/*
 * The registry of mechanisms and the helpers every transport shares.
 */
#include "transport.h"

#include "../lib/key_record.h"
#include "../lib/owner_lock.h"
#include "../lib/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>
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

static int check_options(const struct transport_ops *ops,
			 const struct transport_config *config)
{
	if (!config->options)
		return 0;
	for (const char *const *opt = config->options; *opt; opt++) {
		const char *eq = strchr(*opt, '=');

		if (!eq) {
			fprintf(stderr, "%s: option '%s' is not key=value\n",
				ops->name, *opt);
			return -EINVAL;
		}
		if (!find_option(ops, *opt, eq - *opt)) {
			fprintf(stderr, "%s: unknown option '%.*s' (see --list-options)\n",
				ops->name, (int)(eq - *opt), *opt);
			return -EINVAL;
		}
	}
	return 0;
}

static int sysv_record_path(const struct transport *t, char *buf,
			    size_t size);

static int take_owner_lock(struct transport *t)
{
	char path[PATH_MAX];
	pid_t holder;
	int r;

	r = transport_owner_path(t, path, sizeof(path));
	if (r < 0)
		return r;
	r = owner_lock_take(path, &holder);
	if (r == -EBUSY) {
		if (holder > 0)
			fprintf(stderr, "%s: instance '%s' already has a receiver (pid %ld, %s); refusing a second one\n",
				t->ops->name, t->config->instance ? t->config->instance : "0",
				(long)holder, path);
		else
			fprintf(stderr, "%s: instance '%s' already has a receiver (%s); refusing a second one\n",
				t->ops->name, t->config->instance ? t->config->instance : "0",
				path);
		return r;
	}
	if (r < 0) {
		fprintf(stderr, "%s: lock %s: %s\n", t->ops->name, path,
			strerror(-r));
		return r;
	}
	t->owner_fd = r;
	return 0;
}

static void release_owner_lock(struct transport *t)
{
	char path[PATH_MAX];

	if (t->owner_fd < 0)
		return;
	if (transport_owner_path(t, path, sizeof(path)) == 0)
		owner_lock_release(t->owner_fd, path);
	else
		close(t->owner_fd);
	t->owner_fd = -1;
}

int transport_open(const struct transport_ops *ops, enum transport_role role,
		   const struct transport_config *config,
		   struct transport **ret)
{
	struct transport *t;
	int r;

	r = check_options(ops, config);
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
		if (r < 0) {
			free(t);
			return r;
		}
	}
	r = ops->open(t);
	if (r < 0) {
		release_owner_lock(t);
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

void transport_close(struct transport *t)
{
	if (!t)
		return;
	t->ops->close(t);
	if (t->sysv_recorded) {
		char path[PATH_MAX];

		/* After the objects: a record without them is harmless. */
		if (sysv_record_path(t, path, sizeof(path)) == 0)
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

int transport_poll_fd(struct transport *t)
{
	return t->ops->poll_fd ? t->ops->poll_fd(t) : -1;
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

int transport_path(const struct transport *t, const char *leaf, char *buf,
		   size_t size)
{
	int n = snprintf(buf, size, "%s/%s", t->config->runtime_dir, leaf);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int transport_object_path(const struct transport *t, char *buf, size_t size)
{
	const char *instance = t->config->instance ? t->config->instance : "0";
	int n = snprintf(buf, size, "%s/%s.%s", t->config->runtime_dir,
			 t->ops->name, instance);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int transport_owner_path(const struct transport *t, char *buf, size_t size)
{
	const char *instance = t->config->instance ? t->config->instance : "0";
	int n = snprintf(buf, size, "%s/%s.%s.lock", t->config->runtime_dir,
			 t->ops->name, instance);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int transport_global_name(const struct transport *t, char *buf, size_t size)
{
	const char *instance = t->config->instance ? t->config->instance : "0";
	int n = snprintf(buf, size, "/ipc-button.%u.%s.%s", (unsigned int)getuid(),
			 instance, t->ops->name);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	/* POSIX names are one path component: no '/' after the first. */
	if (strchr(buf + 1, '/'))
		return -EINVAL;
	return 0;
}

static int sysv_record_path(const struct transport *t, char *buf, size_t size)
{
	const char *instance = t->config->instance ? t->config->instance : "0";
	int n = snprintf(buf, size, "%s/%s.%s.key", t->config->runtime_dir,
			 t->ops->name, instance);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int transport_sysv_key(const struct transport *t, int *ret_key)
{
	char path[PATH_MAX];
	int r;

	r = sysv_record_path(t, path, sizeof(path));
	if (r < 0)
		return r;
	r = key_record_read(path, ret_key);
	/* Missing or half-written: the receiver is not there yet. */
	return r == -EINVAL ? -ENOENT : r;
}

/* No queue, set or segment of anyone's exists under @key. */
static bool sysv_key_unused(key_t key)
{
	return msgget(key, 0) < 0 && errno == ENOENT &&
	       semget(key, 0, 0) < 0 && errno == ENOENT &&
	       shmget(key, 0, 0) < 0 && errno == ENOENT;
}

int transport_sysv_open_receiver(struct transport *t,
				 int (*open_at)(struct transport *t, int key))
{
	const char *dir = t->config->runtime_dir;
	char path[PATH_MAX];
	const char *leaf;
	int lock, key, r;

	r = sysv_record_path(t, path, sizeof(path));
	if (r < 0)
		return r;
	leaf = strrchr(path, '/') + 1;
	lock = key_record_lock_dir(dir);
	if (lock < 0)
		return lock;
	/* Ours from a previous run (a killed receiver): adopt it there. */
	if (key_record_read(path, &key) == 0 &&
	    !key_record_taken(dir, leaf, key) && open_at(t, key) == 0)
		goto recorded;
	r = -ENOSPC;
	for (int proj = 1; proj <= 255; proj++) {
		key = ftok(dir, proj);
		if (key == -1) {
			r = -errno;
			break;
		}
		if (key_record_taken(dir, leaf, key) || !sysv_key_unused(key))
			continue;
		r = open_at(t, key);
		if (r == -EEXIST)
			continue;
		if (r == 0)
			r = key_record_write(dir, path, key);
		break;
	}
	if (r < 0) {
		close(lock);
		return r;
	}
recorded:
	t->sysv_key = key;
	t->sysv_recorded = true;
	close(lock);
	return 0;
}

int transport_wait_fd(int fd, short events, int timeout_ms,
		      short *ret_revents)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	struct timespec ts, *tsp = NULL;
	int r;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	if (stop_requested())
		return -EINTR;
	r = ppoll(&pfd, 1, tsp, stop_wait_mask());
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if (ret_revents)
		*ret_revents = pfd.revents;
	return 0;
}

ssize_t transport_read_packet(int fd, uint8_t *buf, size_t size,
			      int timeout_ms, bool *idle)
{
	bool waited = false;
	ssize_t n;
	int r;

	for (;;) {
		if (*idle || waited) {
			r = transport_wait_fd(fd, POLLIN, timeout_ms, NULL);
			if (r < 0) {
				*idle = true;
				return r;
			}
			waited = true;
		}
		n = read(fd, buf, size);
		if (n >= 0) {
			*idle = waited;
			return n;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		waited = true;	/* wait (again) before the next read */
	}
}

void transport_grow_pipe(int fd)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page > 0)
		(void)fcntl(fd, F_SETPIPE_SZ, (int)(TRANSPORT_PIPE_PACKETS * page));
}

uint64_t transport_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
