// SPDX-License-Identifier: MIT
/*
 * ipc-led: the LED process. Receives frames over one transport, validates
 * every one (ipc_message_decode), counts what it rejects by reason and the
 * seqno gaps it sees, and applies the absolute state each message carries
 * to the LED: a gpio line through libgpiod v2, or the console in PC mode.
 * It takes what the mechanism holds in batches (transport_receive_many:
 * one wait, then what is already there) and applies each frame in order,
 * exactly as if it had come alone.
 */
#include "cli.h"
#include "led_gpio.h"
#include "log.h"
#include "message.h"
#include "stop.h"
#include "transport.h"
#include "deadline.h"

#include <errno.h>
#include <fcntl.h>
#include <systemd/sd-daemon.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Frames applied at most after a stop signal, before exiting. */
#define DRAIN_MAX	4096

enum {
	OPT_UNTIL_SEQNO = CLI_OPT_FIRST_PROGRAM,
	OPT_IDLE_TIMEOUT,
	OPT_READY_FD,
};

static const struct option long_options[] = {
	CLI_COMMON_OPTIONS,
	CLI_LED_OPTIONS,
	{ "until-seqno", required_argument, NULL, OPT_UNTIL_SEQNO },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "ready-fd", required_argument, NULL, OPT_READY_FD },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: ipc-led --via NAME [--line NAME | --chip PATH --offset N | --console]\n"
"               [options]\n"
"\n"
"The LED process: receives the button process's messages over the IPC\n"
"mechanism NAME, validates each one, and sets the LED to the absolute state\n"
"it carries. Bad frames are rejected and counted, never applied; seqno gaps\n"
"(lost events) are counted. Start it before ipc-button, or use ipc-launch.\n"
"\n"
"LED:\n"
"  --line NAME        the gpio line, found by name on any chip (default\n"
"                     GPIO18), driven through libgpiod v2 and held for the\n"
"                     process's life (consumer \"ipc-led\")\n"
"  --chip PATH --offset N\n"
"                     the gpio line by chip and offset instead\n"
"  --active-low       the LED lights when the line is low\n"
"  --console          print every message (state, event, seqno, latency\n"
"                     from the event to now) on stdout; alone, it is the\n"
"                     PC mode: no gpio at all. With --line or --chip, both\n"
"  --quiet            with --console, print only the stats line\n"
"\n"
"Ending and readiness:\n"
"  --count N          exit after N valid messages\n"
"  --until-seqno N    exit after a message with seqno N or later\n"
"  --idle-timeout MS  exit when nothing arrived for MS milliseconds\n"
"  --ready-fd N       once receiving, write one byte to descriptor N and\n"
"                     close it (how ipc-launch and the tests know, without\n"
"                     sleeping, that the button may start)\n"
"On SIGINT, SIGTERM or SIGHUP it first applies what is already queued\n"
"(a second signal cuts that short), then exits.\n"
"\n"
CLI_COMMON_HELP
"  -h, --help         this text\n"
"\n"
"On exit one line goes to stderr, e.g.\n"
"  ipc-led: stats via=fifo received=N rejected=N short=N long=N bad-magic=N\n"
"  bad-version=N bad-checksum=N bad-field=N refused=N gaps=N lost=N\n"
"  dropped=N stale=N restarts=N reports=N changes=N first-seqno=N\n"
"  last-seqno=N"
" state=0|1 latency-avg-us=N latency-max-us=N\n"
"(lost: seqnos missing; dropped: of those, the ones the sender reported\n"
"dropping; stale: old or repeated frames ignored; restarts: a new sender\n"
"starting its seqnos over; reports: the button's state reports over a\n"
"mechanism that can lose frames, which reveal a lost tail; refused: frames\n"
"the mechanism itself refused,\n"
"e.g. a peer with the wrong credentials).\n"
"Exit status: 0 when done or stopped, 1 on an error, 2 on a usage error.\n");
}

struct led {
	struct cli_common cli;
	const char *line;
	const char *chip;
	unsigned long long offset;
	bool have_offset;
	bool active_low;
	bool console;
	bool quiet;
	unsigned long long count;
	unsigned long long until_seqno;
	bool have_until;
	unsigned long long idle_timeout_ms;
	bool have_idle;
	int ready_fd;

	struct led_gpio *gpio;
	struct transport *transport;
	bool state;

	/* Counters for the stats line. */
	uint64_t received, changes, gaps, lost, dropped, stale, restarts;
	uint64_t reports;	/* state reports taken (not events) */
	uint64_t rejects[IPC_MESSAGE_ERROR_COUNT];
	bool have_seqno;
	uint32_t first_seqno, last_seqno;
	uint64_t last_send_ns;
	uint64_t latency_sum_ns, latency_max_ns, latency_n;
};

static int parse_args(struct led *l, int argc, char **argv)
{
	unsigned long long v;
	int opt, r;

	for (;;) {
		opt = getopt_long(argc, argv, "h", long_options, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case CLI_OPT_LINE:
			l->line = optarg;
			break;
		case CLI_OPT_CHIP:
			l->chip = optarg;
			break;
		case CLI_OPT_OFFSET:
			if (cli_parse_uint(optarg, 65535, &l->offset) < 0) {
				log_error("--offset '%s': expected a line offset", optarg);
				return -EINVAL;
			}
			l->have_offset = true;
			break;
		case CLI_OPT_ACTIVE_LOW:
			l->active_low = true;
			break;
		case CLI_OPT_CONSOLE:
			l->console = true;
			break;
		case CLI_OPT_QUIET:
			l->quiet = true;
			break;
		case CLI_OPT_COUNT:
			if (cli_parse_uint(optarg, UINT64_MAX, &l->count) < 0 || !l->count) {
				log_error("--count '%s': expected a positive number", optarg);
				return -EINVAL;
			}
			break;
		case OPT_UNTIL_SEQNO:
			if (cli_parse_uint(optarg, UINT32_MAX, &l->until_seqno) < 0) {
				log_error("--until-seqno '%s': expected a seqno", optarg);
				return -EINVAL;
			}
			l->have_until = true;
			break;
		case OPT_IDLE_TIMEOUT:
			if (cli_parse_uint(optarg, INT32_MAX, &l->idle_timeout_ms) < 0) {
				log_error("--idle-timeout '%s': expected milliseconds", optarg);
				return -EINVAL;
			}
			l->have_idle = true;
			break;
		case OPT_READY_FD:
			if (cli_parse_uint(optarg, INT32_MAX, &v) < 0) {
				log_error("--ready-fd '%s': expected a descriptor number", optarg);
				return -EINVAL;
			}
			l->ready_fd = (int)v;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			r = cli_common_parse(&l->cli, opt, optarg);
			if (r < 0)
				return r;
		}
	}
	r = cli_common_operands(argc, argv);
	if (r < 0)
		return r;
	if (l->line && l->chip) {
		log_error("choose --line NAME or --chip PATH --offset N, not both");
		return -EINVAL;
	}
	if (!!l->chip != l->have_offset) {
		log_error("--chip and --offset go together");
		return -EINVAL;
	}
	if (!l->console && !l->chip && !l->line)
		l->line = "GPIO18";
	return 0;
}

/*
 * Track seqnos; returns false for a frame older than the last one applied.
 * A state report repeats the last event's seqno: what it says comes next
 * is the event after that, so every event up to its seqno that did not
 * arrive is counted lost, also at the very end of a stream.
 */
static bool track_seqno(struct led *l, const struct ipc_message *m)
{
	uint64_t next = (uint64_t)m->seqno + (m->type == IPC_EVENT_STATE);

	if (!l->have_seqno) {
		l->have_seqno = true;
		l->first_seqno = (uint32_t)next;
	} else if (next > l->last_seqno) {
		if (next != (uint64_t)l->last_seqno + 1) {
			l->gaps++;
			l->lost += next - l->last_seqno - 1;
		}
	} else if (m->send_ns > l->last_send_ns) {
		/*
		 * Back to an old seqno but sent later: a new sender (its own
		 * numbering, e.g. a restarted --stdin button), not a replay.
		 */
		l->restarts++;
	} else {
		l->stale++;
		return false;
	}
	l->last_seqno = m->seqno;
	l->last_send_ns = m->send_ns;
	return true;
}

static int handle_frame(struct led *l, const uint8_t *buf, size_t len)
{
	struct ipc_message m;
	enum ipc_message_error err;
	uint64_t now, latency;
	uint64_t lost_before = l->lost;
	bool changed;
	int r;

	err = ipc_message_decode(buf, len, &m);
	if (err != IPC_MESSAGE_OK) {
		l->rejects[err]++;
		log_verbose("rejected a %zu-byte frame: %s", len,
			    ipc_message_error_name(err));
		return 0;
	}
	if (m.type == IPC_EVENT_STATE)
		l->reports++;
	else
		l->received++;
	if (!track_seqno(l, &m)) {
		log_verbose("ignored stale seqno %u", m.seqno);
		return 0;
	}
	l->dropped += m.dropped;

	changed = m.led_state != l->state;
	if (changed) {
		if (l->gpio) {
			r = led_gpio_set(l->gpio, m.led_state);
			if (r < 0) {
				log_errno(r, "gpio %s", led_gpio_describe(l->gpio));
				return r;
			}
		}
		l->state = m.led_state;
		l->changes++;
	}
	if (m.type == IPC_EVENT_STATE) {
		/* Worth a line only when it corrected something. */
		if (l->console && !l->quiet && (changed || l->lost != lost_before))
			printf("led=%s seqno=%u report (%llu events missed in all)\n",
			       l->state ? "on" : "off", m.seqno,
			       (unsigned long long)l->lost);
		return 0;
	}
	now = monotonic_ns();
	latency = now > m.event_ns ? now - m.event_ns : 0;
	l->latency_sum_ns += latency;
	l->latency_n++;
	if (latency > l->latency_max_ns)
		l->latency_max_ns = latency;

	if (l->console && !l->quiet)
		printf("led=%s seqno=%u event=%s%s latency-us=%.1f%s\n",
		       l->state ? "on" : "off", m.seqno,
		       m.type == IPC_EVENT_PRESS ? "press" : "release",
		       m.dropped ? " (events lost before it)" : "",
		       latency / 1000.0, changed ? "" : " unchanged");
	return 0;
}

static bool done(const struct led *l)
{
	if (l->count && l->received >= l->count)
		return true;
	return l->have_until && l->have_seqno && l->last_seqno >= l->until_seqno;
}

/*
 * Receiving: tell a launcher (--ready-fd) and systemd (Type=notify; a no-op
 * without $NOTIFY_SOCKET), so that the button starts only now. Whoever
 * waits for the byte waits for nothing else: failing to write it is fatal,
 * or a launcher would wait forever for a LED that runs on.
 */
static int signal_ready(struct led *l)
{
	int notified = sd_notify(0, "READY=1");
	int r = 0;

	if (notified < 0)
		log_errno(notified, "sd_notify");
	if (l->ready_fd < 0)
		return 0;
	if (write(l->ready_fd, "R", 1) != 1) {
		r = -errno;
		log_errno(r, "--ready-fd %d: cannot say ready", l->ready_fd);
	}
	close(l->ready_fd);
	l->ready_fd = -1;
	return r;
}

/*
 * Whether one receive may take a whole batch: only when it cannot carry
 * the LED past its end (--count, --until-seqno), so that what this LED
 * will not apply stays in the mechanism, as with one frame per receive
 * (a durable mechanism keeps it for the next LED).
 */
static bool batch_fits(const struct led *l)
{
	if (l->count && l->count - l->received < TRANSPORT_BATCH_MAX)
		return false;
	if (l->have_until && (!l->have_seqno || l->last_seqno > l->until_seqno ||
			      l->until_seqno - l->last_seqno < TRANSPORT_BATCH_MAX))
		return false;
	return true;
}

/* The frames there are (waiting up to @timeout for the first): the count,
 * or as transport_receive(). */
static ssize_t receive_frames(struct led *l, struct transport_batch *batch,
			      int timeout)
{
	ssize_t n;

	if (batch_fits(l))
		return transport_receive_many(l->transport, batch, timeout);
	n = transport_receive(l->transport, batch->frame[0],
			      sizeof(batch->frame[0]), timeout);
	if (n < 0)
		return n;
	batch->len[0] = (size_t)n;
	batch->count = 1;
	return 1;
}

/* Each frame of @batch in order, as if received one by one. */
static int apply_batch(struct led *l, const struct transport_batch *batch)
{
	if (batch->count > 1)
		log_verbose("%s: %zu frames from one receive", l->cli.ops->name,
			    batch->count);
	for (size_t i = 0; i < batch->count; i++) {
		int r;

		if (done(l)) {
			/* Only past a seqno gap can a batch overshoot the end. */
			log_verbose("%zu frames after the last one wanted: not applied",
				    batch->count - i);
			return 0;
		}
		r = handle_frame(l, batch->frame[i], batch->len[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* After a stop signal: apply what the mechanism already holds, then stop. */
static int drain(struct led *l)
{
	struct transport_batch batch;
	size_t applied = 0;

	transport_unwake(l->transport);
	stop_rearm();
	while (applied < DRAIN_MAX && !done(l)) {
		ssize_t n = receive_frames(l, &batch, 0);
		int r;

		cli_log_transport_notice(l->transport);
		if (n < 0)
			return n == -EINTR || n == -ETIMEDOUT || n == TRANSPORT_STALE ? 0 : (int)n;
		r = apply_batch(l, &batch);
		if (r < 0)
			return r;
		applied += batch.count;
	}
	return 0;
}

static int run(struct led *l)
{
	struct transport_batch batch;
	int timeout = l->have_idle ? (int)l->idle_timeout_ms : -1;

	while (!done(l)) {
		ssize_t n = receive_frames(l, &batch, timeout);
		int r;

		cli_log_transport_notice(l->transport);
		if (n == -EINTR)
			return drain(l);
		if (n == -ETIMEDOUT) {
			log_verbose("nothing for %d ms: ending", timeout);
			return 0;
		}
		if (n == TRANSPORT_STALE) {
			log_verbose("%s: the sender ended", l->cli.ops->name);
			return 0;
		}
		if (n < 0) {
			cli_log_transport_error(l->cli.ops, (int)n,
						l->transport->detail, "receive");
			return (int)n;
		}
		r = apply_batch(l, &batch);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Called from the stop signal handler: async-signal-safe by contract. */
static void print_stats(const struct led *l)
{
	uint64_t refused = l->transport ? l->transport->rejected : 0;
	uint64_t rejected = refused;
	char line[1024];
	size_t n = 0;

	for (int i = 1; i < IPC_MESSAGE_ERROR_COUNT; i++)
		rejected += l->rejects[i];
	/* One write, so the line never mixes with another process's output. */
	n += snprintf(line + n, sizeof(line) - n,
		      "%s: stats via=%s received=%llu rejected=%llu",
		      log_program(), l->cli.ops->name,
		      (unsigned long long)l->received,
		      (unsigned long long)rejected);
	for (int i = 1; i < IPC_MESSAGE_ERROR_COUNT && n < sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - n, " %s=%llu",
			      ipc_message_error_name(i),
			      (unsigned long long)l->rejects[i]);
	if (n < sizeof(line))
		snprintf(line + n, sizeof(line) - n,
			 " refused=%llu gaps=%llu lost=%llu dropped=%llu stale=%llu restarts=%llu reports=%llu changes=%llu first-seqno=%u last-seqno=%u state=%d latency-avg-us=%.1f latency-max-us=%.1f\n",
			 (unsigned long long)refused,
			 (unsigned long long)l->gaps, (unsigned long long)l->lost,
			 (unsigned long long)l->dropped, (unsigned long long)l->stale,
			 (unsigned long long)l->restarts,
			 (unsigned long long)l->reports,
			 (unsigned long long)l->changes,
			 l->first_seqno, l->last_seqno, l->state,
			 l->latency_n ? l->latency_sum_ns / 1000.0 / l->latency_n : 0.0,
			 l->latency_max_ns / 1000.0);
	fputs(line, stderr);
}

int main(int argc, char **argv)
{
	struct led l = { .ready_fd = -1 };
	char detail[TRANSPORT_DETAIL_MAX];
	int r, status = 1;

	log_init(argv[0]);
	cli_common_init(&l.cli);
	r = parse_args(&l, argc, argv);
	if (r != 0) {
		cli_common_free(&l.cli);
		return r > 0 ? 0 : 2;
	}
	r = cli_common_finish(&l.cli);
	if (r != 0) {
		cli_common_free(&l.cli);
		return r > 0 ? 0 : r == -EINVAL || r == -ENOENT ? 2 : 1;
	}
	/* Checked before anything runs: a closed descriptor is a usage error. */
	if (l.ready_fd >= 0 && fcntl(l.ready_fd, F_SETFD, FD_CLOEXEC) < 0) {
		log_errno(errno, "--ready-fd %d", l.ready_fd);
		cli_common_free(&l.cli);
		return 2;
	}
	r = stop_init();
	if (r < 0) {
		log_errno(r, "signals");
		goto out;
	}
	/* Each message is one line, visible at once even through a pipe. */
	setvbuf(stdout, NULL, l.quiet ? _IOFBF : _IOLBF, 0);
	if (l.line || l.chip) {
		r = led_gpio_open(l.line, l.chip, (unsigned int)l.offset,
				  l.active_low, "ipc-led", &l.gpio, detail,
				  sizeof(detail));
		if (r == -ENOENT && !l.chip)
			log_error("%s", detail);
		else if (r < 0)
			log_errno(r, "%s", detail);
		if (r < 0)
			goto out;
	}
	r = transport_open(l.cli.ops, TRANSPORT_RECEIVER, &l.cli.config,
			   &l.transport, detail);
	if (r < 0) {
		cli_log_transport_error(l.cli.ops, r, detail,
					"cannot open the receiver");
		goto out;
	}
	cli_log_transport_notice(l.transport);
	r = transport_arm_stop(l.transport);
	if (r < 0) {
		log_errno(r, "cannot set up the stop signals");
		goto out;
	}
	log_verbose("receiving via %s in %s, LED %s", l.cli.ops->name,
		    l.cli.runtime_dir, l.gpio ? led_gpio_describe(l.gpio) : "on the console");
	if (signal_ready(&l) < 0)
		goto out;

	r = run(&l);
	status = r < 0 ? 1 : 0;
	print_stats(&l);
out:
	stop_set_wake(NULL, NULL);
	if (l.ready_fd >= 0)
		close(l.ready_fd);
	transport_close(l.transport, detail);
	if (*detail)
		log_warning("%s: %s", l.cli.ops->name, detail);
	led_gpio_close(l.gpio);
	cli_common_free(&l.cli);
	fflush(stdout);
	return status;
}
