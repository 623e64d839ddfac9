// SPDX-License-Identifier: MIT
/*
 * signal-merging: why the series' `kill(led_pid, SIGUSR1)` per press loses
 * presses, and why the signal transport uses real-time signals instead.
 * Prints TAP; docs/signal-merging.md explains a measured run.
 *
 *   signal-merging [N]      (N events for the measured part, default 10000)
 *
 * 1. Deterministic: a receiver blocks SIGUSR1 and SIGRTMIN; N of each are
 *    sent; then it reads what is pending through a signalfd. A standard
 *    signal is one bit in the pending mask: N SIGUSR1 leave 1. Real-time
 *    signals queue one entry each, with their value: N SIGRTMIN leave N,
 *    in the order sent.
 * 2. Measured: the series' receiver (a handler that counts, the process
 *    waiting in sigsuspend between signals) gets N signals sent as fast as
 *    kill() or sigqueue() returns. SIGUSR1s that arrive while one is still
 *    pending merge into it: how many depends on scheduling, so the count
 *    is reported, not asserted. SIGRTMIN: every one arrives (asserted).
 */
#include "lib/tap.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOCKED_N	100
#define WAIT_MS		20000

static bool wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, WAIT_MS) == 1;
}

/* What a receiver child reports back through its pipe. */
struct tally {
	unsigned int usr1, rt;
	bool rt_in_order;
};

static int reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* --- 1. pending while blocked -------------------------------------------- */

static int blocked_receiver(int ready, int go, int report)
{
	struct signalfd_siginfo si;
	struct tally t = { .rt_in_order = true };
	sigset_t set;
	int sfd;
	char c;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return 1;
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || write(ready, "r", 1) != 1)
		return 1;
	if (!wait_readable(go) || read(go, &c, 1) != 1)
		return 1;
	/* Everything sent is pending now: take it all. */
	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if ((int)si.ssi_signo == SIGUSR1) {
			t.usr1++;
		} else {
			t.rt++;
			if ((unsigned int)si.ssi_int != t.rt)
				t.rt_in_order = false;
		}
	}
	return write(report, &t, sizeof(t)) == sizeof(t) ? 0 : 1;
}

static void test_blocked(void)
{
	int ready[2], go[2], report[2];
	struct tally t = { 0 };
	unsigned int sent_usr1 = 0, sent_rt = 0;
	pid_t child;
	char c;

	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC) ||
	    pipe2(report, O_CLOEXEC)) {
		tap_ok(false, "pipes: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	child = fork();
	if (child == 0)
		_exit(blocked_receiver(ready[1], go[0], report[1]));
	if (wait_readable(ready[0]) && read(ready[0], &c, 1) == 1) {
		for (unsigned int i = 1; i <= BLOCKED_N; i++) {
			union sigval v = { .sival_int = (int)i };

			sent_usr1 += kill(child, SIGUSR1) == 0;
			sent_rt += sigqueue(child, SIGRTMIN, v) == 0;
		}
		(void)!write(go[1], "g", 1);
		if (wait_readable(report[0]))
			(void)!read(report[0], &t, sizeof(t));
	}
	reap(child);
	tap_ok(sent_usr1 == BLOCKED_N && t.usr1 == 1,
	   "%u SIGUSR1 sent while the receiver had it blocked: %u arrives (standard signals do not queue)",
	   sent_usr1, t.usr1);
	tap_ok(sent_rt == BLOCKED_N && t.rt == BLOCKED_N && t.rt_in_order,
	   "%u SIGRTMIN sent with sigqueue while blocked: %u arrive, values 1..%u in order",
	   sent_rt, t.rt, BLOCKED_N);
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(go[i]);
		close(report[i]);
	}
}

/* --- 2. a running receiver, signals as fast as they go ------------------- */

static volatile sig_atomic_t handled, done;
static volatile sig_atomic_t rt_next = 1, rt_in_order = 1;

static void count_usr1(int signo)
{
	(void)signo;
	handled++;
}

static void count_rt(int signo, siginfo_t *si, void *ctx)
{
	(void)signo;
	(void)ctx;
	if (si->si_value.sival_int != rt_next)
		rt_in_order = 0;
	rt_next++;
	handled++;
}

static void finish(int signo)
{
	(void)signo;
	done = 1;
}

/*
 * The series' LED process, made race-free: a handler per signal, the
 * process asleep in sigsuspend() between them. SIGUSR2 says "all sent".
 * Signals pending together are delivered lowest number first, so every
 * SIGUSR1 that will ever be handled is handled before SIGUSR2; real-time
 * signals rank after it, so those still queued are taken afterwards.
 */
static int running_receiver(int signo, int ready, int report)
{
	struct sigaction sa;
	struct tally t = { .rt_in_order = true };
	sigset_t set, none;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if (signo == SIGUSR1) {
		sa.sa_handler = count_usr1;
	} else {
		sa.sa_sigaction = count_rt;
		sa.sa_flags = SA_SIGINFO;
	}
	sigaction(signo, &sa, NULL);
	sa.sa_handler = finish;
	sa.sa_flags = 0;
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, signo);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&none);
	if (write(ready, "r", 1) != 1)
		return 1;
	while (!done)
		sigsuspend(&none);
	/* Real-time signals rank after SIGUSR2: take those still queued. */
	if (signo != SIGUSR1) {
		sigset_t only;
		siginfo_t si;
		struct timespec zero = { 0 };

		sigemptyset(&only);
		sigaddset(&only, signo);
		while (sigtimedwait(&only, &si, &zero) == signo)
			count_rt(signo, &si, NULL);
	}
	if (signo == SIGUSR1)
		t.usr1 = handled;
	else
		t.rt = handled;
	t.rt_in_order = rt_in_order;
	return write(report, &t, sizeof(t)) == sizeof(t) ? 0 : 1;
}

static void measure(int signo, unsigned int n, struct tally *t,
		    unsigned int *sent, unsigned int *refused)
{
	int ready[2], report[2];
	pid_t child;
	char c;

	*sent = *refused = 0;
	memset(t, 0, sizeof(*t));
	if (pipe2(ready, O_CLOEXEC) || pipe2(report, O_CLOEXEC))
		return;
	fflush(stdout);
	child = fork();
	if (child == 0)
		_exit(running_receiver(signo, ready[1], report[1]));
	if (!wait_readable(ready[0]) || read(ready[0], &c, 1) != 1) {
		tap_diag("the receiver did not get ready in %d ms", WAIT_MS);
		goto out;
	}
	for (unsigned int i = 1; i <= n; i++) {
		int r;

		if (signo == SIGUSR1) {
			r = kill(child, SIGUSR1);
		} else {
			union sigval v = { .sival_int = (int)i };

			/*
			 * EAGAIN: the queue is full (RLIMIT_SIGPENDING).
			 * Back off as the button does, then send it again.
			 */
			while ((r = sigqueue(child, signo, v)) < 0 &&
			       errno == EAGAIN) {
				(*refused)++;
				poll(NULL, 0, 1);
			}
		}
		*sent += r == 0;
	}
	kill(child, SIGUSR2);
	if (!wait_readable(report[0]) ||
	    read(report[0], t, sizeof(*t)) != sizeof(*t))
		tap_diag("the receiver did not report in %d ms", WAIT_MS);
out:
	kill(child, SIGKILL);	/* never wait for a receiver that is stuck */
	reap(child);
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(report[i]);
	}
}

static void test_running(unsigned int n)
{
	unsigned int sent, refused;
	struct tally t;

	measure(SIGUSR1, n, &t, &sent, &refused);
	tap_ok(sent == n && t.usr1 >= 1 && t.usr1 <= sent,
	   "%u SIGUSR1 sent as fast as kill() returns to a running receiver: %u handled, %u merged",
	   sent, t.usr1, sent - t.usr1);
	tap_diag("measured: SIGUSR1 sent=%u handled=%u merged=%u (%.1f%% lost)",
	     sent, t.usr1, sent - t.usr1,
	     sent ? 100.0 * (sent - t.usr1) / sent : 0.0);

	measure(SIGRTMIN, n, &t, &sent, &refused);
	tap_ok(sent == n && t.rt == n && t.rt_in_order,
	   "%u SIGRTMIN sent with sigqueue as fast as it returns: %u handled, values in order",
	   sent, t.rt);
	tap_diag("measured: SIGRTMIN sent=%u handled=%u refused-then-resent=%u",
	     sent, t.rt, refused);
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 10) :
				    10000;

	if (n == 0)
		n = 10000;
	test_blocked();
	test_running(n);
	return tap_done();
}
