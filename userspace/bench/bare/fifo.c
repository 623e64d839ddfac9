// SPDX-License-Identifier: MIT
/* Bare FIFO: mkfifo in the bare directory, 8 bytes per event. */
#include "bare.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct fifo {
	int fd;
	char path[PATH_MAX];
};

static int fifo_open(struct bare *b)
{
	struct fifo *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	r = bare_path(b, "fifo", f->path, sizeof(f->path));
	if (r == 0 && b->receiver && mkfifo(f->path, 0600) < 0)
		r = -errno;
	if (r == 0) {
		/* The receiver holds both ends: no EOF, no blocking open. */
		f->fd = open(f->path, (b->receiver ? O_RDWR : O_WRONLY) | O_CLOEXEC);
		if (f->fd < 0)
			r = -errno;
	}
	if (r < 0) {
		if (b->receiver)
			unlink(f->path);
		free(f);
		return r;
	}
	b->priv = f;
	return 0;
}

static int fifo_send(struct bare *b, uint64_t value)
{
	struct fifo *f = b->priv;

	return bare_write_full(f->fd, &value, sizeof(value));
}

static int fifo_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct fifo *f = b->priv;

	(void)timeout_ms;
	return bare_read_full(f->fd, value, sizeof(*value));
}

static void fifo_close(struct bare *b)
{
	struct fifo *f = b->priv;

	close(f->fd);
	if (b->receiver)
		unlink(f->path);
	free(f);
}

static const struct bare_ops bare_fifo = {
	.name = "fifo",
	.open = fifo_open,
	.send = fifo_send,
	.receive = fifo_receive,
	.close = fifo_close,
};
BARE_REGISTER(bare_fifo);
