// SPDX-License-Identifier: MIT
/*
 * ipc-button: the button process. Reads button events (the driver's
 * device, standard input, or a synthetic source), keeps the desired LED
 * state (toggled on every press) and relays every event, press and
 * release, with that absolute state to the LED process over one transport.
 *
 * Nothing is lost silently: events wait in a bounded backlog while the
 * transport is full or the receiver is not there, retried when the
 * transport's fd says there is room (transport_room_events(): writable,
 * or readable for shared-file's inotify) or after a back-off (a timerfd,
 * BACKLOG_RETRY_* in backlog.h: from 1 ms when a transport without an fd
 * is full, from 10 ms when the receiver is not there, doubling to 1 s);
 * an event pushed out of a full backlog is counted and carried in the next
 * event's dropped count, a gap the LED sees and can explain. When the
 * backlog holds several events they go as one batch (transport_send_many:
 * up to TRANSPORT_BATCH_MAX frames per call, fewer system calls where the
 * mechanism has a batch op).
 */
#include "backlog.h"
#include "backoff.h"
#include "cli.h"
#include "event_source.h"
#include "log.h"
#include "message.h"
#include "stop.h"
#include "transport.h"
#include "deadline.h"

#include <errno.h>
#include <systemd/sd-daemon.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* The stable name (udev, install/60-ipc-button.rules), then the first. */
#define DEFAULT_DEVICE	"/dev/ipc-button/ipc-button"
#define FALLBACK_DEVICE	"/dev/ipc-button0"

#define BACKLOG_DEFAULT		1024
#define BACKLOG_MAX		(1u << 20)
/* Synthetic events between two looks at the stop signals. */
#define SYNTHETIC_BATCH		64

/*
 * Over a mechanism that can lose frames, the LED cannot see that the last
 * events of a stream were lost: no later frame shows the gap. So the
 * button reports its state (IPC_EVENT_STATE: the last seqno and the LED
 * state) once per REPORT_IDLE_MS in which it sent no event, and
 * REPORT_CLOSING_COUNT times, REPORT_CLOSING_GAP_MS apart, when it ends.
 * The LED learns the tail at most 2 * REPORT_IDLE_MS after the last event
 * while the button runs. sem-posix (TRANSPORT_IDLE_REPORTS) gets the idle
 * reports too, though it loses nothing: a receiver that starts while no
 * event comes waits for the sender to number the events it holds, which
 * the sender does when it is next called (ipc/sem_posix.c). dbus gets
 * them for the same reason: frames a killed LED left unconfirmed go to the
 * name's next owner from a send(), and a sender has no fd to wait on.
 */
#define REPORT_IDLE_MS		1000
#define REPORT_CLOSING_COUNT	3
#define REPORT_CLOSING_GAP_MS	200

static const struct option long_options[] = {
	CLI_COMMON_OPTIONS,
	CLI_BUTTON_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: ipc-button --via NAME [--device PATH | --stdin | --synthetic N] [options]\n"
"\n"
"The button process: reads button events and relays each one, press and\n"
"release, to the LED process (ipc-led) over the IPC mechanism NAME. Every\n"
"press toggles the desired LED state; every message carries that absolute\n"
"state, the event's seqno and kernel timestamp, the send time, and how many\n"
"events were lost before it. Start the LED first, or use ipc-launch.\n"
"\n"
"Event source (one):\n"
"  --device PATH      the ipc_button driver's device (default\n"
"                     /dev/ipc-button/ipc-button, the stable name of the\n"
"                     button labelled ipc-button; /dev/ipc-button0 if\n"
"                     that name does not exist)\n"
"  --stdin            PC mode, no driver: every line read is a click (a\n"
"                     press, then a release); a line \"press\" or \"release\"\n"
"                     sends only that event. On a terminal every key is a\n"
"                     click and q or Ctrl-D ends. Ends at end of input, once\n"
"                     every event was handed to the mechanism.\n"
"  --synthetic N      N events (alternating press, release), as fast as the\n"
"                     mechanism takes them; for tests and benchmarks\n"
"\n"
"Delivery:\n"
"  --backlog N        events kept while the mechanism is full or the LED is\n"
"                     not there (default %u); beyond that the oldest are\n"
"                     dropped, counted and reported to the LED\n"
"\n"
CLI_COMMON_HELP
"  -h, --help         this text\n"
"\n"
"On exit (end of input, SIGINT, SIGTERM, SIGHUP) one line goes to stderr:\n"
"  ipc-button: stats via=NAME events=N sent=N overflowed=N reconnects=N\n"
"  reports=N unsent=N last-seqno=N state=0|1\n"
"(reports: state reports sent over a mechanism that can lose frames, once\n"
"a second while idle and three times at the end, so the LED learns about\n"
"a lost tail of the stream; over sem-posix once a second while idle, so a\n"
"restarted LED is told the numbering of the events waiting for it)\n"
"Exit status: 0 when done or stopped, 1 on an error or when the device\n"
"went away, 2 on a usage error.\n", BACKLOG_DEFAULT);
}

struct button {
	struct cli_common cli;
	const char *device;
	bool use_stdin;
	bool use_synthetic;
	unsigned long long synthetic_count;
	unsigned long long backlog_size;

	struct event_source *source;
	bool source_ended;
	bool device_gone;
	struct backlog backlog;
	bool led_on;

	struct transport *transport;
	int timer_fd;
	struct backoff backoff;
	bool retry_pending;	/* waiting for the back-off timer */
	bool wait_writable;	/* waiting for room on the transport's fd
				 * (transport_room_events()) */

	uint64_t events, sent, reconnects;
	uint32_t last_seqno;
	/* Lossy mechanisms only: state reports, see REPORT_IDLE_MS. */
	int report_fd;			/* periodic timer, -1 when none */
	uint64_t sent_at_last_tick;	/* b->sent when the timer last rang */
	uint64_t reports;
};

static int parse_args(struct button *b, int argc, char **argv)
{
	int opt, r, sources = 0;

	for (;;) {
		opt = getopt_long(argc, argv, "h", long_options, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case CLI_OPT_DEVICE:
			b->device = optarg;
			sources++;
			break;
		case CLI_OPT_STDIN:
			b->use_stdin = true;
			sources++;
			break;
		case CLI_OPT_SYNTHETIC:
			if (cli_parse_uint(optarg, UINT32_MAX, &b->synthetic_count) < 0) {
				log_error("--synthetic '%s': expected a number of events", optarg);
				return -EINVAL;
			}
			b->use_synthetic = true;
			sources++;
			break;
		case CLI_OPT_BACKLOG:
			if (cli_parse_uint(optarg, BACKLOG_MAX, &b->backlog_size) < 0 ||
			    !b->backlog_size) {
				log_error("--backlog '%s': expected 1 to %u", optarg, BACKLOG_MAX);
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			r = cli_common_parse(&b->cli, opt, optarg);
			if (r < 0)
				return r;
		}
	}
	r = cli_common_operands(argc, argv);
	if (r < 0)
		return r;
	if (sources > 1) {
		log_error("choose one event source: --device, --stdin or --synthetic");
		return -EINVAL;
	}
	if (!sources)
		b->device = DEFAULT_DEVICE;
	return 0;
}

static int open_source(struct button *b)
{
	int r;

	if (b->use_stdin)
		r = event_source_open_stdin(&b->source);
	else if (b->use_synthetic)
		r = event_source_open_synthetic(b->synthetic_count, &b->source);
	else
		r = event_source_open_device(b->device, &b->source);
	/* No udev rule for the stable name here: the first button. */
	if (r == -ENOENT && b->device && !strcmp(b->device, DEFAULT_DEVICE)) {
		b->device = FALLBACK_DEVICE;
		r = event_source_open_device(b->device, &b->source);
	}
	if (r == -ENOENT && b->device) {
		log_error("device %s: %s (is the ipc_button driver loaded? without it, try --stdin)",
			  b->device, strerror(-r));
		return r;
	}
	if (r < 0) {
		log_errno(r, "%s", b->device ? b->device : "event source");
		return r;
	}
	return 0;
}

static void schedule_retry(struct button *b, unsigned int first_ms)
{
	struct itimerspec its = { 0 };
	unsigned int pause_ms;

	/* The first failure after a success sets where the pauses start. */
	if (!backoff_started(&b->backoff))
		backoff_init(&b->backoff, first_ms, BACKLOG_RETRY_MAX_MS);
	pause_ms = backoff_fail(&b->backoff, monotonic_ns());
	its.it_value = ms_to_timespec((int)pause_ms);
	if (timerfd_settime(b->timer_fd, 0, &its, NULL) < 0) {
		/* Cannot happen with a valid timer; do not spin if it does. */
		log_errno(errno, "timerfd");
		stop_request();
		return;
	}
	log_verbose("%s: retrying in %u ms", b->cli.ops->name, pause_ms);
	b->retry_pending = true;
}

static void disconnect(struct button *b)
{
	transport_close(b->transport, NULL);
	b->transport = NULL;
	b->wait_writable = false;
}

/*
 * Encode up to TRANSPORT_BATCH_MAX events from the backlog's head into
 * @frames, each stamped now as it is offered; returns how many.
 */
static size_t encode_batch(struct button *b,
			   uint8_t frames[TRANSPORT_BATCH_MAX][IPC_MESSAGE_SIZE])
{
	uint64_t now = monotonic_ns();
	struct ipc_message *msg;
	size_t n;

	for (n = 0; n < TRANSPORT_BATCH_MAX &&
		    (msg = backlog_at(&b->backlog, n)); n++) {
		msg->send_ns = now;
		ipc_message_encode(msg, frames[n]);
	}
	return n;
}

/*
 * Hand the backlog to the transport until it is empty or the transport
 * pushes back: up to TRANSPORT_BATCH_MAX frames per call, so a mechanism
 * with a batch op carries a queue in few system calls (the others take
 * them one send() each, through the dispatcher's fallback). What was
 * taken leaves the backlog; the rest is offered again, stamped anew.
 * Returns 0, or a negative errno for a fatal error.
 */
static int flush(struct button *b)
{
	uint8_t frames[TRANSPORT_BATCH_MAX][IPC_MESSAGE_SIZE];
	char detail[TRANSPORT_DETAIL_MAX];
	size_t count;
	int r;

	while (!backlog_empty(&b->backlog)) {
		if (!b->transport) {
			r = transport_open(b->cli.ops, TRANSPORT_SENDER,
					   &b->cli.config, &b->transport, detail);
			if (r == TRANSPORT_ABSENT) {
				log_verbose("%s: no receiver yet%s%s", b->cli.ops->name,
					    *detail ? ": " : "", detail);
				schedule_retry(b, BACKLOG_RETRY_ABSENT_MS);
				return 0;
			}
			if (r < 0) {
				cli_log_transport_error(b->cli.ops, r, detail,
							"cannot open the sender");
				return r;
			}
			cli_log_transport_notice(b->transport);
			log_verbose("%s: connected", b->cli.ops->name);
		}
		count = encode_batch(b, frames);
		r = transport_send_many(b->transport, frames[0], IPC_MESSAGE_SIZE,
					count);
		if (r > 0) {
			if (r > 1)
				log_verbose("%s: %d events handed over in one call",
					    b->cli.ops->name, r);
			b->sent += (uint64_t)r;
			backoff_reset(&b->backoff);
			while (r--)
				backlog_pop(&b->backlog);
			continue;
		}
		if (r == TRANSPORT_FULL) {
			if (transport_poll_fd(b->transport) >= 0)
				b->wait_writable = true;
			else
				schedule_retry(b, BACKLOG_RETRY_FULL_MS);
			return 0;
		}
		if (r == TRANSPORT_STALE) {
			if (b->cli.ops->flags & TRANSPORT_INHERITED) {
				log_error("%s: the receiver is gone, and an inherited descriptor cannot be reopened",
					  b->cli.ops->name);
				return r;
			}
			log_verbose("%s: the receiver went away; reconnecting", b->cli.ops->name);
			cli_log_transport_notice(b->transport);	/* how it ended */
			disconnect(b);
			b->reconnects++;
			schedule_retry(b, BACKLOG_RETRY_ABSENT_MS);
			return 0;
		}
		if (r == 0)
			r = -EPROTO;	/* "took none" must come as an error */
		cli_log_transport_error(b->cli.ops, r, b->transport->detail, "send");
		return r;
	}
	return 0;
}

/*
 * Send a state report now, if there is a stream to report on and nothing
 * of it waits in the backlog (the frames themselves will tell). Best
 * effort: a report that cannot go now is simply the next one's job.
 */
static void send_report(struct button *b)
{
	struct ipc_message msg = {
		.type = IPC_EVENT_STATE,
		.seqno = b->last_seqno,
		.led_state = b->led_on,
	};
	uint8_t frame[IPC_MESSAGE_SIZE];

	if (!b->transport || !b->events || !backlog_empty(&b->backlog))
		return;
	msg.event_ns = msg.send_ns = monotonic_ns();
	ipc_message_encode(&msg, frame);
	if (transport_send(b->transport, frame, sizeof(frame)) == 0)
		b->reports++;
}

static int start_reports(struct button *b)
{
	struct itimerspec its = {
		.it_interval.tv_sec = REPORT_IDLE_MS / 1000,
		.it_interval.tv_nsec = (long)(REPORT_IDLE_MS % 1000) * 1000000,
	};
	int r;

	its.it_value = its.it_interval;
	b->report_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (b->report_fd < 0 ||
	    timerfd_settime(b->report_fd, 0, &its, NULL) < 0) {
		r = -errno;
		log_errno(r, "timerfd");
		return r;
	}
	return 0;
}

/* The timer rang: report if no event went out since it last rang. */
static void report_if_idle(struct button *b)
{
	uint64_t expirations;

	if (read(b->report_fd, &expirations, sizeof(expirations)) <= 0)
		return;
	if (b->sent == b->sent_at_last_tick)
		send_report(b);
	b->sent_at_last_tick = b->sent;
}

/* Ending: a few reports, apart, so one of them gets through. */
static void send_closing_reports(struct button *b)
{
	struct timespec gap = {
		.tv_sec = REPORT_CLOSING_GAP_MS / 1000,
		.tv_nsec = (long)(REPORT_CLOSING_GAP_MS % 1000) * 1000000,
	};

	for (int i = 0; i < REPORT_CLOSING_COUNT; i++) {
		send_report(b);
		/* A (second) stop signal cuts the wait short. */
		if (i + 1 < REPORT_CLOSING_COUNT &&
		    ppoll(NULL, 0, &gap, stop_wait_mask()) < 0)
			break;
	}
}

static void queue_event(struct button *b, const struct button_event *ev)
{
	struct ipc_message msg = {
		.type = ev->type,
		.seqno = ev->seqno,
		.dropped = ev->dropped,
		.flags = ev->dropped ? IPC_MESSAGE_F_DROPPED : 0,
		.event_ns = ev->event_ns,
	};

	if (ev->type == IPC_EVENT_PRESS)
		b->led_on = !b->led_on;
	msg.led_state = b->led_on;
	b->events++;
	b->last_seqno = ev->seqno;
	if (backlog_push(&b->backlog, &msg))
		log_verbose("backlog full: dropped the oldest event");
}

/* Take what the source has now. Returns 0 or a fatal negative errno. */
static int read_source(struct button *b)
{
	struct button_event ev[32];
	size_t room = sizeof(ev) / sizeof(ev[0]);
	int n;

	if (b->source_ended)
		return 0;
	/* Only the synthetic source waits for room: it must not overflow. */
	if (b->use_synthetic) {
		room = b->backlog.capacity - b->backlog.count;
		if (room > sizeof(ev) / sizeof(ev[0]))
			room = sizeof(ev) / sizeof(ev[0]);
	}
	n = event_source_read(b->source, ev, room);
	if (n == -ENODATA || n == -ENODEV) {
		b->source_ended = true;
		log_verbose("end of %s", event_source_describe(b->source));
		if (n == -ENODEV) {
			b->device_gone = true;
			log_error("device %s went away (driver unbound or unloaded)",
				  b->device);
		}
		return 0;
	}
	if (n < 0) {
		log_errno(n, "reading %s", event_source_describe(b->source));
		return n;
	}
	for (int i = 0; i < n; i++)
		queue_event(b, &ev[i]);
	return 0;
}

static bool finished(const struct button *b)
{
	return b->source_ended && backlog_empty(&b->backlog);
}

static int run(struct button *b)
{
	unsigned int batches = 0;
	int r;

	for (;;) {
		struct pollfd pfd[4];
		int n = 0, source_i = -1, timer_i = -1, transport_i = -1;
		int report_i = -1;
		int timeout = -1;

		if (stop_requested())
			return 0;
		if (b->use_synthetic) {
			r = read_source(b);
			if (r < 0)
				return r;
		}
		if (!b->retry_pending && !b->wait_writable) {
			r = flush(b);
			if (r < 0)
				return r;
		}
		if (finished(b))
			return 0;

		if (!b->source_ended && event_source_fd(b->source) >= 0) {
			source_i = n;
			pfd[n++] = (struct pollfd){ event_source_fd(b->source), POLLIN, 0 };
		}
		if (b->retry_pending) {
			timer_i = n;
			pfd[n++] = (struct pollfd){ b->timer_fd, POLLIN, 0 };
		}
		if (b->report_fd >= 0) {
			report_i = n;
			pfd[n++] = (struct pollfd){ b->report_fd, POLLIN, 0 };
		}
		if (b->wait_writable) {
			transport_i = n;
			pfd[n++] = (struct pollfd){ transport_poll_fd(b->transport),
						    transport_room_events(b->transport), 0 };
		}
		/*
		 * The synthetic source is always ready while there is room:
		 * do not wait, but let the stop signals in now and then.
		 */
		if (b->use_synthetic && !b->source_ended &&
		    !backlog_full(&b->backlog)) {
			if (++batches % SYNTHETIC_BATCH)
				continue;
			timeout = 0;
		}
		r = ppoll(pfd, n, timeout >= 0 ? &(struct timespec){ 0 } : NULL,
			  stop_wait_mask());
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_errno(errno, "ppoll");
			return -errno;
		}
		if (timer_i >= 0 && pfd[timer_i].revents) {
			uint64_t expirations;

			if (read(b->timer_fd, &expirations, sizeof(expirations)) > 0)
				b->retry_pending = false;
		}
		if (report_i >= 0 && pfd[report_i].revents)
			report_if_idle(b);
		if (transport_i >= 0 && pfd[transport_i].revents)
			b->wait_writable = false;	/* room, or an error send reports */
		if (source_i >= 0 && pfd[source_i].revents) {
			r = read_source(b);
			if (r < 0)
				return r;
			/* Hung up without a record: the device is gone. */
			if (!b->source_ended && b->device &&
			    pfd[source_i].revents & (POLLHUP | POLLERR)) {
				b->source_ended = true;
				b->device_gone = true;
				log_error("device %s went away (hang-up)", b->device);
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct button b = { .backlog_size = BACKLOG_DEFAULT, .timer_fd = -1,
			    .report_fd = -1 };
	int r, status = 1;

	log_init(argv[0]);
	cli_common_init(&b.cli);
	r = parse_args(&b, argc, argv);
	if (r != 0) {
		cli_common_free(&b.cli);
		return r > 0 ? 0 : 2;
	}
	r = cli_common_finish(&b.cli);
	if (r != 0) {
		cli_common_free(&b.cli);
		return r > 0 ? 0 : r == -EINVAL || r == -ENOENT ? 2 : 1;
	}
	r = stop_init();
	if (r < 0) {
		log_errno(r, "signals");
		goto out;
	}
	if (backlog_init(&b.backlog, b.backlog_size) < 0) {
		log_error("out of memory for a backlog of %llu", b.backlog_size);
		goto out;
	}
	b.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (b.timer_fd < 0) {
		log_errno(errno, "timerfd");
		goto out;
	}
	if ((!(b.cli.ops->flags & TRANSPORT_LOSSLESS) ||
	     b.cli.ops->flags & TRANSPORT_IDLE_REPORTS) && start_reports(&b) < 0)
		goto out;
	if (open_source(&b) < 0)
		goto out;
	/* The device is open: ready for systemd (Type=notify; else a no-op). */
	r = sd_notify(0, "READY=1");
	if (r < 0)
		log_errno(r, "sd_notify");
	log_verbose("relaying %s via %s", event_source_describe(b.source),
		    b.cli.ops->name);

	r = run(&b);
	if (r == 0 && stop_requested() && b.transport)
		(void)flush(&b);	/* one last try, without waiting */
	/* A lossless mechanism loses no tail: no closing reports. */
	if (b.report_fd >= 0 && !(b.cli.ops->flags & TRANSPORT_LOSSLESS))
		send_closing_reports(&b);
	status = r < 0 || b.device_gone ? 1 : 0;

	fprintf(stderr, "%s: stats via=%s events=%llu sent=%llu overflowed=%llu reconnects=%llu reports=%llu unsent=%zu last-seqno=%u state=%d\n",
		log_program(), b.cli.ops->name, (unsigned long long)b.events,
		(unsigned long long)b.sent,
		(unsigned long long)b.backlog.overflowed,
		(unsigned long long)b.reconnects,
		(unsigned long long)b.reports, b.backlog.count,
		b.last_seqno, b.led_on);
out:
	disconnect(&b);
	event_source_free(b.source);
	backlog_free(&b.backlog);
	if (b.timer_fd >= 0)
		close(b.timer_fd);
	if (b.report_fd >= 0)
		close(b.report_fd);
	cli_common_free(&b.cli);
	return status;
}
