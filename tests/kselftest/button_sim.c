// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers of the ipc_button selftests; see button_sim.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "button_sim.h"

#define MAX_DEVICES	64

int button_open_line(unsigned int line, int flags, char *path, size_t size)
{
	struct ipc_button_info info;
	char candidate[64];
	int i, fd;

	for (i = 0; i < MAX_DEVICES; i++) {
		snprintf(candidate, sizeof(candidate), "/dev/ipc-button%d", i);
		fd = open(candidate, flags | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (button_info(fd, &info) == 0 && info.line == line) {
			if (path)
				snprintf(path, size, "%s", candidate);
			return fd;
		}
		close(fd);
	}
	return -ENODEV;
}

int button_open_label(const char *label, int flags, char *path, size_t size)
{
	struct ipc_button_info info;
	char candidate[64];
	int i, fd;

	for (i = 0; i < MAX_DEVICES; i++) {
		snprintf(candidate, sizeof(candidate), "/dev/ipc-button%d", i);
		fd = open(candidate, flags | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (button_info(fd, &info) == 0 && !strcmp(info.label, label)) {
			if (path)
				snprintf(path, size, "%s", candidate);
			return fd;
		}
		close(fd);
	}
	return -ENODEV;
}

int button_info(int fd, struct ipc_button_info *info)
{
	return ioctl(fd, IPC_BUTTON_GET_INFO, info) ? -errno : 0;
}

int button_class_dir(int fd, char *dir, size_t size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	/* The driver names each device after its minor number. */
	snprintf(dir, size, "/sys/class/ipc-button/ipc-button%u",
		 minor(st.st_rdev));
	return 0;
}

int button_platform_name(int fd, char *name, size_t size)
{
	char dir[128], link[160], target[PATH_MAX];
	const char *base;
	ssize_t n;
	int ret;

	ret = button_class_dir(fd, dir, sizeof(dir));
	if (ret)
		return ret;
	snprintf(link, sizeof(link), "%s/device", dir);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(name, size, "%s", base ? base + 1 : target);
	return 0;
}

int sim_open_pull(unsigned int line)
{
	char pattern[128];
	glob_t found;
	int fd;

	snprintf(pattern, sizeof(pattern),
		 "/sys/devices/platform/gpio-sim*/gpiochip*/sim_gpio%u/pull",
		 line);
	if (glob(pattern, 0, NULL, &found))
		return -ENOENT;
	fd = open(found.gl_pathv[0], O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	globfree(&found);
	return fd;
}

int sim_write_pull(int pull, bool pressed)
{
	/* Active low with a pull-up, as wired on a Pi: pressed is low. */
	const char *value = pressed ? "pull-down" : "pull-up";
	size_t len = strlen(value);
	ssize_t n;

	/* Each write of a sysfs attribute is one store, at offset 0. */
	n = pwrite(pull, value, len, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int sim_set_pressed(unsigned int line, bool pressed)
{
	int pull, ret;

	pull = sim_open_pull(line);
	if (pull < 0)
		return pull;
	ret = sim_write_pull(pull, pressed);
	close(pull);
	return ret;
}

int button_wait_event(int fd, struct ipc_button_event *event, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int ret;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	if (!(pfd.revents & POLLIN))
		return -EIO;
	n = read(fd, event, sizeof(*event));
	if (n < 0)
		return -errno;
	return n == sizeof(*event) ? 0 : -EIO;
}

static int press_and_wait(int fd, unsigned int line, bool pressed)
{
	struct ipc_button_event event;
	__u32 want = pressed ? IPC_BUTTON_EVENT_PRESS : IPC_BUTTON_EVENT_RELEASE;
	int ret;

	ret = sim_set_pressed(line, pressed);
	if (ret)
		return ret;
	ret = button_wait_event(fd, &event, EVENT_TIMEOUT_MS);
	if (ret)
		return ret;
	return event.type == want ? 0 : -EPROTO;
}

int button_click(int fd, unsigned int line)
{
	int ret = press_and_wait(fd, line, true);

	return ret ? ret : press_and_wait(fd, line, false);
}

int button_drain(int fd)
{
	struct ipc_button_event events[16];

	while (read(fd, events, sizeof(events)) > 0)
		;
	return errno == EAGAIN ? 0 : -errno;
}

int button_settle_released(int fd, unsigned int line)
{
	struct ipc_button_info info;
	struct ipc_button_event event;
	int ret;

	ret = sim_set_pressed(line, false);
	if (ret)
		return ret;
	ret = button_info(fd, &info);
	if (ret)
		return ret;
	/* Still pressed from an earlier test: its release is on its way. */
	while (info.flags & IPC_BUTTON_INFO_F_PRESSED) {
		ret = button_wait_event(fd, &event, EVENT_TIMEOUT_MS);
		if (ret)
			return ret;
		ret = button_info(fd, &info);
		if (ret)
			return ret;
	}
	return button_drain(fd);
}

int sysfs_write(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

int sysfs_read(const char *path, char *value, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, value, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	value[n] = '\0';
	value[strcspn(value, "\n")] = '\0';
	return 0;
}

unsigned long long monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
