// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipc_button selftests, every edge accounted for: a button on a GPIO
 * controller whose interrupts are nested in a thread (the board's test
 * module ipcb_nested_gpio, which can also merge, delay and hide edges and
 * fail reads), plus the per-file ABI: clocks, partial reads, queue sizes,
 * several readers of one file, signals, sysfs input and a 32-bit caller's
 * layout. The module is loaded from $IPCB_NESTED_MODULE
 * (/lib/modules/ipcb_nested_gpio.ko); its button is active high and
 * labelled "nested".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "button_sim.h"

#define RECORD		sizeof(struct ipc_button_event)
#define NESTED_LABEL	"nested"
#define NESTED_MODULE	"/lib/modules/ipcb_nested_gpio.ko"
#define NESTED_PARAMS	"/sys/module/ipcb_nested_gpio/parameters"
#define NESTED_DEVICE	"ipc_button.90"
#define DRIVER_DIR	"/sys/bus/platform/drivers/ipc_button"

static int nested_param(const char *name, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), NESTED_PARAMS "/%s", name);
	return sysfs_write(path, value);
}

static int nested_level(int level)
{
	return nested_param("level", level ? "1" : "0");
}

static int load_nested_module(void)
{
	const char *module = getenv("IPCB_NESTED_MODULE") ?: NESTED_MODULE;
	int fd, ret = 0;

	if (access(NESTED_PARAMS, F_OK) == 0)
		return 0;
	fd = open(module, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (syscall(__NR_finit_module, fd, "", 0) && errno != EEXIST)
		ret = -errno;
	close(fd);
	return ret;
}

/* Wait up to @ms for a record; 0, or -ETIMEDOUT. */
static int next_event(int fd, struct ipc_button_event *ev, int ms)
{
	return button_wait_event(fd, ev, ms);
}

/* No record within @ms. */
static bool quiet_for(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 0;
}

FIXTURE(nested) {
	int fd;
	char dir[256];
	char debounce[320];
};

FIXTURE_SETUP(nested)
{
	struct ipc_button_info info;
	struct ipc_button_event ev;
	int fd;

	if (load_nested_module())
		SKIP(return, "no test module ipcb_nested_gpio (set IPCB_NESTED_MODULE)");
	/* Its button probes asynchronously on a freshly loaded module. */
	for (int i = 0; i < 100; i++) {
		fd = button_open_label(NESTED_LABEL, O_RDONLY | O_NONBLOCK,
				       NULL, 0);
		if (fd != -ENODEV)
			break;
		usleep(50000);
	}
	if (fd == -ENODEV)
		SKIP(return, "the nested button did not appear (ipc_button not loaded?)");
	ASSERT_LE(0, fd);
	self->fd = fd;
	ASSERT_EQ(0, button_class_dir(fd, self->dir, sizeof(self->dir)));
	snprintf(self->debounce, sizeof(self->debounce), "%s/debounce_ms",
		 self->dir);
	ASSERT_EQ(0, nested_param("lag_ms", "0"));
	ASSERT_EQ(0, nested_param("fail_reads", "0"));
	ASSERT_EQ(0, sysfs_write(self->debounce, "0"));
	ASSERT_EQ(0, nested_level(0));
	ASSERT_EQ(0, button_info(fd, &info));
	while (info.flags & IPC_BUTTON_INFO_F_PRESSED) {
		ASSERT_EQ(0, next_event(fd, &ev, EVENT_TIMEOUT_MS));
		ASSERT_EQ(0, button_info(fd, &info));
	}
	ASSERT_EQ(0, button_drain(fd));
}

FIXTURE_TEARDOWN(nested)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Item 3: edges through a nested IRQ are timed and debounced. */
TEST_F(nested, nested_irq_edges_are_timed_and_debounced)
{
	struct ipc_button_info info;
	struct ipc_button_event ev;
	unsigned long long before, after;

	/* Wide, so the bounces below surely fall inside it. */
	ASSERT_EQ(0, sysfs_write(self->debounce, "300"));
	ASSERT_EQ(0, button_info(self->fd, &info));
	EXPECT_EQ(300, info.debounce_ms);

	before = monotonic_ns();
	ASSERT_EQ(0, nested_level(1));
	ASSERT_EQ(0, nested_level(0));
	ASSERT_EQ(0, nested_level(1));
	after = monotonic_ns();
	if (after - before >= 300000000ULL)
		SKIP(return, "the bounces took %llu ms, not under 300 ms",
		     (after - before) / 1000000);

	ASSERT_EQ(0, next_event(self->fd, &ev, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, ev.type);
	EXPECT_EQ(0, ev.flags);
	/* Timed at the first edge, in the thread, not when it settled. */
	EXPECT_LE(before, ev.timestamp_ns);
	EXPECT_GE(after, ev.timestamp_ns);
	/* The two bounces folded: nothing else comes. */
	EXPECT_TRUE(quiet_for(self->fd, 200));
}

/* Item 1: one interrupt for two edges: the release says one was lost. */
TEST_F(nested, merged_edges_are_reported_as_lost)
{
	struct ipc_button_info before, after;
	struct ipc_button_event press, release;

	ASSERT_EQ(0, button_info(self->fd, &before));
	ASSERT_EQ(0, nested_param("merge", "2"));

	ASSERT_EQ(0, next_event(self->fd, &press, EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, next_event(self->fd, &release, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, press.type);
	EXPECT_EQ(0, press.flags);
	EXPECT_EQ(IPC_BUTTON_EVENT_RELEASE, release.type);
	EXPECT_EQ(IPC_BUTTON_EVENT_F_EDGES_LOST, release.flags);
	EXPECT_EQ(1, release.lost_edges);
	EXPECT_EQ(press.seqno + 1, release.seqno);
	ASSERT_EQ(0, button_info(self->fd, &after));
	EXPECT_EQ(before.lost_edges + 1, after.lost_edges);
}

/*
 * Item 2: the level already shows the release when the press's interrupt
 * is handled; the release's interrupt comes next. Both are reported.
 */
TEST_F(nested, late_interrupt_keeps_the_click)
{
	struct ipc_button_event press, release;

	ASSERT_EQ(0, nested_param("lag_ms", "30"));
	ASSERT_EQ(0, nested_level(1));
	ASSERT_EQ(0, nested_level(0));

	ASSERT_EQ(0, next_event(self->fd, &press, EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, next_event(self->fd, &release, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, press.type);
	EXPECT_EQ(IPC_BUTTON_EVENT_RELEASE, release.type);
	EXPECT_EQ(0, press.flags | release.flags);
	EXPECT_LE(press.timestamp_ns, release.timestamp_ns);
}

/* Item 5: a failed read keeps the edge, retries, and says so. */
TEST_F(nested, failed_read_is_retried_and_reported)
{
	struct ipc_button_event ev;

	ASSERT_EQ(0, nested_param("fail_reads", "1"));
	ASSERT_EQ(0, nested_level(1));
	ASSERT_EQ(0, next_event(self->fd, &ev, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, ev.type);
	EXPECT_EQ(IPC_BUTTON_EVENT_F_RESYNC, ev.flags & IPC_BUTTON_EVENT_F_RESYNC);
}

/* Item 5: a change whose edge was lost is found on resume. */
TEST_F(nested, change_without_edge_is_found_on_resume)
{
	struct ipc_button_event ev;

	if (access("/sys/power/pm_test", W_OK))
		SKIP(return, "no /sys/power/pm_test (CONFIG_PM_DEBUG)");
	ASSERT_EQ(0, nested_param("silent", "1"));
	EXPECT_TRUE(quiet_for(self->fd, 100));

	/* Suspend the devices, then resume them at once. */
	ASSERT_EQ(0, sysfs_write("/sys/power/pm_test", "devices"));
	sysfs_write("/sys/module/suspend/parameters/pm_test_delay", "0");
	EXPECT_EQ(0, sysfs_write("/sys/power/state", "freeze"));
	ASSERT_EQ(0, sysfs_write("/sys/power/pm_test", "none"));

	ASSERT_EQ(0, next_event(self->fd, &ev, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, ev.type);
	EXPECT_EQ(IPC_BUTTON_EVENT_F_RESYNC | IPC_BUTTON_EVENT_F_EDGES_LOST,
		  ev.flags);
	EXPECT_EQ(1, ev.lost_edges);
}

/* Item 5: a change right after probe read the line is not missed. */
TEST_F(nested, change_just_after_probe_is_seen)
{
	struct ipc_button_info info;
	char state[32];
	int fd;

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, sysfs_write(DRIVER_DIR "/unbind", NESTED_DEVICE));
	/* Probe's read (debounce 5 from the module) flips the line. */
	ASSERT_EQ(0, nested_param("edge_after_read", "1"));
	ASSERT_EQ(0, sysfs_write(DRIVER_DIR "/bind", NESTED_DEVICE));

	fd = button_open_label(NESTED_LABEL, O_RDONLY | O_NONBLOCK, NULL, 0);
	ASSERT_LE(0, fd);
	self->fd = fd;
	ASSERT_EQ(0, button_class_dir(fd, self->dir, sizeof(self->dir)));
	/* The change settles one debounce interval after its edge. */
	usleep(300000);
	ASSERT_EQ(0, button_info(fd, &info));
	EXPECT_TRUE(info.flags & IPC_BUTTON_INFO_F_PRESSED);
	snprintf(self->debounce, sizeof(self->debounce), "%s/state", self->dir);
	ASSERT_EQ(0, sysfs_read(self->debounce, state, sizeof(state)));
	EXPECT_STREQ("pressed", state);
	ASSERT_EQ(0, nested_level(0));
}

/*
 * Item 1: a train of edges closer together than the debounce interval is
 * not held off until it ends: a press followed by glitches every 20 ms
 * for 1.2 s (never quiet for 100 ms) is reported, flagged, within the
 * longest settle time (4 x 100 ms).
 */
TEST_F(nested, sustained_train_is_reported_as_unsettled)
{
	struct ipc_button_event ev;
	struct timespec next;
	bool during = false, unsettled = false;
	unsigned long long last, gap, max_gap = 0;
	int i;

	ASSERT_EQ(0, sysfs_write(self->debounce, "100"));
	clock_gettime(CLOCK_MONOTONIC, &next);
	ASSERT_EQ(0, nested_level(1));
	last = monotonic_ns();
	for (i = 1; i <= 60; i++) {
		ASSERT_EQ(0, nested_level(0));
		ASSERT_EQ(0, nested_level(1));
		gap = monotonic_ns() - last;
		last += gap;
		if (gap > max_gap)
			max_gap = gap;
		while (read(self->fd, &ev, sizeof(ev)) == sizeof(ev)) {
			during = true;
			if (ev.flags & IPC_BUTTON_EVENT_F_UNSETTLED) {
				unsettled = true;
				EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, ev.type);
				EXPECT_LE(3, ev.lost_edges);
			}
		}
		next.tv_nsec += 20000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	ASSERT_EQ(0, sysfs_write(self->debounce, "0"));
	/* A stalled emulator can make a real quiet spell of the interval. */
	if (max_gap >= 90000000ULL)
		SKIP(return, "the train stalled for %llu ms, near the interval",
		     max_gap / 1000000);
	EXPECT_TRUE(during);
	EXPECT_TRUE(unsettled);
}

/* Item 4: the interval is decimal, and changing it loses no settle. */
TEST_F(nested, debounce_ms_is_decimal)
{
	char value[32];

	ASSERT_EQ(0, sysfs_write(self->debounce, "010"));
	ASSERT_EQ(0, sysfs_read(self->debounce, value, sizeof(value)));
	EXPECT_STREQ("10", value);
	EXPECT_EQ(-EINVAL, sysfs_write(self->debounce, "0x10"));
	EXPECT_EQ(-EINVAL, sysfs_write(self->debounce, "10001"));
}

struct flipper {
	const char *path;
	atomic_bool stop;
};

static void *flip_debounce(void *arg)
{
	struct flipper *f = arg;
	int i = 0;

	while (!f->stop)
		sysfs_write(f->path, i++ & 1 ? "3" : "0");
	return NULL;
}

/*
 * Item 4: clicks while the interval keeps changing: the records alternate,
 * and the driver ends released, as the line does.
 */
TEST_F(nested, debounce_changes_do_not_cross_settles)
{
	struct flipper f = { .path = self->debounce };
	struct ipc_button_event ev, prev = { 0 };
	struct ipc_button_info info;
	pthread_t thread;
	int i;

	ASSERT_EQ(0, pthread_create(&thread, NULL, flip_debounce, &f));
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, nested_level(1));
		usleep(2000);
		ASSERT_EQ(0, nested_level(0));
		usleep(2000);
	}
	f.stop = true;
	pthread_join(thread, NULL);
	ASSERT_EQ(0, sysfs_write(self->debounce, "0"));
	usleep(100000);

	while (read(self->fd, &ev, sizeof(ev)) == sizeof(ev)) {
		if (prev.seqno) {
			EXPECT_EQ(prev.seqno + 1, ev.seqno);
			EXPECT_NE(prev.type, ev.type);
		}
		prev = ev;
	}
	ASSERT_EQ(0, button_info(self->fd, &info));
	EXPECT_FALSE(info.flags & IPC_BUTTON_INFO_F_PRESSED);
}

/* Active-high wiring: level 1 is a press; the line is the chip's. */
TEST_F(nested, active_high_line_presses_on_high)
{
	struct ipc_button_info info;
	struct ipc_button_event ev;

	ASSERT_EQ(0, button_info(self->fd, &info));
	EXPECT_FALSE(info.flags & IPC_BUTTON_INFO_F_ACTIVE_LOW);
	EXPECT_EQ(0, info.line);
	ASSERT_EQ(0, nested_level(1));
	ASSERT_EQ(0, next_event(self->fd, &ev, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, ev.type);
	ASSERT_EQ(0, nested_level(0));
	ASSERT_EQ(0, next_event(self->fd, &ev, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_RELEASE, ev.type);
}

static unsigned long long clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Item 6: each file chooses its clock; the others keep theirs. */
TEST_F(nested, clock_is_chosen_per_file)
{
	static const clockid_t clocks[] = { CLOCK_REALTIME, CLOCK_BOOTTIME };
	struct ipc_button_clock_config config = { 0 };
	struct ipc_button_event ev, mono;
	struct ipc_button_info info;
	unsigned long long before, after, mbefore;
	unsigned int i;
	int fd;

	fd = button_open_label(NESTED_LABEL, O_RDONLY | O_NONBLOCK, NULL, 0);
	ASSERT_LE(0, fd);
	config.clockid = 42;
	EXPECT_EQ(-1, ioctl(fd, IPC_BUTTON_SET_CLOCK, &config));
	EXPECT_EQ(EINVAL, errno);
	config.clockid = CLOCK_REALTIME;
	config.padding = 1;
	EXPECT_EQ(-1, ioctl(fd, IPC_BUTTON_SET_CLOCK, &config));
	EXPECT_EQ(EINVAL, errno);

	for (i = 0; i < 2; i++) {
		config.clockid = clocks[i];
		config.padding = 0;
		ASSERT_EQ(0, ioctl(fd, IPC_BUTTON_SET_CLOCK, &config));
		ASSERT_EQ(0, button_info(fd, &info));
		EXPECT_EQ((unsigned int)clocks[i], info.clockid);
		before = clock_ns(clocks[i]);
		mbefore = monotonic_ns();
		ASSERT_EQ(0, nested_level(!(i & 1)));
		after = clock_ns(clocks[i]);
		ASSERT_EQ(0, next_event(fd, &ev, EVENT_TIMEOUT_MS));
		EXPECT_LE(before, ev.timestamp_ns);
		EXPECT_GE(after, ev.timestamp_ns);
		/* The fixture's file still reads CLOCK_MONOTONIC. */
		ASSERT_EQ(0, next_event(self->fd, &mono, EVENT_TIMEOUT_MS));
		EXPECT_EQ(ev.seqno, mono.seqno);
		EXPECT_LE(mbefore, mono.timestamp_ns);
		EXPECT_GE(monotonic_ns(), mono.timestamp_ns);
	}

	/* Switching drops what is queued on the old clock, and says so. */
	ASSERT_EQ(0, nested_level(1));
	ASSERT_EQ(0, next_event(self->fd, &mono, EVENT_TIMEOUT_MS));
	config.clockid = CLOCK_MONOTONIC;
	ASSERT_EQ(0, ioctl(fd, IPC_BUTTON_SET_CLOCK, &config));
	ASSERT_EQ(0, nested_level(0));
	ASSERT_EQ(0, next_event(fd, &ev, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_F_DROPPED, ev.flags & IPC_BUTTON_EVENT_F_DROPPED);
	EXPECT_EQ(1, ev.dropped);
	close(fd);
}

/* Queue @n records (alternating changes, debounce 0). */
static int make_records(int n, int *level)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		*level = !*level;
		ret = nested_level(*level);
		if (ret)
			return ret;
	}
	return 0;
}

/* Item 6: EFAULT after whole batches were copied returns those. */
TEST_F(nested, efault_after_partial_copy_returns_what_was_copied)
{
	long page = sysconf(_SC_PAGESIZE);
	struct ipc_button_event *buf, ev;
	char *map;
	int level = 0;

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + page, page, PROT_NONE));
	/* Room for one batch (8) before the hole; ask for 10. */
	buf = (struct ipc_button_event *)(map + page - 8 * RECORD);

	ASSERT_EQ(0, make_records(10, &level));
	usleep(50000);
	EXPECT_EQ(8 * (ssize_t)RECORD, read(self->fd, buf, 10 * RECORD));
	EXPECT_EQ(buf[0].seqno + 7, buf[7].seqno);

	/* The two taken for the bad part are reported as dropped. */
	ASSERT_EQ(0, make_records(1, &level));
	ASSERT_EQ(0, next_event(self->fd, &ev, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_F_DROPPED, ev.flags & IPC_BUTTON_EVENT_F_DROPPED);
	EXPECT_EQ(2, ev.dropped);
	EXPECT_EQ(buf[7].seqno + 3, ev.seqno);
	if (level)
		ASSERT_EQ(0, nested_level(0));
	munmap(map, 2 * page);
}

struct reader {
	int fd;
	unsigned int count;
	__u32 seqnos[256];
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	struct ipc_button_event ev;

	while (poll(&pfd, 1, 1000) > 0 && r->count < 256) {
		if (read(r->fd, &ev, sizeof(ev)) == sizeof(ev))
			r->seqnos[r->count++] = ev.seqno;
	}
	return NULL;
}

/* Several threads reading one file get each record exactly once. */
TEST_F(nested, threads_sharing_a_file_get_each_seqno_once)
{
	struct reader readers[4];
	pthread_t threads[4];
	struct ipc_button_info info;
	unsigned int i, j, total = 0;
	static unsigned char seen[64];
	__u32 first;
	int level = 0;

	ASSERT_EQ(0, button_info(self->fd, &info));
	first = info.last_seqno + 1;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 4; i++) {
		readers[i].fd = self->fd;
		readers[i].count = 0;
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, read_all,
					    &readers[i]));
	}
	for (i = 0; i < 60; i++) {
		ASSERT_EQ(0, make_records(1, &level));
		usleep(1000);
	}
	for (i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);

	for (i = 0; i < 4; i++) {
		for (j = 0; j < readers[i].count; j++) {
			__u32 k = readers[i].seqnos[j] - first;

			ASSERT_LT(k, 60);
			EXPECT_EQ(0, seen[k]);
			seen[k]++;
			total++;
		}
	}
	EXPECT_EQ(60, total);
}

struct flooder {
	atomic_bool stop;
	int level;
};

static void *flood(void *arg)
{
	struct flooder *f = arg;

	while (!f->stop)
		if (make_records(1, &f->level))
			break;
	return NULL;
}

/*
 * Big reads (more than one batch of 8) while a small queue overflows:
 * every seqno gap is flagged on the record after it, with its size,
 * whichever batch of the read it lands in.
 */
TEST_F(nested, big_reads_flag_every_gap_with_its_size)
{
	struct ipc_button_queue_config config = { .length = 16 };
	struct ipc_button_event evs[32];
	struct flooder f = { 0 };
	pthread_t thread;
	unsigned int i, flagged = 0, reads = 0;
	__u32 prev = 0;
	ssize_t n;

	ASSERT_EQ(0, ioctl(self->fd, IPC_BUTTON_SET_QUEUE_LENGTH, &config));
	ASSERT_EQ(0, pthread_create(&thread, NULL, flood, &f));
	while (reads < 30) {
		/* Let the queue overflow between reads. */
		usleep(100000);
		n = read(self->fd, evs, sizeof(evs));
		if (n < 0) {
			ASSERT_EQ(EAGAIN, errno);
			continue;
		}
		reads++;
		for (i = 0; i < n / RECORD; i++) {
			if (prev && evs[i].seqno != prev + 1) {
				EXPECT_TRUE(evs[i].flags & IPC_BUTTON_EVENT_F_DROPPED);
				EXPECT_EQ(evs[i].seqno - prev - 1, evs[i].dropped);
			}
			if (evs[i].flags & IPC_BUTTON_EVENT_F_DROPPED)
				flagged++;
			prev = evs[i].seqno;
		}
	}
	f.stop = true;
	pthread_join(thread, NULL);
	EXPECT_LT(0, flagged);
	if (f.level)
		ASSERT_EQ(0, nested_level(0));
}

/* Growing keeps what is queued; the largest length is accepted. */
TEST_F_TIMEOUT(nested, growing_the_queue_keeps_records_and_largest_works, 300)
{
	struct ipc_button_queue_config config = { .length = 256 };
	struct ipc_button_event ev[4];
	struct ipc_button_info info;
	int level = 0;

	ASSERT_EQ(0, make_records(4, &level));
	usleep(50000);
	ASSERT_EQ(0, ioctl(self->fd, IPC_BUTTON_SET_QUEUE_LENGTH, &config));
	EXPECT_EQ(256, config.length);
	ASSERT_EQ(0, button_info(self->fd, &info));
	EXPECT_EQ(256, info.queue_length);
	EXPECT_EQ(4, info.queued);
	EXPECT_EQ(4 * (ssize_t)RECORD, read(self->fd, ev, sizeof(ev)));
	EXPECT_EQ(ev[0].seqno + 3, ev[3].seqno);
	EXPECT_EQ(0, ev[0].flags);

	config.length = IPC_BUTTON_QUEUE_MAX;
	ASSERT_EQ(0, ioctl(self->fd, IPC_BUTTON_SET_QUEUE_LENGTH, &config));
	EXPECT_EQ(IPC_BUTTON_QUEUE_MAX, config.length);
	/* Fill it past the brim: the oldest few are dropped, no more. */
	ASSERT_EQ(0, make_records(IPC_BUTTON_QUEUE_MAX + 6, &level));
	usleep(100000);
	ASSERT_EQ(0, button_info(self->fd, &info));
	EXPECT_EQ(IPC_BUTTON_QUEUE_MAX, info.queued);
	EXPECT_EQ(6, info.dropped);
	if (level)
		ASSERT_EQ(0, nested_level(0));
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A signal without SA_RESTART interrupts a blocked read with EINTR. */
TEST_F(nested, signal_interrupts_a_blocked_read)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct ipc_button_event ev;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, 0));
	alarm(1);
	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(EINTR, errno);
}

TEST_HARNESS_MAIN
