// SPDX-License-Identifier: MIT
/*
 * queue-transports: host tests of the message-queue, semaphore and signal
 * transports (mq-sysv, mq-posix, sem-sysv, sem-posix, signal), through the
 * transport interface only, printing TAP.
 *
 *   queue-transports [VIA...]      (default: all five)
 *   queue-transports --can-pidfd   (status 0 when pidfd_open() works here)
 *   QUEUE_TESTS_EVENTS=N           (events of the throughput test, 10000)
 *
 * Each mechanism gets a fresh runtime directory (0700, under
 * $XDG_RUNTIME_DIR or /run, never /tmp) and its own instance name, so
 * runs never meet. What is checked, per mechanism: a sender before the
 * receiver is told to come back later (-ENOENT); the object is 0600;
 * every descriptor is close-on-exec; 10,000 events sent as fast as
 * possible by another process arrive complete and in order, the LED state
 * right; a receive times out; a full mechanism says -EAGAIN, keeps all it
 * took and takes more once drained; a stop signal ends a blocked receive
 * (also one that arrived before the receive) and never becomes an event;
 * the receiver survives its sender's death and takes a new sender; a
 * receiver that closes makes the sender get -EPIPE and removes its object;
 * a SIGKILLed receiver's events survive in the kernel objects (adopted by
 * the next receiver, numbered as documented) and are lost with the signal
 * receiver's process, whose sender gets -EPIPE and reopens; stale and
 * foreign objects are replaced, and a stale pid file never gets a process
 * signalled; nothing remains after close; receive_many takes what is
 * queued in order, at most 64 per call. Mechanism specifics: mq-sysv
 * sends one message of the frame's length, receives without a timeout
 * asleep in msgrcv() itself, which a stop ends without leaving its wake
 * message behind, and never takes a sender's message of the wake type
 * for an event; mq-posix sizes its queue
 * within fs.mqueue limits, frames up to 256 bytes cross the queues whole,
 * a second live sem-sysv or signal receiver is refused, signal refuses a
 * plain kill() and meets RLIMIT_SIGPENDING with -EAGAIN; with the stop
 * signals let in, as the LED has them, a signal receiver sleeps in read()
 * of its signalfd, a sem-sysv one in semtimedop(), a sem-posix one in
 * sem_wait()'s futex, a stop ends it wherever it lands, what was queued
 * meanwhile arrives after unwake (numbered right), and SIGRTMIN stays
 * blocked (signal).
 */
#include "../../userspace/lib/deadline.h"
#include "lib/sysv_record.h"
#include "lib/proc_syscall.h"
#include "lib/tap.h"
#include "../../userspace/ipc/transport.h"
#include "../../userspace/lib/message.h"
#include "../../userspace/lib/stop.h"
#include "../../userspace/lib/msg_wait.h"
#include "../../userspace/lib/mqueue_wait.h"
#include "../../userspace/lib/send_stamp.h"
#include "../../userspace/lib/signal_target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MANY_DEFAULT	10000
#define WAIT_MS		10000	/* upper bound of one wait: fail, never hang */

/* Events of the throughput test; a multiple of 4, so the LED ends off. */
static uint32_t many = MANY_DEFAULT;

/* One mechanism under test, in its own runtime directory. */
struct subject {
	const struct transport_ops *ops;
	const char *via;
	char dir[PATH_MAX / 2];
	char instance[32];
	struct transport_config config;
	bool kernel_object;	/* events outlive a killed receiver */
	bool payload;		/* frames cross byte for byte */
	struct sysv_key_memo sysv;	/* see sysv_record_key() */
};

static int open_as(struct subject *s, enum transport_role role,
		   struct transport **ret)
{
	return transport_open(s->ops, role, &s->config, ret, NULL);
}

static bool is(const struct subject *s, const char *via)
{
	return !strcmp(s->via, via);
}

/* A receiver, then a sender: 0, or a negative errno with neither open. */
static int open_pair(struct subject *s, struct transport **ret_rx,
		     struct transport **ret_tx)
{
	int r = open_as(s, TRANSPORT_RECEIVER, ret_rx);

	if (r < 0)
		return r;
	r = open_as(s, TRANSPORT_SENDER, ret_tx);
	if (r < 0)
		transport_close(*ret_rx, NULL);
	return r;
}

/*
 * Event @seqno as the button sends it: press, release, press...; the LED
 * toggles on every press.
 */
static void frame_for(uint32_t seqno, uint8_t frame[IPC_MESSAGE_SIZE])
{
	struct ipc_message msg = {
		.type = seqno % 2 ? IPC_EVENT_PRESS : IPC_EVENT_RELEASE,
		.led_state = (seqno / 2 + seqno % 2) % 2,
		.seqno = seqno,
		.event_ns = 1000ull * seqno,
		.send_ns = 1000ull * seqno + 7,
	};

	ipc_message_encode(&msg, frame);
}

/*
 * Does @buf (@n bytes) deliver event @seqno? A payload mechanism must pass
 * the very bytes; the others rebuild the frame, which must at least agree
 * on seqno, type and LED state.
 */
static bool frame_is(const struct subject *s, const uint8_t *buf, ssize_t n,
		     uint32_t seqno)
{
	uint8_t want[IPC_MESSAGE_SIZE];
	struct ipc_message got, exp;

	frame_for(seqno, want);
	if (s->payload)
		return n == IPC_MESSAGE_SIZE && !memcmp(buf, want, n);
	if (ipc_message_decode(buf, n, &got) != IPC_MESSAGE_OK)
		return false;
	ipc_message_decode(want, sizeof(want), &exp);
	return got.seqno == exp.seqno && got.type == exp.type &&
	       got.led_state == exp.led_state;
}

static const char *describe(const uint8_t *buf, ssize_t n)
{
	static char text[96];
	struct ipc_message m;
	enum ipc_message_error e = ipc_message_decode(buf, n, &m);

	if (e != IPC_MESSAGE_OK)
		snprintf(text, sizeof(text), "%zd bytes, %s", n,
			 ipc_message_error_name(e));
	else
		snprintf(text, sizeof(text), "seqno %u type %u led %u",
			 m.seqno, m.type, m.led_state);
	return text;
}

/* Send as the button does: on -EAGAIN wait for room on the fd or back off. */
static int send_patiently(struct transport *t, const uint8_t *frame,
			  size_t len)
{
	for (int tries = 0; tries < 100000; tries++) {
		int r = transport_send(t, frame, len);
		int fd;

		if (r != -EAGAIN)
			return r;
		fd = transport_poll_fd(t);
		if (fd >= 0) {
			struct pollfd p = { .fd = fd,
					    .events = transport_room_events(t) };

			poll(&p, 1, 100);
		} else {
			poll(NULL, 0, 1);	/* the button's back-off timer */
		}
	}
	return -ETIMEDOUT;
}

static int send_seq(struct transport *t, uint32_t first, uint32_t count)
{
	uint8_t frame[IPC_MESSAGE_SIZE];

	for (uint32_t i = 0; i < count; i++) {
		int r;

		frame_for(first + i, frame);
		r = send_patiently(t, frame, sizeof(frame));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Receive events @first.. in order; 0, or -1 with *why filled. */
static int receive_seq(struct subject *s, struct transport *t, uint32_t first,
		       uint32_t count, char *why, size_t whylen)
{
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];

	for (uint32_t i = 0; i < count; i++) {
		ssize_t n = transport_receive(t, buf, sizeof(buf), WAIT_MS);

		if (n < 0) {
			snprintf(why, whylen, "event %u: %s", first + i,
				 strerror(-n));
			return -1;
		}
		if (!frame_is(s, buf, n, first + i)) {
			snprintf(why, whylen, "event %u: got %s", first + i,
				 describe(buf, n));
			return -1;
		}
	}
	return 0;
}

/* Take everything waiting, without waiting; the count. */
static unsigned int drain(struct transport *t)
{
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	unsigned int n = 0;

	while (transport_receive(t, buf, sizeof(buf), 0) >= 0)
		n++;
	return n;
}

/* --- children ----------------------------------------------------------- */

static pid_t spawn(int (*fn)(struct subject *, void *), struct subject *s,
		   void *arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		_exit(fn(s, arg));
	return pid;
}

/* The child's exit status (128 + signal when killed); kills it on timeout. */
static int reap(pid_t pid, int timeout_ms)
{
	int pidfd = pidfd_open(pid, 0), status = 0;
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pid <= 0)
		return -1;
	/* Without a pidfd (valgrind 3.19 lacks pidfd_open): no time limit. */
	if (pidfd >= 0) {
		if (poll(&p, 1, timeout_ms) == 0)
			kill(pid, SIGKILL);
		close(pidfd);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, WAIT_MS) == 1;
}

/* One byte through a pipe: readiness and go-ahead, never a sleep. */
static bool wait_byte(int fd)
{
	char c;

	return readable(fd) && read(fd, &c, 1) == 1;
}

static void put_byte(int fd)
{
	(void)!write(fd, "x", 1);
}

struct send_job {
	uint32_t first, count;
	bool die;		/* SIGKILL itself after sending */
};

static int sender_child(struct subject *s, void *arg)
{
	struct send_job *job = arg;
	struct transport *t;

	if (open_as(s, TRANSPORT_SENDER, &t) < 0)
		return 10;
	if (send_seq(t, job->first, job->count) < 0)
		return 11;
	if (job->die)
		raise(SIGKILL);
	transport_close(t, NULL);
	return 0;
}

/* --- what the objects look like from outside ---------------------------- */

/* The System V key of the subject's receiver (lib/sysv_record.h). */
static int subject_sysv_key(struct subject *s)
{
	return sysv_record_key(s->ops, &s->config, &s->sysv);
}

/* A key recorded now, as a killed receiver would have left it. */
static int plant_sysv_record(struct subject *s)
{
	return sysv_record_plant(s->ops, &s->config, s->dir, s->via,
				 s->instance, &s->sysv);
}

static struct transport probe_of(struct subject *s)
{
	struct transport probe = { .ops = s->ops, .config = &s->config };

	return probe;
}

/* The object's permission bits, or a negative errno (-ENOENT: none). */
static int object_mode(struct subject *s)
{
	struct transport probe = probe_of(s);
	char name[NAME_MAX], path[PATH_MAX];
	struct stat st;
	int key, id;

	if (is(s, "mq-sysv") || is(s, "sem-sysv")) {
		struct msqid_ds mds;
		struct semid_ds sds;

		key = subject_sysv_key(s);
		if (is(s, "mq-sysv")) {
			id = msgget(key, 0);
			if (id < 0 || msgctl(id, IPC_STAT, &mds) < 0)
				return -errno;
			return mds.msg_perm.mode & 0777;
		}
		id = semget(key, 0, 0);
		if (id < 0 || semctl(id, 0, IPC_STAT, &sds) < 0)
			return -errno;
		return sds.sem_perm.mode & 0777;
	}
	if (is(s, "mq-posix")) {
		mqd_t mq;

		transport_global_name(&probe, name, sizeof(name));
		mq = mq_open(name, O_RDONLY | O_NONBLOCK);
		if (mq == (mqd_t)-1)
			return -errno;
		if (fstat(mq, &st) < 0)
			st.st_mode = 0;
		mq_close(mq);
		return st.st_mode & 0777;
	}
	if (is(s, "sem-posix")) {
		transport_global_name(&probe, name, sizeof(name));
		snprintf(path, sizeof(path), "/dev/shm/sem.%s", name + 1);
	} else {
		snprintf(path, sizeof(path), "%s/signal.%s", s->dir, s->instance);
	}
	if (stat(path, &st) < 0)
		return -errno;
	return st.st_mode & 0777;
}

/* Files left in the runtime directory, 0 when it is empty. */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Put something that is not a receiver's object under our name or key. */
static int plant_foreign(struct subject *s)
{
	struct transport probe = probe_of(s);
	char name[NAME_MAX], path[PATH_MAX];
	int key, fd;

	key = is(s, "mq-sysv") || is(s, "sem-sysv") ? plant_sysv_record(s) : -1;
	transport_global_name(&probe, name, sizeof(name));
	if (is(s, "mq-sysv"))
		return msgget(key, IPC_CREAT | IPC_EXCL | 0644) < 0 ? -errno : 0;
	if (is(s, "sem-sysv"))	/* two semaphores, never initialised */
		return semget(key, 2, IPC_CREAT | IPC_EXCL | 0644) < 0 ?
		       -errno : 0;
	if (is(s, "mq-posix")) {
		struct mq_attr attr = { .mq_maxmsg = 5, .mq_msgsize = 100 };
		mqd_t mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0644, &attr);

		if (mq == (mqd_t)-1)
			return -errno;
		fchmod(mq, 0644);
		mq_close(mq);
		return 0;
	}
	if (is(s, "sem-posix")) {
		sem_t *sem = sem_open(name, O_CREAT | O_EXCL, 0644, 5);

		if (sem == SEM_FAILED)
			return -errno;
		sem_close(sem);
		snprintf(path, sizeof(path), "/dev/shm/sem.%s", name + 1);
		return chmod(path, 0644) < 0 ? -errno : 0;
	}
	/* signal: a pid file nobody locks, naming PID 1: must never be hit. */
	snprintf(path, sizeof(path), "%s/signal.%s", s->dir, s->instance);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	(void)!write(fd, "1\n", 2);
	close(fd);
	return 0;
}

/* --- the tests ---------------------------------------------------------- */

static void test_sender_first(struct subject *s)
{
	struct transport *t = NULL;
	int r = open_as(s, TRANSPORT_SENDER, &t);

	tap_ok(r == -ENOENT, "%s: a sender before the receiver gets -ENOENT (got %s)",
	   s->via, r ? strerror(-r) : "success");
	if (r == 0)
		transport_close(t, NULL);
}

/* Descriptors open now, as a bitmap of the first 1024. */
static void open_fds(unsigned char seen[1024])
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	memset(seen, 0, 1024);
	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd >= 0 && fd < 1024 && fd != dirfd(d))
			seen[fd] = 1;
	}
	closedir(d);
}

/* Every descriptor opened since @before is close-on-exec. */
static bool all_cloexec(const unsigned char before[1024])
{
	unsigned char now[1024];
	bool good = true;

	open_fds(now);
	for (int fd = 0; fd < 1024; fd++) {
		int flags;

		if (!now[fd] || before[fd])
			continue;
		flags = fcntl(fd, F_GETFD);
		if (flags >= 0 && !(flags & FD_CLOEXEC)) {
			tap_diag("fd %d is not close-on-exec", fd);
			good = false;
		}
	}
	return good;
}

static void test_object(struct subject *s)
{
	unsigned char before[1024];
	struct transport *rx, *tx;
	int r, mode;

	open_fds(before);
	r = open_as(s, TRANSPORT_RECEIVER, &rx);
	tap_ok(r == 0, "%s: the receiver opens (%s)", s->via, strerror(-r));
	if (r < 0)
		return;
	mode = object_mode(s);
	tap_ok(mode == 0600, "%s: its object is mode 0600 (got %s%o)", s->via,
	   mode < 0 ? "error " : "", mode < 0 ? -mode : mode);
	r = open_as(s, TRANSPORT_SENDER, &tx);
	tap_ok(r == 0, "%s: then a sender opens (%s)", s->via, strerror(-r));
	if (r == 0) {
		tap_ok(all_cloexec(before), "%s: every descriptor of both ends is close-on-exec",
		   s->via);
		transport_close(tx, NULL);
	}
	transport_close(rx, NULL);
}

static void test_many(struct subject *s)
{
	struct send_job job = { .first = 1, .count = many };
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	struct transport *rx;
	struct ipc_message last = { 0 };
	char why[160] = "";
	pid_t child;
	int status;
	ssize_t n;

	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0) {
		tap_ok(false, "%s: %u events (receiver did not open)", s->via, many);
		return;
	}
	child = spawn(sender_child, s, &job);
	for (uint32_t seq = 1; seq <= many && !why[0]; seq++) {
		n = transport_receive(rx, buf, sizeof(buf), WAIT_MS);
		if (n < 0)
			snprintf(why, sizeof(why), "event %u: %s", seq,
				 strerror(-n));
		else if (!frame_is(s, buf, n, seq))
			snprintf(why, sizeof(why), "event %u: got %s", seq,
				 describe(buf, n));
		else
			ipc_message_decode(buf, n, &last);
	}
	status = reap(child, WAIT_MS);
	tap_ok(!why[0] && status == 0,
	   "%s: %u events from another process arrive complete and in order%s%s (sender status %d)",
	   s->via, many, why[0] ? ": " : "", why, status);
	/* 5,000 presses: the LED toggled an even number of times. */
	tap_ok(!why[0] && last.seqno == many && last.led_state == 0,
	   "%s: the last event is %u and leaves the LED off", s->via, many);
	tap_ok(drain(rx) == 0, "%s: nothing more arrives", s->via);
	transport_close(rx, NULL);
}

/*
 * send_many() and receive_many(): 200 events offered in runs of up to 64
 * arrive complete and in order, with more than one frame per call on the
 * sides the mechanism batches. The receiver takes what is there only
 * when the sender cannot go on (full, or a handshake waits for it), so
 * the runs queue up as under load.
 */
static void test_batches(struct subject *s)
{
	enum { N = 200 };
	static uint8_t frames[N][IPC_MESSAGE_SIZE];
	static struct transport_batch batch;
	size_t sent = 0, got = 0, largest_sent = 0, largest_got = 0;
	struct transport *rx, *tx;
	char why[160] = "";
	ssize_t n = 0;
	int r = 0;

	for (uint32_t i = 0; i < N; i++)
		frame_for(i + 1, frames[i]);
	if (open_pair(s, &rx, &tx) < 0)
		return;
	for (int rounds = 0; got < N && !why[0] && rounds < 10000; rounds++) {
		if (sent < N) {
			r = transport_send_many(tx, frames[sent], IPC_MESSAGE_SIZE,
						N - sent);
			if (r > 0) {
				sent += r;
				largest_sent = (size_t)r > largest_sent ? (size_t)r : largest_sent;
			} else if (r != -EAGAIN) {
				snprintf(why, sizeof(why), "send_many: %s", strerror(-r));
			}
		}
		if (why[0] || (sent < N && r != -EAGAIN))
			continue;
		n = transport_receive_many(rx, &batch, sent == N ? WAIT_MS : 0);
		if (n < 0 && n != -ETIMEDOUT)
			snprintf(why, sizeof(why), "receive_many: %s", strerror(-n));
		for (ssize_t i = 0; i < n && !why[0]; i++, got++)
			if (!frame_is(s, batch.frame[i], batch.len[i], got + 1))
				snprintf(why, sizeof(why), "event %zu: got %s", got + 1,
					 describe(batch.frame[i], batch.len[i]));
		largest_got = n > 0 && (size_t)n > largest_got ? (size_t)n : largest_got;
	}
	tap_ok(got == N && !why[0], "%s: %d events sent with send_many arrive complete and in order through receive_many (%zu%s%s)",
	   s->via, N, got, why[0] ? ", " : "", why);
	tap_ok(!s->ops->send_many || largest_sent > 1,
	   "%s: send_many takes a run of frames in one call (up to %zu)",
	   s->via, largest_sent);
	tap_ok(!s->ops->receive_many || largest_got > 1,
	   "%s: receive_many takes all that waits in one call (up to %zu)",
	   s->via, largest_got);
	n = transport_receive(rx, batch.frame[0], sizeof(batch.frame[0]), 0);
	tap_ok(n == -ETIMEDOUT, "%s: and nothing more arrives (%s)", s->via,
	   n < 0 ? strerror(-n) : describe(batch.frame[0], n));
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

static void test_timeout(struct subject *s)
{
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	struct transport *rx;
	uint64_t start, ms;
	ssize_t n;

	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0) {
		tap_ok(false, "%s: receive times out (receiver did not open)", s->via);
		return;
	}
	start = monotonic_ns();
	n = transport_receive(rx, buf, sizeof(buf), 100);
	ms = (monotonic_ns() - start) / 1000000;
	tap_ok(n == -ETIMEDOUT && ms >= 100 && ms < 2000,
	   "%s: a receive with nothing to take times out after 100 ms (%s after %llu ms)",
	   s->via, n < 0 ? strerror(-n) : "a frame",
	   (unsigned long long)ms);
	transport_close(rx, NULL);
}

/* How many events the mechanism takes before it is full, by its limits. */
static long expected_capacity(struct subject *s)
{
	if (is(s, "mq-sysv")) {
		struct msqid_ds ds;
		int key, id;

		key = subject_sysv_key(s);
		id = msgget(key, 0);
		if (id < 0 || msgctl(id, IPC_STAT, &ds) < 0)
			return -1;
		return ds.msg_qbytes / IPC_MESSAGE_SIZE;
	}
	if (is(s, "mq-posix")) {
		struct transport probe = probe_of(s);
		char name[NAME_MAX];
		struct mq_attr attr;
		mqd_t mq;

		transport_global_name(&probe, name, sizeof(name));
		mq = mq_open(name, O_RDONLY | O_NONBLOCK);
		if (mq == (mqd_t)-1 || mq_getattr(mq, &attr) < 0)
			return -1;
		mq_close(mq);
		return attr.mq_maxmsg;
	}
	return 32767;	/* sem-sysv: SEMVMX */
}

static void test_full(struct subject *s)
{
	uint8_t frame[IPC_MESSAGE_SIZE];
	struct transport *rx, *tx;
	long fit = 0, want;
	unsigned int drained;
	int r = 0;

	if (open_pair(s, &rx, &tx) < 0)
		return;
	want = expected_capacity(s);
	while (fit < 100000) {
		frame_for(fit + 1, frame);
		r = transport_send(tx, frame, sizeof(frame));
		if (r < 0)
			break;
		fit++;
	}
	tap_ok(r == -EAGAIN && fit == want,
	   "%s: full after %ld events (its limit: %ld), send says -EAGAIN (%s)",
	   s->via, fit, want, strerror(-r));
	drained = drain(rx);
	tap_ok(drained == fit, "%s: all %ld events it took are delivered (%u)",
	   s->via, fit, drained);
	frame_for(fit + 1, frame);
	r = transport_send(tx, frame, sizeof(frame));
	tap_ok(r == 0, "%s: once drained, send works again (%s)", s->via,
	   strerror(-r));
	drain(rx);
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

/* The signal queue is bounded by the receiver's RLIMIT_SIGPENDING. */
struct rlimit_job {
	int ready[2], go[2], count[2];
};

static int rlimit_receiver(struct subject *s, void *arg)
{
	struct rlimit_job *job = arg;
	struct rlimit lim = { .rlim_cur = 32, .rlim_max = 32 };
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	struct transport *rx;
	unsigned int n;

	if (setrlimit(RLIMIT_SIGPENDING, &lim) < 0)
		return 30;
	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0)
		return 31;
	put_byte(job->ready[1]);
	if (!wait_byte(job->go[0]))
		return 32;
	n = drain(rx);
	if (write(job->count[1], &n, sizeof(n)) != sizeof(n))
		return 33;
	if (transport_receive(rx, buf, sizeof(buf), WAIT_MS) < 0)
		return 34;
	transport_close(rx, NULL);
	return 0;
}

static void test_signal_rlimit(struct subject *s)
{
	struct rlimit_job job;
	uint8_t frame[IPC_MESSAGE_SIZE];
	struct transport *tx = NULL;
	unsigned int fit = 0, taken = 0;
	pid_t child;
	int r = 0;

	if (pipe2(job.ready, O_CLOEXEC) < 0 || pipe2(job.go, O_CLOEXEC) < 0 ||
	    pipe2(job.count, O_CLOEXEC) < 0)
		return;
	child = spawn(rlimit_receiver, s, &job);
	if (wait_byte(job.ready[0]) && open_as(s, TRANSPORT_SENDER, &tx) == 0) {
		while (fit < 1000) {
			frame_for(fit + 1, frame);
			r = transport_send(tx, frame, sizeof(frame));
			if (r < 0)
				break;
			fit++;
		}
	}
	tap_ok(r == -EAGAIN && fit > 0 && fit <= 32,
	   "signal: at the receiver's RLIMIT_SIGPENDING (32) send says -EAGAIN (after %u, %s)",
	   fit, strerror(-r));
	put_byte(job.go[1]);
	if (readable(job.count[0]))
		(void)!read(job.count[0], &taken, sizeof(taken));
	frame_for(fit + 1, frame);
	r = tx ? transport_send(tx, frame, sizeof(frame)) : -EBADF;
	tap_ok(r == 0, "signal: once the receiver took them, send works again (%s)",
	   strerror(-r));
	tap_ok(reap(child, WAIT_MS) == 0 && taken == fit,
	   "signal: the receiver got every one it was sent (%u of %u, then one more)",
	   taken, fit);
	transport_close(tx, NULL);
	for (int i = 0; i < 2; i++) {
		close(job.ready[i]);
		close(job.go[i]);
		close(job.count[i]);
	}
}

/* Payload queues carry any frame up to 256 bytes whole, for the decoder. */
static void test_sizes(struct subject *s)
{
	static const size_t sizes[] = { 1, 39, 41, IPC_MESSAGE_MAX_WIRE };
	/* Zeroed: the 257-byte send below hands all of it to the kernel. */
	uint8_t frame[IPC_MESSAGE_MAX_WIRE + 1] = { 0 }, buf[IPC_MESSAGE_MAX_WIRE];
	struct transport *rx, *tx;
	bool good = true;
	int r;

	if (open_pair(s, &rx, &tx) < 0)
		return;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ssize_t n;

		memset(frame, 0xa0 + i, sizes[i]);
		if (transport_send(tx, frame, sizes[i]) < 0) {
			good = false;
			continue;
		}
		n = transport_receive(rx, buf, sizeof(buf), WAIT_MS);
		if (n != (ssize_t)sizes[i] || memcmp(buf, frame, n)) {
			tap_diag("%zu bytes came back as %zd", sizes[i], n);
			good = false;
		}
	}
	tap_ok(good, "%s: frames of 1, 39, 41 and 256 bytes cross whole", s->via);
	r = transport_send(tx, frame, IPC_MESSAGE_MAX_WIRE + 1);
	tap_ok(r == -EMSGSIZE, "%s: a 257-byte frame is refused with -EMSGSIZE (%s)",
	   s->via, strerror(-r));
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

/* Without a payload, a malformed frame cannot cross: it is refused. */
static void test_malformed_refused(struct subject *s)
{
	uint8_t frame[IPC_MESSAGE_SIZE];
	struct transport *rx, *tx;
	int r;

	if (open_pair(s, &rx, &tx) < 0)
		return;
	frame_for(1, frame);
	frame[20] ^= 1;		/* the CRC no longer matches */
	r = transport_send(tx, frame, sizeof(frame));
	tap_ok(r == -EINVAL && drain(rx) == 0,
	   "%s: a frame that does not decode is refused (-EINVAL), nothing crosses (%s)",
	   s->via, strerror(-r));
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

static void test_mq_sysv_one_message(struct subject *s)
{
	uint8_t frame[IPC_MESSAGE_SIZE];
	struct transport *rx, *tx;
	struct msqid_ds ds = { 0 };
	int key, id;

	if (open_pair(s, &rx, &tx) < 0)
		return;
	frame_for(1, frame);
	transport_send(tx, frame, sizeof(frame));
	key = subject_sysv_key(s);
	id = msgget(key, 0);
	msgctl(id, IPC_STAT, &ds);
	tap_ok(ds.msg_qnum == 1 && ds.msg_cbytes == IPC_MESSAGE_SIZE,
	   "mq-sysv: a frame is one message of %d bytes (%lu messages, %lu bytes)",
	   IPC_MESSAGE_SIZE, (unsigned long)ds.msg_qnum,
	   (unsigned long)ds.msg_cbytes);
	drain(rx);
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void test_mq_posix_limits(struct subject *s)
{
	struct transport probe = probe_of(s);
	long msg_max = read_long("/proc/sys/fs/mqueue/msg_max");
	struct mq_attr attr = { 0 };
	char name[NAME_MAX];
	struct transport *rx;
	mqd_t mq;

	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0)
		return;
	transport_global_name(&probe, name, sizeof(name));
	mq = mq_open(name, O_RDONLY | O_NONBLOCK);
	if (mq != (mqd_t)-1) {
		mq_getattr(mq, &attr);
		mq_close(mq);
	}
	/* A message: the largest frame, then its send time (send_stamp.h). */
	tap_ok(attr.mq_msgsize == IPC_MESSAGE_MAX_WIRE + SEND_STAMP_SIZE &&
	   attr.mq_maxmsg > 0 &&
	   attr.mq_maxmsg <= msg_max && attr.mq_maxmsg <= 64,
	   "mq-posix: queue of %ld messages of %ld bytes, within fs.mqueue.msg_max %ld for any user",
	   (long)attr.mq_maxmsg, (long)attr.mq_msgsize, msg_max);
	transport_close(rx, NULL);
}

/* A second receiver while one runs would steal its events. */
static void test_second_receiver(struct subject *s)
{
	struct transport *rx, *rx2 = NULL;
	int r;

	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0)
		return;
	r = open_as(s, TRANSPORT_RECEIVER, &rx2);
	tap_ok(r == -EBUSY, "%s: a second receiver is refused while one runs (%s)",
	   s->via, r ? strerror(-r) : "opened");
	if (r == 0)
		transport_close(rx2, NULL);
	tap_ok(object_mode(s) == 0600, "%s: and the first one's object is intact",
	   s->via);
	transport_close(rx, NULL);
}

static void test_signal_refuses_kill(struct subject *s)
{
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	struct transport *rx;
	ssize_t n;

	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0)
		return;
	kill(getpid(), SIGRTMIN);	/* SI_USER: not one of ours */
	n = transport_receive(rx, buf, sizeof(buf), 200);
	tap_ok(n == -ETIMEDOUT && rx->rejected == 1,
	   "signal: a plain kill() is refused and counted (%s, %llu refused)",
	   n < 0 ? strerror(-n) : describe(buf, n),
	   (unsigned long long)rx->rejected);
	transport_close(rx, NULL);
}

/* Stop signals end a blocked receive, and never leave an event behind. */
struct stop_job {
	int ready[2];
	bool before;		/* the stop comes before the receive */
	int timeout_ms;		/* of the receive; -1 waits untimed */
	bool keep;		/* leave the object for the parent to look at */
};

static void stop_wake(void *arg)
{
	struct transport *t = arg;

	if (t->ops->wake)
		t->ops->wake(t);
}

static int stop_receiver(struct subject *s, void *arg)
{
	/* Left open on purpose, and still reachable when the child exits. */
	static struct transport *rx;
	struct stop_job *job = arg;
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	ssize_t n;

	if (stop_init() < 0)
		return 40;
	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0)
		return 41;
	stop_set_wake(stop_wake, rx);
	if (job->before)
		raise(SIGTERM);		/* blocked: pending until we wait */
	put_byte(job->ready[1]);
	n = transport_receive(rx, buf, sizeof(buf), job->timeout_ms);
	/*
	 * A counted mechanism's object stays, for the parent to make sure
	 * no wake-up token became an event. A queue has no token to leave:
	 * it closes, as the LED does.
	 */
	if (s->payload && !job->keep)
		transport_close(rx, NULL);
	return n == -EINTR ? 0 : 42;
}

static void test_stop(struct subject *s)
{
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	int failures = 0, phantoms = 0;
	struct stop_job job;
	struct transport *rx;
	char statuses[64] = "";

	if (pipe2(job.ready, O_CLOEXEC) < 0)
		return;
	job.timeout_ms = WAIT_MS;
	job.keep = false;
	for (int round = 0; round < 6; round++) {
		pid_t child;
		int status;
		ssize_t n;

		job.before = round == 0;
		/* Untimed waits (semop, sem_wait) are woken by wake() alone. */
		job.timeout_ms = round % 2 ? -1 : WAIT_MS;
		child = spawn(stop_receiver, s, &job);
		if (!wait_byte(job.ready[0]))
			failures++;
		if (round > 0)
			kill(child, SIGTERM);
		status = reap(child, WAIT_MS);
		if (status) {
			failures++;
			snprintf(statuses + strlen(statuses),
				 sizeof(statuses) - strlen(statuses), " %d",
				 status);
		}
		/* The next receiver takes over what the stopped one left. */
		if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0) {
			failures++;
			continue;
		}
		n = transport_receive(rx, buf, sizeof(buf), 0);
		if (n != -ETIMEDOUT)
			phantoms++;
		transport_close(rx, NULL);
	}
	tap_ok(!failures, "%s: a stop signal ends a blocked receive with -EINTR, timed or untimed, also one sent before it (6 rounds; statuses%s)",
	   s->via, statuses[0] ? statuses : " 0");
	tap_ok(!phantoms, "%s: no stop ever leaves an event behind (%d did)",
	   s->via, phantoms);
	close(job.ready[0]);
	close(job.ready[1]);
}


/* What the rounds of a stop test saw: failures, receivers seen asleep in
 * the system call, and the exit statuses that were not 0. */
struct stop_tally {
	int failures, asleep;
	char statuses[64];
};

/*
 * One round of a stop test: a receiver started; from round 3 on, seen
 * asleep in system call @nr before its stop; in round 0 the stop comes
 * before its receive (job->before), sent by the receiver itself; then
 * reaped within WAIT_MS.
 */
static void stop_round(struct subject *s, struct stop_job *job, int round,
		       long nr, struct stop_tally *t)
{
	size_t used = strlen(t->statuses);
	pid_t child;
	int status;

	job->before = round == 0;
	child = spawn(stop_receiver, s, job);
	if (!wait_byte(job->ready[0]))
		t->failures++;
	if (round >= 3 && proc_await_syscall(child, nr, WAIT_MS))
		t->asleep++;
	if (round > 0)
		kill(child, SIGTERM);
	status = reap(child, WAIT_MS);
	if (status) {
		t->failures++;
		snprintf(t->statuses + used, sizeof(t->statuses) - used,
			 " %d", status);
	}
}

/*
 * mq-sysv without a timeout sleeps in msgrcv() itself: a stop ends it
 * (before the receive, just after it began, or while it sleeps in
 * msgrcv), and takes back the wake message it posted: the queue, kept by
 * the stopped receiver, holds nothing afterwards.
 */
static void test_mq_sysv_stop_in_msgrcv(struct subject *s)
{
	struct stop_job job = { .timeout_ms = -1, .keep = true };
	struct stop_tally tally = { 0 };
	unsigned long left = 0;
	struct msqid_ds ds;

	if (pipe2(job.ready, O_CLOEXEC) < 0)
		return;
	for (int round = 0; round < 6; round++) {
		stop_round(s, &job, round, SYS_msgrcv, &tally);
		if (msgctl(msgget(subject_sysv_key(s), 0), IPC_STAT, &ds) == 0)
			left += ds.msg_qnum;
	}
	tap_ok(!tally.failures && tally.asleep == 3,
	   "mq-sysv: receive(-1) sleeps in msgrcv() itself and a stop ends it with -EINTR, also one sent before it (6 rounds, %d of 3 seen asleep in msgrcv; statuses%s)",
	   tally.asleep, tally.statuses[0] ? tally.statuses : " 0");
	tap_ok(left == 0, "mq-sysv: no stop leaves a wake message in the queue (%lu left)",
	   left);
	close(job.ready[0]);
	close(job.ready[1]);
}

/* A message of the wake type from a sender is no frame, in either wait. */
static void test_mq_sysv_forged_wake(struct subject *s)
{
	struct { long mtype; uint8_t mtext[IPC_MESSAGE_SIZE]; } forged;
	uint8_t frame[IPC_MESSAGE_SIZE], buf[IPC_MESSAGE_MAX_WIRE];
	struct transport *rx, *tx;
	ssize_t first, second, third;
	int id;

	if (open_pair(s, &rx, &tx) < 0)
		return;
	id = msgget(subject_sysv_key(s), 0);
	forged.mtype = MSG_WAIT_WAKE_MTYPE;
	frame_for(7, forged.mtext);	/* a valid frame, of the wrong type */
	msgsnd(id, &forged, sizeof(forged.mtext), IPC_NOWAIT);
	frame_for(1, frame);
	transport_send(tx, frame, sizeof(frame));
	msgsnd(id, &forged, sizeof(forged.mtext), IPC_NOWAIT);
	frame_for(2, frame);
	transport_send(tx, frame, sizeof(frame));
	first = transport_receive(rx, buf, sizeof(buf), -1);
	first = frame_is(s, buf, first, 1) ? 1 : -1;
	second = transport_receive(rx, buf, sizeof(buf), WAIT_MS);
	second = frame_is(s, buf, second, 2) ? 2 : -1;
	third = transport_receive(rx, buf, sizeof(buf), 0);
	tap_ok(first == 1 && second == 2 && third == -ETIMEDOUT &&
	       rx->rejected == 0,
	   "mq-sysv: messages of the wake type a sender puts in are skipped, never events (%zd, %zd, then %s, %llu refused)",
	   first, second, third < 0 ? strerror(-third) : "a frame",
	   (unsigned long long)rx->rejected);
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

/*
 * mq-posix without a timeout sleeps in mq_receive() itself: a stop ends
 * it (before the receive, just after it began, or while it sleeps), and
 * the wake message it may have posted never becomes an event for the
 * receiver that adopts the queue the stopped one kept.
 */
static void test_mq_posix_stop_in_receive(struct subject *s)
{
	struct stop_job job = { .timeout_ms = -1, .keep = true };
	struct stop_tally tally = { 0 };
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	int phantoms = 0;
	struct transport *rx;

	if (pipe2(job.ready, O_CLOEXEC) < 0)
		return;
	for (int round = 0; round < 6; round++) {
		stop_round(s, &job, round, SYS_mq_timedreceive, &tally);
		if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0) {
			tally.failures++;
			continue;
		}
		if (transport_receive(rx, buf, sizeof(buf), 0) != -ETIMEDOUT ||
		    rx->rejected)
			phantoms++;
		transport_close(rx, NULL);
	}
	tap_ok(!tally.failures && tally.asleep == 3,
	   "mq-posix: receive(-1) sleeps in mq_receive() itself and a stop ends it with -EINTR, also one sent before it (6 rounds, %d of 3 seen asleep; statuses%s)",
	   tally.asleep, tally.statuses[0] ? tally.statuses : " 0");
	tap_ok(!phantoms, "mq-posix: no wake message left in a kept queue becomes an event (%d did)",
	   phantoms);
	close(job.ready[0]);
	close(job.ready[1]);
}

/*
 * Child: a receiver (signal, sem-sysv, sem-posix) set up as the LED sets
 * it up (transport_arm_stop(): the stop signals let in for good) in
 * receive(-1), stopped as in stop_round(). The stop ends the receive;
 * while it is not taken back, a receive ends at once even with events
 * queued; after transport_unwake() and stop_rearm() every one of them is
 * received, in order (frame_is(): a counted mechanism's numbers too),
 * and a second stop ends the next receive again. signal: SIGRTMIN stays
 * blocked throughout (else the first event would kill the child).
 */
static int let_in_receiver(struct subject *s, void *arg)
{
	struct stop_job *job = arg;
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	struct transport *rx, *tx;
	sigset_t mask;

	if (stop_init() < 0 || open_as(s, TRANSPORT_RECEIVER, &rx) < 0 ||
	    transport_arm_stop(rx) < 0)
		return 40;
	if (job->before)
		raise(SIGTERM);
	put_byte(job->ready[1]);
	if (transport_receive(rx, buf, sizeof(buf), -1) != -EINTR)
		return 41;
	if (open_as(s, TRANSPORT_SENDER, &tx) < 0 || send_seq(tx, 1, 3) < 0)
		return 42;
	if (transport_receive(rx, buf, sizeof(buf), -1) != -EINTR)
		return 43;
	transport_unwake(rx);
	stop_rearm();
	for (uint32_t i = 1; i <= 3; i++)
		if (!frame_is(s, buf, transport_receive(rx, buf, sizeof(buf), 0), i))
			return 44;
	if (transport_receive(rx, buf, sizeof(buf), 0) != -ETIMEDOUT)
		return 45;
	raise(SIGTERM);
	if (transport_receive(rx, buf, sizeof(buf), -1) != -EINTR)
		return 46;
	if (sigprocmask(SIG_BLOCK, NULL, &mask) < 0 ||
	    (is(s, "signal") && !sigismember(&mask, SIGRTMIN)) ||
	    sigismember(&mask, SIGTERM))
		return 47;
	transport_unwake(rx);
	transport_close(tx, NULL);
	transport_close(rx, NULL);
	return 0;
}

/* Six let_in_receiver() rounds, stopped as in stop_round(): from round 3
 * on, seen asleep in system call @nr first. */
static void let_in_rounds(struct subject *s, long nr, struct stop_tally *t)
{
	struct stop_job job = { .timeout_ms = -1 };

	if (pipe2(job.ready, O_CLOEXEC) < 0) {
		t->failures++;
		return;
	}
	for (int round = 0; round < 6; round++) {
		size_t used = strlen(t->statuses);
		pid_t child;
		int status;

		job.before = round == 0;
		child = spawn(let_in_receiver, s, &job);
		if (!wait_byte(job.ready[0]))
			t->failures++;
		if (round >= 3 && proc_await_syscall(child, nr, WAIT_MS))
			t->asleep++;
		if (round > 0)
			kill(child, SIGTERM);
		status = reap(child, WAIT_MS);
		if (status) {
			t->failures++;
			snprintf(t->statuses + used, sizeof(t->statuses) - used,
				 " %d", status);
		}
	}
	close(job.ready[0]);
	close(job.ready[1]);
}

/*
 * sem-sysv and sem-posix with the stop signals let in, as the LED has
 * them: receive(-1) sleeps in the lesson's own call (semop(), which glibc
 * makes as semtimedop(); sem_wait()'s futex), with no sigprocmask()
 * around it, and a stop ends it wherever it lands; the token it posts is
 * never an event (let_in_receiver()).
 */
static void test_sem_let_in(struct subject *s)
{
	bool sysv = is(s, "sem-sysv");
	struct stop_tally t = { 0 };

	let_in_rounds(s, sysv ? SYS_semtimedop : SYS_futex, &t);
	tap_ok(!t.failures && t.asleep == 3,
	   "%s: let in, receive(-1) sleeps in %s itself and a stop ends it, before or while it sleeps; after unwake every event queued meanwhile arrives, numbered right, and a second stop ends the wait again (6 rounds, %d of 3 seen asleep; statuses%s)",
	   s->via, sysv ? "semtimedop()" : "futex() (sem_wait)", t.asleep,
	   t.statuses[0] ? t.statuses : " 0");
	tap_ok(object_mode(s) == -ENOENT && dir_entries(s->dir) == 0,
	   "%s: after the let-in stops nothing is left", s->via);
}

/*
 * signal with the stop signals let in, as the LED has them: it sleeps in
 * read() of its signalfd, and a stop ends that read wherever it lands;
 * nothing is lost to the stop (let_in_receiver()).
 */
static void test_signal_let_in(struct subject *s)
{
	struct stop_tally t = { 0 };

	let_in_rounds(s, SYS_read, &t);
	tap_ok(!t.failures && t.asleep == 3,
	   "signal: let in, receive(-1) sleeps in read() of the signalfd and a stop ends it, before or while it sleeps; after unwake every event queued meanwhile arrives in order, a second stop ends the wait again, SIGRTMIN stays blocked (6 rounds, %d of 3 seen asleep in read; statuses%s)",
	   t.asleep, t.statuses[0] ? t.statuses : " 0");
	tap_ok(object_mode(s) == -ENOENT && dir_entries(s->dir) == 0,
	   "signal: after the let-in stops nothing is left");
}

/* Zero-byte messages (wake messages, or anyone's) are never frames. */
static void test_mq_posix_empty_messages(struct subject *s)
{
	struct transport probe = probe_of(s);
	uint8_t frame[IPC_MESSAGE_SIZE], buf[IPC_MESSAGE_MAX_WIRE];
	struct transport *rx, *tx;
	char name[NAME_MAX];
	ssize_t first, second, third;
	mqd_t mq;

	transport_global_name(&probe, name, sizeof(name));
	if (open_pair(s, &rx, &tx) < 0)
		return;
	mq = mq_open(name, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	mq_send(mq, "", 0, 0);
	frame_for(1, frame);
	transport_send(tx, frame, sizeof(frame));
	mq_send(mq, "", 0, 0);
	frame_for(2, frame);
	transport_send(tx, frame, sizeof(frame));
	mq_send(mq, "", 0, 0);
	first = transport_receive(rx, buf, sizeof(buf), -1);
	first = frame_is(s, buf, first, 1) ? 1 : -1;
	second = transport_receive(rx, buf, sizeof(buf), WAIT_MS);
	second = frame_is(s, buf, second, 2) ? 2 : -1;
	third = transport_receive(rx, buf, sizeof(buf), 0);
	tap_ok(mq != (mqd_t)-1 && first == 1 && second == 2 &&
	       third == -ETIMEDOUT && rx->rejected == 0,
	   "mq-posix: zero-byte messages a sender puts in are skipped, never events (%zd, %zd, then %s, %llu refused)",
	   first, second, third < 0 ? strerror(-third) : "a frame",
	   (unsigned long long)rx->rejected);
	if (mq != (mqd_t)-1)
		mq_close(mq);
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

/* Fill @tx until the mechanism says full: how many it took. */
static long fill(struct transport *tx, int *ret)
{
	uint8_t frame[IPC_MESSAGE_SIZE];
	long fit = 0;

	for (*ret = 0; fit < 100000 && *ret == 0; fit++) {
		frame_for((uint32_t)fit + 1, frame);
		*ret = transport_send(tx, frame, sizeof(frame));
	}
	return fit - 1;
}

/* Is @fd ready for @events within @ms? */
static bool ready_within(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	return fd >= 0 && poll(&pfd, 1, ms) == 1 && (pfd.revents & events);
}

/*
 * mq-posix's sender makes no system call but mq_send() per frame: it
 * learns that its receiver left from the seal, a queue left full and
 * nameless. A sender asleep for room must wake for that too (the
 * unlink), or it would wait for room that never comes.
 */
static void test_mq_posix_seal(struct subject *s)
{
	uint8_t frame[IPC_MESSAGE_SIZE];
	struct transport *rx, *tx;
	bool quiet, woke, room;
	char detail[TRANSPORT_DETAIL_MAX];
	long fit, want;
	int r, fd;

	if (open_pair(s, &rx, &tx) < 0)
		return;
	want = expected_capacity(s);
	fit = fill(tx, &r);
	fd = transport_poll_fd(tx);
	quiet = !ready_within(fd, transport_room_events(tx), 0);
	tap_ok(r == -EAGAIN && fit == want && fd >= 0 && quiet &&
	       transport_room_events(tx) == POLLIN,
	   "mq-posix: full after %ld (of %ld), the sender's wait for room is made (fd %d, %s, not ready while full)",
	   fit, want, fd, transport_room_events(tx) == POLLIN ? "POLLIN" : "POLLOUT");
	/* One taken: the queue has room, and the wait says so. */
	room = transport_receive(rx, (uint8_t[IPC_MESSAGE_MAX_WIRE]){ 0 },
				 IPC_MESSAGE_MAX_WIRE, 0) == IPC_MESSAGE_SIZE &&
	       ready_within(fd, POLLIN, WAIT_MS);
	frame_for((uint32_t)fit + 1, frame);
	r = transport_send(tx, frame, sizeof(frame));
	tap_ok(room && r == 0,
	   "mq-posix: one taken, the wait for room is ready and the send goes (%s)",
	   strerror(-r));
	/* Full again, asleep for room; the receiver leaves. */
	r = transport_send(tx, frame, sizeof(frame));
	quiet = r == -EAGAIN && !ready_within(fd, POLLIN, 0);
	transport_close(rx, detail);
	woke = ready_within(fd, POLLIN, WAIT_MS);
	r = transport_send(tx, frame, sizeof(frame));
	tap_ok(quiet && woke && r == -EPIPE,
	   "mq-posix: a sender asleep for room wakes when the receiver leaves, and its send says -EPIPE (%s; %s)",
	   strerror(-r), detail);
	tap_ok(strstr(detail, "discarded") && atol(detail) == want,
	   "mq-posix: the leaving receiver counts the %ld frames it did not take (\"%s\")",
	   want, detail);
	transport_close(tx, NULL);
}

/*
 * The seal counts what others put in after the queue was emptied: the
 * frames of a sender that had not met the seal yet go with the queue,
 * counted, never silently.
 */
static void test_mq_posix_seal_counts(void)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 16 };
	char name[64];
	struct mqueue_wait w;
	long late;
	int full;
	mqd_t mq;

	snprintf(name, sizeof(name), "/ipc-button-test-seal.%d", (int)getpid());
	mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
	if (mq == (mqd_t)-1) {
		tap_ok(false, "mq-posix: a queue for the seal test (%s)", strerror(errno));
		return;
	}
	mq_unlink(name);
	mqueue_wait_init(&w, mq);
	mq_send(mq, "late", 4, 0);
	mq_send(mq, "later", 5, 0);
	late = mqueue_wait_seal(&w);
	full = mq_timedsend(mq, "", 0, 0, &(struct timespec){ 0, 0 }) < 0 ? errno : 0;
	tap_ok(late == 2 && full == ETIMEDOUT,
	   "mq-posix: the seal fills the queue (then a send says %s) and counts the 2 messages others put in (%ld)",
	   strerror(full), late);
	mq_close(mq);
}

/* receive_many() takes what is queued, in order, 64 at most per call. */
static void test_receive_many(struct subject *s)
{
	struct transport_batch *batch = malloc(sizeof(*batch));
	size_t got[3] = { 0 }, want[3], bad = 0;
	uint32_t next = 1;
	struct transport *rx, *tx;
	long room;

	if (!batch || open_as(s, TRANSPORT_RECEIVER, &rx) < 0) {
		free(batch);
		return;
	}
	if (open_as(s, TRANSPORT_SENDER, &tx) < 0) {
		transport_close(rx, NULL);
		free(batch);
		return;
	}
	/* 3 frames, then as many as the queue holds up to 70 (64 and 6). */
	room = expected_capacity(s);
	want[0] = 3;
	want[1] = room < TRANSPORT_BATCH_MAX ? (size_t)room : TRANSPORT_BATCH_MAX;
	want[2] = room >= 70 ? 6 : 0;
	for (int round = 0; round < 2; round++) {
		size_t sent = round ? want[1] + want[2] : want[0];

		send_seq(tx, next, sent);
		for (int call = round; call <= 2 * round; call++) {
			ssize_t n = want[call] ?
				transport_receive_many(rx, batch, call ? -1 : WAIT_MS) : 0;

			got[call] = n > 0 ? (size_t)n : 0;
			for (size_t i = 0; i < got[call]; i++)
				bad += !frame_is(s, batch->frame[i],
						 batch->len[i], next++);
		}
	}
	tap_ok(!memcmp(got, want, sizeof(got)) && !bad && drain(rx) == 0,
	   "%s: receive_many takes what is queued in one call, in order (batches of %zu, %zu, %zu of %zu, %zu, %zu; %zu out of order)",
	   s->via, got[0], got[1], got[2], want[0], want[1], want[2], bad);
	transport_close(tx, NULL);
	transport_close(rx, NULL);
	free(batch);
}

/* The sender of test_lone_frame(): starts once the receiver waits. */
static int late_sender_child(struct subject *s, void *arg)
{
	struct timespec pause = { 0, 300 * 1000 * 1000 };

	nanosleep(&pause, NULL);
	return sender_child(s, arg);
}

/*
 * A frame sent while receive_many() waits is a batch of its own: its send
 * time tells the receiver the queue was empty, so it looks for no more (a
 * lone event costs no failing call). The ones sent right after it are not
 * lost: the next calls take them, in order.
 */
static void test_lone_frame(struct subject *s)
{
	struct transport_batch *batch = malloc(sizeof(*batch));
	struct send_job job = { .first = 1, .count = 5 };
	size_t first = 0, got = 0, bad = 0;
	struct transport *rx;
	int status;
	pid_t child;

	if (!batch || open_as(s, TRANSPORT_RECEIVER, &rx) < 0) {
		free(batch);
		return;
	}
	child = spawn(late_sender_child, s, &job);
	for (int call = 0; got < job.count && call < 100; call++) {
		ssize_t n = transport_receive_many(rx, batch, WAIT_MS);

		if (n <= 0)
			break;
		first = call ? first : (size_t)n;
		for (ssize_t i = 0; i < n; i++)
			bad += !frame_is(s, batch->frame[i], batch->len[i], got + 1 + i);
		got += (size_t)n;
	}
	status = reap(child, WAIT_MS);
	tap_ok(first == 1 && got == job.count && !bad && status == 0,
	   "%s: a frame sent while receive_many waits is a batch of its own, the ones sent after it follow in order (first batch %zu; %zu of %u, %zu out of order, sender status %d)",
	   s->via, first, got, job.count, bad, status);
	transport_close(rx, NULL);
	free(batch);
}

static void test_sender_death(struct subject *s)
{
	struct send_job first = { .first = 1, .count = 100, .die = true };
	struct send_job second = { .first = 101, .count = 100 };
	struct send_job restarted = { .first = 1, .count = 100 };
	/* Every count mechanism follows a new sender's seqno now. */
	uint32_t renumbered = 1;
	struct transport *rx;
	char why[160] = "";
	int status1, status2 = -1, status3 = -1;
	pid_t child;

	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0)
		return;
	child = spawn(sender_child, s, &first);
	receive_seq(s, rx, 1, 100, why, sizeof(why));
	status1 = reap(child, WAIT_MS);
	if (!why[0]) {
		child = spawn(sender_child, s, &second);
		receive_seq(s, rx, 101, 100, why, sizeof(why));
		status2 = reap(child, WAIT_MS);
	}
	tap_ok(status1 == 128 + SIGKILL && status2 == 0 && !why[0],
	   "%s: the receiver takes 100 events of a sender killed after them, then 100 of a new one%s%s",
	   s->via, why[0] ? ": " : "", why);
	if (!why[0]) {
		child = spawn(sender_child, s, &restarted);
		receive_seq(s, rx, renumbered, 100, why, sizeof(why));
		status3 = reap(child, WAIT_MS);
	}
	tap_ok(status3 == 0 && !why[0],
	   "%s: a restarted sender numbering from 1 again: the receiver %s%s%s",
	   s->via, renumbered == 1 ? "follows it" : "counts on (201..300)",
	   why[0] ? ": " : "", why);
	tap_ok(drain(rx) == 0, "%s: and nothing else", s->via);
	transport_close(rx, NULL);
}

/* Send one frame with the given fields, receive it, return what came. */
static int exchange(struct transport *tx, struct transport *rx,
		    uint32_t seqno, uint8_t type, uint8_t led,
		    struct ipc_message *got)
{
	uint8_t frame[IPC_MESSAGE_SIZE], buf[IPC_MESSAGE_MAX_WIRE];
	struct ipc_message m = {
		.type = type, .led_state = led, .seqno = seqno,
	};
	ssize_t n;
	int r;

	ipc_message_encode(&m, frame);
	r = transport_send(tx, frame, sizeof(frame));
	if (r < 0)
		return r;
	n = transport_receive(rx, buf, sizeof(buf), WAIT_MS);
	if (n < 0)
		return n;
	return ipc_message_decode(buf, n, got) == IPC_MESSAGE_OK ? 0 : -EBADMSG;
}

/*
 * sem-sysv keeps its count in step with the frames it is given: after
 * drops, and when the button's LED phase does not follow its seqno.
 */
static void test_sem_sysv_catch_up(struct subject *s)
{
	static const struct {
		uint32_t seqno;
		uint8_t type, led;
		uint32_t k, dropped;
		const char *what;
	} steps[] = {
		/* The button's own sequence: press on, release on, press off... */
		{ 1, IPC_EVENT_PRESS, 1, 1, 0, "first" },
		{ 2, IPC_EVENT_RELEASE, 1, 2, 0, "next" },
		{ 5, IPC_EVENT_PRESS, 1, 5, 2, "after 2 dropped" },
		{ 7, IPC_EVENT_PRESS, 0, 7, 1, "after 1 dropped" },
		/*
		 * A restarted button, LED phase one press off its seqnos: k
		 * stays the seqno, the phase semaphore turns the state.
		 */
		{ 9, IPC_EVENT_PRESS, 0, 9, 1, "out of phase: k still 9" },
		{ 10, IPC_EVENT_RELEASE, 0, 10, 0, "and on from there" },
		/* Restarted again, back in phase: k never goes back. */
		{ 11, IPC_EVENT_PRESS, 0, 11, 0, "back in phase: k 11" },
		{ 12, IPC_EVENT_RELEASE, 0, 12, 0, "and on" },
	};
	struct transport *rx, *tx;
	struct ipc_message got;
	bool good = true;

	if (open_pair(s, &rx, &tx) < 0)
		return;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int r = exchange(tx, rx, steps[i].seqno, steps[i].type,
				 steps[i].led, &got);

		if (r < 0 || got.seqno != steps[i].k ||
		    got.type != steps[i].type || got.led_state != steps[i].led ||
		    got.dropped != steps[i].dropped ||
		    !(got.flags & IPC_MESSAGE_F_DROPPED) != !steps[i].dropped) {
			tap_diag("%s: seqno %u: %s; got k %u type %u led %u dropped %u",
			     steps[i].what, steps[i].seqno, strerror(-r),
			     got.seqno, got.type, got.led_state, got.dropped);
			good = false;
		}
	}
	tap_ok(good, "sem-sysv: the count catches up after drops (flagged, counted) and follows out-of-phase buttons with k always the seqno: press/release and LED always right");
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

static void test_receiver_closes(struct subject *s)
{
	uint8_t frame[IPC_MESSAGE_SIZE];
	struct transport *rx, *tx, *tx2 = NULL;
	char why[160] = "";
	int r;

	if (open_pair(s, &rx, &tx) < 0)
		return;
	send_seq(tx, 1, 3);
	receive_seq(s, rx, 1, 3, why, sizeof(why));
	transport_close(rx, NULL);
	/* A signal sender looks whether its receiver closed at most once per
	 * SIGNAL_TARGET_LOOK_NS (lib/signal_target.h): past it, it must. */
	if (is(s, "signal"))
		nanosleep(&(struct timespec){ .tv_nsec = 2 * SIGNAL_TARGET_LOOK_NS },
			  NULL);
	frame_for(4, frame);
	r = transport_send(tx, frame, sizeof(frame));
	tap_ok(r == -EPIPE, "%s: after the receiver closed, send says -EPIPE (%s)",
	   s->via, strerror(-r));
	tap_ok(object_mode(s) == -ENOENT && dir_entries(s->dir) == 0,
	   "%s: the receiver removed its object on close", s->via);
	r = open_as(s, TRANSPORT_SENDER, &tx2);
	tap_ok(r == -ENOENT, "%s: reopening says -ENOENT until a receiver returns (%s)",
	   s->via, r ? strerror(-r) : "opened");
	if (r == 0)
		transport_close(tx2, NULL);
	transport_close(tx, NULL);
	/* A new receiver: the sender reopens and its backlog gets through. */
	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0)
		return;
	r = open_as(s, TRANSPORT_SENDER, &tx);
	if (r == 0) {
		r = send_seq(tx, 4, 3);
		if (!r)
			r = receive_seq(s, rx, 4, 3, why, sizeof(why));
		transport_close(tx, NULL);
	}
	tap_ok(r == 0, "%s: a new receiver gets what the reopened sender sends%s%s",
	   s->via, why[0] ? ": " : "", why);
	transport_close(rx, NULL);
}

/* A receiver SIGKILLed: what happens to the events in between. */
struct kill_job {
	int ready[2], took[2];
	uint32_t take;		/* events the doomed receiver takes */
};

static int doomed_receiver(struct subject *s, void *arg)
{
	struct kill_job *job = arg;
	struct transport *rx;
	char why[160];

	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0)
		return 50;
	put_byte(job->ready[1]);
	if (receive_seq(s, rx, 1, job->take, why, sizeof(why)) < 0)
		return 51;
	put_byte(job->took[1]);
	for (;;)
		pause();	/* until SIGKILL; never closes */
}

/*
 * The sender's idle state report (the button sends one a second while no
 * event comes): what a TRANSPORT_IDLE_REPORTS sender needs to answer a
 * receiver that came after its last event. Never an event.
 */
static int idle_report(struct subject *s, struct transport *tx, uint32_t last)
{
	uint8_t frame[IPC_MESSAGE_SIZE];
	struct ipc_message m = {
		.type = IPC_EVENT_STATE, .seqno = last,
		.led_state = (last / 2 + last % 2) % 2,
	};

	if (!(s->ops->flags & TRANSPORT_IDLE_REPORTS))
		return 0;
	ipc_message_encode(&m, frame);
	return transport_send(tx, frame, sizeof(frame));
}

/*
 * A receiver SIGKILLed after taking @take of 5 events. For the count
 * mechanisms an odd @take is the hard case: the LED's phase must survive.
 */
static void test_receiver_killed(struct subject *s, uint32_t take)
{
	struct transport *rx = NULL, *tx = NULL;
	struct kill_job job = { .take = take };
	uint32_t left = 5 - take;
	char why[160] = "";
	bool started;
	pid_t child;
	int r = -1, status;

	if (pipe2(job.ready, O_CLOEXEC) < 0 || pipe2(job.took, O_CLOEXEC) < 0)
		return;
	child = spawn(doomed_receiver, s, &job);
	started = wait_byte(job.ready[0]) &&
		  open_as(s, TRANSPORT_SENDER, &tx) == 0 &&
		  send_seq(tx, 1, 5) == 0 && wait_byte(job.took[0]);
	kill(child, SIGKILL);
	status = reap(child, WAIT_MS);
	if (!started || status != 128 + SIGKILL) {
		tap_ok(false, "%s: a receiver killed after %u of 5 events (status %d)",
		   s->via, take, status);
		goto out;
	}
	if (s->kernel_object) {
		/* The object stayed: sending goes on into it. */
		r = send_seq(tx, 6, 5);
		tap_ok(r == 0, "%s: the sender keeps sending while the receiver killed after %u is dead (%s)",
		   s->via, take, strerror(-r));
		r = open_as(s, TRANSPORT_RECEIVER, &rx);
		tap_ok(r == 0, "%s: the next receiver adopts the object left (%s)",
		   s->via, strerror(-r));
		if (r < 0)
			goto out;
		r = idle_report(s, tx, 10);
		if (r == 0)
			r = receive_seq(s, rx, take + 1, left + 5, why,
					sizeof(why));
		tap_ok(r == 0, "%s: and gets the %u events left unread and the 5 sent meanwhile, in order, numbered on, press/release and LED state right%s%s",
		   s->via, left, why[0] ? ": " : "", why);
	} else {
		uint8_t frame[IPC_MESSAGE_SIZE];

		frame_for(6, frame);
		r = transport_send(tx, frame, sizeof(frame));
		tap_ok(r == -EPIPE, "%s: the sender gets -EPIPE once the receiver died (%s)",
		   s->via, strerror(-r));
		transport_close(tx, NULL);
		tx = NULL;
		r = open_as(s, TRANSPORT_SENDER, &tx);
		tap_ok(r == -ENOENT, "%s: the dead receiver's pid file is not used (%s)",
		   s->via, r ? strerror(-r) : "opened");
		if (r == 0) {
			transport_close(tx, NULL);
			tx = NULL;
		}
		r = open_as(s, TRANSPORT_RECEIVER, &rx);
		if (r == 0)
			r = open_as(s, TRANSPORT_SENDER, &tx);
		if (r == 0)
			r = send_seq(tx, 6, 5);
		if (r == 0)
			r = receive_seq(s, rx, 6, 5, why, sizeof(why));
		tap_ok(r == 0, "%s: a new receiver replaces the stale pid file and gets the backlog; the %u unread died with the old one%s%s",
		   s->via, left, why[0] ? ": " : "", why);
	}
	if (rx && tx && r == 0) {
		/* Settled: everything is delivered, nothing more waits. */
		tap_ok(drain(rx) == 0, "%s: nothing else arrives", s->via);
	}
out:
	transport_close(tx, NULL);
	transport_close(rx, NULL);
	for (int i = 0; i < 2; i++) {
		close(job.ready[i]);
		close(job.took[i]);
	}
}

static bool process_alive(pid_t pid)
{
	int status;

	return waitpid(pid, &status, WNOHANG) == 0;
}

static int idle_child(struct subject *s, void *arg)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int *fd = arg;
	sigset_t rt;
	char c;

	(void)s;
	/* As any process: SIGRTMIN, if it ever came, would end this one. */
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	sigaction(SIGRTMIN, &dfl, NULL);
	sigprocmask(SIG_UNBLOCK, &rt, NULL);
	return read(*fd, &c, 1) == 1 ? 0 : 60;
}

/*
 * A receiver killed while it leaves, after its seal and before its
 * unlink, leaves a full queue under its name (the seal made here, from
 * outside): the next receiver adopts it and gets the frames in it, in
 * order, and the seal's zero-byte messages are never events.
 */
static void test_mq_posix_killed_sealed(struct subject *s)
{
	struct transport probe = probe_of(s);
	struct transport *rx = NULL, *tx = NULL;
	struct kill_job job = { .take = 1 };
	char name[NAME_MAX], why[160] = "";
	struct mqueue_wait seal;
	long sealed = -1;
	int r = -1, full = 0, status;
	bool started;
	pid_t child;
	mqd_t mq;

	if (pipe2(job.ready, O_CLOEXEC) < 0 || pipe2(job.took, O_CLOEXEC) < 0)
		return;
	transport_global_name(&probe, name, sizeof(name));
	child = spawn(doomed_receiver, s, &job);
	started = wait_byte(job.ready[0]) &&
		  open_as(s, TRANSPORT_SENDER, &tx) == 0 &&
		  send_seq(tx, 1, 4) == 0 && wait_byte(job.took[0]);
	mq = started ? mq_open(name, O_RDWR | O_CLOEXEC) : (mqd_t)-1;
	if (mq != (mqd_t)-1) {
		mqueue_wait_init(&seal, mq);
		sealed = mqueue_wait_seal(&seal);
		mq_close(mq);
	}
	kill(child, SIGKILL);
	status = reap(child, WAIT_MS);
	if (sealed == 3) {
		uint8_t frame[IPC_MESSAGE_SIZE];

		frame_for(5, frame);
		full = transport_send(tx, frame, sizeof(frame));
	}
	if (full == -EAGAIN)
		r = open_as(s, TRANSPORT_RECEIVER, &rx);
	if (r == 0)
		r = receive_seq(s, rx, 2, 3, why, sizeof(why));
	tap_ok(status == 128 + SIGKILL && sealed == 3 && full == -EAGAIN &&
	       r == 0 && drain(rx) == 0 && rx->rejected == 0,
	   "mq-posix: a receiver killed between its seal and its unlink: the queue keeps its name, the sender finds it full (%s), the next receiver gets the 3 frames left and no wake message as an event%s%s",
	   strerror(-full), why[0] ? ": " : "", why);
	r = rx ? send_seq(tx, 5, 2) : -1;
	if (r == 0)
		r = receive_seq(s, rx, 5, 2, why, sizeof(why));
	tap_ok(r == 0, "mq-posix: and the sender goes on into it (%s)",
	   r < 0 ? strerror(-r) : "delivered");
	transport_close(tx, NULL);
	transport_close(rx, NULL);
	for (int i = 0; i < 2; i++) {
		close(job.ready[i]);
		close(job.took[i]);
	}
}

/*
 * A receiver that died and whose PID went to another process: a sender
 * that opened before the death signals neither. The PID is handed out
 * again through /proc/sys/kernel/ns_last_pid (root only).
 */
struct reuse_job {
	int ready[2], go[2];
};

static int reuse_receiver(struct subject *s, void *arg)
{
	struct reuse_job *job = arg;
	struct transport *rx;

	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0)
		return 50;
	put_byte(job->ready[1]);
	for (;;)
		pause();	/* until SIGKILLed */
}

/* The new holder of the PID: SIGRTMIN blocked, is it ever sent one? */
static int reuse_squatter(struct subject *s, void *arg)
{
	struct reuse_job *job = arg;
	sigset_t set, pending;

	(void)s;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	put_byte(job->ready[1]);
	if (!wait_byte(job->go[0]) || sigpending(&pending) < 0)
		return 51;
	return sigismember(&pending, SIGRTMIN) ? 52 : 0;
}

/* Fork @fn as PID @want (ns_last_pid); -1 when it cannot be had. */
static pid_t spawn_as(pid_t want, int (*fn)(struct subject *, void *),
		      struct subject *s, void *arg)
{
	for (int tries = 0; tries < 50; tries++) {
		FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "we");
		pid_t pid;

		if (!f || fprintf(f, "%d", (int)want - 1) < 0 || fclose(f)) {
			if (f)
				fclose(f);
			return -1;
		}
		pid = spawn(fn, s, arg);
		if (pid == want || pid < 0)
			return pid;
		kill(pid, SIGKILL);	
/* another process took it first */
		reap(pid, WAIT_MS);
	}
	return -1;
}

static void test_signal_pid_reused(struct subject *s)
{
	uint8_t frame[IPC_MESSAGE_SIZE];
	struct transport *tx = NULL, *rx;
	struct reuse_job job;
	pid_t receiver, squatter;
	int r = 0, status = -1;

	if (access("/proc/sys/kernel/ns_last_pid", W_OK) < 0) {
		tap_skip("handing a PID out again (ns_last_pid) needs root",
			 "signal: a dead receiver's reused PID is never signalled");
		return;
	}
	if (pipe2(job.ready, O_CLOEXEC) < 0 || pipe2(job.go, O_CLOEXEC) < 0)
		return;
	receiver = spawn(reuse_receiver, s, &job);
	if (wait_byte(job.ready[0]))
		r = open_as(s, TRANSPORT_SENDER, &tx);
	kill(receiver, SIGKILL);
	reap(receiver, WAIT_MS);
	squatter = r == 0 ? spawn_as(receiver, reuse_squatter, s, &job) : -1;
	if (squatter == receiver && wait_byte(job.ready[0])) {
		frame_for(1, frame);
		r = transport_send(tx, frame, sizeof(frame));
		put_byte(job.go[1]);
		status = reap(squatter, WAIT_MS);
	} else if (squatter > 0) {
		kill(squatter, SIGKILL);
		reap(squatter, WAIT_MS);
	}
	if (squatter != receiver)
		tap_skip("the PID went to another process first",
			 "signal: a dead receiver's reused PID is never signalled");
	else
		tap_ok(r == -EPIPE && status == 0,
		   "signal: a receiver died and its PID %d went to a new process: send says -EPIPE (%s), the new process gets nothing (status %d)",
		   (int)receiver, strerror(-r), status);
	transport_close(tx, NULL);
	/* The dead receiver's pid file: the next receiver replaces it. */
	if (open_as(s, TRANSPORT_RECEIVER, &rx) == 0)
		transport_close(rx, NULL);
	for (int i = 0; i < 2; i++) {
		close(job.ready[i]);
		close(job.go[i]);
	}
}

static void test_foreign(struct subject *s)
{
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	struct transport *rx, *tx = NULL;
	int r, mode, hold[2];
	pid_t bystander = -1;
	ssize_t n;

	r = plant_foreign(s);
	if (r < 0) {
		tap_ok(false, "%s: plant a foreign object (%s)", s->via, strerror(-r));
		return;
	}
	if (is(s, "signal") && pipe2(hold, O_CLOEXEC) == 0) {
		char path[PATH_MAX], text[32];
		int fd, len;

		/* A live process whose PID a stale pid file names. */
		bystander = spawn(idle_child, s, &hold[0]);
		snprintf(path, sizeof(path), "%s/signal.%s", s->dir, s->instance);
		len = snprintf(text, sizeof(text), "%d\n", (int)bystander);
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd >= 0) {
			(void)!write(fd, text, len);
			close(fd);
		}
	}
	r = open_as(s, TRANSPORT_SENDER, &tx);
	tap_ok(r == -ENOENT, "%s: a sender does not use a stale or foreign object (%s)",
	   s->via, r ? strerror(-r) : "opened");
	if (r == 0)
		transport_close(tx, NULL);
	if (bystander > 0) {
		bool alive = process_alive(bystander);

		put_byte(hold[1]);
		tap_ok(alive && reap(bystander, WAIT_MS) == 0,
		   "signal: the live process a stale pid file names is never signalled");
		close(hold[0]);
		close(hold[1]);
	}
	r = open_as(s, TRANSPORT_RECEIVER, &rx);
	mode = object_mode(s);
	tap_ok(r == 0 && mode == 0600,
	   "%s: the receiver replaces it with its own 0600 object (%s, mode %o)",
	   s->via, strerror(-r), mode < 0 ? 0 : mode);
	if (r < 0)
		return;
	n = transport_receive(rx, buf, sizeof(buf), 0);
	tap_ok(n == -ETIMEDOUT, "%s: and nothing of the old one arrives (%s)",
	   s->via, n < 0 ? strerror(-n) : describe(buf, n));
	transport_close(rx, NULL);
}

static void test_clean(struct subject *s)
{
	int mode = object_mode(s), files = dir_entries(s->dir);

	tap_ok(mode == -ENOENT && files == 0,
	   "%s: nothing remains after the last close (object: %s, %d files in the runtime directory)",
	   s->via, mode == -ENOENT ? "gone" : "present", files);
}

/* --- setup -------------------------------------------------------------- */

static int subject_init(struct subject *s, const char *via)
{
	const char *root = getenv("XDG_RUNTIME_DIR");
	char template[sizeof(s->dir)];
	int n;

	memset(s, 0, sizeof(*s));
	s->via = via;
	s->ops = transport_find(via);
	if (!s->ops)
		return -ENOENT;
	if (!root || access(root, W_OK) < 0)
		root = "/run";
	n = snprintf(template, sizeof(template), "%s/ipc-button-qt.XXXXXX", root);
	if (n < 0 || (size_t)n >= sizeof(template))
		return -ENAMETOOLONG;
	if (!mkdtemp(template))
		return -errno;
	memcpy(s->dir, template, sizeof(s->dir));
	snprintf(s->instance, sizeof(s->instance), "qt%d", (int)getpid());
	s->config.runtime_dir = s->dir;
	s->config.instance = s->instance;
	s->config.inherited_fd = -1;
	s->kernel_object = strcmp(via, "signal") != 0;
	s->payload = !(s->ops->flags & TRANSPORT_NO_PAYLOAD);
	return 0;
}

static void subject_cleanup(struct subject *s)
{
	struct transport probe = probe_of(s);
	char name[NAME_MAX], path[PATH_MAX];
	int key, id;

	/* Whatever a failed test left: never leak an object. */
	key = is(s, "mq-sysv") || is(s, "sem-sysv") ? subject_sysv_key(s) : -1;
	{
		id = is(s, "mq-sysv") ? msgget(key, 0) : -1;
		if (id >= 0)
			msgctl(id, IPC_RMID, NULL);
		id = is(s, "sem-sysv") ? semget(key, 0, 0) : -1;
		if (id >= 0)
			semctl(id, 0, IPC_RMID);
	}
	transport_global_name(&probe, name, sizeof(name));
	if (is(s, "mq-posix"))
		mq_unlink(name);
	if (is(s, "sem-posix"))
		sem_unlink(name);
	snprintf(path, sizeof(path), "%s/signal.%s", s->dir, s->instance);
	unlink(path);
	rmdir(s->dir);
}

static void run(const char *via)
{
	struct subject s;
	int r = subject_init(&s, via);

	if (r < 0) {
		tap_ok(false, "%s: set up (%s)", via, strerror(-r));
		return;
	}
	test_sender_first(&s);
	test_object(&s);
	test_many(&s);
	test_timeout(&s);
	if (is(&s, "sem-sysv") || is(&s, "sem-posix") || is(&s, "signal"))
		test_batches(&s);
	if (is(&s, "sem-posix"))
		tap_skip("SEM_VALUE_MAX is 2^31 - 1 posts", "sem-posix: full at SEM_VALUE_MAX");
	else if (is(&s, "signal"))
		test_signal_rlimit(&s);
	else
		test_full(&s);
	if (s.payload)
		test_sizes(&s);
	else
		test_malformed_refused(&s);
	if (is(&s, "mq-sysv"))
		test_mq_sysv_one_message(&s);
	if (is(&s, "mq-posix"))
		test_mq_posix_limits(&s);
	if (is(&s, "sem-sysv") || is(&s, "signal"))
		test_second_receiver(&s);
	if (is(&s, "signal"))
		test_signal_refuses_kill(&s);
	if (is(&s, "sem-sysv"))
		test_sem_sysv_catch_up(&s);
	test_stop(&s);
	if (is(&s, "signal"))
		test_signal_let_in(&s);
	if (is(&s, "sem-sysv") || is(&s, "sem-posix"))
		test_sem_let_in(&s);
	if (is(&s, "mq-sysv")) {
		test_mq_sysv_stop_in_msgrcv(&s);
		test_mq_sysv_forged_wake(&s);
	}
	if (is(&s, "mq-posix")) {
		test_mq_posix_stop_in_receive(&s);
		test_mq_posix_empty_messages(&s);
		test_mq_posix_seal(&s);
		test_mq_posix_seal_counts();
		test_mq_posix_killed_sealed(&s);
	}
	if (s.ops->receive_many)
		test_receive_many(&s);
	if (is(&s, "mq-sysv") || is(&s, "mq-posix"))
		test_lone_frame(&s);
	test_sender_death(&s);
	test_receiver_closes(&s);
	test_receiver_killed(&s, 2);
	/* Killed at an odd count: a count mechanism's LED must not invert. */
	if (!s.payload)
		test_receiver_killed(&s, 3);
	if (is(&s, "signal"))
		test_signal_pid_reused(&s);
	test_foreign(&s);
	test_clean(&s);
	subject_cleanup(&s);
}

int main(int argc, char **argv)
{
	static const char *const all[] = {
		"mq-sysv", "mq-posix", "sem-sysv", "sem-posix", "signal",
	};

	/* Does this environment (valgrind 3.19 does not) know pidfd_open()? */
	if (argc == 2 && !strcmp(argv[1], "--can-pidfd")) {
		int fd = pidfd_open(getpid(), 0);

		return fd < 0 ? 1 : 0;
	}
	/* Under valgrind, memory is checked, not throughput: fewer events. */
	if (getenv("QUEUE_TESTS_EVENTS"))
		many = strtoul(getenv("QUEUE_TESTS_EVENTS"), NULL, 10) & ~3u ?: many;
	/* Quiet children: a failing child must not flush our buffers twice. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		for (int i = 1; i < argc; i++)
			run(argv[i]);
	else
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			run(all[i]);
	return tap_done();
}
