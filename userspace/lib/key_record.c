// SPDX-License-Identifier: MIT
#include "key_record.h"

#include "shared_object.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#define KEY_RECORD_SUFFIX	".key"

int key_record_lock_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		int r = -errno;

		if (r == -EINTR)
			continue;
		close(fd);
		return r;
	}
	return fd;
}

static int read_at(int dirfd, const char *path, int *ret_key)
{
	char text[32];
	unsigned long v;
	char *end;
	ssize_t n;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	text[n] = '\0';
	errno = 0;
	v = strtoul(text, &end, 16);
	if (errno || end == text || (*end && *end != '\n') || v == 0 ||
	    v > UINT32_MAX)
		return -EINVAL;
	*ret_key = (int)(unsigned int)v;
	return 0;
}

int key_record_read(const char *path, int *ret_key)
{
	return read_at(AT_FDCWD, path, ret_key);
}

bool key_record_taken(const char *dir, const char *except, int key)
{
	size_t suffix = strlen(KEY_RECORD_SUFFIX);
	struct dirent *e;
	bool taken = false;
	DIR *d;
	int other;

	d = opendir(dir);
	if (!d)
		return true;	/* cannot tell: assume the worst */
	while (!taken && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len <= suffix ||
		    strcmp(e->d_name + len - suffix, KEY_RECORD_SUFFIX) ||
		    !strcmp(e->d_name, except))
			continue;
		taken = read_at(dirfd(d), e->d_name, &other) == 0 &&
			other == key;
	}
	closedir(d);
	return taken;
}

int key_record_write(const char *dir, const char *path, int key)
{
	char text[16];
	int fd, n, r;

	fd = shared_object_tmpfile(dir);
	if (fd < 0)
		return fd;
	n = snprintf(text, sizeof(text), "0x%08x\n", (unsigned int)key);
	if (write(fd, text, n) != n) {
		r = errno ? -errno : -EIO;
		close(fd);
		return r;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		r = -errno;
		close(fd);
		return r;
	}
	r = shared_object_link(fd, path);
	close(fd);
	return r;
}

void key_record_remove(const char *path, int key)
{
	int recorded;

	if (key_record_read(path, &recorded) == 0 && recorded == key)
		(void)unlink(path);
}

/* No queue, set or segment of anyone's exists under @key. */
static bool key_unused(key_t key)
{
	return msgget(key, 0) < 0 && errno == ENOENT &&
	       semget(key, 0, 0) < 0 && errno == ENOENT &&
	       shmget(key, 0, 0) < 0 && errno == ENOENT;
}

int key_record_claim(const char *dir, const char *path,
		     int (*open_at)(void *ctx, int key), void *ctx,
		     int *ret_key)
{
	const char *slash = strrchr(path, '/');
	const char *leaf = slash ? slash + 1 : path;
	int lock, key, r;

	lock = key_record_lock_dir(dir);
	if (lock < 0)
		return lock;
	/* Ours from a previous run (a killed receiver): adopt it there. */
	if (key_record_read(path, &key) == 0 &&
	    !key_record_taken(dir, leaf, key) && open_at(ctx, key) == 0) {
		r = 0;
		goto out_unlock;
	}
	r = -ENOSPC;
	for (int proj = 1; proj <= 255; proj++) {
		key = ftok(dir, proj);
		if (key == -1) {
			r = -errno;
			break;
		}
		if (key_record_taken(dir, leaf, key) || !key_unused(key))
			continue;
		r = open_at(ctx, key);
		if (r == -EEXIST)
			continue;
		if (r == 0)
			r = key_record_write(dir, path, key);
		break;
	}
out_unlock:
	close(lock);
	if (r == 0)
		*ret_key = key;
	return r;
}
