// SPDX-License-Identifier: MIT
/*
 * dbus-ready: the fd a dbus receiver offers to poll (transport_poll_fd)
 * tells the truth to a caller that polls it, although the receiver keeps
 * it up to date only once a caller asked for it (ipc/dbus.c).
 *
 *   dbus-ready BUS-ADDRESS INSTANCE      (prints TAP)
 *
 * The runtime directory (0700, existing): $IPC_BUTTON_RUNTIME_DIR, else
 * $XDG_RUNTIME_DIR.
 *
 * The receiver opens and asks for its fd; a child process opens a sender
 * and sends one frame. Checked: the fd is quiet while nothing waits,
 * readable until the call is taken, the frame is received whole, the fd
 * stays readable while the frame's reply is due (the LED must come back
 * to answer it), quiet again once the next receive sent the reply, and
 * the sender had its frame confirmed (its window empty when it closes).
 */
#include "lib/tap.h"
#include "../../userspace/ipc/transport.h"
#include "../../userspace/lib/message.h"
#include "../../userspace/lib/stop.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS	5000

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

/* The child: one frame, then close, which waits for its confirmation. */
static int send_one(const struct transport_config *config)
{
	const struct transport_ops *ops = transport_find("dbus");
	struct ipc_message msg = { .type = IPC_EVENT_PRESS, .seqno = 1,
				   .led_state = 1 };
	uint8_t frame[IPC_MESSAGE_SIZE];
	char detail[TRANSPORT_DETAIL_MAX];
	struct transport *t;
	int r;

	r = transport_open(ops, TRANSPORT_SENDER, config, &t, detail);
	if (r < 0) {
		fprintf(stderr, "dbus-ready: sender: %s %s\n", strerror(-r),
			detail);
		return 2;
	}
	ipc_message_encode(&msg, frame);
	r = transport_send(t, frame, sizeof(frame));
	transport_close(t, detail);
	if (r < 0) {
		fprintf(stderr, "dbus-ready: send: %s\n", strerror(-r));
		return 3;
	}
	/* A frame left unconfirmed at close is told as a notice. */
	return *(int *)config->notice_ctx ? 4 : 0;
}

/* Notices the transports tell (a frame not confirmed at close...). */
static void on_notice(void *ctx, int priority, const char *text)
{
	int *count = ctx;

	(void)priority;
	(*count)++;
	fprintf(stderr, "dbus-ready: %s\n", text);
}

int main(int argc, char **argv)
{
	const struct transport_ops *ops = transport_find("dbus");
	const char *options[] = { NULL, NULL };
	struct transport_config config = { .inherited_fd = -1 };
	char detail[TRANSPORT_DETAIL_MAX], bus[512];
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	struct ipc_message msg;
	struct transport *rx;
	int fd, r, status, notices = 0;
	ssize_t n;
	pid_t pid;

	if (argc != 3 || !ops) {
		fprintf(stderr, "usage: dbus-ready BUS-ADDRESS INSTANCE\n");
		return 2;
	}
	if (stop_init() < 0)
		return 1;
	snprintf(bus, sizeof(bus), "bus=%s", argv[1]);
	options[0] = bus;
	config.runtime_dir = getenv("IPC_BUTTON_RUNTIME_DIR");
	if (!config.runtime_dir)
		config.runtime_dir = getenv("XDG_RUNTIME_DIR");
	config.instance = argv[2];
	config.options = options;
	config.notice = on_notice;
	config.notice_ctx = &notices;
	r = transport_open(ops, TRANSPORT_RECEIVER, &config, &rx, detail);
	if (r < 0) {
		fprintf(stderr, "dbus-ready: receiver: %s %s\n", strerror(-r),
			detail);
		return 1;
	}
	/* What the bus said at the start (NameAcquired...) is taken first. */
	n = transport_receive(rx, buf, sizeof(buf), 0);
	fd = transport_poll_fd(rx);
	tap_ok(fd >= 0 && n == -ETIMEDOUT,
	       "dbus receiver: poll_fd() gives an fd (%d), nothing waits (%zd)",
	       fd, n);
	tap_ok(fd >= 0 && !readable(fd, 0),
	       "dbus receiver: the fd is quiet while nothing waits");
	pid = fork();
	if (pid == 0)
		_exit(send_one(&config));
	/* Poll, then receive without waiting, as a polling caller does:
	 * the sender's Ping comes first, then its call. */
	n = -ETIMEDOUT;
	for (int i = 0; pid > 0 && i < 10 && n == -ETIMEDOUT; i++)
		n = readable(fd, WAIT_MS) ? transport_receive(rx, buf, sizeof(buf), 0)
					  : -EIO;
	tap_ok(n > 0, "dbus receiver: the fd is readable until the frame is there");
	tap_ok(n == IPC_MESSAGE_SIZE &&
	       ipc_message_decode(buf, (size_t)n, &msg) == IPC_MESSAGE_OK &&
	       msg.seqno == 1,
	       "dbus receiver: the frame is received whole (%zd bytes)", n);
	tap_ok(readable(fd, 0),
	       "dbus receiver: the fd stays readable while the frame's reply is due");
	n = transport_receive(rx, buf, sizeof(buf), 200);
	tap_ok(n == -ETIMEDOUT && !readable(fd, 0),
	       "dbus receiver: the next receive answers; the fd is quiet again (%zd)",
	       n);
	r = pid > 0 ? waitpid(pid, &status, 0) : -1;
	tap_ok(r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	       notices == 0,
	       "dbus sender: its frame was confirmed before it closed (status %d, notices %d)",
	       r == pid ? status : -1, notices);
	transport_close(rx, NULL);
	return tap_done();
}
