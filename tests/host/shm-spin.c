// SPDX-License-Identifier: MIT
/*
 * shm-spin: host tests of what the shared-memory rings (shm-sysv,
 * shm-posix, mmap) do beyond one frame per call, printing TAP.
 *
 *   shm-spin [--idle-ms N] [VIA...]     (default: 2000 ms, all three)
 *
 * The learning of lib/shm_spin.c on its own: nothing learnt, or "off",
 * means no spin; close gaps give a budget within its bounds; one long gap
 * takes it away; a frame ends a spin at once with "found"; a stop or a
 * passed deadline ends it with "not found"; a spin that found nothing
 * turns the next one off. Then per mechanism, through
 * the transport interface: send_many() takes what fits and says -EAGAIN
 * only when nothing did; receive_many() drains a queued ring in batches
 * of TRANSPORT_BATCH_MAX, in order; with spin=adaptive 20,000 frames
 * sent in bursts by another process arrive complete and in order; a
 * receiver that learnt close gaps and then gets nothing spends almost no
 * CPU time in a receive of N ms (process CPU time, not wall-clock); and a
 * stop signal ends an adaptive receive. For shm-sysv, its wake-up count:
 * a receive that finds frames awake drops their counts, and a lone
 * event's wake-up leaves none behind (it takes the only one).
 */
#include "lib/tap.h"
#include "../../userspace/ipc/transport.h"
#include "../../userspace/lib/deadline.h"
#include "../../userspace/lib/frame_ring.h"
#include "../../userspace/lib/message.h"
#include "../../userspace/lib/shm_spin.h"
#include "../../userspace/lib/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BURSTS		1250
#define BURST		16	/* frames back to back, then a pause */
#define IDLE_CPU_MAX_NS	(20 * NSEC_PER_MSEC)	/* "almost none" */

struct subject {
	const struct transport_ops *ops;
	const char *via;
	char dir[PATH_MAX];
	char instance[32];
	const char *options[2];
	struct transport_config config;
};

static int open_as(struct subject *s, enum transport_role role,
		   struct transport **ret)
{
	return transport_open(s->ops, role, &s->config, ret, NULL);
}

static void frame_for(uint32_t seqno, uint8_t *frame)
{
	struct ipc_message msg = {
		.type = seqno % 2 ? IPC_EVENT_PRESS : IPC_EVENT_RELEASE,
		.led_state = (seqno + 1) / 2 % 2,
		.seqno = seqno,
		.event_ns = monotonic_ns(),
		.send_ns = monotonic_ns(),
	};

	ipc_message_encode(&msg, frame);
}

static int64_t seqno_of(const uint8_t *frame, size_t len)
{
	struct ipc_message msg;

	if (ipc_message_decode(frame, len, &msg) != IPC_MESSAGE_OK)
		return -EBADMSG;
	return msg.seqno;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* How many times this process slept (gave up the CPU to wait). */
static long voluntary_switches(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? 0 : ru.ru_nvcsw;
}

/* Send @count frames from @first with send_many(): how many it took. */
static int send_batch(struct transport *t, uint32_t first, size_t count)
{
	static uint8_t frames[TRANSPORT_BATCH_MAX][IPC_MESSAGE_SIZE];

	for (size_t i = 0; i < count; i++)
		frame_for(first + (uint32_t)i, frames[i]);
	return transport_send_many(t, frames[0], IPC_MESSAGE_SIZE, count);
}

/* Receive batches until @count frames from @first came, in order. */
static bool receive_in_order(struct transport *t, uint32_t first,
			     uint32_t count, size_t *ret_batches, char *why,
			     size_t whylen)
{
	static struct transport_batch batch;
	uint32_t next = first;
	size_t batches = 0;

	while (next < first + count) {
		ssize_t n = transport_receive_many(t, &batch, 10000);

		if (n <= 0) {
			snprintf(why, whylen, "at seqno %u: %s", next,
				 strerror(n < 0 ? (int)-n : EIO));
			return false;
		}
		batches++;
		for (size_t i = 0; i < batch.count; i++, next++)
			if (seqno_of(batch.frame[i], batch.len[i]) != next) {
				snprintf(why, whylen, "expected seqno %u, got %lld",
					 next, (long long)seqno_of(batch.frame[i],
								  batch.len[i]));
				return false;
			}
	}
	*ret_batches = batches;
	return true;
}

/* --- the learning, on its own ----------------------------------------- */

static void test_learning(void)
{
	size_t size = frame_ring_bytes(8);
	void *mem = calloc(1, size);
	struct frame_ring rx, tx;
	struct shm_spin s;
	struct deadline forever, passed;
	uint8_t frame[IPC_MESSAGE_SIZE] = { 0 };
	uint64_t budget, rejected = 0;
	uint32_t first;
	bool found;
	int waits;

	if (!mem) {
		tap_ok(false, "learning: memory for a ring");
		return;
	}
	frame_ring_create(&rx, mem, size, 8, FRAME_RING_MMAP, getuid());
	tap_ok(!frame_ring_attach(&tx, mem, size, FRAME_RING_MMAP, getuid(), true),
	       "learning: a producer attaches to a ring in plain memory");
	deadline_start(&forever, -1);

	shm_spin_init(&s, "off");
	for (int i = 0; i < 100; i++)
		shm_spin_taken(&s);
	tap_ok(shm_spin_budget_ns(&s) == 0 && !shm_spin_wait(&s, &rx, &forever),
	       "learning: spin=off never spins, however close the frames");

	shm_spin_init(&s, "adaptive");
	tap_ok(shm_spin_budget_ns(&s) == 0,
	       "learning: adaptive with nothing learnt yet does not spin");
	for (int i = 0; i < 100; i++)
		shm_spin_taken(&s);
	budget = shm_spin_budget_ns(&s);
	tap_ok(budget >= SHM_SPIN_MIN_NS && budget <= SHM_SPIN_MAX_NS,
	       "learning: close gaps give a spin of %llu ns, within %llu..%llu",
	       (unsigned long long)budget, SHM_SPIN_MIN_NS, SHM_SPIN_MAX_NS);

	/* Each wait below starts right after a frame, with a budget that a
	 * preemption between two lines does not use up. */
	s.mean_gap_ns = SHM_SPIN_MAX_NS / 2;
	budget = shm_spin_budget_ns(&s);
	stop_request();
	s.last_ns = monotonic_ns();
	tap_ok(!shm_spin_wait(&s, &rx, &forever) && shm_spin_budget_ns(&s) == budget,
	       "learning: a stop ends the spin at once, not counted as a miss");
	stop_rearm();
	deadline_start(&passed, 0);
	s.last_ns = monotonic_ns();
	tap_ok(!shm_spin_wait(&s, &rx, &passed) && shm_spin_budget_ns(&s) == budget,
	       "learning: a passed deadline ends the spin at once");
	tap_ok(frame_ring_push_many(&tx, frame, sizeof(frame), 1, &first) == 1 &&
	       (s.last_ns = monotonic_ns()) && shm_spin_wait(&s, &rx, &forever),
	       "learning: a frame in the ring ends the spin with 'found'");

	s.last_ns = monotonic_ns() - 10 * SHM_SPIN_MAX_NS;	/* a long gap */
	shm_spin_taken(&s);
	tap_ok(shm_spin_budget_ns(&s) == 0,
	       "learning: one gap of %llu µs takes the spin away (mean gap %llu ns)",
	       10 * SHM_SPIN_MAX_NS / 1000, (unsigned long long)s.mean_gap_ns);
	/* Relearn close gaps, empty the ring: a spin that finds nothing. */
	shm_spin_init(&s, "adaptive");
	for (int i = 0; i < 100; i++)
		shm_spin_taken(&s);
	(void)frame_ring_pop(&rx, frame, sizeof(frame), &rejected);
	s.mean_gap_ns = SHM_SPIN_MAX_NS / 2;
	s.last_ns = monotonic_ns();
	tap_ok(!shm_spin_wait(&s, &rx, &forever) && shm_spin_budget_ns(&s) == 0 &&
	       !shm_spin_wait(&s, &rx, &forever) && shm_spin_budget_ns(&s) == budget,
	       "learning: a spin that found nothing turns the next one off, then spins again");

	/* A mean gap above the cap, within the probe range, the ring empty:
	 * no spin for SHM_SPIN_PROBE_EVERY waits, then a probe of the cap;
	 * a frame it finds is learnt as the gap, and the spin is on. */
	shm_spin_init(&s, "adaptive");
	s.mean_gap_ns = 2 * SHM_SPIN_MAX_NS;
	s.last_ns = monotonic_ns();
	for (waits = 0; waits < 4 * SHM_SPIN_PROBE_EVERY &&
			shm_spin_budget_ns(&s) == 0; waits++)
		(void)shm_spin_wait(&s, &rx, &forever);
	tap_ok(waits == SHM_SPIN_PROBE_EVERY && shm_spin_budget_ns(&s) == SHM_SPIN_MAX_NS,
	       "learning: a mean gap of twice the cap spins on none of %d waits, then probes for the cap (%d waits)",
	       SHM_SPIN_PROBE_EVERY, waits);
	found = frame_ring_push_many(&tx, frame, sizeof(frame), 1, &first) == 1 &&
		(s.last_ns = monotonic_ns()) && shm_spin_wait(&s, &rx, &forever) &&
		frame_ring_pop(&rx, frame, sizeof(frame), &rejected) > 0;
	shm_spin_taken(&s);
	budget = shm_spin_budget_ns(&s);
	tap_ok(found && s.mean_gap_ns < SHM_SPIN_MAX_NS && budget >= SHM_SPIN_MIN_NS,
	       "learning: a frame the probe finds sets the mean to its gap (%llu ns), and the spin is on (%llu ns)",
	       (unsigned long long)s.mean_gap_ns, (unsigned long long)budget);
	s.mean_gap_ns = SHM_SPIN_PROBE_GAP_MAX + 1;	/* sparse */
	s.last_ns = monotonic_ns();
	for (waits = 0; waits < 4 * SHM_SPIN_PROBE_EVERY &&
			shm_spin_budget_ns(&s) == 0; waits++)
		(void)shm_spin_wait(&s, &rx, &forever);
	tap_ok(waits == 4 * SHM_SPIN_PROBE_EVERY,
	       "learning: sparse frames never probe (%d waits without a spin)", waits);

	tap_ok(shm_spin_check("off") == NULL && shm_spin_check("adaptive") == NULL &&
	       shm_spin_check("fast") != NULL && shm_spin_check("") != NULL,
	       "learning: the option takes off and adaptive, refuses anything else");
	free(mem);
}

/* --- per mechanism ----------------------------------------------------- */

/* Child: a sender in bursts of BURST, a short pause between. */
static int child_send_bursts(struct subject *s)
{
	const struct timespec retry = { .tv_nsec = 1000000 },
			      pause = { .tv_nsec = 20000 };
	struct transport *t;
	uint32_t next = 1;
	int r;

	alarm(120);
	while ((r = open_as(s, TRANSPORT_SENDER, &t)) == -ENOENT)
		nanosleep(&retry, NULL);
	if (r < 0)
		return 10;
	for (int b = 0; b < BURSTS; b++) {
		for (size_t left = BURST; left;) {
			r = send_batch(t, next, b % 2 ? left : 1);
			if (r == -EAGAIN) {
				nanosleep(&retry, NULL);	/* a test's back-off */
				continue;
			}
			if (r < 0)
				return 11;
			next += (uint32_t)r;
			left -= (size_t)r;
		}
		nanosleep(&pause, NULL);
	}
	transport_close(t, NULL);
	return 0;
}

static void wake_transport(void *arg)
{
	struct transport *t = arg;

	t->ops->wake(t);
}

/* Child: a receiver kept busy, then blocked; SIGTERM ends it. */
static int child_receiver_stopped(struct subject *s, int ready_fd)
{
	static struct transport_batch batch;
	struct transport *t;
	char byte = 'r';
	ssize_t r;

	alarm(60);	/* the default action fails the test if stuck */
	if (stop_init() < 0 || open_as(s, TRANSPORT_RECEIVER, &t) < 0)
		return 10;
	stop_set_wake(wake_transport, t);
	if (write(ready_fd, &byte, 1) != 1)
		return 11;
	while ((r = transport_receive_many(t, &batch, -1)) > 0)
		;
	stop_set_wake(NULL, NULL);
	transport_close(t, NULL);
	return r == -EINTR ? 0 : 12;
}

static int wait_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_batches(struct subject *s)
{
	struct transport *rx = NULL, *tx = NULL;
	char why[256] = "";
	size_t batches = 0;
	uint32_t next = 1;
	bool good;
	int r;

	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0 ||
	    open_as(s, TRANSPORT_SENDER, &tx) < 0) {
		tap_ok(false, "%s: a receiver and a sender open", s->via);
		goto out;
	}
	r = send_batch(tx, next, TRANSPORT_BATCH_MAX);
	tap_ok(r == TRANSPORT_BATCH_MAX, "%s: send_many takes %d frames at once (%d)",
	       s->via, TRANSPORT_BATCH_MAX, r);
	next += r > 0 ? (uint32_t)r : 0;
	/* Fill the ring up to 10 slots short, 64 at a time, then offer 64. */
	while (next - 1 + TRANSPORT_BATCH_MAX <= FRAME_RING_SLOTS - 10 &&
	       (r = send_batch(tx, next, TRANSPORT_BATCH_MAX)) > 0)
		next += (uint32_t)r;
	while (next - 1 < FRAME_RING_SLOTS - 10 && (r = send_batch(tx, next, 1)) > 0)
		next += (uint32_t)r;
	r = send_batch(tx, next, TRANSPORT_BATCH_MAX);
	tap_ok(r == 10, "%s: send_many on a ring with 10 free slots takes 10 (%d)",
	       s->via, r);
	next += r > 0 ? (uint32_t)r : 0;
	r = send_batch(tx, next, TRANSPORT_BATCH_MAX);
	tap_ok(r == TRANSPORT_FULL, "%s: send_many on a full ring says -EAGAIN (%d)",
	       s->via, r);
	good = receive_in_order(rx, 1, FRAME_RING_SLOTS, &batches, why, sizeof(why));
	tap_ok(good && batches == FRAME_RING_SLOTS / TRANSPORT_BATCH_MAX,
	       "%s: receive_many drains %d queued frames in order, %d per call (%zu calls) %s",
	       s->via, FRAME_RING_SLOTS, TRANSPORT_BATCH_MAX, batches, why);
out:
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

/* shm-sysv's wake-up count, semaphore 0 of its set (shm_sysv.c). */
static void test_sysv_counts(struct subject *s)
{
	static struct transport_batch batch;
	struct transport *rx = NULL, *tx = NULL;
	int key, semid = -1, posted, left, lone, status;
	ssize_t n, n1;
	pid_t pid;

	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0 ||
	    open_as(s, TRANSPORT_SENDER, &tx) < 0 ||
	    transport_sysv_key(rx, &key) < 0 || (semid = semget(key, 0, 0)) < 0) {
		tap_ok(false, "%s: a receiver, a sender and their set", s->via);
		goto out;
	}
	for (uint32_t seqno = 1; seqno <= 5; seqno++)
		send_batch(tx, seqno, 1);
	posted = semctl(semid, 0, GETVAL);
	n = transport_receive_many(rx, &batch, 10000);
	left = semctl(semid, 0, GETVAL);
	tap_ok(posted == 5 && n == 5 && left == 0,
	       "%s: 5 frames sent one by one post 5 counts (%d); a receive finds %zd awake and drops their counts (%d left)",
	       s->via, posted, n, left);
	pid = fork();
	if (pid == 0) {
		/* Usually after the receiver went to sleep; either way, no
		 * count may be left once it took the frame. */
		struct timespec pause = { .tv_nsec = 50 * NSEC_PER_MSEC };

		nanosleep(&pause, NULL);
		_exit(send_batch(tx, 6, 1) == 1 ? 0 : 1);
	}
	n1 = pid < 0 ? -1 : transport_receive_many(rx, &batch, 10000);
	lone = semctl(semid, 0, GETVAL);
	status = pid < 0 ? -1 : wait_status(pid);
	tap_ok(n1 == 1 && seqno_of(batch.frame[0], batch.len[0]) == 6 &&
	       lone == 0 && status == 0,
	       "%s: a lone event from another process is taken (%zd frame) and leaves no count (%d left; sender status %d)",
	       s->via, n1, lone, status);
out:
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

static void test_mode(struct subject *s, const char *mode, int idle_ms)
{
	static struct transport_batch batch;
	struct transport *rx = NULL;
	char why[256] = "";
	size_t batches = 0;
	uint64_t cpu;
	ssize_t n;
	long sleeps;
	int fds[2], r;
	bool good;
	pid_t pid;

	s->options[0] = mode;
	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0) {
		tap_ok(false, "%s: a receiver with %s opens", s->via, mode);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(child_send_bursts(s));
	sleeps = voluntary_switches();
	good = receive_in_order(rx, 1, BURSTS * BURST, &batches, why, sizeof(why));
	sleeps = voluntary_switches() - sleeps;
	tap_ok(good,
	       "%s: %s delivers %d frames sent in bursts, in order (%zu receives, %ld sleeps) %s",
	       s->via, mode, BURSTS * BURST, batches, sleeps, why);
	r = wait_status(pid);
	tap_ok(r == 0, "%s: the burst sender finished (status %d)", s->via, r);

	/* It learnt close gaps; now nothing comes. */
	cpu = cpu_ns();
	n = transport_receive_many(rx, &batch, idle_ms);
	cpu = cpu_ns() - cpu;
	tap_ok(n == -ETIMEDOUT && cpu < IDLE_CPU_MAX_NS,
	       "%s: %s, no events for %d ms after a burst: %.3f ms CPU time (under %llu)",
	       s->via, mode, idle_ms, cpu / 1e6, IDLE_CPU_MAX_NS / NSEC_PER_MSEC);
	transport_close(rx, NULL);

	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(child_receiver_stopped(s, fds[1]));
	close(fds[1]);
	{
		char byte;
		struct transport *tx = NULL;
		bool ready = read(fds[0], &byte, 1) == 1;

		/* Close gaps first, so the receiver spins between them. */
		if (ready && open_as(s, TRANSPORT_SENDER, &tx) == 0) {
			for (uint32_t i = 1; i <= 2000; i++)
				(void)send_batch(tx, i, 1);
			transport_close(tx, NULL);
		}
		kill(pid, SIGTERM);
	}
	close(fds[0]);
	r = wait_status(pid);
	tap_ok(r == 0, "%s: %s, SIGTERM amid close frames ends receive_many with -EINTR (child status %d)",
	       s->via, mode, r);
}

static bool make_runtime_dir(struct subject *s)
{
	const char *base = getenv("XDG_RUNTIME_DIR");

	if (!base || access(base, W_OK))
		base = "/run";
	snprintf(s->dir, sizeof(s->dir), "%s/ipc-button-spin.XXXXXX", base);
	if (!mkdtemp(s->dir))
		return false;
	snprintf(s->instance, sizeof(s->instance), "spin%d", (int)getpid());
	s->config.runtime_dir = s->dir;
	s->config.instance = s->instance;
	s->config.inherited_fd = -1;
	s->config.options = s->options;
	return true;
}

static void remove_dir(const char *dir)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

int main(int argc, char **argv)
{
	static const char *const all[] = { "shm-sysv", "shm-posix", "mmap" };
	const char *const *vias = all;
	size_t count = sizeof(all) / sizeof(all[0]);
	int idle_ms = 2000, arg = 1;

	if (argc > 2 && !strcmp(argv[1], "--idle-ms")) {
		idle_ms = atoi(argv[2]);
		arg = 3;
	}
	if (arg < argc) {
		vias = (const char *const *)argv + arg;
		count = (size_t)(argc - arg);
	}
	signal(SIGPIPE, SIG_IGN);
	test_learning();
	for (size_t i = 0; i < count; i++) {
		struct subject s = { .via = vias[i], .ops = transport_find(vias[i]) };

		if (!s.ops || !make_runtime_dir(&s)) {
			tap_ok(false, "%s: registered, and a runtime directory", vias[i]);
			continue;
		}
		s.options[0] = "spin=off";
		test_batches(&s);
		if (!strcmp(s.via, "shm-sysv"))
			test_sysv_counts(&s);
		test_mode(&s, "spin=off", idle_ms);
		test_mode(&s, "spin=adaptive", idle_ms);
		remove_dir(s.dir);
	}
	return tap_done();
}
