// SPDX-License-Identifier: MIT
/*
 * ipc-inject: send raw, mostly malformed, frames through any transport, as
 * the button would, to check that the LED rejects and counts them.
 *
 *   ipc-inject --via NAME [--runtime-dir DIR] [--instance I] [--opt K=V]
 *              KIND[:SEQNO[:STATE]]...
 *
 * KIND: good (a valid press), short (20 bytes), truncated (39 bytes of a
 * valid frame), long (41), oversized (300), bad-magic, bad-version,
 * bad-checksum, bad-field (LED state 7, correct CRC), garbage (40 bytes of
 * 0xa5). Prints "sent KIND LENGTH" or "refused KIND LENGTH: reason" (the
 * mechanism cannot carry it) per frame. When the receiver closes the
 * connection (-EPIPE), it opens again and resends, as the button does.
 * --reopen-each: a new sender (a new connection) for every frame. A stream
 * receiver drops the connection a bad frame came on, and with it whatever
 * that sender wrote behind it, so only this tells each frame's fate apart.
 * Exit 0 unless the transport fails.
 */
#include "cli.h"
#include "crc32c.h"
#include "log.h"
#include "message.h"
#include "stop.h"
#include "transport.h"
#include "../../userspace/lib/deadline.h"
#include "../../userspace/lib/fd_wait.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_MAX 300

static const struct option long_options[] = {
	CLI_COMMON_OPTIONS,
	{ "reopen-each", no_argument, NULL, 'R' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Build frame KIND into @buf; returns its length, or -1 for an unknown kind. */
static int build(const char *kind, uint32_t seqno, uint8_t state, uint8_t *buf)
{
	struct ipc_message m = {
		.type = IPC_EVENT_PRESS, .led_state = state, .seqno = seqno,
		.event_ns = monotonic_ns(), .send_ns = monotonic_ns(),
	};
	uint32_t crc;

	memset(buf, 0, FRAME_MAX);
	ipc_message_encode(&m, buf);
	if (!strcmp(kind, "good"))
		return IPC_MESSAGE_SIZE;
	if (!strcmp(kind, "short"))
		return 20;
	if (!strcmp(kind, "truncated"))
		return IPC_MESSAGE_SIZE - 1;
	if (!strcmp(kind, "long"))
		return IPC_MESSAGE_SIZE + 1;
	if (!strcmp(kind, "oversized"))
		return FRAME_MAX;
	if (!strcmp(kind, "bad-magic")) {
		buf[0] = 'X';
		return IPC_MESSAGE_SIZE;
	}
	if (!strcmp(kind, "bad-version")) {
		buf[2] = IPC_MESSAGE_VERSION + 1;
		return IPC_MESSAGE_SIZE;
	}
	if (!strcmp(kind, "bad-checksum")) {
		buf[10] ^= 0x40;
		return IPC_MESSAGE_SIZE;
	}
	if (!strcmp(kind, "bad-field")) {
		buf[5] = 7;	/* LED state out of range, checksum made right */
		crc = crc32c(buf, 36);
		buf[36] = crc >> 24;
		buf[37] = crc >> 16;
		buf[38] = crc >> 8;
		buf[39] = crc;
		return IPC_MESSAGE_SIZE;
	}
	if (!strcmp(kind, "garbage")) {
		memset(buf, 0xa5, IPC_MESSAGE_SIZE);
		return IPC_MESSAGE_SIZE;
	}
	return -1;
}

/*
 * -EPIPE: the receiver closed this connection (a stream receiver drops a
 * sender that sent a bad frame). Like the button, keep the frame, open
 * again and resend it.
 */
static int reopen(struct transport **t)
{
	const struct transport_ops *ops = (*t)->ops;
	const struct transport_config *config = (*t)->config;

	transport_close(*t, NULL);
	*t = NULL;
	return transport_open(ops, TRANSPORT_SENDER, config, t, NULL);
}

static int send_one(struct transport **tp, const char *spec)
{
	char kind[32];
	unsigned int seqno = 1, state = 1;
	uint8_t buf[FRAME_MAX];
	int len, r;

	if (sscanf(spec, "%31[a-z-]:%u:%u", kind, &seqno, &state) < 1 || state > 255) {
		log_error("bad frame spec '%s'", spec);
		return -EINVAL;
	}
	len = build(kind, seqno, (uint8_t)state, buf);
	if (len < 0) {
		log_error("unknown frame kind '%s'", kind);
		return -EINVAL;
	}
	for (int reopened = 0;;) {
		struct transport *t = *tp;

		r = transport_send(t, buf, (size_t)len);
		if (r == -EPIPE && reopened++ < 3) {
			r = reopen(tp);
			if (r < 0)
				return r;
			continue;
		}
		if (r != -EAGAIN)
			break;
		/* Full: wait until it drains (or give up after 5 s). */
		if (transport_poll_fd(*tp) < 0 ||
		    fd_wait(transport_poll_fd(*tp), transport_room_events(*tp),
			    5000, NULL) < 0)
			break;
	}
	if (r == 0)
		printf("sent %s %d\n", kind, len);
	else if (r == -EPIPE)
		return r;
	else
		printf("refused %s %d: %s\n", kind, len, strerror(-r));
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_common cli;
	struct transport *t = NULL;
	bool reopen_each = false;
	int opt, r, status = 1;

	log_init(argv[0]);
	cli_common_init(&cli);
	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		if (opt == 'R') {
			reopen_each = true;
			continue;
		}
		if (opt == 'h') {
			printf("Usage: ipc-inject --via NAME [options] [--reopen-each] KIND[:SEQNO[:STATE]]...\n"
			       "KIND: good short truncated long oversized bad-magic bad-version\n"
			       "      bad-checksum bad-field garbage\n");
			return 0;
		}
		r = opt == '?' ? -EINVAL : cli_common_parse(&cli, opt, optarg);
		if (r <= 0)
			return 2;
	}
	r = cli_common_finish(&cli);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (stop_init() < 0)
		goto out;
	r = transport_open(cli.ops, TRANSPORT_SENDER, &cli.config, &t, NULL);
	if (r < 0) {
		log_errno(r, "%s: cannot open the sender", cli.ops->name);
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		if (reopen_each && i > optind) {
			r = reopen(&t);
			if (r < 0) {
				log_errno(r, "%s: cannot open the sender again", cli.ops->name);
				goto out;
			}
		}
		r = send_one(&t, argv[i]);
		if (r < 0) {
			log_errno(r, "%s: send %s", cli.ops->name, argv[i]);
			goto out;
		}
	}
	status = 0;
out:
	fflush(stdout);
	transport_close(t, NULL);
	cli_common_free(&cli);
	return status;
}
