// SPDX-License-Identifier: MIT
#include "runtime_dir.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int choose(const char *explicit_dir, char *buf, size_t size)
{
	const char *env;
	int n;

	if (explicit_dir && *explicit_dir)
		n = snprintf(buf, size, "%s", explicit_dir);
	else if ((env = getenv("IPC_BUTTON_RUNTIME_DIR")) && *env)
		n = snprintf(buf, size, "%s", env);
	else if ((env = getenv("XDG_RUNTIME_DIR")) && *env)
		n = snprintf(buf, size, "%s/ipc-button", env);
	else if (geteuid() == 0)
		n = snprintf(buf, size, "/run/ipc-button");
	else {
		log_error("no runtime directory: XDG_RUNTIME_DIR is not set; use --runtime-dir DIR");
		return -ENOENT;
	}
	if (n < 0 || (size_t)n >= size) {
		log_error("runtime directory name too long");
		return -ENAMETOOLONG;
	}
	/* Trailing slashes would make "dir/" and "dir" different keys. */
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return 0;
}

int runtime_dir_prepare(const char *explicit_dir, char *buf, size_t size)
{
	struct stat st;
	int r;

	r = choose(explicit_dir, buf, size);
	if (r < 0)
		return r;

	if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		log_errno(r, "runtime directory %s", buf);
		return r;
	}
	/* lstat, not stat: a symlink planted here could redirect our objects. */
	if (lstat(buf, &st) < 0) {
		r = -errno;
		log_errno(r, "runtime directory %s", buf);
		return r;
	}
	if (S_ISLNK(st.st_mode)) {
		log_error("runtime directory %s is a symlink; refusing it", buf);
		return -ELOOP;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error("runtime directory %s is not a directory", buf);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		log_error("runtime directory %s belongs to uid %u, not to us (uid %u); refusing it",
			  buf, (unsigned int)st.st_uid, (unsigned int)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 0007) {
		log_error("runtime directory %s has mode %04o: others may enter it; run chmod 700 %s",
			  buf, (unsigned int)(st.st_mode & 07777), buf);
		return -EPERM;
	}
	return 0;
}
