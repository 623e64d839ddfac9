// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipc_button selftests, a 32-bit program on a 64-bit kernel: built for
 * armhf (static) and run on the arm64 board, it goes through the driver's
 * compat_ioctl and reads the same 32-byte records a 64-bit program does.
 * Needs the board's button on GPIO17 (dts/ipc-button.dtbo).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "button_sim.h"

FIXTURE(compat) {
	int fd;
};

FIXTURE_SETUP(compat)
{
	int fd;

	fd = button_open_line(BUTTON_LINE, O_RDONLY | O_NONBLOCK, NULL, 0);
	if (fd == -ENODEV)
		SKIP(return, "no ipc-button on GPIO%d (module or overlay missing)",
		     BUTTON_LINE);
	ASSERT_LE(0, fd);
	self->fd = fd;
	ASSERT_EQ(0, button_settle_released(fd, BUTTON_LINE));
}

FIXTURE_TEARDOWN(compat)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* The program really is 32-bit, and the layout is the 64-bit one. */
TEST(compat_program_is_32_bit)
{
	EXPECT_EQ(4, sizeof(long));
	EXPECT_EQ(32, sizeof(struct ipc_button_event));
	EXPECT_EQ(104, sizeof(struct ipc_button_info));
}

/* Every ioctl works through compat_ioctl with the same structures. */
TEST_F(compat, ioctls_work_from_32_bit)
{
	struct ipc_button_queue_config queue = { .length = 100 };
	struct ipc_button_clock_config clock = { .clockid = CLOCK_BOOTTIME };
	struct ipc_button_info info;

	ASSERT_EQ(0, ioctl(self->fd, IPC_BUTTON_GET_INFO, &info));
	EXPECT_EQ(BUTTON_LINE, info.line);
	EXPECT_EQ(IPC_BUTTON_QUEUE_MAX, info.queue_max);
	EXPECT_EQ(IPC_BUTTON_QUEUE_DEFAULT, info.queue_length);
	EXPECT_EQ(CLOCK_MONOTONIC, info.clockid);
	EXPECT_STREQ("ipc-button", info.label);

	ASSERT_EQ(0, ioctl(self->fd, IPC_BUTTON_SET_QUEUE_LENGTH, &queue));
	EXPECT_EQ(128, queue.length);
	ASSERT_EQ(0, ioctl(self->fd, IPC_BUTTON_SET_CLOCK, &clock));
	ASSERT_EQ(0, ioctl(self->fd, IPC_BUTTON_GET_INFO, &info));
	EXPECT_EQ(128, info.queue_length);
	EXPECT_EQ(CLOCK_BOOTTIME, info.clockid);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(IPC_BUTTON_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
}

/* Records read by a 32-bit program carry a sane 64-bit timestamp. */
TEST_F(compat, records_read_from_32_bit)
{
	struct ipc_button_event ev;
	unsigned long long before = monotonic_ns();

	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, true));
	ASSERT_EQ(0, button_wait_event(self->fd, &ev, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_PRESS, ev.type);
	EXPECT_LE(before, ev.timestamp_ns);
	EXPECT_GE(monotonic_ns(), ev.timestamp_ns);
	EXPECT_EQ(0, ev.padding);
	ASSERT_EQ(0, sim_set_pressed(BUTTON_LINE, false));
	ASSERT_EQ(0, button_wait_event(self->fd, &ev, EVENT_TIMEOUT_MS));
	EXPECT_EQ(IPC_BUTTON_EVENT_RELEASE, ev.type);
}

TEST_HARNESS_MAIN
