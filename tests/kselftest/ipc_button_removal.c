// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipc_button selftests, removal: unbinding the device under a blocked
 * reader, a poller and a SIGIO subscriber, then binding it again; and
 * unloading the module (refused while a file is open) and loading it
 * again, with kmemleak checking that nothing leaked. Run as root on the
 * emulated board, after ipc_button_events (this one rebinds devices).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "button_sim.h"

#define DRIVER_DIR	"/sys/bus/platform/drivers/ipc_button"
#define MODULE_NAME	"ipc_button"
#define MODULE_DEFAULT	"/lib/modules/ipc_button.ko"
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"

/* A thread blocked in one call on the button's fd, and what it got. */
struct blocked_call {
	pthread_t thread;
	int fd;
	int ready[2];		/* the thread writes one byte before calling */
	pid_t tid;
	long result;
	int error;
	unsigned int revents;
};

static void announce(struct blocked_call *call)
{
	char byte = 1;

	call->tid = gettid();
	if (write(call->ready[1], &byte, 1) != 1)
		call->error = errno;
}

static void *blocked_read(void *arg)
{
	struct blocked_call *call = arg;
	struct ipc_button_event event;

	announce(call);
	call->result = read(call->fd, &event, sizeof(event));
	call->error = errno;
	return NULL;
}

static void *blocked_poll(void *arg)
{
	struct blocked_call *call = arg;
	struct pollfd pfd = { .fd = call->fd, .events = POLLIN };

	announce(call);
	call->result = poll(&pfd, 1, -1);
	call->error = errno;
	call->revents = pfd.revents;
	return NULL;
}

static void *blocked_epoll(void *arg)
{
	struct blocked_call *call = arg;
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, call->fd, &ev)) {
		call->result = -1;
		call->error = errno;
		announce(call);
		return NULL;
	}
	announce(call);
	call->result = epoll_wait(ep, &ev, 1, -1);
	call->error = errno;
	call->revents = ev.events;
	close(ep);
	return NULL;
}

/*
 * Is the thread asleep in a system call? There is no event to wait on for
 * "another thread went to sleep", so look at its state, yielding the CPU
 * in between (bounded; the thread announced itself just before the call).
 */
static bool wait_until_asleep(pid_t tid)
{
	char path[64], stat[512];
	const char *state;
	int i;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	for (i = 0; i < 1000000; i++) {
		if (sysfs_read(path, stat, sizeof(stat)))
			return false;
		state = strrchr(stat, ')');
		if (state && state[1] == ' ' && state[2] == 'S')
			return true;
		sched_yield();
	}
	return false;
}

static int start_blocked(struct blocked_call *call, int fd,
			 void *(*fn)(void *))
{
	char byte;

	memset(call, 0, sizeof(*call));
	call->fd = fd;
	if (pipe2(call->ready, O_CLOEXEC))
		return -errno;
	if (pthread_create(&call->thread, NULL, fn, call))
		return -EAGAIN;
	if (read(call->ready[0], &byte, 1) != 1)
		return -EIO;
	return wait_until_asleep(call->tid) ? 0 : -ETIME;
}

static void finish_blocked(struct blocked_call *call)
{
	pthread_join(call->thread, NULL);
	close(call->ready[0]);
	close(call->ready[1]);
}

static int driver_attr(const char *attr, const char *device)
{
	char path[128];

	snprintf(path, sizeof(path), DRIVER_DIR "/%s", attr);
	return sysfs_write(path, device);
}

static bool device_bound(const char *device)
{
	char path[256];

	snprintf(path, sizeof(path), DRIVER_DIR "/%s", device);
	return access(path, F_OK) == 0;
}

FIXTURE(removal) {
	int fd;
	char path[64];
	char device[128];
};

FIXTURE_SETUP(removal)
{
	int fd;

	fd = button_open_line(BUTTON_LINE, O_RDONLY | O_NONBLOCK,
			      self->path, sizeof(self->path));
	if (fd == -ENODEV)
		SKIP(return, "no ipc-button on GPIO%d (module or overlay missing)",
		     BUTTON_LINE);
	ASSERT_LE(0, fd);
	self->fd = fd;
	ASSERT_EQ(0, button_platform_name(fd, self->device,
					  sizeof(self->device)));
	ASSERT_EQ(0, button_settle_released(fd, BUTTON_LINE));
	/* The calls under test block. */
	ASSERT_EQ(0, fcntl(fd, F_SETFL, 0));
}

FIXTURE_TEARDOWN(removal)
{
	if (self->fd >= 0)
		close(self->fd);
	/* Leave the button bound for whatever runs next. */
	if (self->device[0] && access(DRIVER_DIR, F_OK) == 0 &&
	    !device_bound(self->device))
		EXPECT_EQ(0, driver_attr("bind", self->device));
}

/* After removal every call on a still open file fails the same way. */
static void expect_file_is_dead(struct __test_metadata *_metadata, int fd,
				const char *path)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct ipc_button_event event;
	struct ipc_button_info info;

	EXPECT_EQ(-1, read(fd, &event, sizeof(event)));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, ioctl(fd, IPC_BUTTON_GET_INFO, &info));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLHUP | POLLERR, pfd.revents);
	/* The node went with the device. */
	EXPECT_EQ(-1, access(path, F_OK));
	EXPECT_EQ(ENOENT, errno);
}

/* Bind again: the button works as before, on a new file. */
static void expect_rebind_works(struct __test_metadata *_metadata,
				const char *device)
{
	int fd;

	ASSERT_EQ(0, driver_attr("bind", device));
	fd = button_open_line(BUTTON_LINE, O_RDONLY | O_NONBLOCK, NULL, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, button_click(fd, BUTTON_LINE));
	close(fd);
}

/* The button is bound and works. */
static void expect_rebind_works_bound(struct __test_metadata *_metadata)
{
	int fd;

	fd = button_open_line(BUTTON_LINE, O_RDONLY | O_NONBLOCK, NULL, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, button_settle_released(fd, BUTTON_LINE));
	EXPECT_EQ(0, button_click(fd, BUTTON_LINE));
	close(fd);
}

/* A reader blocked in read() wakes and fails with ENODEV. */
TEST_F(removal, unbind_wakes_a_blocked_reader)
{
	struct blocked_call call;

	ASSERT_EQ(0, start_blocked(&call, self->fd, blocked_read));
	ASSERT_EQ(0, driver_attr("unbind", self->device));
	finish_blocked(&call);
	EXPECT_EQ(-1, call.result);
	EXPECT_EQ(ENODEV, call.error);

	expect_file_is_dead(_metadata, self->fd, self->path);
	close(self->fd);
	self->fd = -1;
	expect_rebind_works(_metadata, self->device);
}

/* Pollers (poll and epoll) wake with EPOLLHUP | EPOLLERR and no EPOLLIN. */
TEST_F(removal, unbind_wakes_pollers_with_hup)
{
	struct blocked_call poller, epoller;

	ASSERT_EQ(0, start_blocked(&poller, self->fd, blocked_poll));
	ASSERT_EQ(0, start_blocked(&epoller, self->fd, blocked_epoll));
	ASSERT_EQ(0, driver_attr("unbind", self->device));
	finish_blocked(&poller);
	finish_blocked(&epoller);

	EXPECT_EQ(1, poller.result);
	EXPECT_EQ(POLLHUP | POLLERR, poller.revents);
	EXPECT_EQ(1, epoller.result);
	EXPECT_EQ(EPOLLHUP | EPOLLERR, epoller.revents);

	expect_file_is_dead(_metadata, self->fd, self->path);
	close(self->fd);
	self->fd = -1;
	expect_rebind_works(_metadata, self->device);
}

/* A SIGIO subscriber hears of the removal (POLL_HUP). */
TEST_F(removal, unbind_signals_hangup)
{
	struct timespec timeout = { .tv_sec = EVENT_TIMEOUT_MS / 1000 };
	int signo = SIGRTMIN + 2;
	siginfo_t info;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, signo);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(self->fd, F_SETSIG, signo));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_ASYNC));

	ASSERT_EQ(0, driver_attr("unbind", self->device));
	ASSERT_EQ(signo, sigtimedwait(&set, &info, &timeout));
	EXPECT_EQ(POLL_HUP, info.si_code);
	EXPECT_EQ(self->fd, info.si_fd);

	close(self->fd);
	self->fd = -1;
	expect_rebind_works(_metadata, self->device);
}

/*
 * Item 7: a file kept open across unbind and bind does not push the
 * button to another name: it comes back as the same /dev/ipc-buttonN
 * (and the same sysfs label), while the stale file stays dead.
 */
TEST_F(removal, rebind_with_a_stale_file_keeps_the_name)
{
	char path[64], label[64], dir[128];
	int fd;

	ASSERT_EQ(0, driver_attr("unbind", self->device));
	ASSERT_EQ(0, driver_attr("bind", self->device));
	fd = button_open_line(BUTTON_LINE, O_RDONLY | O_NONBLOCK, path,
			      sizeof(path));
	ASSERT_LE(0, fd);
	EXPECT_STREQ(self->path, path);
	ASSERT_EQ(0, button_class_dir(fd, dir, sizeof(dir)));
	strcat(dir, "/label");
	ASSERT_EQ(0, sysfs_read(dir, label, sizeof(label)));
	EXPECT_STREQ("ipc-button", label);
	EXPECT_EQ(0, button_click(fd, BUTTON_LINE));
	/* The stale one is still dead, and not the new device's. */
	EXPECT_EQ(-1, ioctl(self->fd, IPC_BUTTON_GET_INFO,
			    &(struct ipc_button_info){ 0 }));
	EXPECT_EQ(ENODEV, errno);
	close(fd);
}

/*
 * Unbind with records queued and the debounce work armed: the file fails
 * with ENODEV, the work is stopped (no late record, no splat; kmemleak
 * and KASAN watch the rest).
 */
TEST_F(removal, unbind_with_records_queued_and_work_pending)
{
	char dir[128], attr[160];
	struct ipc_button_event event;

	ASSERT_EQ(0, button_class_dir(self->fd, dir, sizeof(dir)));
	snprintf(attr, sizeof(attr), "%s/debounce_ms", dir);
	ASSERT_EQ(0, sysfs_write(attr, "0"));
	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, true));
	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, false));
	usleep(200000);
	ASSERT_EQ(0, sysfs_write(attr, "1000"));
	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, true));
	/* The press's settle is a second away. */
	ASSERT_EQ(0, driver_attr("unbind", self->device));
	EXPECT_EQ(-1, read(self->fd, &event, sizeof(event)));
	EXPECT_EQ(ENODEV, errno);
	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, false));
	usleep(1200000);
	close(self->fd);
	self->fd = -1;
	expect_rebind_works(_metadata, self->device);
}

struct racer {
	const char *path;
	atomic_bool stop;
	unsigned int bad;	/* errors other than the expected ones */
};

static bool expected_gone(int error)
{
	return error == ENODEV || error == ENOENT || error == ENXIO;
}

static void *race_open_ioctl(void *arg)
{
	struct racer *r = arg;
	struct ipc_button_info info;
	int fd;

	while (!r->stop) {
		fd = open(r->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			r->bad += !expected_gone(errno);
			continue;
		}
		if (ioctl(fd, IPC_BUTTON_GET_INFO, &info))
			r->bad += !expected_gone(errno);
		close(fd);
	}
	return NULL;
}

static void *race_sysfs(void *arg)
{
	struct racer *r = arg;
	const char *name = strrchr(r->path, '/') + 1;
	char attr[128];
	int i = 0, ret;

	/* The class directory comes and goes with the device. */
	snprintf(attr, sizeof(attr), "/sys/class/ipc-button/%s/debounce_ms",
		 name);
	while (!r->stop) {
		ret = sysfs_write(attr, i++ & 1 ? "2" : "0");
		if (ret)
			r->bad += !expected_gone(-ret);
	}
	return NULL;
}

/* Unbind and bind while other threads open, ioctl and write sysfs. */
TEST_F_TIMEOUT(removal, unbind_races_open_ioctl_and_sysfs, 300)
{
	struct racer r = { .path = self->path };
	pthread_t threads[3];
	int i;

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, pthread_create(&threads[0], NULL, race_open_ioctl, &r));
	ASSERT_EQ(0, pthread_create(&threads[1], NULL, race_open_ioctl, &r));
	ASSERT_EQ(0, pthread_create(&threads[2], NULL, race_sysfs, &r));
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, driver_attr("unbind", self->device));
		usleep(20000);
		ASSERT_EQ(0, driver_attr("bind", self->device));
		usleep(20000);
	}
	r.stop = true;
	for (i = 0; i < 3; i++)
		pthread_join(threads[i], NULL);
	EXPECT_EQ(0, r.bad);
	expect_rebind_works_bound(_metadata);
}

/*
 * The module stays while a file is open; after the last close it unloads,
 * its devices go, and it loads again and works. kmemleak, when the kernel
 * has it, must then report nothing.
 */
TEST_F_TIMEOUT(removal, module_unload_and_reload, 600)
{
	const char *module = getenv("IPC_BUTTON_MODULE") ?: MODULE_DEFAULT;
	char report[256];
	bool kmemleak;
	int mod, fd;

	mod = open(module, O_RDONLY | O_CLOEXEC);
	if (mod < 0)
		SKIP(return, "no module file %s (set IPC_BUTTON_MODULE)",
		     module);

	EXPECT_EQ(-1, syscall(__NR_delete_module, MODULE_NAME, O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(self->fd);
	self->fd = -1;

	/* Forget what leaked before, if anything: only new reports count. */
	kmemleak = sysfs_write(KMEMLEAK, "clear") == 0;

	ASSERT_EQ(0, syscall(__NR_delete_module, MODULE_NAME, O_NONBLOCK));
	EXPECT_EQ(-1, access("/sys/class/ipc-button", F_OK));
	EXPECT_EQ(-1, access(self->path, F_OK));
	self->device[0] = '\0';	/* nothing to rebind in teardown */

	ASSERT_EQ(0, syscall(__NR_finit_module, mod, "", 0));
	close(mod);
	fd = button_open_line(BUTTON_LINE, O_RDONLY | O_NONBLOCK, NULL, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, button_click(fd, BUTTON_LINE));
	close(fd);

	if (!kmemleak)
		SKIP(return, "no kmemleak in this kernel: leaks not checked");
	ASSERT_EQ(0, sysfs_write(KMEMLEAK, "scan"));
	ASSERT_EQ(0, sysfs_read(KMEMLEAK, report, sizeof(report)));
	EXPECT_STREQ("", report);
}

#define GPIO_SIM_DRIVER	"/sys/bus/platform/drivers/gpio-sim"

/* The gpio-sim device bound to its driver, e.g. "gpio-sim". */
static int gpio_sim_device(char *name, size_t size)
{
	struct dirent *entry;
	DIR *dir = opendir(GPIO_SIM_DRIVER);
	int ret = -ENOENT;

	if (!dir)
		return -errno;
	while ((entry = readdir(dir))) {
		if (entry->d_type == DT_LNK && strcmp(entry->d_name, "module")) {
			snprintf(name, size, "%s", entry->d_name);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

/*
 * Item 8: removing the GPIO controller under the button unbinds the
 * button first (a device link), so its IRQ is freed while it exists: no
 * "Trying to free already-free IRQ" warning (board/run fails the boot on
 * any WARNING). Both come back when bound again.
 */
TEST_F(removal, controller_unbind_unbinds_the_button_first)
{
	char sim[256], attr[192];

	ASSERT_EQ(0, gpio_sim_device(sim, sizeof(sim)));
	close(self->fd);
	self->fd = -1;
	snprintf(attr, sizeof(attr), GPIO_SIM_DRIVER "/unbind");
	ASSERT_EQ(0, sysfs_write(attr, sim));
	EXPECT_FALSE(device_bound(self->device));
	EXPECT_EQ(-1, access(self->path, F_OK));

	snprintf(attr, sizeof(attr), GPIO_SIM_DRIVER "/bind");
	ASSERT_EQ(0, sysfs_write(attr, sim));
	if (!device_bound(self->device))
		ASSERT_EQ(0, driver_attr("bind", self->device));
	expect_rebind_works_bound(_metadata);
}

TEST_HARNESS_MAIN
