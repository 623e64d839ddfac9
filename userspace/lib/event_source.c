// SPDX-License-Identifier: MIT
#include "event_source.h"

#include "ipc_button.h"
#include "message.h"
#include "deadline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

enum source_kind { SOURCE_DEVICE, SOURCE_STDIN, SOURCE_SYNTHETIC };

struct event_source {
	enum source_kind kind;
	int fd;
	char description[128];
	/* stdin and synthetic number their own events. */
	uint32_t next_seqno;
	/* synthetic */
	uint64_t remaining;
	/* stdin */
	bool terminal;
	bool ended;
	struct termios saved_termios;
	char line[256];
	size_t line_len;
};

static struct event_source *source_new(enum source_kind kind, int fd)
{
	struct event_source *src = calloc(1, sizeof(*src));

	if (!src)
		return NULL;
	src->kind = kind;
	src->fd = fd;
	src->next_seqno = 1;
	return src;
}

int event_source_open_device(const char *path, struct event_source **ret)
{
	struct event_source *src;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	src = source_new(SOURCE_DEVICE, fd);
	if (!src) {
		close(fd);
		return -ENOMEM;
	}
	snprintf(src->description, sizeof(src->description), "device %s", path);
	*ret = src;
	return 0;
}

int event_source_open_stdin(struct event_source **ret)
{
	struct event_source *src = source_new(SOURCE_STDIN, STDIN_FILENO);
	struct termios raw;

	if (!src)
		return -ENOMEM;
	snprintf(src->description, sizeof(src->description), "standard input");
	/* A terminal: one key is one click, without waiting for Enter. */
	if (isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &src->saved_termios) == 0) {
		raw = src->saved_termios;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
			src->terminal = true;
	}
	*ret = src;
	return 0;
}

int event_source_open_synthetic(uint64_t count, struct event_source **ret)
{
	struct event_source *src = source_new(SOURCE_SYNTHETIC, -1);

	if (!src)
		return -ENOMEM;
	src->remaining = count;
	snprintf(src->description, sizeof(src->description),
		 "synthetic source of %llu events", (unsigned long long)count);
	*ret = src;
	return 0;
}

void event_source_free(struct event_source *src)
{
	if (!src)
		return;
	if (src->terminal)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &src->saved_termios);
	if (src->kind == SOURCE_DEVICE && src->fd >= 0)
		close(src->fd);
	free(src);
}

int event_source_fd(const struct event_source *src)
{
	return src->fd;
}

const char *event_source_describe(const struct event_source *src)
{
	return src->description;
}

static int read_device(struct event_source *src, struct button_event *ev,
		       size_t max)
{
	struct ipc_button_event rec[16];
	size_t want = max < 16 ? max : 16;
	ssize_t n;

	n = read(src->fd, rec, want * sizeof(rec[0]));
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return -errno;
	}
	if (n == 0)
		return -ENODEV;	/* end of file on a device: it is gone */
	/* The driver hands out whole records only; anything else is a bug. */
	if (n % sizeof(rec[0]))
		return -EPROTO;
	n /= sizeof(rec[0]);
	for (ssize_t i = 0; i < n; i++) {
		ev[i].type = rec[i].type == IPC_BUTTON_EVENT_PRESS ?
			     IPC_EVENT_PRESS : IPC_EVENT_RELEASE;
		ev[i].seqno = rec[i].seqno;
		ev[i].dropped = rec[i].flags & IPC_BUTTON_EVENT_F_DROPPED ?
				rec[i].dropped : 0;
		ev[i].event_ns = rec[i].timestamp_ns;
	}
	return (int)n;
}

static size_t make_event(struct event_source *src, struct button_event *ev,
			 uint32_t type)
{
	ev->type = type;
	ev->seqno = src->next_seqno++;
	ev->dropped = 0;
	ev->event_ns = monotonic_ns();
	return 1;
}

/* One line of standard input: which events it stands for. */
static size_t line_events(struct event_source *src, struct button_event *ev)
{
	const char *s = src->line;

	if (!strcmp(s, "press") || !strcmp(s, "p"))
		return make_event(src, ev, IPC_EVENT_PRESS);
	if (!strcmp(s, "release") || !strcmp(s, "r"))
		return make_event(src, ev, IPC_EVENT_RELEASE);
	make_event(src, &ev[0], IPC_EVENT_PRESS);
	make_event(src, &ev[1], IPC_EVENT_RELEASE);
	return 2;
}

static int read_stdin(struct event_source *src, struct button_event *ev,
		      size_t max)
{
	char buf[64];
	size_t n_ev = 0;
	ssize_t n;

	if (src->ended)
		return -ENODATA;
	if (max < 2)
		return 0;
	/* At most two events per byte: read only what fits in @max. */
	n = read(src->fd, buf, max / 2 < sizeof(buf) ? max / 2 : sizeof(buf));
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return -errno;
	}
	if (n == 0) {
		src->ended = true;
		/* A last line without a newline still counts. */
		if (!src->terminal && src->line_len) {
			src->line[src->line_len] = '\0';
			src->line_len = 0;
			return (int)line_events(src, ev);
		}
		return -ENODATA;
	}
	for (ssize_t i = 0; i < n; i++) {
		char c = buf[i];

		if (src->terminal) {
			if (c == 'q' || c == 4) {	/* 4: Ctrl-D */
				src->ended = true;
				break;
			}
			make_event(src, &ev[n_ev++], IPC_EVENT_PRESS);
			make_event(src, &ev[n_ev++], IPC_EVENT_RELEASE);
			continue;
		}
		if (c != '\n') {
			if (src->line_len < sizeof(src->line) - 1)
				src->line[src->line_len++] = c;
			continue;
		}
		src->line[src->line_len] = '\0';
		src->line_len = 0;
		n_ev += line_events(src, &ev[n_ev]);
	}
	if (!n_ev && src->ended)
		return -ENODATA;
	return (int)n_ev;
}

static int read_synthetic(struct event_source *src, struct button_event *ev,
			  size_t max)
{
	size_t n = 0;

	if (!src->remaining)
		return -ENODATA;
	while (n < max && src->remaining) {
		/* Odd seqnos press, even ones release: N/2 clicks. */
		make_event(src, &ev[n], src->next_seqno % 2 ?
			   IPC_EVENT_PRESS : IPC_EVENT_RELEASE);
		n++;
		src->remaining--;
	}
	return (int)n;
}

int event_source_read(struct event_source *src, struct button_event *ev,
		      size_t max)
{
	if (!max)
		return 0;
	switch (src->kind) {
	case SOURCE_DEVICE:
		return read_device(src, ev, max);
	case SOURCE_STDIN:
		return read_stdin(src, ev, max);
	case SOURCE_SYNTHETIC:
		return read_synthetic(src, ev, max);
	}
	return -EINVAL;
}
