// SPDX-License-Identifier: MIT
/*
 * bus-relay: drive one transport directly through transport_open(), for
 * the D-Bus and MQTT tests (and any other mechanism), without the button
 * and LED programs in the way.
 *
 *   bus-relay send    --via NAME [--opt k=v]... --count N [--first S]
 *   bus-relay receive --via NAME [--opt k=v]... --count N [--ready-fd FD]
 *   bus-relay raw     --via NAME [--opt k=v]... HEX...   (frames as given)
 *
 * send: N events (press/release alternating, the LED state toggling on
 * each press, seqnos S..S+N-1) as fast as the transport takes them, with
 * the button's rules: keep the frame on -EAGAIN, back off and reopen on
 * -EPIPE or while the receiver is not there.
 * receive: until N valid frames arrived (or a stop signal), validating
 * each; writes one byte to --ready-fd once open; prints on stdout
 *   received=N valid=N rejected=N gaps=N lost=N duplicates=N
 *   out-of-order=N first-seqno=N last-seqno=N state=N transport-rejected=N
 * and exits 0 when all N arrived.
 * Common: --instance I, --runtime-dir DIR, --timeout-ms MS (give up when
 * nothing happens for that long; default 30000).
 */
#include "message.h"
#include "stop.h"
#include "transport.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OPTS 32

static const struct transport_ops *ops;
static struct transport_config config = { .inherited_fd = -1 };
static const char *opts[MAX_OPTS + 1];
static unsigned long count = 1, first = 1;
static int ready_fd = -1, timeout_ms = 30000;

static void usage(void)
{
	fprintf(stderr, "usage: bus-relay send|receive|raw --via NAME [--opt k=v]... "
		"[--count N] [--first S] [--ready-fd FD] [--instance I] "
		"[--runtime-dir DIR] [--timeout-ms MS] [HEX...]\n");
	exit(2);
}

static int parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "via", required_argument, NULL, 'v' },
		{ "opt", required_argument, NULL, 'o' },
		{ "count", required_argument, NULL, 'n' },
		{ "first", required_argument, NULL, 'f' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "instance", required_argument, NULL, 'i' },
		{ "runtime-dir", required_argument, NULL, 'd' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int nopts = 0, c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			ops = transport_find(optarg);
			if (!ops) {
				fprintf(stderr, "bus-relay: no transport '%s'\n", optarg);
				exit(2);
			}
			break;
		case 'o':
			if (nopts == MAX_OPTS)
				usage();
			opts[nopts++] = optarg;
			break;
		case 'n':
			count = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			first = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			ready_fd = atoi(optarg);
			break;
		case 'i':
			config.instance = optarg;
			break;
		case 'd':
			config.runtime_dir = optarg;
			break;
		case 't':
			timeout_ms = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (!ops)
		usage();
	config.options = opts;
	if (!config.runtime_dir)
		config.runtime_dir = getenv("XDG_RUNTIME_DIR") ?
				     getenv("XDG_RUNTIME_DIR") : "/run";
	return optind;
}

/* The caller's back-off: 10 ms doubling to 1 s, cut short by a stop. */
static int backoff(unsigned int *ms, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	struct timespec ts = { *ms / 1000, (long)(*ms % 1000) * 1000000 };
	int r = ppoll(&pfd, fd >= 0, &ts, stop_wait_mask());

	*ms = *ms >= 500 ? 1000 : *ms * 2;
	return r < 0 && errno == EINTR ? -EINTR : 0;
}

static bool is_retry_open(int r)
{
	return r == -ENOENT || r == -ENXIO || r == -ECONNREFUSED;
}

static int do_send(void)
{
	struct transport *t = NULL;
	uint8_t frame[IPC_MESSAGE_SIZE];
	unsigned int pause = 10;
	uint64_t idle_since = transport_now_ns();
	unsigned long i = 0;
	uint8_t state = 0;
	int r;

	while (i < count && !stop_requested()) {
		if (transport_now_ns() - idle_since > (uint64_t)timeout_ms * 1000000) {
			fprintf(stderr, "bus-relay: no progress for %d ms\n", timeout_ms);
			transport_close(t);
			return 1;
		}
		if (!t) {
			r = transport_open(ops, TRANSPORT_SENDER, &config, &t);
			if (is_retry_open(r)) {
				t = NULL;
				if (backoff(&pause, -1) < 0)
					break;
				continue;
			}
			if (r < 0) {
				fprintf(stderr, "bus-relay: open %s: %s\n", ops->name, strerror(-r));
				return 1;
			}
			pause = 10;
		}
		struct ipc_message msg = {
			.type = i % 2 ? IPC_EVENT_RELEASE : IPC_EVENT_PRESS,
			.led_state = i % 2 ? state : !state,
			.seqno = (uint32_t)(first + i),
			.event_ns = transport_now_ns(),
		};
		msg.send_ns = transport_now_ns();
		ipc_message_encode(&msg, frame);
		r = transport_send(t, frame, sizeof(frame));
		if (r == 0) {
			state = msg.led_state;
			i++;
			pause = 10;
			idle_since = transport_now_ns();
		} else if (r == -EAGAIN) {
			if (backoff(&pause, transport_poll_fd(t)) < 0)
				break;
		} else if (r == -EPIPE) {
			transport_close(t);
			t = NULL;
		} else {
			fprintf(stderr, "bus-relay: send %s: %s\n", ops->name, strerror(-r));
			transport_close(t);
			return 1;
		}
	}
	transport_close(t);
	fprintf(stderr, "bus-relay: sent %lu\n", i);
	return i == count ? 0 : 1;
}

static int do_receive(void)
{
	struct transport *t;
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	unsigned long received = 0, valid = 0, rejected = 0, gaps = 0, lost = 0;
	unsigned long dups = 0, disorder = 0;
	long long first_seq = -1, last = -1;
	int state = -1, r;

	r = transport_open(ops, TRANSPORT_RECEIVER, &config, &t);
	if (r < 0) {
		fprintf(stderr, "bus-relay: open %s receiver: %s\n", ops->name, strerror(-r));
		return 1;
	}
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "R", 1);
		close(ready_fd);
	}
	while (valid < count) {
		struct ipc_message msg;
		ssize_t n = transport_receive(t, buf, sizeof(buf), timeout_ms);

		if (n == -EINTR || n == -ETIMEDOUT) {
			if (n == -ETIMEDOUT)
				fprintf(stderr, "bus-relay: nothing for %d ms\n", timeout_ms);
			break;
		}
		if (n < 0) {
			fprintf(stderr, "bus-relay: receive %s: %s\n", ops->name, strerror((int)-n));
			break;
		}
		received++;
		if (ipc_message_decode(buf, (size_t)n, &msg) != IPC_MESSAGE_OK) {
			rejected++;
			continue;
		}
		valid++;
		if (first_seq < 0)
			first_seq = msg.seqno;
		if (last >= 0 && msg.seqno == last) {
			dups++;
		} else if (last >= 0 && msg.seqno < last) {
			disorder++;
		} else {
			if (last >= 0 && msg.seqno != last + 1) {
				gaps++;
				lost += msg.seqno - last - 1;
			}
			last = msg.seqno;
		}
		state = msg.led_state;
	}
	printf("received=%lu valid=%lu rejected=%lu gaps=%lu lost=%lu duplicates=%lu "
	       "out-of-order=%lu first-seqno=%lld last-seqno=%lld state=%d "
	       "transport-rejected=%llu\n", received, valid, rejected, gaps, lost,
	       dups, disorder, first_seq, last, state,
	       (unsigned long long)t->rejected);
	fflush(stdout);
	transport_close(t);
	return valid == count ? 0 : 1;
}

static int hex_frame(const char *hex, uint8_t *buf, size_t size)
{
	size_t n = strlen(hex) / 2;

	if (n > size)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned int byte;

		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
			return -1;
		buf[i] = (uint8_t)byte;
	}
	return (int)n;
}

static int do_raw(int argc, char **argv)
{
	struct transport *t;
	uint8_t buf[4096];
	int r;

	r = transport_open(ops, TRANSPORT_SENDER, &config, &t);
	if (r < 0) {
		fprintf(stderr, "bus-relay: open %s: %s\n", ops->name, strerror(-r));
		return 1;
	}
	for (int i = 0; i < argc; i++) {
		int n = hex_frame(argv[i], buf, sizeof(buf));

		if (n < 0) {
			fprintf(stderr, "bus-relay: bad hex '%s'\n", argv[i]);
			r = -EINVAL;
			break;
		}
		r = transport_send(t, buf, (size_t)n);
		if (r < 0) {
			fprintf(stderr, "bus-relay: send %s: %s\n", ops->name, strerror(-r));
			break;
		}
	}
	transport_close(t);
	return r < 0;
}

int main(int argc, char **argv)
{
	const char *mode;
	int r, rest;

	if (argc < 2)
		usage();
	mode = argv[1];
	rest = parse(argc - 1, argv + 1);
	r = stop_init();
	if (r < 0) {
		fprintf(stderr, "bus-relay: signals: %s\n", strerror(-r));
		return 1;
	}
	if (!strcmp(mode, "send"))
		return do_send();
	if (!strcmp(mode, "receive"))
		return do_receive();
	if (!strcmp(mode, "raw"))
		return do_raw(argc - 1 - rest, argv + 1 + rest);
	usage();
	return 2;
}
