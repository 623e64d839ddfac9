// SPDX-License-Identifier: MIT
/*
 * ipc-button-bench: the ipc_button driver's own benchmark, run on the
 * emulated board (bench/driver/run boots it). Presses come from gpio-sim
 * (writes to the line's pull attribute), so every figure includes what a
 * simulated edge costs; on real hardware the edge is free.
 *
 *   ipc-button-bench latency --debounce MS [--samples N]
 *	IRQ-to-read() latency: a reader blocked in read() wakes with each
 *	record; latency = CLOCK_MONOTONIC at read() return minus the
 *	record's timestamp (taken in the hard-IRQ handler). One edge at a
 *	time: the next press waits for the reader to have its record.
 *   ipc-button-bench rate --debounce MS --readers K [--presses N]
 *	The highest press rate (press + release per period, paced by
 *	absolute clock_nanosleep) at which each of K readers, one thread
 *	and one open file each, gets every event (two records per press,
 *	within five seconds of the last edge) with no drop: climbs a
 *	ladder of rates, then bisects between the last lossless and the
 *	first lossy one.
 *   ipc-button-bench baseline [--samples N]
 *	The same measurement for a plain thread wake-up in the same run: a
 *	thread blocked in read() on an eventfd, latency from just before
 *	the write() to the read() return. The ratio to it separates the
 *	driver's cost from what the emulated, shared CPUs cost everything.
 *   ipc-button-bench train --debounce MS --edges N --interval-us U
 *	A sustained train of N edges U microseconds apart (0: as fast as
 *	gpio-sim takes them) while the reader is busy elsewhere; then every
 *	record is read and checked against the edges written and the
 *	interrupts counted: records, records flagged (edges lost, unsettled),
 *	the lost edges they report, and what no record accounts for.
 *   ipc-button-bench memory [--files N]
 *	Kernel memory per open file: the slab growth (/proc/meminfo) for N
 *	open files, with the default queue and with the largest queue.
 *
 * Output: one line per result, tab-separated key=value pairs starting
 * with kind=driver-..., for scripts; progress goes to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ipc_button.h"

#define BUTTON_LINE	17
#define MAX_READERS	64
#define READ_BATCH	64

static void die(const char *what)
{
	fprintf(stderr, "ipc-button-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = deadline_ns / 1000000000u,
		.tv_nsec = deadline_ns % 1000000000u,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* --- the device and the simulated line ------------------------------- */

static char device_path[64];
static char class_dir[96];
static int pull_fd = -1;

/* The /dev/ipc-buttonN of the button on BUTTON_LINE. */
static void find_device(void)
{
	struct ipc_button_info info;
	int i, fd;

	for (i = 0; i < 64; i++) {
		snprintf(device_path, sizeof(device_path), "/dev/ipc-button%d", i);
		fd = open(device_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (ioctl(fd, IPC_BUTTON_GET_INFO, &info) == 0 &&
		    info.line == BUTTON_LINE) {
			close(fd);
			snprintf(class_dir, sizeof(class_dir),
				 "/sys/class/ipc-button/ipc-button%d", i);
			return;
		}
		close(fd);
	}
	fprintf(stderr, "ipc-button-bench: no ipc-button on GPIO%d\n",
		BUTTON_LINE);
	exit(1);
}

static void open_pull(void)
{
	char pattern[128];
	glob_t found;

	snprintf(pattern, sizeof(pattern),
		 "/sys/devices/platform/gpio-sim*/gpiochip*/sim_gpio%d/pull",
		 BUTTON_LINE);
	if (glob(pattern, 0, NULL, &found)) {
		fprintf(stderr, "ipc-button-bench: no gpio-sim line %d\n",
			BUTTON_LINE);
		exit(1);
	}
	pull_fd = open(found.gl_pathv[0], O_WRONLY | O_CLOEXEC);
	if (pull_fd < 0)
		die(found.gl_pathv[0]);
	globfree(&found);
}

/* Active low with a pull-up: a press pulls the line down. */
static void set_pressed(bool pressed)
{
	const char *v = pressed ? "pull-down" : "pull-up";

	if (pwrite(pull_fd, v, strlen(v), 0) < 0)
		die("gpio-sim pull");
}

static void set_debounce(unsigned int ms)
{
	char path[128], value[16];
	int fd;

	snprintf(path, sizeof(path), "%s/debounce_ms", class_dir);
	snprintf(value, sizeof(value), "%u", ms);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		die(path);
	close(fd);
}

static int open_device(int flags)
{
	int fd = open(device_path, flags | O_CLOEXEC);

	if (fd < 0)
		die(device_path);
	return fd;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t percentile(const uint64_t *sorted, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (n - 1) + 0.5);

	return sorted[i < n ? i : n - 1];
}

/* --- latency ---------------------------------------------------------- */

struct latency_run {
	int fd;		/* blocking */
	int ack;	/* eventfd: the reader has its record */
	size_t samples;
	uint64_t *latency_ns;	/* hard-IRQ timestamp to read() return */
	uint64_t *irq_ns;	/* start of the pull write to the timestamp */
	uint64_t *write_ns;	/* start of the pull write */
	int error;
};

static void *latency_reader(void *arg)
{
	struct latency_run *run = arg;
	struct ipc_button_event ev;
	uint64_t one = 1;
	size_t i;

	for (i = 0; i < run->samples; i++) {
		if (read(run->fd, &ev, sizeof(ev)) != sizeof(ev)) {
			run->error = errno ? errno : EIO;
			break;
		}
		run->latency_ns[i] = now_ns() - ev.timestamp_ns;
		run->irq_ns[i] = ev.timestamp_ns - run->write_ns[i];
		if (write(run->ack, &one, sizeof(one)) != sizeof(one)) {
			run->error = errno;
			break;
		}
	}
	return NULL;
}

static int cmd_latency(unsigned int debounce, size_t samples)
{
	struct latency_run run = { .samples = samples };
	pthread_t reader;
	uint64_t ack;
	size_t i;

	run.latency_ns = calloc(samples, sizeof(*run.latency_ns));
	run.irq_ns = calloc(samples, sizeof(*run.irq_ns));
	run.write_ns = calloc(samples, sizeof(*run.write_ns));
	if (!run.latency_ns || !run.irq_ns || !run.write_ns)
		die("calloc");
	set_debounce(debounce);
	set_pressed(false);
	run.fd = open_device(O_RDONLY);
	run.ack = eventfd(0, EFD_CLOEXEC);
	if (run.ack < 0)
		die("eventfd");
	if (pthread_create(&reader, NULL, latency_reader, &run))
		die("pthread_create");

	for (i = 0; i < samples; i++) {
		run.write_ns[i] = now_ns();
		set_pressed(i % 2 == 0);
		/* One edge in flight: wait until the reader has its record. */
		if (read(run.ack, &ack, sizeof(ack)) != sizeof(ack))
			die("eventfd read");
	}
	pthread_join(reader, NULL);
	if (run.error) {
		errno = run.error;
		die("latency reader");
	}
	set_pressed(false);
	close(run.fd);
	close(run.ack);

	qsort(run.latency_ns, samples, sizeof(uint64_t), cmp_u64);
	qsort(run.irq_ns, samples, sizeof(uint64_t), cmp_u64);
	/*
	 * edge_p50_us: from the start of the simulated edge (the pull write)
	 * to the hard-IRQ timestamp; not part of the latency, shown to tell
	 * the simulator's cost from the driver's.
	 */
	printf("kind=driver-latency\tdebounce_ms=%u\tsamples=%zu\tp50_us=%.1f\tp90_us=%.1f\tp99_us=%.1f\tmin_us=%.1f\tmax_us=%.1f\tedge_p50_us=%.1f\n",
	       debounce, samples,
	       percentile(run.latency_ns, samples, 50) / 1e3,
	       percentile(run.latency_ns, samples, 90) / 1e3,
	       percentile(run.latency_ns, samples, 99) / 1e3,
	       run.latency_ns[0] / 1e3, run.latency_ns[samples - 1] / 1e3,
	       percentile(run.irq_ns, samples, 50) / 1e3);
	fflush(stdout);
	free(run.latency_ns);
	free(run.irq_ns);
	free(run.write_ns);
	return 0;
}

/* --- baseline: a plain thread wake-up ------------------------------------ */

struct wakeup_run {
	int wake;	/* eventfd the reader sleeps on */
	int ack;	/* eventfd: the reader has measured */
	size_t samples;
	uint64_t *latency_ns;
	uint64_t sent_ns;
	int error;
};

static void *wakeup_reader(void *arg)
{
	struct wakeup_run *run = arg;
	uint64_t value, one = 1;
	size_t i;

	for (i = 0; i < run->samples; i++) {
		if (read(run->wake, &value, sizeof(value)) != sizeof(value)) {
			run->error = errno ? errno : EIO;
			break;
		}
		run->latency_ns[i] = now_ns() - __atomic_load_n(&run->sent_ns,
							       __ATOMIC_ACQUIRE);
		if (write(run->ack, &one, sizeof(one)) != sizeof(one)) {
			run->error = errno;
			break;
		}
	}
	return NULL;
}

static int cmd_baseline(size_t samples)
{
	struct wakeup_run run = { .samples = samples };
	pthread_t reader;
	uint64_t one = 1, ack;
	size_t i;

	run.latency_ns = calloc(samples, sizeof(*run.latency_ns));
	run.wake = eventfd(0, EFD_CLOEXEC);
	run.ack = eventfd(0, EFD_CLOEXEC);
	if (!run.latency_ns || run.wake < 0 || run.ack < 0)
		die("baseline setup");
	if (pthread_create(&reader, NULL, wakeup_reader, &run))
		die("pthread_create");
	for (i = 0; i < samples; i++) {
		__atomic_store_n(&run.sent_ns, now_ns(), __ATOMIC_RELEASE);
		if (write(run.wake, &one, sizeof(one)) != sizeof(one))
			die("eventfd write");
		if (read(run.ack, &ack, sizeof(ack)) != sizeof(ack))
			die("eventfd read");
	}
	pthread_join(reader, NULL);
	if (run.error) {
		errno = run.error;
		die("baseline reader");
	}
	close(run.wake);
	close(run.ack);

	qsort(run.latency_ns, samples, sizeof(uint64_t), cmp_u64);
	printf("kind=driver-latency-baseline\tmechanism=eventfd-wakeup\tsamples=%zu\tp50_us=%.1f\tp90_us=%.1f\tp99_us=%.1f\tmin_us=%.1f\tmax_us=%.1f\n",
	       samples, percentile(run.latency_ns, samples, 50) / 1e3,
	       percentile(run.latency_ns, samples, 90) / 1e3,
	       percentile(run.latency_ns, samples, 99) / 1e3,
	       run.latency_ns[0] / 1e3, run.latency_ns[samples - 1] / 1e3);
	fflush(stdout);
	free(run.latency_ns);
	return 0;
}

/* --- press rate --------------------------------------------------------- */

struct rate_reader {
	pthread_t thread;
	int fd;			/* non-blocking; woken by poll() */
	uint64_t records;
	uint64_t flagged_drops;	/* sum of dropped on F_DROPPED records */
	uint64_t seqno_gaps;	/* records missing between seqnos */
	uint32_t last_seqno;
	bool seen_any;
};

struct rate_run {
	struct rate_reader readers[MAX_READERS];
	unsigned int n_readers;
	uint64_t expected;
	uint64_t start_ns;	/* records timed before are a previous run's */
	int stop;		/* eventfd: generator done, deadline passed */
	pthread_mutex_t lock;
	pthread_cond_t all_in;
	unsigned int complete;	/* readers that have every record */
};

static struct rate_run *rate_run;

static void *rate_reader_thread(void *arg)
{
	struct rate_reader *r = arg;
	struct ipc_button_event ev[READ_BATCH];
	struct pollfd pfd[2] = {
		{ .fd = r->fd, .events = POLLIN },
		{ .fd = rate_run->stop, .events = POLLIN },
	};
	bool counted = false;
	ssize_t n;
	int i;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		n = read(r->fd, ev, sizeof(ev));
		if (n < 0 && errno != EAGAIN)
			die("read");
		for (i = 0; n > 0 && i < n / (ssize_t)sizeof(ev[0]); i++) {
			/* A late record of the previous rate: not ours. */
			if (ev[i].timestamp_ns <
			    __atomic_load_n(&rate_run->start_ns, __ATOMIC_ACQUIRE))
				continue;
			if (ev[i].flags & IPC_BUTTON_EVENT_F_DROPPED)
				r->flagged_drops += ev[i].dropped;
			if (r->seen_any && ev[i].seqno != r->last_seqno + 1)
				r->seqno_gaps += ev[i].seqno - r->last_seqno - 1;
			r->last_seqno = ev[i].seqno;
			r->seen_any = true;
			r->records++;
		}
		if (!counted && r->records >= rate_run->expected) {
			counted = true;
			pthread_mutex_lock(&rate_run->lock);
			rate_run->complete++;
			pthread_cond_signal(&rate_run->all_in);
			pthread_mutex_unlock(&rate_run->lock);
		}
		if (n < 0 && (pfd[1].revents & POLLIN))
			return NULL;
	}
}

struct rate_result {
	double target_hz;
	double achieved_hz;
	uint64_t expected;
	uint64_t emitted;	/* device seqno delta over the run, late ones too */
	uint64_t min_records;	/* fewest records of this run a reader got */
	uint64_t drops;		/* overflow drops, all readers */
	bool lossless;
};

static uint32_t device_last_seqno(int fd)
{
	struct ipc_button_info info;

	if (ioctl(fd, IPC_BUTTON_GET_INFO, &info))
		die("IPC_BUTTON_GET_INFO");
	return info.last_seqno;
}

/* Edges the device folded as bounces so far (0 before the counter). */
static uint64_t device_folded_edges(int fd)
{
	struct ipc_button_info info;

	if (ioctl(fd, IPC_BUTTON_GET_INFO, &info))
		die("IPC_BUTTON_GET_INFO");
	return info.folded_edges;
}

static struct rate_result rate_once(double hz, unsigned int n_readers,
				    unsigned int presses, unsigned int debounce)
{
	struct rate_result res = { .target_hz = hz };
	pthread_condattr_t cond_attr;
	uint64_t half = (uint64_t)(1e9 / hz / 2), start, end, one = 1;
	struct timespec deadline;
	uint32_t seq0;
	unsigned int i;

	rate_run = calloc(1, sizeof(*rate_run));
	if (!rate_run)
		die("calloc");
	rate_run->n_readers = n_readers;
	rate_run->expected = 2ull * presses;
	rate_run->stop = eventfd(0, EFD_CLOEXEC);
	if (rate_run->stop < 0)
		die("eventfd");
	pthread_mutex_init(&rate_run->lock, NULL);
	/* The deadline below is CLOCK_MONOTONIC, not the default realtime. */
	if (pthread_condattr_init(&cond_attr) ||
	    pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&rate_run->all_in, &cond_attr))
		die("pthread_cond_init");
	pthread_condattr_destroy(&cond_attr);

	for (i = 0; i < n_readers; i++) {
		rate_run->readers[i].fd = open_device(O_RDONLY | O_NONBLOCK);
		if (pthread_create(&rate_run->readers[i].thread, NULL,
				   rate_reader_thread, &rate_run->readers[i]))
			die("pthread_create");
	}
	seq0 = device_last_seqno(rate_run->readers[0].fd);

	start = now_ns();
	__atomic_store_n(&rate_run->start_ns, start, __ATOMIC_RELEASE);
	for (i = 0; i < presses; i++) {
		sleep_until(start + 2 * i * half);
		set_pressed(true);
		sleep_until(start + (2 * i + 1) * half);
		set_pressed(false);
	}
	end = now_ns();
	/* The last release's period ends one half later. */
	res.achieved_hz = presses / ((end - start + half) / 1e9);

	/*
	 * Wait until every reader has every record, or give up five seconds
	 * after the last edge: then some were lost, not just late.
	 */
	end += 5000000000ull + debounce * 4000000ull;
	deadline.tv_sec = end / 1000000000u;
	deadline.tv_nsec = end % 1000000000u;
	pthread_mutex_lock(&rate_run->lock);
	while (rate_run->complete < n_readers)
		if (pthread_cond_timedwait(&rate_run->all_in, &rate_run->lock,
					   &deadline) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&rate_run->lock);

	if (write(rate_run->stop, &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
	res.expected = rate_run->expected;
	res.emitted = device_last_seqno(rate_run->readers[0].fd) - seq0;
	res.min_records = UINT64_MAX;
	for (i = 0; i < n_readers; i++) {
		struct rate_reader *r = &rate_run->readers[i];

		pthread_join(r->thread, NULL);
		close(r->fd);
		if (r->records < res.min_records)
			res.min_records = r->records;
		res.drops += r->flagged_drops;
	}
	res.lossless = res.min_records == res.expected && res.drops == 0;

	close(rate_run->stop);
	pthread_mutex_destroy(&rate_run->lock);
	pthread_cond_destroy(&rate_run->all_in);
	free(rate_run);
	rate_run = NULL;
	return res;
}

static void print_rate(const struct rate_result *r, unsigned int debounce,
		       unsigned int readers, unsigned int presses)
{
	printf("kind=driver-rate\tdebounce_ms=%u\treaders=%u\tpresses=%u\ttarget_hz=%.0f\tachieved_hz=%.1f\texpected=%" PRIu64 "\temitted=%" PRIu64 "\tmin_received=%" PRIu64 "\toverflow_drops=%" PRIu64 "\tlossless=%s\n",
	       debounce, readers, presses, r->target_hz, r->achieved_hz,
	       r->expected, r->emitted, r->min_records, r->drops,
	       r->lossless ? "yes" : "no");
	fflush(stdout);
}

/* Presses per step: at most @presses, about 5 s worth at low rates. */
static unsigned int step_presses(double hz, unsigned int presses)
{
	double n = hz * 5 < 10 ? 10 : hz * 5;

	return n < presses ? (unsigned int)n : presses;
}

static int cmd_rate(unsigned int debounce, unsigned int readers,
		    unsigned int presses)
{
	static const double ladder[] = { 2, 5, 10, 20, 50, 100, 200, 500,
					 1000, 2000, 5000, 10000 };
	struct rate_result r, best = { 0 }, worst = { 0 };
	double good = 0, bad = 0;
	unsigned int i, n;

	set_debounce(debounce);
	set_pressed(false);
	for (i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++) {
		n = step_presses(ladder[i], presses);
		r = rate_once(ladder[i], readers, n, debounce);
		print_rate(&r, debounce, readers, n);
		if (!r.lossless) {
			bad = ladder[i];
			worst = r;
			break;
		}
		good = ladder[i];
		if (r.achieved_hz > best.achieved_hz)
			best = r;
	}
	/* Narrow it down between the last lossless and the first lossy. */
	for (i = 0; bad && good && i < 4; i++) {
		double mid = (good + bad) / 2;

		n = step_presses(mid, presses);
		r = rate_once(mid, readers, n, debounce);
		print_rate(&r, debounce, readers, n);
		if (r.lossless) {
			good = mid;
			if (r.achieved_hz > best.achieved_hz)
				best = r;
		} else {
			bad = mid;
			worst = r;
		}
	}
	/*
	 * No loss at any rate: the generator (gpio-sim writes on the same
	 * CPUs) was the limit, not the driver.
	 */
	printf("kind=driver-max-rate\tdebounce_ms=%u\treaders=%u\tmax_presses=%u\tmax_lossless_target_hz=%.0f\tmax_lossless_achieved_hz=%.1f\tfirst_lossy_target_hz=%.0f\tfirst_lossy_achieved_hz=%.1f\tlimited_by=%s\n",
	       debounce, readers, presses, good, best.achieved_hz, bad,
	       worst.achieved_hz, bad ? "losses" : "generator");
	fflush(stdout);
	set_debounce(5);
	return 0;
}

/* --- train -------------------------------------------------------------- */

/* Interrupts counted for the button's IRQ (named after its label). */
static uint64_t button_interrupts(void)
{
	char line[512], *p, *end;
	uint64_t total = 0;
	FILE *f = fopen("/proc/interrupts", "re");

	if (!f)
		die("/proc/interrupts");
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		p = strrchr(line, ' ');
		if (!p || strcmp(p + 1, "ipc-button"))
			continue;
		p = strchr(line, ':');
		while (p) {
			uint64_t n = strtoull(p + 1, &end, 10);

			if (end == p + 1)
				break;
			total += n;
			p = end;
		}
	}
	fclose(f);
	return total;
}

static int cmd_train(unsigned int debounce, unsigned int edges,
		     unsigned int interval_us)
{
	struct ipc_button_queue_config config = { .length = IPC_BUTTON_QUEUE_MAX };
	struct ipc_button_event ev[READ_BATCH];
	uint64_t irqs, next, records = 0, flagged = 0, unsettled = 0;
	uint64_t lost = 0, dropped = 0, folded;
	unsigned int i;
	int fd;
	ssize_t n;

	set_debounce(debounce);
	set_pressed(false);
	sleep_until(now_ns() + 200000000u);
	fd = open_device(O_RDONLY | O_NONBLOCK);
	if (ioctl(fd, IPC_BUTTON_SET_QUEUE_LENGTH, &config))
		die("IPC_BUTTON_SET_QUEUE_LENGTH");
	irqs = button_interrupts();
	folded = device_folded_edges(fd);

	next = now_ns();
	for (i = 0; i < edges; i++) {
		set_pressed(!(i & 1));
		next += interval_us * 1000ull;
		if (interval_us)
			sleep_until(next);
	}
	if (edges & 1)
		set_pressed(false);
	edges += edges & 1;
	/* Quiet for the longest settle time and then some. */
	sleep_until(now_ns() + (uint64_t)(debounce * 4 + 500) * 1000000u);
	irqs = button_interrupts() - irqs;
	folded = device_folded_edges(fd) - folded;

	while ((n = read(fd, ev, sizeof(ev))) > 0) {
		for (i = 0; i < n / sizeof(ev[0]); i++) {
			records++;
			if (ev[i].flags & (IPC_BUTTON_EVENT_F_EDGES_LOST |
					   IPC_BUTTON_EVENT_F_UNSETTLED))
				flagged++;
			if (ev[i].flags & IPC_BUTTON_EVENT_F_UNSETTLED)
				unsettled++;
			lost += ev[i].lost_edges;
			dropped += ev[i].dropped;
		}
	}
	close(fd);
	/*
	 * A record stands for one edge, or for lost_edges when flagged; the
	 * device counts the edges it folded as bounces (a driver older than
	 * that counter reports none); what is left was lost without a word.
	 */
	printf("kind=driver-train\tdebounce_ms=%u\tinterval_us=%u\tedges=%u\tirqs=%" PRIu64 "\trecords=%" PRIu64 "\tflagged=%" PRIu64 "\tunsettled=%" PRIu64 "\tlost_edges=%" PRIu64 "\tfolded=%" PRIu64 "\tdropped=%" PRIu64 "\tunaccounted=%" PRId64 "\n",
	       debounce, interval_us, edges, irqs, records, flagged, unsettled,
	       lost, folded, dropped,
	       (int64_t)edges - (int64_t)(records - flagged) - (int64_t)lost -
	       (int64_t)folded);
	fflush(stdout);
	set_debounce(5);
	return 0;
}

/* --- memory ------------------------------------------------------------- */

/* Slab memory in bytes, from /proc/meminfo. */
static uint64_t slab_bytes(void)
{
	char line[128];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static void memory_once(unsigned int files, unsigned int queue)
{
	struct ipc_button_queue_config config = { .length = queue };
	int *fds = calloc(files, sizeof(int));
	uint64_t before, after;
	unsigned int i;

	if (!fds)
		die("calloc");
	before = slab_bytes();
	for (i = 0; i < files; i++) {
		fds[i] = open_device(O_RDONLY | O_NONBLOCK);
		if (queue != IPC_BUTTON_QUEUE_DEFAULT &&
		    ioctl(fds[i], IPC_BUTTON_SET_QUEUE_LENGTH, &config))
			die("IPC_BUTTON_SET_QUEUE_LENGTH");
	}
	after = slab_bytes();
	for (i = 0; i < files; i++)
		close(fds[i]);
	free(fds);
	printf("kind=driver-memory\tfiles=%u\tqueue_records=%u\tqueue_bytes=%zu\tslab_bytes_per_file=%.0f\n",
	       files, queue, queue * sizeof(struct ipc_button_event),
	       (double)(after - before) / files);
	fflush(stdout);
}

static int cmd_memory(unsigned int files)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < files + 16) {
		lim.rlim_cur = lim.rlim_max < files + 16 ? lim.rlim_max :
							   files + 16;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
	memory_once(files, IPC_BUTTON_QUEUE_DEFAULT);
	memory_once(files, IPC_BUTTON_QUEUE_MAX);
	return 0;
}

/* --- main --------------------------------------------------------------- */

static void usage(void)
{
	fputs("usage: ipc-button-bench latency --debounce MS [--samples N]\n"
	      "       ipc-button-bench baseline [--samples N]\n"
	      "       ipc-button-bench rate --debounce MS --readers K [--presses N]\n"
	      "       ipc-button-bench train --debounce MS --edges N --interval-us U\n"
	      "       ipc-button-bench memory [--files N]\n", stderr);
	exit(2);
}

static unsigned int option(int argc, char **argv, const char *name,
			   unsigned int fallback)
{
	int i;

	for (i = 2; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return strtoul(argv[i + 1], NULL, 10);
	return fallback;
}

int main(int argc, char **argv)
{
	unsigned int debounce, readers;

	if (argc < 2)
		usage();
	find_device();
	open_pull();
	debounce = option(argc, argv, "--debounce", 5);
	if (strcmp(argv[1], "latency") == 0)
		return cmd_latency(debounce,
				   option(argc, argv, "--samples", 200));
	if (strcmp(argv[1], "baseline") == 0)
		return cmd_baseline(option(argc, argv, "--samples", 200));
	if (strcmp(argv[1], "rate") == 0) {
		readers = option(argc, argv, "--readers", 1);
		if (readers < 1 || readers > MAX_READERS)
			usage();
		return cmd_rate(debounce, readers,
				option(argc, argv, "--presses", 50));
	}
	if (strcmp(argv[1], "memory") == 0)
		return cmd_memory(option(argc, argv, "--files", 512));
	if (strcmp(argv[1], "train") == 0)
		return cmd_train(debounce, option(argc, argv, "--edges", 200),
				 option(argc, argv, "--interval-us", 7400));
	usage();
	return 2;
}
