// SPDX-License-Identifier: MIT
#include "spawn.h"

#include "lesson.h"
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS	64

const char *pin_name(enum bench_pin pin)
{
	static const char *const names[] = {
		[PIN_CROSS] = "cross", [PIN_SAME] = "same", [PIN_NONE] = "none",
	};

	return names[pin];
}

int pin_cpu(enum bench_pin pin, bool receiver)
{
	if (pin == PIN_NONE)
		return -1;
	return receiver && pin == PIN_CROSS ? 1 : 0;
}

struct argv_builder {
	char *argv[MAX_ARGS];
	int argc;
	char text[4096];
	size_t used;
};

static void arg(struct argv_builder *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void arg(struct argv_builder *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (a->argc >= MAX_ARGS - 1 || a->used >= sizeof(a->text))
		return;
	va_start(ap, fmt);
	n = vsnprintf(a->text + a->used, sizeof(a->text) - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || a->used + n + 1 > sizeof(a->text))
		return;
	a->argv[a->argc++] = a->text + a->used;
	a->argv[a->argc] = NULL;
	a->used += n + 1;
}

static int make_pair(const struct run_spec *spec, int fds[2])
{
	fds[0] = fds[1] = -1;
	if (spec->bare) {
		const struct lesson_ops *ops = lesson_find(spec->mechanism);

		return ops && ops->make_pair ? ops->make_pair(fds) : 0;
	} else {
		const struct transport_ops *ops = transport_find(spec->mechanism);

		if (ops && (ops->flags & TRANSPORT_INHERITED))
			return ops->make_pair ? ops->make_pair(fds) : -ENOTSUP;
		return 0;
	}
}

static pid_t spawn_role(const struct run_spec *spec, const char *role, int cpu,
			int control_fd, int pair_fd)
{
	struct argv_builder a = { .argc = 0 };
	const struct role_params *p = &spec->params;
	pid_t pid;

	arg(&a, "ipc-bench");
	arg(&a, "--role=%s", role);
	arg(&a, "--mechanism=%s", spec->mechanism);
	if (spec->bare)
		arg(&a, "--bare");
	arg(&a, "--mode=%s", mode_name(p->mode));
	arg(&a, "--events=%lu", (unsigned long)p->events);
	arg(&a, "--warmup=%lu", (unsigned long)p->warmup);
	arg(&a, "--gap-ns=%lu", (unsigned long)p->gap_ns);
	arg(&a, "--rate=%.0f", p->rate);
	arg(&a, "--backlog=%zu", p->backlog);
	arg(&a, "--control-fd=%d", control_fd);
	arg(&a, "--fd=%d", pair_fd);
	arg(&a, "--runtime-dir=%s", spec->runtime_dir);
	arg(&a, "--bare-dir=%s", spec->bare_dir);
	arg(&a, "--instance=%s", spec->instance);
	for (const char *const *o = spec->options; o && *o; o++)
		arg(&a, "--opt=%s", *o);
	if (a.argc >= MAX_ARGS - 1)
		return -E2BIG;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set) < 0) {
				fprintf(stderr, "ipc-bench: %s: pin to CPU %d: %s\n",
					role, cpu, strerror(errno));
				_exit(127);
			}
		}
		/* Only these two cross the exec; everything else is CLOEXEC. */
		if (fcntl(control_fd, F_SETFD, 0) < 0 ||
		    (pair_fd >= 0 && fcntl(pair_fd, F_SETFD, 0) < 0))
			_exit(127);
		execv("/proc/self/exe", a.argv);
		fprintf(stderr, "ipc-bench: exec: %s\n", strerror(errno));
		_exit(127);
	}
	return pid;
}

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/*
 * The receiver waits without a timeout, as the LED does; the watchdog
 * stops it with a stop signal (which its transport's wake() turns into
 * -EINTR, race-free) when the sender died, or when the sender finished and
 * no event was acknowledged for WATCHDOG_MS. A receiver that does not end
 * within STOP_GRACE_MS of the signal (a bare lesson blocked in a call no
 * signal interrupts) is killed.
 */
#define WATCHDOG_MS	10000
#define STOP_GRACE_MS	5000

struct watch {
	pid_t pids[2];			/* receiver, sender */
	bool done[2];
	struct bench_control *c;
	uint32_t ack_seen;
	uint64_t check_at;		/* next look at the receiver's progress */
	uint64_t kill_at;		/* SIGKILL for a stopped receiver */
};

static void stop_receiver(struct watch *w, uint64_t now)
{
	if (w->done[0] || w->kill_at != UINT64_MAX)
		return;
	kill(w->pids[0], SIGTERM);
	w->kill_at = now + STOP_GRACE_MS * 1000000ull;
}

/* Due checks; returns when the next one is due. */
static uint64_t watchdog(struct watch *w, uint64_t now)
{
	if (w->done[0])
		return UINT64_MAX;
	if (now >= w->kill_at) {
		kill(w->pids[0], SIGKILL);
		w->kill_at = UINT64_MAX - 1;
	}
	if (now >= w->check_at) {
		uint32_t ack = atomic_load(&w->c->ack);

		if ((atomic_load(&w->c->sender_done) || w->done[1]) &&
		    ack == w->ack_seen)
			stop_receiver(w, now);
		w->ack_seen = ack;
		w->check_at = now + WATCHDOG_MS * 1000000ull;
	}
	return w->kill_at < w->check_at ? w->kill_at : w->check_at;
}

/* Wait for both with a deadline and the receiver's watchdog; stop the
 * other when one fails. */
static void wait_both(struct watch *w, int deadline_s, struct run_result *res)
{
	int fds[2] = { pidfd_of(w->pids[0]), pidfd_of(w->pids[1]) };
	const char *names[2] = { "receiver", "sender" };
	uint64_t deadline = now_ns() + (uint64_t)deadline_s * 1000000000ull;
	int status;

	w->ack_seen = atomic_load(&w->c->ack);
	w->check_at = now_ns() + WATCHDOG_MS * 1000000ull;
	w->kill_at = UINT64_MAX;
	while (!w->done[0] || !w->done[1]) {
		struct pollfd p[2];
		int n = 0, which[2];
		uint64_t now = now_ns(), wake = watchdog(w, now), ms;

		for (int i = 0; i < 2; i++)
			if (!w->done[i]) {
				p[n] = (struct pollfd){ fds[i], POLLIN, 0 };
				which[n++] = i;
			}
		if (deadline < wake)
			wake = deadline;
		if (now >= deadline) {
			if (res->ok)
				snprintf(res->error, sizeof(res->error),
					 "timed out after %d s", deadline_s);
			res->ok = false;
			for (int i = 0; i < 2; i++)
				if (!w->done[i])
					kill(w->pids[i], SIGKILL);
			deadline = UINT64_MAX - 1;
			continue;
		}
		ms = (wake - now) / 1000000 + 1;
		if (poll(p, n, ms > INT_MAX ? -1 : (int)ms) <= 0)
			continue;
		for (int k = 0; k < n; k++) {
			int i = which[k];

			if (!(p[k].revents & POLLIN))
				continue;
			if (waitpid(w->pids[i], &status, 0) < 0)
				status = 0;
			w->done[i] = true;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				if (res->ok)
					snprintf(res->error, sizeof(res->error),
						 "%s %s %d", names[i],
						 WIFEXITED(status) ? "exited with" : "killed by signal",
						 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
				res->ok = false;
				if (i == 1)
					stop_receiver(w, now_ns());
				else if (!w->done[1])
					kill(w->pids[1], SIGKILL);
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int run_once(const struct run_spec *spec, struct run_result *res)
{
	struct bench_control *c;
	int control_fd, pair[2], r;
	int rx_cpu = pin_cpu(spec->pin, true), tx_cpu = pin_cpu(spec->pin, false);
	struct watch w = { .done = { false, false } };
	pid_t *pids = w.pids;

	memset(res, 0, sizeof(*res));
	res->ok = true;
	c = control_create(&control_fd);
	if (!c)
		return -errno;
	r = make_pair(spec, pair);
	if (r < 0) {
		control_unmap(c);
		close(control_fd);
		return r;
	}
	fflush(NULL);
	pids[0] = spawn_role(spec, "receiver", rx_cpu, control_fd, pair[0]);
	pids[1] = pids[0] < 0 ? -1 : spawn_role(spec, "sender", tx_cpu, control_fd, pair[1]);
	for (int i = 0; i < 2; i++)
		if (pair[i] >= 0)
			close(pair[i]);
	if (pids[1] < 0) {
		r = pids[0] < 0 ? pids[0] : pids[1];
		if (pids[0] > 0) {
			kill(pids[0], SIGKILL);
			waitpid(pids[0], NULL, 0);
		}
		control_unmap(c);
		close(control_fd);
		return r;
	}
	w.c = c;
	wait_both(&w, spec->deadline_s, res);

	res->sender = c->sender;
	res->receiver = c->receiver;
	res->start_ns = c->start_ns;
	res->last_rx_ns = c->last_rx_ns;
	res->latency = c->latency;
	if (c->sender.status || c->receiver.status)
		res->ok = false;
	/* What a side said about its failure beats how it exited. */
	if (!res->ok && (c->receiver.error[0] || c->sender.error[0]))
		snprintf(res->error, sizeof(res->error), "%s: %s",
			 c->receiver.error[0] ? "receiver" : "sender",
			 c->receiver.error[0] ? c->receiver.error : c->sender.error);
	control_unmap(c);
	close(control_fd);
	return 0;
}
