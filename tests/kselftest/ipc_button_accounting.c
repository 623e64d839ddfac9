// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipc_button selftests, every edge accounted for: a button on a GPIO
 * controller whose interrupts are nested in a thread (the board's test
 * module ipcb_nested_gpio, which can also merge, delay and hide edges and
 * fail reads), plus the per-file ABI: clocks, partial reads, queue sizes,
 * several readers of one file, signals, sysfs input and a 32-bit caller's
 * layout, memory charged to the opener's cgroup, and the line reported for
 * a controller with its own of_xlate. The module is loaded from
 * $IPCB_NESTED_MODULE (/lib/modules/ipcb_nested_gpio.ko); its button is
 * active high and labelled "nested". The of_xlate controller is
 * $IPCB_XLATE_MODULE (/lib/modules/ipcb_xlate_gpio.ko), whose button the
 * board's overlay tests/board/overlays/xlate-button.dts describes.
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
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* Load @module (or $@env) unless @loaded exists; 0, or -errno. */
static int load_module(const char *env, const char *module,
		       const char *loaded)
{
	int fd, ret = 0;

	module = getenv(env) ?: module;
	if (access(loaded, F_OK) == 0)
		return 0;
	fd = open(module, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (syscall(__NR_finit_module, fd, "", 0) && errno != EEXIST)
		ret = -errno;
	close(fd);
	return ret;
}

static int load_nested_module(void)
{
	return load_module("IPCB_NESTED_MODULE", NESTED_MODULE, NESTED_PARAMS);
}

/*
 * Open the button labelled @label, which a freshly loaded module's device
 * brings up asynchronously: try for up to 5 s. The fd, or -errno.
 */
static int open_label_when_up(const char *label)
{
	int fd = -ENODEV;

	for (int i = 0; i < 100 && fd == -ENODEV; i++) {
		fd = button_open_label(label, O_RDONLY | O_NONBLOCK, NULL, 0);
		if (fd == -ENODEV)
			usleep(50000);
	}
	return fd;
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

	self->fd = -1;
	if (load_nested_module())
		SKIP(return, "no test module ipcb_nested_gpio (set IPCB_NESTED_MODULE)");
	fd = open_label_when_up(NESTED_LABEL);
	if (fd == -ENODEV)
		SKIP(return, "the nested button did not appear (ipc_button not loaded?)");
	ASSERT_LE(0, fd);
	self->fd = fd;
	ASSERT_EQ(0, button_class_dir(fd, self->dir, sizeof(self->dir)));
	snprintf(self->debounce, sizeof(self->debounce), "%s/debounce_ms",
		 self->dir);
	ASSERT_EQ(0, nested_param("lag_ms", "0"));
	ASSERT_EQ(0, nested_param("fail_reads", "0"));
	ASSERT_EQ(0, nested_param("hold_read", "0"));
	ASSERT_EQ(0, nested_param("fault_toggles", "0"));
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
	unsigned long long before, after, folded;

	/* Wide, so the bounces below surely fall inside it. */
	ASSERT_EQ(0, sysfs_write(self->debounce, "300"));
	ASSERT_EQ(0, button_info(self->fd, &info));
	EXPECT_EQ(300, info.debounce_ms);
	folded = info.folded_edges;

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
	/* The two bounces folded: nothing else comes, and they are counted. */
	EXPECT_TRUE(quiet_for(self->fd, 200));
	ASSERT_EQ(0, button_info(self->fd, &info));
	EXPECT_EQ(folded + 2, info.folded_edges);
	EXPECT_EQ(0, ev.lost_edges);
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

struct debounce_writer {
	const char *path;
	pid_t tid;
	atomic_bool done;
	int ret;
};

static void *write_debounce_0(void *arg)
{
	struct debounce_writer *w = arg;

	w->tid = syscall(SYS_gettid);
	w->ret = sysfs_write(w->path, "0");
	w->done = true;
	return NULL;
}

/* The state letter of thread @tid of this process ('D': blocked). */
static char thread_state(pid_t tid)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	if (sysfs_read(path, buf, sizeof(buf)))
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : '?';
}

/*
 * Item 4, in a fixed order: a settle of a press has read the line (the
 * test controller holds its answer, as a slow I2C read would), the
 * interval is written meanwhile and the release comes before the read
 * returns. The driver must end released, as the line is, with the press
 * and the release reported in order: the store waits for the settle, and
 * a settle's level and edges are taken under the lock that orders
 * settles. (Before that fix, the release's settle ran in between and saw
 * no change; the held press then landed last: "pressed" on a released
 * line.)
 */
TEST_F(nested, debounce_change_waits_for_a_settle_in_flight)
{
	struct debounce_writer w = { .path = self->debounce };
	struct ipc_button_event press, release;
	struct ipc_button_info info;
	pthread_t thread;
	char held[8], state[32];
	int i;

	ASSERT_EQ(0, sysfs_write(self->debounce, "5"));
	/* The press arrives from the controller's own work, not from here. */
	ASSERT_EQ(0, nested_param("lag_ms", "1"));
	ASSERT_EQ(0, nested_param("hold_read", "1"));
	ASSERT_EQ(0, nested_level(1));
	/* A settle is reading the line now, and its answer (1) is held. */
	ASSERT_EQ(0, sysfs_read(NESTED_PARAMS "/held", held, sizeof(held)));
	ASSERT_STREQ("1", held);

	/* The interval changes while that settle is in flight. */
	ASSERT_EQ(0, pthread_create(&thread, NULL, write_debounce_0, &w));
	/* Bounded: until the store blocks (it must wait) or returns. */
	for (i = 0; i < 200 && !w.done; i++) {
		if (w.tid && thread_state(w.tid) == 'D')
			break;
		usleep(10000);
	}
	TH_LOG("the debounce store %s while the settle was held",
	       w.done ? "had returned" : "was waiting");

	/* The release, delivered at once; then the held read returns. */
	ASSERT_EQ(0, nested_param("lag_ms", "0"));
	ASSERT_EQ(0, nested_level(0));
	pthread_join(thread, NULL);
	EXPECT_EQ(0, w.ret);

	ASSERT_EQ(0, next_event(self->fd, &press, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, press.type);
	ASSERT_EQ(0, next_event(self->fd, &release, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_RELEASE, release.type);
	EXPECT_EQ(press.seqno + 1, release.seqno);
	EXPECT_LE(press.timestamp_ns, release.timestamp_ns);
	ASSERT_EQ(0, button_info(self->fd, &info));
	EXPECT_FALSE(info.flags & IPC_BUTTON_INFO_F_PRESSED);
	snprintf(self->debounce, sizeof(self->debounce), "%s/state", self->dir);
	ASSERT_EQ(0, sysfs_read(self->debounce, state, sizeof(state)));
	EXPECT_STREQ("released", state);
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
	struct ipc_button_info info;
	struct flooder f = { 0 };
	pthread_t thread;
	unsigned int i, flagged = 0, reads = 0;
	__u64 dropped = 0;
	__u32 prev = 0;
	ssize_t n;
	int wait;

	ASSERT_EQ(0, ioctl(self->fd, IPC_BUTTON_SET_QUEUE_LENGTH, &config));
	ASSERT_EQ(0, pthread_create(&thread, NULL, flood, &f));
	while (reads < 30) {
		/*
		 * Let the queue overflow between reads, however slow the
		 * emulated flood is: wait (bounded) for a new drop.
		 */
		for (wait = 0; wait < 1000; wait++) {
			ASSERT_EQ(0, button_info(self->fd, &info));
			if (info.dropped > dropped)
				break;
			usleep(10000);
		}
		ASSERT_LT(dropped, info.dropped);
		dropped = info.dropped;
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

/*
 * A read of 16 records is copied in two batches of 8. Records arriving
 * while the first batch is being copied (the test controller's page makes
 * them when the copy first touches it) overflow the queue: the drop is
 * flagged on the first record of the second batch, with its size, and
 * the seqnos show the same gap.
 */
TEST_F(nested, drop_flag_lands_in_a_later_batch)
{
	struct ipc_button_queue_config config = { .length = 16 };
	long page = sysconf(_SC_PAGESIZE);
	struct ipc_button_event *evs;
	int level = 0, page_fd, i;
	void *map;

	page_fd = open("/dev/ipcb-fault-page", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, page_fd);
	map = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, page_fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	evs = map;

	ASSERT_EQ(0, ioctl(self->fd, IPC_BUTTON_SET_QUEUE_LENGTH, &config));
	ASSERT_EQ(16, config.length);
	ASSERT_EQ(0, make_records(16, &level));
	/* 8 taken for the first batch, 8 left; 11 more drop the 3 oldest. */
	ASSERT_EQ(0, nested_param("fault_toggles", "11"));
	EXPECT_EQ(16 * (ssize_t)RECORD, read(self->fd, evs, 16 * RECORD));
	ASSERT_EQ(0, nested_param("fault_toggles", "0"));

	for (i = 0; i < 16; i++) {
		if (i == 8)
			continue;
		EXPECT_EQ(0, evs[i].flags & IPC_BUTTON_EVENT_F_DROPPED);
		if (i)
			EXPECT_EQ(evs[i - 1].seqno + 1, evs[i].seqno);
	}
	EXPECT_EQ(IPC_BUTTON_EVENT_F_DROPPED,
		  evs[8].flags & IPC_BUTTON_EVENT_F_DROPPED);
	EXPECT_EQ(3, evs[8].dropped);
	EXPECT_EQ(evs[7].seqno + 4, evs[8].seqno);

	munmap(map, page);
	close(page_fd);
	/* 27 changes in all: the line is high. */
	ASSERT_EQ(0, nested_level(0));
}

/*
 * The same across reads: a reader that takes a backlog 4 records at a
 * time, while the queue overflows between two of its reads, finds the
 * flag on the first record of its next read, not on the first it read.
 */
TEST_F(nested, drop_flag_lands_in_a_later_read)
{
	struct ipc_button_queue_config config = { .length = 16 };
	struct ipc_button_event evs[4];
	int level = 0, i;
	__u32 last;

	ASSERT_EQ(0, ioctl(self->fd, IPC_BUTTON_SET_QUEUE_LENGTH, &config));
	ASSERT_EQ(0, make_records(16, &level));
	ASSERT_EQ(4 * (ssize_t)RECORD, read(self->fd, evs, sizeof(evs)));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, evs[i].flags & IPC_BUTTON_EVENT_F_DROPPED);
	last = evs[3].seqno;
	/* 12 left, 6 more: the 2 oldest of the backlog go. */
	ASSERT_EQ(0, make_records(6, &level));
	ASSERT_EQ(4 * (ssize_t)RECORD, read(self->fd, evs, sizeof(evs)));
	EXPECT_EQ(IPC_BUTTON_EVENT_F_DROPPED,
		  evs[0].flags & IPC_BUTTON_EVENT_F_DROPPED);
	EXPECT_EQ(2, evs[0].dropped);
	EXPECT_EQ(last + 3, evs[0].seqno);
	for (i = 1; i < 4; i++) {
		EXPECT_EQ(0, evs[i].flags & IPC_BUTTON_EVENT_F_DROPPED);
		EXPECT_EQ(evs[i - 1].seqno + 1, evs[i].seqno);
	}
}

#define CGROUP_ROOT	"/sys/fs/cgroup"
#define CHARGED_FILES	256

static unsigned long long cgroup_value(const char *dir, const char *file)
{
	char path[256], value[64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (sysfs_read(path, value, sizeof(value)))
		return 0;
	return strtoull(value, NULL, 10);
}

/* One byte over a pipe, each way: the steps of the test below. */
static int step_send(int fd, char c)
{
	return write(fd, &c, 1) == 1 ? 0 : -1;
}

static int step_wait(int fd, char want)
{
	char c;

	return read(fd, &c, 1) == 1 && c == want ? 0 : -1;
}

/*
 * In the memory cgroup: open CHARGED_FILES files with the largest queue,
 * say so, wait, close them. Runs in a child.
 */
static int charged_opener(const char *cgroup, int to_parent, int from_parent)
{
	struct ipc_button_queue_config config = { .length = IPC_BUTTON_QUEUE_MAX };
	static int fds[CHARGED_FILES];
	char path[256], pid[32], device[256];
	int i;

	/* Gone with the test if it is stopped (its timeout). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		return 1;
	/* Found once: looking the label up 256 times is slow under TCG. */
	fds[0] = button_open_label(NESTED_LABEL, O_RDONLY, device,
				   sizeof(device));
	if (fds[0] < 0)
		return 1;
	close(fds[0]);

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (sysfs_write(path, pid) || step_send(to_parent, 'j') ||
	    step_wait(from_parent, 'g'))
		return 1;
	for (i = 0; i < CHARGED_FILES; i++) {
		fds[i] = open(device, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0 ||
		    ioctl(fds[i], IPC_BUTTON_SET_QUEUE_LENGTH, &config))
			return 2;
	}
	if (step_send(to_parent, 'o') || step_wait(from_parent, 'q'))
		return 3;
	return 0;
}

/*
 * Item 6: queues are charged to the opener's memory cgroup
 * (GFP_KERNEL_ACCOUNT): a process in a cgroup v2 child that opens 256
 * files with 1,024-record queues (32 KiB each, 8 MiB in all) makes the
 * cgroup's memory.current grow by about that much. Uncharged, it would
 * grow by the files' own few hundred bytes each.
 */
TEST_F_TIMEOUT(nested, queues_are_charged_to_the_memory_cgroup, 600)
{
	unsigned long long before, after, want;
	int to_parent[2], from_parent[2], status;
	char cgroup[64], controllers[256];
	pid_t child;

	if (access(CGROUP_ROOT "/cgroup.controllers", F_OK)) {
		mkdir(CGROUP_ROOT, 0755);
		ASSERT_EQ(0, mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL));
	}
	ASSERT_EQ(0, sysfs_read(CGROUP_ROOT "/cgroup.controllers", controllers,
				sizeof(controllers)));
	if (!strstr(controllers, "memory"))
		SKIP(return, "no memory controller (CONFIG_MEMCG)");
	ASSERT_EQ(0, sysfs_write(CGROUP_ROOT "/cgroup.subtree_control", "+memory"));
	snprintf(cgroup, sizeof(cgroup), CGROUP_ROOT "/ipcb-charge-%d",
		 (int)getpid());
	ASSERT_EQ(0, mkdir(cgroup, 0755));

	ASSERT_EQ(0, pipe2(to_parent, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(from_parent, O_CLOEXEC));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(charged_opener(cgroup, to_parent[1], from_parent[0]));

	ASSERT_EQ(0, step_wait(to_parent[0], 'j'));
	before = cgroup_value(cgroup, "memory.current");
	ASSERT_EQ(0, step_send(from_parent[1], 'g'));
	ASSERT_EQ(0, step_wait(to_parent[0], 'o'));
	after = cgroup_value(cgroup, "memory.current");
	ASSERT_EQ(0, step_send(from_parent[1], 'q'));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, rmdir(cgroup));

	want = (unsigned long long)CHARGED_FILES * IPC_BUTTON_QUEUE_MAX *
	       RECORD;
	TH_LOG("memory.current grew by %llu KiB for %llu KiB of queues",
	       (after - before) / 1024, want / 1024);
	/*
	 * The charge is batched per CPU (up to 64 pages each may be taken
	 * before or after the reading): 85 % at least, and no more than
	 * the queues, the files themselves and those batches.
	 */
	EXPECT_LE(want / 100 * 85, after - before);
	EXPECT_GE(want + 2 * 1024 * 1024, after - before);
}

/*
 * Item 6: GET_INFO's line is the offset on the controller, as its own
 * of_xlate translated the cells: the button of the board's xlate overlay
 * says <1 2 0> (bank 1, pin 2), which is line 10, and only line 10 reads
 * high, so a button on another line would not be pressed.
 */
TEST(line_is_the_offset_the_controller_translated)
{
	struct ipc_button_info info;
	int fd;

	if (access("/proc/device-tree/ipcb-xlate-button", F_OK))
		SKIP(return, "no xlate-button overlay on this board");
	ASSERT_EQ(0, load_module("IPCB_XLATE_MODULE",
				 "/lib/modules/ipcb_xlate_gpio.ko",
				 "/sys/bus/platform/drivers/ipcb-xlate-gpio"));
	fd = open_label_when_up("xlate");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, button_info(fd, &info));
	EXPECT_STREQ("xlate", info.label);
	EXPECT_EQ(10, info.line);
	EXPECT_EQ(IPC_BUTTON_INFO_F_PRESSED,
		  info.flags & (IPC_BUTTON_INFO_F_PRESSED |
				IPC_BUTTON_INFO_F_ACTIVE_LOW));
	close(fd);
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
