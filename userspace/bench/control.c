// SPDX-License-Identifier: MIT
#include "control.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct bench_control *control_create(int *ret_fd)
{
	struct bench_control *c;
	int fd;

	fd = memfd_create("ipc-bench-control", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, sizeof(*c)) < 0) {
		close(fd);
		return NULL;
	}
	c = control_attach(fd);
	if (!c) {
		close(fd);
		return NULL;
	}
	histogram_init(&c->latency);
	*ret_fd = fd;
	return c;
}

struct bench_control *control_attach(int fd)
{
	void *p = mmap(NULL, sizeof(struct bench_control),
		       PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

void control_unmap(struct bench_control *c)
{
	if (c)
		munmap(c, sizeof(*c));
}

int futex_wait_shared(_Atomic uint32_t *word, uint32_t val, int timeout_ms)
{
	struct timespec ts, *tsp = NULL;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	if (syscall(SYS_futex, word, FUTEX_WAIT, val, tsp, NULL, 0) < 0) {
		if (errno == EAGAIN)
			return 0;	/* the value had already changed */
		return -errno;
	}
	return 0;
}

void futex_wake_shared(_Atomic uint32_t *word)
{
	(void)syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t peak_rss_kb(void)
{
	char line[256];
	uint64_t kb = 0;
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

uint64_t process_cpu_ns(void)
{
	struct timespec ts;

	/* Every thread of the process (libmosquitto runs one of its own). */
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t thread_sleeps(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) < 0)
		return 0;
	return (uint64_t)ru.ru_nvcsw;
}
