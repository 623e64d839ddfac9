// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipc_button selftests, removal: unbinding the device under a blocked
 * reader, a poller and a SIGIO subscriber, then binding it again; and
 * unloading the module (refused while a file is open) and loading it
 * again, with kmemleak checking that nothing leaked. Run as root on the
 * emulated board, after ipc_button_events (this one rebinds devices).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
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

TEST_HARNESS_MAIN
