// SPDX-License-Identifier: MIT
#include "board.h"

#include "control.h"
#include "histogram.h"
#include "led_gpio.h"
#include "log.h"
#include "message.h"
#include "stop.h"
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <gpiod.h>
#include <ipc_button.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUTTON_LINE	17
#define CDEV_LINE	27
#define LED_LINE	18
#define WAIT_MS		5000
#define MAX_OPTIONS	16

/* What the LED side tells the parent about each event it applied. */
struct e2e_record {
	uint32_t seqno;
	uint32_t led_state;
	uint64_t set_ns;	/* CLOCK_MONOTONIC when the line was set */
};

static const char *opt_via;
static const char *opt_dir = "/run/ipc-bench-board";
static const char *options[MAX_OPTIONS + 1];
static int n_options;
static unsigned int opt_presses = 100;
static unsigned int opt_rep = 1;
static unsigned int opt_max_burst = 256;
static int opt_fd = -1, opt_result_fd = -1, opt_ready_fd = -1;

static int sim_attr(unsigned int line, const char *attr, char *buf, size_t size)
{
	char pattern[128];
	glob_t g;
	int r = -ENOENT;

	snprintf(pattern, sizeof(pattern),
		 "/sys/devices/platform/gpio-sim*/gpiochip*/sim_gpio%u/%s", line, attr);
	if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0) {
		snprintf(buf, size, "%s", g.gl_pathv[0]);
		r = 0;
	}
	globfree(&g);
	return r;
}

/* A pull file kept open: one write() per edge. */
static int open_pull(unsigned int line)
{
	char path[PATH_MAX];
	int fd;

	if (sim_attr(line, "pull", path, sizeof(path)) < 0) {
		fprintf(stderr, "ipc-bench: no gpio-sim line %u\n", line);
		return -ENOENT;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "ipc-bench: %s: %s\n", path, strerror(errno));
	return fd < 0 ? -errno : fd;
}

static int set_pull(int fd, bool up)
{
	const char *v = up ? "pull-up" : "pull-down";

	return pwrite(fd, v, strlen(v), 0) < 0 ? -errno : 0;
}

static int sim_value(unsigned int line)
{
	char path[PATH_MAX], c = '?';
	int fd;

	if (sim_attr(line, "value", path, sizeof(path)) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = '?';
	close(fd);
	return c == '1' ? 1 : c == '0' ? 0 : -1;
}

static void print_percentiles(const char *kind, const char *mech,
			      const char *variant, const struct histogram *h,
			      const char *extra)
{
	printf("kind=%s\tmech=%s\tvariant=%s\tpin=none\trep=%u\tstatus=%s"
	       "\tsamples=%lu\tp50_ns=%lu\tp99_ns=%lu\tp999_ns=%lu\tmax_ns=%lu"
	       "\tmin_ns=%lu\tmean_ns=%.0f%s\n", kind, mech, variant, opt_rep,
	       h->count ? "ok" : "fail", (unsigned long)h->count,
	       (unsigned long)histogram_quantile(h, 0.5),
	       (unsigned long)histogram_quantile(h, 0.99),
	       (unsigned long)histogram_quantile(h, 0.999),
	       (unsigned long)h->max_ns, (unsigned long)(h->count ? h->min_ns : 0),
	       h->count ? (double)h->sum_ns / (double)h->count : 0, extra);
	fflush(stdout);
}

/* ---------------------------------------------------------------- irq */

struct reader {
	pthread_t thread;
	_Atomic uint32_t count;		/* futex: events read */
	uint64_t dropped;
	bool record;			/* edge by edge: record latencies */
	struct histogram hist;
	int fd;				/* driver */
	struct gpiod_line_request *request;	/* cdev */
	int error;
};

/* After a failed read: true when the reader must stop, false on EINTR. */
static bool reader_stops(struct reader *r)
{
	if (errno == EINTR)
		return false;
	r->error = -errno;
	return true;
}

static void *driver_reader(void *arg)
{
	struct reader *r = arg;
	struct ipc_button_event ev[16];

	for (;;) {
		ssize_t n = read(r->fd, ev, sizeof(ev));
		uint64_t t = now_ns();

		if (n < 0) {
			if (reader_stops(r))
				break;
			continue;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(ev[0]); i++) {
			if (ev[i].flags & IPC_BUTTON_EVENT_F_DROPPED)
				r->dropped += ev[i].dropped;
			if (atomic_load(&r->record))
				histogram_add(&r->hist, t - ev[i].timestamp_ns);
			atomic_fetch_add(&r->count, 1);
		}
		futex_wake_shared(&r->count);
	}
	futex_wake_shared(&r->count);
	return NULL;
}

static void *cdev_reader(void *arg)
{
	struct reader *r = arg;
	struct gpiod_edge_event_buffer *buf = gpiod_edge_event_buffer_new(64);
	unsigned long last_seqno = 0;

	if (!buf) {
		r->error = -ENOMEM;
		return NULL;
	}
	for (;;) {
		int n = gpiod_line_request_read_edge_events(r->request, buf, 64);
		uint64_t t = now_ns();

		if (n < 0) {
			if (reader_stops(r))
				break;
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct gpiod_edge_event *e = gpiod_edge_event_buffer_get_event(buf, i);
			unsigned long seq = gpiod_edge_event_get_line_seqno(e);

			/* Its kfifo overflowed: the seqnos jump. */
			if (last_seqno && seq > last_seqno + 1)
				r->dropped += seq - last_seqno - 1;
			last_seqno = seq;
			if (atomic_load(&r->record))
				histogram_add(&r->hist, t - gpiod_edge_event_get_timestamp_ns(e));
			atomic_fetch_add(&r->count, 1);
		}
		futex_wake_shared(&r->count);
	}
	gpiod_edge_event_buffer_free(buf);
	futex_wake_shared(&r->count);
	return NULL;
}

static struct gpiod_line_request *request_cdev_line(unsigned int line)
{
	struct gpiod_line_request *req = NULL;
	struct gpiod_line_settings *s = gpiod_line_settings_new();
	struct gpiod_line_config *lc = gpiod_line_config_new();
	struct gpiod_request_config *rc = gpiod_request_config_new();
	char name[16];
	glob_t g;

	snprintf(name, sizeof(name), "GPIO%u", line);
	if (!s || !lc || !rc || glob("/dev/gpiochip*", 0, NULL, &g) != 0)
		goto out;
	gpiod_line_settings_set_direction(s, GPIOD_LINE_DIRECTION_INPUT);
	gpiod_line_settings_set_edge_detection(s, GPIOD_LINE_EDGE_BOTH);
	gpiod_request_config_set_consumer(rc, "ipc-bench");
	gpiod_request_config_set_event_buffer_size(rc, 64);
	for (size_t i = 0; i < g.gl_pathc && !req; i++) {
		struct gpiod_chip *chip = gpiod_chip_open(g.gl_pathv[i]);
		int offset;

		if (!chip)
			continue;
		offset = gpiod_chip_get_line_offset_from_name(chip, name);
		if (offset >= 0) {
			unsigned int off = offset;

			gpiod_line_config_add_line_settings(lc, &off, 1, s);
			req = gpiod_chip_request_lines(chip, rc, lc);
		}
		gpiod_chip_close(chip);
	}
	globfree(&g);
out:
	gpiod_request_config_free(rc);
	gpiod_line_config_free(lc);
	gpiod_line_settings_free(s);
	return req;
}

/* Wait until @r has read @want events; false after WAIT_MS without one. */
static bool wait_count(struct reader *r, uint32_t want, int timeout_ms)
{
	uint32_t seen;

	while ((seen = atomic_load(&r->count)) < want)
		if (futex_wait_shared(&r->count, seen, timeout_ms) == -ETIMEDOUT)
			return atomic_load(&r->count) >= want;
	return true;
}

static int board_irq(void)
{
	struct reader drv = { .record = true }, cdev = { .record = true };
	int pull_drv = open_pull(BUTTON_LINE), pull_cdev = open_pull(CDEV_LINE);
	struct ipc_button_info info;
	bool up = true;
	char extra[160];

	histogram_init(&drv.hist);
	histogram_init(&cdev.hist);
	if (pull_drv < 0 || pull_cdev < 0)
		return 1;
	/* Both lines at rest (pulled up) before anyone listens. */
	set_pull(pull_drv, true);
	set_pull(pull_cdev, true);
	drv.fd = open("/dev/ipc-button0", O_RDONLY | O_CLOEXEC);
	if (drv.fd < 0) {
		fprintf(stderr, "ipc-bench: /dev/ipc-button0: %s\n", strerror(errno));
		return 1;
	}
	cdev.request = request_cdev_line(CDEV_LINE);
	if (!cdev.request) {
		fprintf(stderr, "ipc-bench: GPIO%d: cannot request edge events: %s\n",
			CDEV_LINE, strerror(errno));
		return 1;
	}
	if (pthread_create(&drv.thread, NULL, driver_reader, &drv) ||
	    pthread_create(&cdev.thread, NULL, cdev_reader, &cdev))
		return 1;

	/* Edge by edge: both lines, alternating who goes first. */
	for (unsigned int i = 1; i <= opt_presses * 2; i++) {
		up = !up;
		if (i & 1) {
			set_pull(pull_drv, up);
			set_pull(pull_cdev, up);
		} else {
			set_pull(pull_cdev, up);
			set_pull(pull_drv, up);
		}
		if (!wait_count(&drv, i, WAIT_MS) || !wait_count(&cdev, i, WAIT_MS)) {
			fprintf(stderr, "ipc-bench: edge %u: driver read %u, cdev read %u\n",
				i, atomic_load(&drv.count), atomic_load(&cdev.count));
			break;
		}
	}
	memset(&info, 0, sizeof(info));
	ioctl(drv.fd, IPC_BUTTON_GET_INFO, &info);
	snprintf(extra, sizeof(extra), "\tdropped=%lu\tedges=%u",
		 (unsigned long)(drv.dropped + info.dropped), opt_presses * 2);
	print_percentiles("irq", "driver", "ipc-button", &drv.hist, extra);
	snprintf(extra, sizeof(extra), "\tdropped=%lu\tedges=%u",
		 (unsigned long)cdev.dropped, opt_presses * 2);
	print_percentiles("irq", "gpio-cdev", "libgpiod", &cdev.hist, extra);

	/* Bursts: edges as fast as gpio-sim takes them, on both lines. */
	atomic_store(&drv.record, false);
	atomic_store(&cdev.record, false);
	for (unsigned int burst = 16; burst <= opt_max_burst; burst *= 4) {
		uint32_t d0 = atomic_load(&drv.count), c0 = atomic_load(&cdev.count);
		uint64_t dd0 = drv.dropped, cd0 = cdev.dropped, t0 = now_ns(), t1;

		memset(&info, 0, sizeof(info));
		for (unsigned int i = 0; i < burst; i++) {
			up = !up;
			set_pull(pull_drv, up);
			set_pull(pull_cdev, up);
		}
		t1 = now_ns();
		/* Until both went quiet: what they got is all they will get. */
		wait_count(&drv, d0 + burst, 1000);
		wait_count(&cdev, c0 + burst, 1000);
		ioctl(drv.fd, IPC_BUTTON_GET_INFO, &info);
		printf("kind=burst\tmech=driver\tvariant=ipc-button\trep=%u\tstatus=ok\tedges=%u"
		       "\tedges_per_s=%.0f\treceived=%u\tdropped=%lu\n", opt_rep, burst,
		       burst / ((t1 - t0) / 1e9), atomic_load(&drv.count) - d0,
		       (unsigned long)(drv.dropped - dd0));
		printf("kind=burst\tmech=gpio-cdev\tvariant=libgpiod\trep=%u\tstatus=ok\tedges=%u"
		       "\tedges_per_s=%.0f\treceived=%u\tdropped=%lu\n", opt_rep, burst,
		       burst / ((t1 - t0) / 1e9), atomic_load(&cdev.count) - c0,
		       (unsigned long)(cdev.dropped - cd0));
		fflush(stdout);
	}
	/* The readers sleep in read(); the process ends them. */
	return 0;
}

/* ---------------------------------------------------------------- e2e */

/* The LED side: as ipc-led, plus a record per event for the parent. */
static int board_led(void)
{
	struct transport_config cfg = {
		.runtime_dir = opt_dir, .instance = "board",
		.inherited_fd = opt_fd, .options = options,
		.notice = log_relay,
	};
	const struct transport_ops *ops = transport_find(opt_via);
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	struct transport *t;
	struct led_gpio *led;
	char why[300];
	int r;

	if (!ops || stop_init() < 0)
		return 1;
	r = led_gpio_open("GPIO18", NULL, 0, false, "ipc-bench-led", &led,
			  why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "ipc-bench: %s: %s\n", why, strerror(-r));
		return 1;
	}
	r = transport_open(ops, TRANSPORT_RECEIVER, &cfg, &t, NULL);
	if (r < 0) {
		fprintf(stderr, "ipc-bench: %s: receiver: %s\n", opt_via, strerror(-r));
		return 1;
	}
	if (write(opt_ready_fd, "r", 1) != 1)
		return 1;
	close(opt_ready_fd);
	while (!stop_requested()) {
		struct ipc_message msg;
		struct e2e_record rec;
		ssize_t n = transport_receive(t, buf, sizeof(buf), -1);

		if (n == -EINTR || n == -ETIMEDOUT)
			continue;
		if (n < 0) {
			fprintf(stderr, "ipc-bench: %s: receive: %s\n", opt_via, strerror((int)-n));
			break;
		}
		if (ipc_message_decode(buf, (size_t)n, &msg) != IPC_MESSAGE_OK)
			continue;
		r = led_gpio_set(led, msg.led_state);
		rec.set_ns = now_ns();
		rec.seqno = msg.seqno;
		rec.led_state = msg.led_state;
		if (r < 0 || write(opt_result_fd, &rec, sizeof(rec)) != sizeof(rec))
			break;
	}
	transport_close(t, NULL);
	led_gpio_close(led);
	return 0;
}

/* Start @argv with the descriptors of @keep (up to -2) open across exec. */
static pid_t spawn(char **argv, const int *keep)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (; *keep != -2; keep++)
			if (*keep >= 0 && fcntl(*keep, F_SETFD, 0) < 0)
				_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "ipc-bench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

/*
 * The parent reads the device too (each open file gets every event, with
 * the same seqno and hard-IRQ timestamp): that timestamp is the start of
 * the end-to-end time for every mechanism, also for those that carry no
 * payload and so cannot pass the driver's timestamp on.
 */
static int read_irq_time(int fd, uint64_t *ret_ns, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	struct ipc_button_event ev;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	if (read(fd, &ev, sizeof(ev)) != sizeof(ev))
		return -EIO;
	*ret_ns = ev.timestamp_ns;
	return 0;
}

/* Read one record, or give up after @timeout_ms. */
static int read_record(int fd, struct e2e_record *rec, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	return read(fd, rec, sizeof(*rec)) == sizeof(*rec) ? 0 : -EIO;
}

static int board_e2e(void)
{
	const struct transport_ops *ops = transport_find(opt_via);
	int pair[2] = { -1, -1 }, res[2], ready[2], pull, dev;
	uint64_t irq_ns;
	char a[8][PATH_MAX], *led_argv[32], *btn_argv[32];
	int nl = 0, nb = 0, status = 1, led_ok = 1;
	pid_t led_pid, btn_pid;
	struct histogram h;
	struct e2e_record rec;
	bool up = true;
	char c, extra[96];

	histogram_init(&h);
	if (!ops) {
		fprintf(stderr, "ipc-bench: no mechanism %s\n", opt_via);
		return 1;
	}
	mkdir(opt_dir, 0700);
	pull = open_pull(BUTTON_LINE);
	if (pull < 0 || pipe2(res, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
		return 1;
	set_pull(pull, true);
	dev = open("/dev/ipc-button0", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "ipc-bench: /dev/ipc-button0: %s\n", strerror(errno));
		return 1;
	}
	if ((ops->flags & TRANSPORT_INHERITED) && (!ops->make_pair || ops->make_pair(pair) < 0))
		return 1;

	snprintf(a[0], PATH_MAX, "--via=%s", opt_via);
	snprintf(a[1], PATH_MAX, "--runtime-dir=%s", opt_dir);
	snprintf(a[2], PATH_MAX, "--fd=%d", pair[0]);
	snprintf(a[3], PATH_MAX, "--result-fd=%d", res[1]);
	snprintf(a[4], PATH_MAX, "--ready-fd=%d", ready[1]);
	snprintf(a[5], PATH_MAX, "--fd=%d", pair[1]);
	led_argv[nl++] = "/proc/self/exe";
	led_argv[nl++] = "--board-led";
	led_argv[nl++] = a[0];
	led_argv[nl++] = a[1];
	led_argv[nl++] = a[2];
	led_argv[nl++] = a[3];
	led_argv[nl++] = a[4];
	btn_argv[nb++] = "ipc-button";
	btn_argv[nb++] = a[0];
	btn_argv[nb++] = a[1];
	btn_argv[nb++] = "--instance=board";
	btn_argv[nb++] = "--device=/dev/ipc-button0";
	if (pair[1] >= 0)
		btn_argv[nb++] = a[5];
	for (int i = 0; i < n_options; i++) {
		led_argv[nl++] = "--opt";
		led_argv[nl++] = (char *)options[i];
		btn_argv[nb++] = "--opt";
		btn_argv[nb++] = (char *)options[i];
	}
	led_argv[nl] = NULL;
	btn_argv[nb] = NULL;

	led_pid = spawn(led_argv, (int[]){ pair[0], res[1], ready[1], -2 });
	close(ready[1]);
	close(res[1]);
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "ipc-bench: %s: the LED side did not start\n", opt_via);
		goto out_led;
	}
	btn_pid = spawn(btn_argv, (int[]){ pair[1], -2 });

	/* Until the button has the device open, presses reach nobody. */
	for (int tries = 0;; tries++) {
		up = !up;
		set_pull(pull, up);
		if (read_record(res[0], &rec, 2000) == 0)
			break;
		if (tries == 15) {
			fprintf(stderr, "ipc-bench: %s: no event reached the LED\n", opt_via);
			goto out_btn;
		}
	}
	/* Late ones of those first presses: taken until a second of quiet. */
	while (read_record(res[0], &rec, 1000) == 0)
		;
	while (read_irq_time(dev, &irq_ns, 0) == 0)
		;
	for (unsigned int i = 0; i < opt_presses * 2; i++) {
		up = !up;
		set_pull(pull, up);
		if (read_record(res[0], &rec, WAIT_MS) < 0) {
			fprintf(stderr, "ipc-bench: %s: event %u did not reach the LED\n",
				opt_via, i + 1);
			goto out_btn;
		}
		/* Only now: waking up earlier, we would compete with the chain. */
		if (read_irq_time(dev, &irq_ns, WAIT_MS) < 0) {
			fprintf(stderr, "ipc-bench: %s: edge %u made no event\n",
				opt_via, i + 1);
			goto out_btn;
		}
		histogram_add(&h, rec.set_ns - irq_ns);
		if (sim_value(LED_LINE) != (int)rec.led_state)
			led_ok = 0;
	}
	status = 0;
out_btn:
	kill(btn_pid, SIGTERM);
	waitpid(btn_pid, NULL, 0);
out_led:
	kill(led_pid, SIGTERM);
	waitpid(led_pid, NULL, 0);
	snprintf(extra, sizeof(extra), "\tled_ok=%d", led_ok);
	print_percentiles("e2e", opt_via, "ours", &h, extra);
	for (int i = 0; i < 2; i++)
		if (pair[i] >= 0)
			close(pair[i]);
	close(dev);
	return status;
}

int board_main(int argc, char **argv)
{
	enum { O_IRQ = 300, O_E2E, O_LED, O_VIA, O_DIR, O_PRESSES, O_REP, O_FD,
	       O_RESULT, O_READY, O_OPT, O_BURST };
	static const struct option longopts[] = {
		{ "board-irq", no_argument, NULL, O_IRQ },
		{ "board-e2e", no_argument, NULL, O_E2E },
		{ "board-led", no_argument, NULL, O_LED },
		{ "via", required_argument, NULL, O_VIA },
		{ "runtime-dir", required_argument, NULL, O_DIR },
		{ "presses", required_argument, NULL, O_PRESSES },
		{ "rep", required_argument, NULL, O_REP },
		{ "max-burst", required_argument, NULL, O_BURST },
		{ "fd", required_argument, NULL, O_FD },
		{ "result-fd", required_argument, NULL, O_RESULT },
		{ "ready-fd", required_argument, NULL, O_READY },
		{ "opt", required_argument, NULL, O_OPT },
		{ NULL, 0, NULL, 0 },
	};
	int mode = 0, opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case O_IRQ: case O_E2E: case O_LED: mode = opt; break;
		case O_VIA: opt_via = optarg; break;
		case O_DIR: opt_dir = optarg; break;
		case O_PRESSES: opt_presses = strtoul(optarg, NULL, 10); break;
		case O_REP: opt_rep = strtoul(optarg, NULL, 10); break;
		case O_BURST: opt_max_burst = strtoul(optarg, NULL, 10); break;
		case O_FD: opt_fd = atoi(optarg); break;
		case O_RESULT: opt_result_fd = atoi(optarg); break;
		case O_READY: opt_ready_fd = atoi(optarg); break;
		case O_OPT:
			if (n_options < MAX_OPTIONS)
				options[n_options++] = optarg;
			break;
		default:
			return 2;
		}
	}
	if (mode == O_IRQ)
		return board_irq();
	if (!opt_via) {
		fprintf(stderr, "ipc-bench: --board-e2e/--board-led need --via\n");
		return 2;
	}
	return mode == O_E2E ? board_e2e() : board_led();
}
