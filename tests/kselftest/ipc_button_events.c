// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipc_button selftests, the event stream: records, readers, read() and
 * poll() semantics, overflow, debounce, SIGIO, ioctls, sysfs and two
 * devices at once. Needs the driver bound to the board's button on
 * GPIO17 (dts/ipc-button.dtbo); the two-device test also needs the second
 * button on GPIO27 (ipc-button-gpio27.dtbo). Presses go through gpio-sim.
 * On a board booted with threadirqs, one test checks that the hard-IRQ
 * half (the timestamp) stays out of the forced IRQ threads.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "button_sim.h"

#define RECORD	sizeof(struct ipc_button_event)

FIXTURE(button) {
	int fd;
	char dir[256];
	struct ipc_button_info info;
};

FIXTURE_SETUP(button)
{
	char path[320];
	int fd;

	fd = button_open_line(BUTTON_LINE, O_RDONLY | O_NONBLOCK, NULL, 0);
	if (fd == -ENODEV)
		SKIP(return, "no ipc-button on GPIO%d (module or overlay missing)",
		     BUTTON_LINE);
	ASSERT_LE(0, fd);
	self->fd = fd;
	ASSERT_EQ(0, button_class_dir(fd, self->dir, sizeof(self->dir)));
	/* Every test starts from the default debounce and a quiet button. */
	snprintf(path, sizeof(path), "%s/debounce_ms", self->dir);
	ASSERT_EQ(0, sysfs_write(path, "5"));
	ASSERT_EQ(0, button_settle_released(fd, BUTTON_LINE));
	ASSERT_EQ(0, button_info(fd, &self->info));
}

FIXTURE_TEARDOWN(button)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* A press gives one record with the next seqno, a release a second. */
TEST_F(button, press_then_release_give_two_records)
{
	struct ipc_button_event press, release;
	unsigned long long before, after;

	before = monotonic_ns();
	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, true));
	ASSERT_EQ(0, button_wait_event(self->fd, &press, EVENT_TIMEOUT_MS));
	after = monotonic_ns();
	EXPECT_EQ(self->info.last_seqno + 1, press.seqno);
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, press.type);
	EXPECT_EQ(0, press.flags);
	EXPECT_EQ(0, press.dropped);
	EXPECT_EQ(0, press.lost_edges);
	EXPECT_EQ(0, press.padding);
	/* Taken at the first edge, in hard IRQ, before the read returned. */
	EXPECT_LE(before, press.timestamp_ns);
	EXPECT_GE(after, press.timestamp_ns);

	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, false));
	ASSERT_EQ(0, button_wait_event(self->fd, &release, EVENT_TIMEOUT_MS));
	EXPECT_EQ(press.seqno + 1, release.seqno);
	EXPECT_EQ(IPC_BUTTON_EVENT_RELEASE, release.type);
	EXPECT_LT(press.timestamp_ns, release.timestamp_ns);

	/* Exactly two: nothing else is queued. */
	EXPECT_EQ(-1, read(self->fd, &press, RECORD));
	EXPECT_EQ(EAGAIN, errno);
}

/* Every open file has its own queue, and every event reaches each. */
TEST_F(button, every_reader_sees_every_event)
{
	struct ipc_button_event a[4], b[4];
	int other, i;

	other = button_open_line(BUTTON_LINE, O_RDONLY | O_NONBLOCK, NULL, 0);
	ASSERT_LE(0, other);

	ASSERT_EQ(0, button_click(self->fd, BUTTON_LINE));
	ASSERT_EQ(0, button_click(self->fd, BUTTON_LINE));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, button_wait_event(other, &b[i], EVENT_TIMEOUT_MS));
	EXPECT_EQ(-1, read(other, a, RECORD));
	EXPECT_EQ(EAGAIN, errno);

	/* What the first reader consumed did not take them from the second. */
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(self->info.last_seqno + 1 + i, b[i].seqno);
		EXPECT_EQ(i % 2 ? IPC_BUTTON_EVENT_RELEASE :
			  IPC_BUTTON_EVENT_PRESS, b[i].type);
	}
	close(other);
}

/* A buffer smaller than one record is refused. */
TEST_F(button, short_read_is_einval)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	char buf[RECORD];

	/* A record is queued; a short read must not take it. */
	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, true));
	ASSERT_EQ(1, poll(&pfd, 1, EVENT_TIMEOUT_MS));
	EXPECT_EQ(-1, read(self->fd, buf, RECORD - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->fd, buf, 0));
	EXPECT_EQ(EINVAL, errno);
	/* The refused reads consumed nothing. */
	EXPECT_EQ((ssize_t)RECORD, read(self->fd, buf, RECORD));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS,
		  ((struct ipc_button_event *)buf)->type);
	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, false));
}

/* An empty queue and O_NONBLOCK give EAGAIN, not a short or empty read. */
TEST_F(button, empty_nonblocking_read_is_eagain)
{
	struct ipc_button_event event;

	EXPECT_EQ(-1, read(self->fd, &event, RECORD));
	EXPECT_EQ(EAGAIN, errno);
}

/* A read copies as many whole records as fit, never a part of one. */
TEST_F(button, read_returns_whole_records)
{
	struct ipc_button_event sync, events[4];
	int watcher, i;

	watcher = button_open_line(BUTTON_LINE, O_RDONLY | O_NONBLOCK, NULL, 0);
	ASSERT_LE(0, watcher);
	/* Four records queue on self->fd while the watcher paces presses. */
	ASSERT_EQ(0, button_click(watcher, BUTTON_LINE));
	ASSERT_EQ(0, button_click(watcher, BUTTON_LINE));
	close(watcher);

	/* Room for three and a half: three come back. */
	EXPECT_EQ((ssize_t)(3 * RECORD),
		  read(self->fd, events, 3 * RECORD + RECORD / 2));
	/* Room for more than is left: the one left comes back. */
	EXPECT_EQ((ssize_t)RECORD,
		  read(self->fd, &events[3], sizeof(events) - 3 * RECORD));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(self->info.last_seqno + 1 + i, events[i].seqno);
	EXPECT_EQ(-1, read(self->fd, &sync, RECORD));
	EXPECT_EQ(EAGAIN, errno);
}

/* poll() and epoll report readable exactly when a record is queued. */
TEST_F(button, poll_reports_queued_records)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN | POLLRDNORM };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDNORM };
	struct ipc_button_event event;
	int ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));

	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));

	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, true));
	ASSERT_EQ(1, poll(&pfd, 1, EVENT_TIMEOUT_MS));
	EXPECT_EQ(POLLIN | POLLRDNORM, pfd.revents);
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, EVENT_TIMEOUT_MS));
	EXPECT_EQ(EPOLLIN | EPOLLRDNORM, ev.events);

	ASSERT_EQ((ssize_t)RECORD, read(self->fd, &event, RECORD));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));

	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, false));
	ASSERT_EQ(0, button_wait_event(self->fd, &event, EVENT_TIMEOUT_MS));
	close(ep);
}

/*
 * A full queue drops its oldest records; the next record read carries
 * the flag and the exact count, and the file's counter keeps the total.
 */
TEST_F(button, overflow_drops_oldest_and_flags_next)
{
	struct ipc_button_queue_config config = { .length = 3 };
	struct ipc_button_event events[8];
	struct ipc_button_info info;
	int small, i;
	ssize_t n;

	small = button_open_line(BUTTON_LINE, O_RDONLY | O_NONBLOCK, NULL, 0);
	ASSERT_LE(0, small);
	/* Lengths round up to a power of two. */
	ASSERT_EQ(0, ioctl(small, IPC_BUTTON_SET_QUEUE_LENGTH, &config));
	ASSERT_EQ(4, config.length);

	/* Six events into a queue of four; self->fd paces the presses. */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, button_click(self->fd, BUTTON_LINE));

	n = read(small, events, sizeof(events));
	ASSERT_EQ((ssize_t)(4 * RECORD), n);
	EXPECT_EQ(IPC_BUTTON_EVENT_F_DROPPED, events[0].flags);
	EXPECT_EQ(2, events[0].dropped);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(self->info.last_seqno + 3 + i, events[i].seqno);
	for (i = 1; i < 4; i++) {
		EXPECT_EQ(0, events[i].flags);
		EXPECT_EQ(0, events[i].dropped);
	}

	ASSERT_EQ(0, button_info(small, &info));
	EXPECT_EQ(2, info.dropped);
	EXPECT_EQ(4, info.queue_length);
	EXPECT_EQ(0, info.queued);

	/* The flag is reported once: the next overflow-free record is clean. */
	ASSERT_EQ(0, button_click(self->fd, BUTTON_LINE));
	ASSERT_EQ((ssize_t)(2 * RECORD), read(small, events, sizeof(events)));
	EXPECT_EQ(0, events[0].flags);
	EXPECT_EQ(0, events[0].dropped);
	close(small);
}

/* Shrinking a queue keeps the newest records and counts the rest. */
TEST_F(button, shrinking_the_queue_counts_what_it_drops)
{
	struct ipc_button_queue_config config = { .length = 1 };
	struct ipc_button_event events[4];
	struct ipc_button_info info;
	int other;

	other = button_open_line(BUTTON_LINE, O_RDONLY | O_NONBLOCK, NULL, 0);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, button_click(self->fd, BUTTON_LINE));
	ASSERT_EQ(0, button_click(self->fd, BUTTON_LINE));

	/* The smallest queue holds two records. */
	ASSERT_EQ(0, ioctl(other, IPC_BUTTON_SET_QUEUE_LENGTH, &config));
	EXPECT_EQ(2, config.length);
	ASSERT_EQ((ssize_t)(2 * RECORD), read(other, events, sizeof(events)));
	EXPECT_EQ(self->info.last_seqno + 3, events[0].seqno);
	EXPECT_EQ(IPC_BUTTON_EVENT_F_DROPPED, events[0].flags);
	EXPECT_EQ(2, events[0].dropped);
	EXPECT_EQ(self->info.last_seqno + 4, events[1].seqno);
	EXPECT_EQ(0, events[1].flags);
	ASSERT_EQ(0, button_info(other, &info));
	EXPECT_EQ(2, info.dropped);
	EXPECT_EQ(2, info.queue_length);
	close(other);
}

/* Bounces shorter than the debounce interval fold into one event. */
TEST_F(button, bounces_fold_into_one_event)
{
	struct ipc_button_event event;
	struct ipc_button_info info;
	unsigned long long start, took;
	char path[320];
	int pull, i;

	/* A long interval, so the bounces below surely fall inside it. */
	snprintf(path, sizeof(path), "%s/debounce_ms", self->dir);
	ASSERT_EQ(0, sysfs_write(path, "1000"));
	pull = sim_open_pull(BUTTON_LINE);
	ASSERT_LE(0, pull);

	start = monotonic_ns();
	for (i = 0; i < 5; i++)	/* down, up, down, up, down */
		ASSERT_EQ(0, sim_write_pull(pull, !(i % 2)));
	took = monotonic_ns() - start;
	close(pull);
	if (took >= 1000000000ULL)
		SKIP(return, "the bounces took %llu ms, not under 1000 ms",
		     took / 1000000);

	ASSERT_EQ(0, button_wait_event(self->fd, &event, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, event.type);
	EXPECT_EQ(self->info.last_seqno + 1, event.seqno);
	/* The debounce work settled once: nothing else was emitted. */
	EXPECT_EQ(-1, read(self->fd, &event, RECORD));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, button_info(self->fd, &info));
	EXPECT_EQ(self->info.presses + 1, info.presses);
	EXPECT_EQ(self->info.releases, info.releases);
	/* The four bounces are counted as folded, and nothing as lost. */
	EXPECT_EQ(self->info.folded_edges + 4, info.folded_edges);
	EXPECT_EQ(self->info.lost_edges, info.lost_edges);

	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, false));
	ASSERT_EQ(0, button_wait_event(self->fd, &event, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_RELEASE, event.type);
	EXPECT_EQ(0, sysfs_write(path, "5"));
}

/* A press on a bounce-free line with no debounce is reported at once. */
TEST_F(button, no_debounce_reports_every_change)
{
	struct ipc_button_event event;
	char path[320];

	snprintf(path, sizeof(path), "%s/debounce_ms", self->dir);
	ASSERT_EQ(0, sysfs_write(path, "0"));
	ASSERT_EQ(0, button_click(self->fd, BUTTON_LINE));
	ASSERT_EQ(0, button_click(self->fd, BUTTON_LINE));
	EXPECT_EQ(-1, read(self->fd, &event, RECORD));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, sysfs_write(path, "5"));
}

/* Interrupts of the IRQ named @name so far, all CPUs. */
static long long interrupt_count(const char *name)
{
	char line[512], *last, *tok, *save;
	long long total = -1, n;
	FILE *f = fopen("/proc/interrupts", "re");

	if (!f)
		return -1;
	while (total < 0 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		last = strrchr(line, ' ');
		if (!last || strcmp(last + 1, name))
			continue;
		total = 0;
		/* "NN:  cpu0  cpu1  chip ..." */
		strtok_r(line, " ", &save);
		while ((tok = strtok_r(NULL, " ", &save)) &&
		       sscanf(tok, "%lld", &n) == 1)
			total += n;
	}
	fclose(f);
	return total;
}

/*
 * Without debounce every edge is a change: a press and its release
 * written back to back give both records, each with its own time, even
 * if the IRQ thread only runs after both.
 */
TEST_F(button, no_debounce_keeps_a_fast_click)
{
	struct ipc_button_event press, release;
	long long irqs;
	char path[320];
	int pull;

	snprintf(path, sizeof(path), "%s/debounce_ms", self->dir);
	ASSERT_EQ(0, sysfs_write(path, "0"));
	pull = sim_open_pull(BUTTON_LINE);
	ASSERT_LE(0, pull);
	irqs = interrupt_count(self->info.label);
	ASSERT_LE(0, irqs);

	ASSERT_EQ(0, sim_write_pull(pull, true));
	ASSERT_EQ(0, sim_write_pull(pull, false));
	close(pull);
	/*
	 * gpio-sim raises its interrupt through irq_work on the writing CPU,
	 * so both have been handled by now, unless it merged them.
	 */
	if (interrupt_count(self->info.label) - irqs < 2)
		SKIP(goto out, "gpio-sim merged the two edges into one interrupt");
	ASSERT_EQ(0, button_wait_event(self->fd, &press, EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, button_wait_event(self->fd, &release, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, press.type);
	EXPECT_EQ(IPC_BUTTON_EVENT_RELEASE, release.type);
	EXPECT_EQ(self->info.last_seqno + 1, press.seqno);
	EXPECT_EQ(press.seqno + 1, release.seqno);
	EXPECT_LT(press.timestamp_ns, release.timestamp_ns);
out:
	EXPECT_EQ(0, sysfs_write(path, "5"));
}

static int wait_signal(int signo, siginfo_t *info)
{
	struct timespec timeout = { .tv_sec = EVENT_TIMEOUT_MS / 1000 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, signo);
	return sigtimedwait(&set, info, &timeout);
}

/* O_ASYNC and F_SETOWN: a queued record raises SIGIO. */
TEST_F(button, sigio_arrives_on_an_event)
{
	struct ipc_button_event event;
	siginfo_t info;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK | O_ASYNC));

	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, true));
	EXPECT_EQ(SIGIO, wait_signal(SIGIO, &info));
	ASSERT_EQ((ssize_t)RECORD, read(self->fd, &event, RECORD));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, event.type);

	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, false));
	EXPECT_EQ(SIGIO, wait_signal(SIGIO, &info));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
}

/* With F_SETSIG the signal says which fd is readable (POLL_IN). */
TEST_F(button, setsig_signal_names_the_fd)
{
	int signo = SIGRTMIN + 1;
	siginfo_t info;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, signo);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(self->fd, F_SETSIG, signo));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK | O_ASYNC));

	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, true));
	ASSERT_EQ(signo, wait_signal(signo, &info));
	EXPECT_EQ(POLL_IN, info.si_code);
	EXPECT_EQ(self->fd, info.si_fd);
	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, false));
	ASSERT_EQ(signo, wait_signal(signo, &info));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(0, button_drain(self->fd));
}

/* IPC_BUTTON_GET_INFO describes the device tree node and the file. */
TEST_F(button, info_describes_device_and_file)
{
	struct ipc_button_info *info = &self->info;

	EXPECT_STREQ("ipc-button", info->label);
	EXPECT_EQ(BUTTON_LINE, info->line);
	EXPECT_EQ(IPC_BUTTON_INFO_F_ACTIVE_LOW, info->flags);
	EXPECT_EQ(5, info->debounce_ms);
	EXPECT_EQ(IPC_BUTTON_QUEUE_DEFAULT, info->queue_length);
	EXPECT_EQ(IPC_BUTTON_QUEUE_MAX, info->queue_max);
	EXPECT_EQ(0, info->queued);
	EXPECT_EQ(0, info->dropped);
	EXPECT_EQ(info->presses + info->releases, info->last_seqno);
	EXPECT_EQ(CLOCK_MONOTONIC, info->clockid);
}

/* Unknown ioctls are ENOTTY, bad arguments EINVAL, bad pointers EFAULT. */
TEST_F(button, bad_ioctls_fail_cleanly)
{
	struct ipc_button_queue_config config;
	void *unmapped;

	EXPECT_EQ(-1, ioctl(self->fd, _IO(IPC_BUTTON_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOR('x', 0x01, int), &config));
	EXPECT_EQ(ENOTTY, errno);
	/* The right number with the wrong size is another command. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(IPC_BUTTON_IOC_MAGIC, 0x01, int),
			    &config));
	EXPECT_EQ(ENOTTY, errno);

	config = (struct ipc_button_queue_config){ .length = 0 };
	EXPECT_EQ(-1, ioctl(self->fd, IPC_BUTTON_SET_QUEUE_LENGTH, &config));
	EXPECT_EQ(EINVAL, errno);
	config = (struct ipc_button_queue_config){
		.length = IPC_BUTTON_QUEUE_MAX + 1 };
	EXPECT_EQ(-1, ioctl(self->fd, IPC_BUTTON_SET_QUEUE_LENGTH, &config));
	EXPECT_EQ(EINVAL, errno);
	config = (struct ipc_button_queue_config){ .length = 8, .padding = 1 };
	EXPECT_EQ(-1, ioctl(self->fd, IPC_BUTTON_SET_QUEUE_LENGTH, &config));
	EXPECT_EQ(EINVAL, errno);

	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	EXPECT_EQ(-1, ioctl(self->fd, IPC_BUTTON_GET_INFO, unmapped));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, IPC_BUTTON_SET_QUEUE_LENGTH, unmapped));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, IPC_BUTTON_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	munmap(unmapped, 4096);

	/* None of it changed the queue. */
	ASSERT_EQ(0, button_info(self->fd, &self->info));
	EXPECT_EQ(IPC_BUTTON_QUEUE_DEFAULT, self->info.queue_length);
}

/* sysfs shows the press count and the current (debounced) state. */
TEST_F(button, sysfs_shows_press_count_and_state)
{
	struct ipc_button_event event;
	char path[320], value[32];
	unsigned long long count;

	snprintf(path, sizeof(path), "%s/state", self->dir);
	ASSERT_EQ(0, sysfs_read(path, value, sizeof(value)));
	EXPECT_STREQ("released", value);

	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, true));
	ASSERT_EQ(0, button_wait_event(self->fd, &event, EVENT_TIMEOUT_MS));
	ASSERT_EQ(0, sysfs_read(path, value, sizeof(value)));
	EXPECT_STREQ("pressed", value);

	snprintf(path, sizeof(path), "%s/press_count", self->dir);
	ASSERT_EQ(0, sysfs_read(path, value, sizeof(value)));
	count = strtoull(value, NULL, 10);
	EXPECT_EQ(self->info.presses + 1, count);

	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, false));
	ASSERT_EQ(0, button_wait_event(self->fd, &event, EVENT_TIMEOUT_MS));
	snprintf(path, sizeof(path), "%s/state", self->dir);
	ASSERT_EQ(0, sysfs_read(path, value, sizeof(value)));
	EXPECT_STREQ("released", value);

	/* Out of range debounce values are refused. */
	snprintf(path, sizeof(path), "%s/debounce_ms", self->dir);
	EXPECT_EQ(-EINVAL, sysfs_write(path, "10001"));
	EXPECT_EQ(-EINVAL, sysfs_write(path, "soon"));
}

/* Two buttons are two devices with their own events and seqnos. */
TEST_F(button, two_devices_are_independent)
{
	struct ipc_button_info second_info;
	struct ipc_button_event event;
	char first_path[64], second_path[64];
	int second;

	second = button_open_line(SECOND_BUTTON_LINE, O_RDONLY | O_NONBLOCK,
				  second_path, sizeof(second_path));
	if (second == -ENODEV)
		SKIP(return, "no second button on GPIO%d (boot with ipc-button-gpio27.dtbo)",
		     SECOND_BUTTON_LINE);
	ASSERT_LE(0, second);
	ASSERT_EQ(0, button_settle_released(second, SECOND_BUTTON_LINE));
	ASSERT_EQ(0, button_info(second, &second_info));
	EXPECT_STREQ("ipc-button-27", second_info.label);
	close(button_open_line(BUTTON_LINE, O_RDONLY, first_path,
			       sizeof(first_path)));
	EXPECT_STRNE(first_path, second_path);

	ASSERT_EQ(0, button_click(second, SECOND_BUTTON_LINE));
	/* The first button saw none of it. */
	EXPECT_EQ(-1, read(self->fd, &event, RECORD));
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, button_click(self->fd, BUTTON_LINE));
	EXPECT_EQ(-1, read(second, &event, RECORD));
	EXPECT_EQ(EAGAIN, errno);

	/* Each device numbers its own events. */
	ASSERT_EQ(0, button_info(second, &second_info));
	EXPECT_EQ(second_info.presses + second_info.releases,
		  second_info.last_seqno);
	close(second);
}

/* The IRQ number whose /proc/interrupts name is @name; -1 if none. */
static int irq_named(const char *name)
{
	char line[512], *end;
	FILE *f = fopen("/proc/interrupts", "re");
	int irq = -1;
	size_t n;

	if (!f)
		return -1;
	while (irq < 0 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		n = strlen(line);
		if (n <= strlen(name) ||
		    strcmp(line + n - strlen(name), name) ||
		    line[n - strlen(name) - 1] != ' ')
			continue;
		irq = strtol(line, &end, 10);
		if (end == line || *end != ':')
			irq = -1;
	}
	fclose(f);
	return irq;
}

/* Count the kernel threads whose name starts with @prefix. */
static int threads_named(const char *prefix)
{
	char path[300], comm[32];
	struct dirent *entry;
	DIR *proc = opendir("/proc");
	int found = 0;

	if (!proc)
		return -1;
	while ((entry = readdir(proc))) {
		if (!isdigit((unsigned char)entry->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", entry->d_name);
		if (sysfs_read(path, comm, sizeof(comm)) == 0 &&
		    !strncmp(comm, prefix, strlen(prefix)))
			found++;
	}
	closedir(proc);
	return found;
}

/*
 * Item 6, forced threading: with threadirqs, the IRQ core moves every
 * hard-IRQ handler not marked IRQF_NO_THREAD into a thread, irq/N-NAME,
 * and the handler's own thread becomes a second one, irq/N-s-NAME. The
 * button's timestamp is taken in its hard-IRQ half, so there must be one
 * thread only: the timestamp stays in hard-IRQ context, as the uAPI says.
 * A click still gives two records timed between the writes around them.
 */
TEST_F(button, hard_irq_half_is_not_force_threaded)
{
	struct ipc_button_event press, release;
	unsigned long long before, after;
	char cmdline[1024], prefix[64];
	int irq;

	ASSERT_EQ(0, sysfs_read("/proc/cmdline", cmdline, sizeof(cmdline)));
	if (!strstr(cmdline, "threadirqs"))
		SKIP(return, "not booted with threadirqs (suite 50's second boot is)");
	irq = irq_named(self->info.label);
	ASSERT_LT(0, irq);

	snprintf(prefix, sizeof(prefix), "irq/%d-", irq);
	EXPECT_EQ(1, threads_named(prefix));
	snprintf(prefix, sizeof(prefix), "irq/%d-s-", irq);
	EXPECT_EQ(0, threads_named(prefix));

	before = monotonic_ns();
	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, true));
	after = monotonic_ns();
	ASSERT_EQ(0, button_wait_event(self->fd, &press, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, press.type);
	EXPECT_LE(before, press.timestamp_ns);
	EXPECT_GE(after, press.timestamp_ns);
	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, false));
	ASSERT_EQ(0, button_wait_event(self->fd, &release, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_RELEASE, release.type);
}

TEST_HARNESS_MAIN
