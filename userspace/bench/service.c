// SPDX-License-Identifier: MIT
#include "service.h"

#include "transport.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERVICES	8
#define MAX_TASKS	64

struct service {
	const char *mechanism;	/* the transport's own name */
	pid_t pid;
	cpu_set_t original;	/* its affinity when we started */
	pid_t tasks[MAX_TASKS];	/* its threads when last moved, for on_signal() */
	size_t n_tasks;
	char where[16];		/* service_cpu() */
};

static struct service services[MAX_SERVICES];
static size_t n_services;

/* Every thread of @s to @set; 0 or -errno (-ESRCH: the process is gone). */
static int service_set(struct service *s, const cpu_set_t *set)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)s->pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	s->n_tasks = 0;
	while ((e = readdir(d))) {
		pid_t tid = (pid_t)strtol(e->d_name, NULL, 10);

		if (tid <= 0)
			continue;
		if (s->n_tasks < MAX_TASKS)
			s->tasks[s->n_tasks++] = tid;
		/* A thread other than the main one may end meanwhile. */
		if (sched_setaffinity(tid, sizeof(*set), set) < 0 && !r &&
		    (errno != ESRCH || tid == s->pid))
			r = -errno;
	}
	closedir(d);
	return r;
}

/* Why a process cannot be moved, in words for whoever gave its PID. */
static const char *refusal(int err)
{
	if (err == ESRCH)
		return "no such process";
	if (err == EPERM)
		return "not allowed to set its CPU affinity (another user's process: "
		       "run as its owner, or with CAP_SYS_NICE)";
	return strerror(err);
}

static void service_restore(void)
{
	for (size_t i = 0; i < n_services; i++) {
		struct service *s = &services[i];
		int r = service_set(s, &s->original);

		if (r < 0 && r != -ESRCH)
			fprintf(stderr, "ipc-bench: service %s:%d: could not give back "
				"its CPU affinity: %s\n", s->mechanism, (int)s->pid,
				strerror(-r));
	}
}

/* Async-signal-safe: system calls only, on the threads last seen. */
static void on_signal(int sig)
{
	int saved = errno;

	for (size_t i = 0; i < n_services; i++)
		for (size_t k = 0; k < services[i].n_tasks; k++)
			sched_setaffinity(services[i].tasks[k], sizeof(cpu_set_t),
					  &services[i].original);
	errno = saved;
	raise(sig);	/* SA_RESETHAND: now the default action */
}

static int services_guard(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	if (atexit(service_restore) != 0)
		return -ENOMEM;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	return 0;
}

int service_add(const char *spec)
{
	const char *colon = strchr(spec, ':');
	const struct transport_ops *ops;
	struct service *s = &services[n_services];
	char name[64], *end;
	long pid;
	int r;

	if (!colon || (size_t)(colon - spec) >= sizeof(name)) {
		fprintf(stderr, "ipc-bench: --service-pid '%s': expected MECH:PID\n", spec);
		return -1;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(colon - spec), spec);
	ops = transport_find(name);
	if (!ops) {
		fprintf(stderr, "ipc-bench: --service-pid '%s': no mechanism '%s' (see --list)\n",
			spec, name);
		return -1;
	}
	errno = 0;
	pid = strtol(colon + 1, &end, 10);
	if (!isdigit((unsigned char)colon[1]) || *end || errno || pid <= 0 ||
	    pid > INT_MAX) {
		fprintf(stderr, "ipc-bench: --service-pid '%s': '%s' is not a "
			"process ID (a positive number)\n", spec, colon + 1);
		return -1;
	}
	if (n_services == MAX_SERVICES) {
		fprintf(stderr, "ipc-bench: --service-pid: at most %d services\n", MAX_SERVICES);
		return -1;
	}
	*s = (struct service){ .mechanism = ops->name, .pid = (pid_t)pid };
	if (sched_getaffinity(s->pid, sizeof(s->original), &s->original) < 0) {
		fprintf(stderr, "ipc-bench: --service-pid '%s': %s\n", spec,
			refusal(errno));
		return -1;
	}
	/* Setting what it has changes nothing, and tells whether we may. */
	r = service_set(s, &s->original);
	if (r < 0) {
		fprintf(stderr, "ipc-bench: --service-pid '%s': %s\n", spec,
			refusal(-r));
		return -1;
	}
	if (!n_services && (r = services_guard()) < 0) {
		fprintf(stderr, "ipc-bench: --service-pid: %s\n", strerror(-r));
		return -1;
	}
	n_services++;
	return 0;
}

int service_pin(const char *mechanism, enum bench_pin pin, char *err, size_t len)
{
	int cpu = pin_cpu(pin, false);

	for (size_t i = 0; i < n_services; i++) {
		struct service *s = &services[i];
		cpu_set_t set;
		int r;

		if (strcmp(s->mechanism, mechanism))
			continue;
		if (cpu >= 0) {
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
		} else {
			set = s->original;
		}
		r = service_set(s, &set);
		if (r < 0) {
			snprintf(s->where, sizeof(s->where), "error");
			if (cpu >= 0)
				snprintf(err, len, "service %s:%d: pin to CPU %d: %s",
					 s->mechanism, (int)s->pid, cpu, strerror(-r));
			else
				snprintf(err, len, "service %s:%d: give back its CPU affinity: %s",
					 s->mechanism, (int)s->pid, strerror(-r));
			return r;
		}
		if (cpu >= 0)
			snprintf(s->where, sizeof(s->where), "%d", cpu);
		else
			snprintf(s->where, sizeof(s->where), "any");
	}
	return 0;
}

const char *service_cpu(const char *mechanism)
{
	const char *where = NULL;

	for (size_t i = 0; i < n_services; i++)
		if (!strcmp(services[i].mechanism, mechanism) &&
		    (!where || !strcmp(services[i].where, "error")))
			where = services[i].where;
	return where;
}
