// SPDX-License-Identifier: MIT
/*
 * stop-anywhere: a stop signal at any moment, for every mechanism whose
 * receiver lets the stop signals in for good (TRANSPORT_WAKE_ANYWHERE,
 * listed from the registry at run time), printing TAP.
 *
 *   stop-anywhere [VIA...]          (default: every such mechanism)
 *   STOP_ANYWHERE_ROUNDS=N          (rounds per mechanism, default 200)
 *
 * Each round forks a receiver set up as the LED sets itself up
 * (stop_init, transport_open, transport_arm_stop), asleep in
 * transport_receive_many(-1), and sends it SIGTERM at a moment that
 * changes from round to round: before it sleeps, 0..200 us after it said
 * ready, while frames flow, and a second one while it drains. Asserted
 * every round: the receive returns -EINTR (bounded at 5 s, never timed
 * for speed); after transport_unwake() and stop_rearm(), in the LED's
 * order, every frame sent comes out, exactly once and in order, with
 * the button's seqno (counted mechanisms too), and nothing more; a
 * second stop ends the drain; every descriptor is
 * close-on-exec all along, the receiver's descriptor is its own again
 * after the drain, and after close no descriptor and no IPC object
 * (runtime directory, /dev/shm, /dev/mqueue, System V key) is left.
 * Then, deterministically, a stop that lands between the -EINTR and the
 * rearm (before or after the unwake): the drain still gives every frame,
 * or ends as a stop, never adds one nor reports the sender gone; and a
 * receive after the unwake but before the rearm ends at once.
 */
#include "lib/sysv_record.h"
#include "lib/tap.h"

#include "message.h"
#include "stop.h"
#include "transport.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS		5000	/* "promptly": generous, never a speed test */
#define FRAMES_MAX	20	/* a stopped receiver may hold all of them */
#define MECHANISMS_MAX	32

enum mode { MODE_AT_ONCE, MODE_DELAYED, MODE_FLOWING, MODE_SECOND, MODES };

static const char *const mode_name[MODES] = {
	"a stop as soon as the receiver is up",
	"a stop 0..200 us after it said ready",
	"a stop while frames flow",
	"a second stop while it drains",
};

/* What a round can get wrong: one TAP line each, per mechanism. */
enum fault {
	F_SETUP,	/* the round could not be run */
	F_PROMPT,	/* no -EINTR within WAIT_MS */
	F_FRAMES,	/* frames lost, added, repeated or out of order */
	F_SECOND,	/* a second stop did not end the drain */
	F_CLOEXEC,	/* a descriptor without close-on-exec */
	F_REAL,		/* the receiver's descriptor not its own after unwake */
	F_LEAK,		/* a descriptor or an object left after close */
	FAULTS
};

static const char *const fault_name[FAULTS] = {
	"every round could be run",
	"the receive returned -EINTR every time (within 5 s)",
	"every frame sent came out after the stop, once and in order, nothing more",
	"a second stop ended the drain every time",
	"every descriptor stayed close-on-exec (swapped, kept, restored)",
	"the receiver's descriptor was its own again after the unwake",
	"no descriptor and no IPC object was left after close",
};

struct subject {
	const struct transport_ops *ops;
	char dir[256];
	char instance[32];
	struct transport_config config;
	struct sysv_key_memo memo;
};

/* Sent back by the receiver child at the end of a round. */
struct verdict {
	unsigned int faults;	/* 1 << enum fault */
	char why[160];		/* the first fault, said */
};

static bool inherited(const struct subject *s)
{
	return s->ops->flags & TRANSPORT_INHERITED;
}

static void frame_for(uint32_t seqno, uint8_t frame[IPC_MESSAGE_SIZE])
{
	struct ipc_message msg = {
		.type = seqno % 2 ? IPC_EVENT_PRESS : IPC_EVENT_RELEASE,
		.led_state = seqno % 2,
		.seqno = seqno,
		.event_ns = 1000ull * seqno,
		.send_ns = 1000ull * seqno + 7,
	};

	ipc_message_encode(&msg, frame);
}

static void fault(struct verdict *v, enum fault f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fault(struct verdict *v, enum fault f, const char *fmt, ...)
{
	va_list ap;

	if (!v->faults) {
		va_start(ap, fmt);
		vsnprintf(v->why, sizeof(v->why), fmt, ap);
		va_end(ap);
	}
	v->faults |= 1u << f;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own */
}

#define FDS_SEEN	1024

/* Descriptors this process got from whoever started it, inheritable. */
static bool fd_given[FDS_SEEN];

static void note_given_fds(void)
{
	for (int fd = 0; fd < FDS_SEEN; fd++)
		fd_given[fd] = fcntl(fd, F_GETFD) >= 0;
}

/* The first descriptor of ours without FD_CLOEXEC, or -1. */
static int inheritable_fd(void)
{
	for (int fd = 3; fd < FDS_SEEN; fd++) {
		int flags = fcntl(fd, F_GETFD);

		if (!fd_given[fd] && flags >= 0 && !(flags & FD_CLOEXEC))
			return fd;
	}
	return -1;
}

static bool same_file(int fd, const struct stat *want)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_dev == want->st_dev &&
	       st.st_ino == want->st_ino;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len;
}

/* Read exactly @len bytes within WAIT_MS; false on timeout or end. */
static bool read_within(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;

	while (got < len) {
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) != 1)
			return false;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return n < 0 && errno == EINTR;
		got += (size_t)n;
	}
	return true;
}

/* ---- the receiver child --------------------------------------------------- */

struct round_job {
	enum mode mode;
	int pair[2];		/* inherited mechanisms: the launcher's pair */
	int ctl[2];		/* parent -> child: the count of frames sent */
	int res[2];		/* child -> parent: ready, stopped, draining, verdict */
};

struct tally {
	/*
	 * Every frame must carry the button's seqno, in order: a mechanism
	 * with no payload (sem-sysv, sem-posix, signal) rebuilds it from its
	 * count and numbering, so a stop's token taken for an answer or an
	 * event shows here as a number, not only as one frame too many.
	 */
	uint32_t next;		/* the seqno the next frame must carry */
	uint32_t got;
};

/* Check and count the frames of @batch. */
static void take_batch(struct verdict *v, struct tally *t,
		       const struct transport_batch *b)
{
	for (size_t i = 0; i < b->count; i++) {
		struct ipc_message msg;

		if (ipc_message_decode(b->frame[i], b->len[i], &msg) !=
		    IPC_MESSAGE_OK) {
			fault(v, F_FRAMES, "frame %u: not a valid frame", t->got + 1);
		} else if (msg.seqno != t->next) {
			fault(v, F_FRAMES, "seqno %u where %u was due", msg.seqno,
			      t->next);
			t->next = msg.seqno;
		}
		t->next++;
		t->got++;
	}
}

static bool ipc_objects_left(struct subject *s, int key, char *what,
			     size_t size);

static void receiver_round(struct subject *s, struct round_job *job,
			   struct verdict *v)
{
	struct transport_config config = s->config;
	struct transport_batch batch;
	struct tally tally = { .next = 1 };
	struct transport *rx = NULL;
	struct stat real;
	uint32_t sent = 0;
	bool known = false;
	int fds_before, fd, bad, key = -1;
	ssize_t n;
	char c;

	if (stop_init() < 0) {
		fault(v, F_SETUP, "stop_init failed");
		return;
	}
	fds_before = count_fds();
	if (inherited(s))
		config.inherited_fd = job->pair[0];
	n = transport_open(s->ops, TRANSPORT_RECEIVER, &config, &rx, NULL);
	if (n == 0)
		n = transport_arm_stop(rx);
	if (n < 0) {
		fault(v, F_SETUP, "open/arm: %s", strerror((int)-n));
		goto out;
	}
	fd = transport_poll_fd(rx);
	if (fd >= 0 && fstat(fd, &real) < 0)
		fd = -1;
	if (s->ops->flags & TRANSPORT_DURABLE)
		key = sysv_record_key(s->ops, &s->config, &s->memo);
	if ((bad = inheritable_fd()) >= 0)
		fault(v, F_CLOEXEC, "fd %d inheritable after open", bad);
	c = 'r';
	if (!write_all(job->res[1], &c, 1))
		goto out;

	/* Asleep until the stop; frames before it are fine too. */
	for (;;) {
		n = transport_receive_many(rx, &batch, -1);
		if (n <= 0)
			break;
		take_batch(v, &tally, &batch);
	}
	if (n != -EINTR) {
		fault(v, F_PROMPT, "receive said %zd (%s), not -EINTR", n,
		      n < 0 ? strerror((int)-n) : "frames");
		goto out;
	}
	if ((bad = inheritable_fd()) >= 0)
		fault(v, F_CLOEXEC, "fd %d inheritable while stopped", bad);
	c = 's';
	if (!write_all(job->res[1], &c, 1))
		goto out;

	/* The LED's drain (clients/led.c). */
	transport_unwake(rx);
	stop_rearm();
	if (fd >= 0 && !same_file(fd, &real))
		fault(v, F_REAL, "fd %d is not the mechanism's after the unwake", fd);
	if ((bad = inheritable_fd()) >= 0)
		fault(v, F_CLOEXEC, "fd %d inheritable after the unwake", bad);
	if (job->mode == MODE_SECOND) {
		c = 'd';
		if (!write_all(job->res[1], &c, 1))
			goto out;
	}
	/* The drain, while the sender may still be sending (a sem-posix
	 * sender waits for the receiver's handshake, a full queue for
	 * room): until all it says it sent came out, or a second stop. */
	for (int waited = 0;; waited += 100) {
		if (!known)
			known = read_within(job->ctl[0], &sent, sizeof(sent), 0);
		if (known && tally.got >= sent)
			break;
		if (waited >= 3 * WAIT_MS) {
			fault(v, F_FRAMES, "%u frames of %u sent%s after %d ms",
			      tally.got, sent, known ? "" : " (count unknown)",
			      waited);
			goto out;
		}
		n = transport_receive_many(rx, &batch, 100);
		if (n == -ETIMEDOUT)
			continue;
		if (n <= 0)
			break;
		take_batch(v, &tally, &batch);
	}
	if (job->mode == MODE_SECOND) {
		/* All there is was taken, or the stop ended the drain first:
		 * either way it ends it now, for nothing more comes. */
		if (n > 0 || tally.got == sent)
			n = transport_receive_many(rx, &batch, -1);
		if (n != -EINTR)
			fault(v, F_SECOND, "the drain went on: %zd (%s)", n,
			      n < 0 ? strerror((int)-n) : "frames");
		if (n > 0)
			take_batch(v, &tally, &batch);
		if (!known)
			known = read_within(job->ctl[0], &sent, sizeof(sent),
					    WAIT_MS);
		if (tally.got > sent)
			fault(v, F_FRAMES, "%u frames of %u sent", tally.got, sent);
	} else {
		if (tally.got == sent) {
			n = transport_receive_many(rx, &batch, 0);
			if (n > 0)
				take_batch(v, &tally, &batch);
		}
		if (tally.got != sent || n != -ETIMEDOUT)
			fault(v, F_FRAMES, "%u frames of %u sent, then %zd", tally.got,
			      sent, n);
	}
out:
	transport_close(rx, NULL);
	if (!(v->faults & (1u << F_SETUP))) {
		char what[128];
		int after = count_fds();

		/* An inherited end is the transport's: closed with it. */
		if (after != fds_before - (inherited(s) ? 1 : 0))
			fault(v, F_LEAK, "%d descriptors before open, %d after close",
			      fds_before, after);
		if (ipc_objects_left(s, key, what, sizeof(what)))
			fault(v, F_LEAK, "left after close: %s", what);
	}
}

static void receiver_child(struct subject *s, struct round_job *job)
{
	struct verdict v = { 0 };
	char c = 'v';

	close(job->ctl[1]);
	close(job->res[0]);
	if (inherited(s))
		close(job->pair[1]);
	receiver_round(s, job, &v);
	(void)write_all(job->res[1], &c, 1);
	(void)write_all(job->res[1], &v, sizeof(v));
	_exit(0);
}

/* ---- objects -------------------------------------------------------------- */

static bool dir_has(const char *dir, const char *part, char *what, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && (!part || strstr(e->d_name, part))) {
			snprintf(what, size, "%.80s/%.40s", dir, e->d_name);
			found = true;
			break;
		}
	closedir(d);
	return found;
}

/* A System V object of @key in /proc/sysvipc/@kind. */
static bool sysv_has(const char *kind, int key)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sysvipc/%s", kind);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		long k;

		found = sscanf(line, "%ld", &k) == 1 && k == key;
	}
	fclose(f);
	return found;
}

static bool ipc_objects_left(struct subject *s, int key, char *what,
			     size_t size)
{
	char part[64];

	if (!inherited(s) && dir_has(s->dir, NULL, what, size))
		return true;
	snprintf(part, sizeof(part), ".%s.%s", s->instance, s->ops->name);
	if (dir_has("/dev/shm", part, what, size) ||
	    dir_has("/dev/mqueue", part, what, size))
		return true;
	if (key != -1 && key != 0) {
		static const char *const kinds[] = { "msg", "sem", "shm" };

		for (size_t i = 0; i < 3; i++)
			if (sysv_has(kinds[i], key)) {
				snprintf(what, size, "System V %s key %#x",
					 kinds[i], key);
				return true;
			}
	}
	return false;
}

/* ---- the sender and signaller (the test process) -------------------------- */

static void pause_us(long us)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = us * 1000 };

	if (us > 0)
		nanosleep(&ts, NULL);
}

/* A full mechanism (or a handshake not done yet) empties soon: try again
 * for up to WAIT_MS, as the button does. */
static int send_patiently(struct transport *tx, const uint8_t *frame,
			  size_t len)
{
	for (int waited = 0; waited < WAIT_MS; waited++) {
		int r = transport_send(tx, frame, len);

		if (r != -EAGAIN)
			return r;
		poll(NULL, 0, 1);
	}
	return -ETIMEDOUT;
}

static int send_frames(struct transport *tx, uint32_t first, uint32_t count,
		       pid_t stop_at_pid, uint32_t stop_after)
{
	uint8_t frame[IPC_MESSAGE_SIZE];

	for (uint32_t i = 0; i < count; i++) {
		int r;

		if (stop_at_pid > 0 && i == stop_after)
			kill(stop_at_pid, SIGTERM);
		frame_for(first + i, frame);
		r = send_patiently(tx, frame, sizeof(frame));
		if (r != 0)
			return r;
	}
	if (stop_at_pid > 0 && stop_after >= count)
		kill(stop_at_pid, SIGTERM);
	return 0;
}

/*
 * A sem-posix receiver numbers the events it holds only once the sender
 * speaks again (TRANSPORT_IDLE_REPORTS): the button's idle state report,
 * never an event. Wait for a byte from @fd as the button waits, sending
 * one every 50 ms.
 */
static bool await_byte(int fd, char *c, int timeout_ms, struct transport *tx,
		       uint32_t last)
{
	uint8_t frame[IPC_MESSAGE_SIZE];
	struct ipc_message m = {
		.type = IPC_EVENT_STATE, .seqno = last, .led_state = last % 2,
	};

	if (!tx || !(tx->ops->flags & TRANSPORT_IDLE_REPORTS))
		return read_within(fd, c, 1, timeout_ms);
	ipc_message_encode(&m, frame);
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		if (read_within(fd, c, 1, 50))
			return true;
		(void)transport_send(tx, frame, sizeof(frame));
	}
	return false;
}

static pid_t reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	return waitpid(pid, &status, 0);
}

/* One round; the faults it found. */
static unsigned int run_round(struct subject *s, enum mode mode, char *why,
			      size_t why_size)
{
	struct round_job job = { .mode = mode, .pair = { -1, -1 } };
	struct transport_config config = s->config;
	struct verdict v = { 0 };
	struct transport *tx = NULL;
	uint32_t count = (uint32_t)(rand() % (FRAMES_MAX + 1));
	pid_t child;
	char c;
	int r;

	if (pipe2(job.ctl, O_CLOEXEC) < 0 || pipe2(job.res, O_CLOEXEC) < 0)
		return 1u << F_SETUP;
	if (inherited(s) && s->ops->make_pair(job.pair) < 0)
		return 1u << F_SETUP;
	child = fork();
	if (child == 0)
		receiver_child(s, &job);
	close(job.ctl[0]);
	close(job.res[1]);
	if (inherited(s))
		close(job.pair[0]);
	if (child < 0 || !read_within(job.res[0], &c, 1, WAIT_MS) || c != 'r') {
		snprintf(why, why_size, "the receiver did not get ready (%c)",
			 child < 0 ? '-' : c);
		v.faults = 1u << F_SETUP;
		goto out;
	}
	if (inherited(s))
		config.inherited_fd = job.pair[1];
	r = transport_open(s->ops, TRANSPORT_SENDER, &config, &tx, NULL);
	if (r != 0) {
		snprintf(why, why_size, "sender open: %d", r);
		v.faults = 1u << F_SETUP;
		goto out;
	}
	switch (mode) {
	case MODE_AT_ONCE:
		kill(child, SIGTERM);
		r = send_frames(tx, 1, count, 0, 0);
		break;
	case MODE_DELAYED:
		pause_us(rand() % 201);
		kill(child, SIGTERM);
		r = send_frames(tx, 1, count, 0, 0);
		break;
	case MODE_FLOWING:
	case MODE_SECOND:
		r = send_frames(tx, 1, count, child,
				(uint32_t)rand() % (count + 1));
		break;
	default:
		r = -EINVAL;
	}
	if (r != 0) {
		snprintf(why, why_size, "send: %d", r);
		v.faults = 1u << F_SETUP;
		goto out;
	}
	if (!write_all(job.ctl[1], &count, sizeof(count))) {
		v.faults = 1u << F_SETUP;
		goto out;
	}
	/* 's': it took the stop; then 'd' (second-stop rounds), then 'v'. */
	if (!await_byte(job.res[0], &c, WAIT_MS, tx, count)) {
		snprintf(why, why_size, "no -EINTR within %d ms of the stop",
			 WAIT_MS);
		v.faults = 1u << F_PROMPT;
		goto out;
	}
	if (c == 's' && mode == MODE_SECOND) {
		if (!await_byte(job.res[0], &c, WAIT_MS, tx, count))
			goto lost;
		pause_us(rand() % 201);
		kill(child, SIGTERM);
	}
	while (c != 'v')	/* its drain waits up to 3 * WAIT_MS */
		if (!await_byte(job.res[0], &c, 4 * WAIT_MS, tx, count))
			goto lost;
	if (!read_within(job.res[0], &v, sizeof(v), WAIT_MS))
		goto lost;
	snprintf(why, why_size, "%s", v.why);
	goto out;
lost:
	snprintf(why, why_size, "the receiver hung after the stop (%s)",
		 mode == MODE_SECOND ? "second stop lost" : "drain");
	v.faults = 1u << (mode == MODE_SECOND ? F_SECOND : F_PROMPT);
out:
	transport_close(tx, NULL);
	if (child > 0)
		reap(child);
	close(job.ctl[1]);
	close(job.res[0]);
	if (inherited(s))
		close(job.pair[1]);
	return v.faults;
}

/* ---- a stop inside a receiver's look-then-take ------------------------------ */

/*
 * With the stop signals let in for good, a stop may land between a
 * receiver's look at the stop flag and the take that follows it, without
 * any sleep: its wake token is then there to be taken. These stand-ins
 * for the C library's (this program's own definitions come first) raise
 * SIGTERM once, when armed, just before the real call: exactly there.
 */
static volatile sig_atomic_t raise_in_take;

int semctl(int id, int num, int cmd, ...)
{
	static int (*real)(int, int, int, ...);
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);	/* the union semun, or unused */
	va_end(ap);
	if (!real)
		real = (int (*)(int, int, int, ...))dlsym(RTLD_NEXT, "semctl");
	if (raise_in_take && cmd == GETVAL) {
		raise_in_take = 0;
		raise(SIGTERM);
	}
	return real(id, num, cmd, arg);
}

int sem_trywait(sem_t *sem)
{
	static int (*real)(sem_t *);

	if (!real)
		real = (int (*)(sem_t *))dlsym(RTLD_NEXT, "sem_trywait");
	if (raise_in_take) {
		raise_in_take = 0;
		raise(SIGTERM);
	}
	return real(sem);
}

/* ---- a stop between the -EINTR and the rearm ------------------------------ */

/* Where the second stop lands; NO_REARM: none, and no rearm either;
 * IN_TAKE: the only stop, inside the receiver's look-then-take. */
enum window { BEFORE_UNWAKE, AFTER_UNWAKE, NO_REARM, IN_TAKE };

/*
 * In one process: frames queued, a stop, the -EINTR; then a second stop
 * raised before (or after) transport_unwake(), both before stop_rearm(),
 * as one can land in clients/led.c's drain. The second stop is the same
 * stop as far as the drain knows (it came before the rearm), so the
 * drain must give every queued frame, and the receiver must neither
 * count the wake it caused as an event nor report its sender gone.
 */
static bool window_round(struct subject *s, enum window where, char *why,
			 size_t why_size)
{
	struct transport_config rx_config = s->config, tx_config = s->config;
	struct transport *rx = NULL, *tx = NULL;
	struct transport_batch batch;
	struct tally tally = { .next = 1 };
	struct verdict v = { 0 };
	const uint32_t count = 5;
	int pair[2] = { -1, -1 };
	pid_t sender = -1;
	int sent[2] = { -1, -1 };
	ssize_t n = 0;
	char c = 0;

	if (inherited(s)) {
		if (s->ops->make_pair(pair) < 0)
			return false;
		rx_config.inherited_fd = pair[0];
		tx_config.inherited_fd = pair[1];
	}
	if (transport_open(s->ops, TRANSPORT_RECEIVER, &rx_config, &rx, NULL) ||
	    transport_arm_stop(rx) < 0) {
		snprintf(why, why_size, "set up the receiver");
		goto fail;
	}
	/* The frames come from another process: a sem-posix sender needs
	 * the receiver's handshake first. */
	if (pipe2(sent, O_CLOEXEC) < 0)
		goto fail;
	sender = fork();
	if (sender == 0) {
		char c = 'x';

		if (inherited(s))
			close(pair[0]);
		close(sent[0]);
		if (transport_open(s->ops, TRANSPORT_SENDER, &tx_config, &tx,
				   NULL) || send_frames(tx, 1, count, 0, 0))
			_exit(1);
		(void)write_all(sent[1], &c, 1);
		/* Idle reports (sem-posix) until the receiver is done. */
		(void)await_byte(sent[1], &c, 4 * WAIT_MS, tx, count);
		_exit(0);
	}
	close(sent[1]);
	if (inherited(s)) {
		close(pair[1]);
		pair[1] = -1;
	}
	while (sender > 0 && tally.got < 2 &&
	       (n = transport_receive_many(rx, &batch, WAIT_MS)) > 0)
		take_batch(&v, &tally, &batch);
	/* A sem-posix sender posts only what the receiver has answered
	 * for: keep receiving until it is done. Elsewhere the rest stays
	 * queued for the drain. */
	while (sender > 0 && (s->ops->flags & TRANSPORT_IDLE_REPORTS) &&
	       !read_within(sent[0], &c, 1, 0) && tally.got < count &&
	       (n = transport_receive_many(rx, &batch, WAIT_MS)) > 0)
		take_batch(&v, &tally, &batch);
	/* The rest queued: the sender is done. */
	if (sender < 0 || (c != 'x' && !read_within(sent[0], &c, 1, WAIT_MS)) ||
	    tally.got < 2) {
		snprintf(why, why_size, "the sender did not send (%u came)", tally.got);
		goto fail;
	}
	if (where == IN_TAKE)
		raise_in_take = 1;
	else
		raise(SIGTERM);
	/* Frames already there may come before the -EINTR. */
	while ((n = transport_receive_many(rx, &batch, -1)) > 0)
		take_batch(&v, &tally, &batch);
	if (n != -EINTR) {
		snprintf(why, why_size, "the first receive said %zd", n);
		goto fail;
	}
	if (where == BEFORE_UNWAKE)
		raise(SIGTERM);
	transport_unwake(rx);
	if (where == AFTER_UNWAKE)
		raise(SIGTERM);
	if (where == NO_REARM) {
		/* The stop is not taken back: a receive, however it waits,
		 * says -EINTR (perhaps after frames queued), never sleeps;
		 * what stays queued is drained after the rearm. */
		while ((n = transport_receive_many(rx, &batch, -1)) > 0)
			take_batch(&v, &tally, &batch);
		if (n != -EINTR) {
			snprintf(why, why_size, "%u of %u frames, then %zd",
				 tally.got, count, n);
			goto fail;
		}
	}
	stop_rearm();
	for (;;) {
		n = transport_receive_many(rx, &batch, 0);
		if (n <= 0)
			break;
		take_batch(&v, &tally, &batch);
	}
	/* The sender is gone: the end of a pipe or a socketpair, once all
	 * is read, is TRANSPORT_STALE; before that, a lie. */
	if (v.faults || tally.got > count ||
	    (n != -EINTR && tally.got != count) ||
	    (n != -EINTR && n != -ETIMEDOUT && n != TRANSPORT_STALE)) {
		snprintf(why, why_size, "%u of %u frames, then %s%s%.80s", tally.got,
			 count, n == TRANSPORT_STALE ? "TRANSPORT_STALE" :
			 n < 0 ? strerror((int)-n) : "0 (end of file)", v.faults ? ": " : "",
			 v.why);
		goto fail;
	}
	transport_close(rx, NULL);
	close(sent[0]);
	reap(sender);
	return true;
fail:
	transport_close(rx, NULL);
	if (sent[0] >= 0)
		close(sent[0]);
	if (sender > 0)
		reap(sender);
	if (inherited(s) && !rx)
		close(pair[0]);
	if (pair[1] >= 0)
		close(pair[1]);
	return false;
}

/* In a child, so that the stop signals let in stay out of this process. */
static void window_test(struct subject *s, enum window where)
{
	struct verdict v = { 0 };
	int res[2];
	pid_t child;

	if (pipe2(res, O_CLOEXEC) < 0)
		return;
	child = fork();
	if (child == 0) {
		close(res[0]);
		if (stop_init() < 0 ||
		    !window_round(s, where, v.why, sizeof(v.why)))
			v.faults = 1;
		(void)write_all(res[1], &v, sizeof(v));
		_exit(0);
	}
	close(res[1]);
	/* Its sender's steps wait up to WAIT_MS each. */
	if (child < 0 || !read_within(res[0], &v, sizeof(v), 4 * WAIT_MS)) {
		v.faults = 1;
		snprintf(v.why, sizeof(v.why), "the child hung");
	}
	if (child > 0)
		reap(child);
	close(res[0]);
	if (where == IN_TAKE)
		tap_ok(!v.faults,
		       "%s: a stop that lands between the receiver's look at the flag and its take of what waits: no wake token taken for an event, every frame after the drain%s%s",
		       s->ops->name, v.faults ? " -- " : "", v.faults ? v.why : "");
	else if (where == NO_REARM)
		tap_ok(!v.faults,
		       "%s: after the unwake, a stop not yet rearmed still ends receive(-1) with -EINTR, no sleep, and the drain after the rearm gives every frame%s%s",
		       s->ops->name, v.faults ? " -- " : "", v.faults ? v.why : "");
	else
		tap_ok(!v.faults,
		       "%s: a second stop %s the unwake, before the rearm: the drain gives every queued frame or ends as a stop, adds none, and does not call the sender gone%s%s",
		       s->ops->name, where == BEFORE_UNWAKE ? "before" : "after",
		       v.faults ? " -- " : "", v.faults ? v.why : "");
}

/* ---- per mechanism -------------------------------------------------------- */

static int subject_init(struct subject *s, const struct transport_ops *ops)
{
	const char *root = getenv("XDG_RUNTIME_DIR");
	char template[sizeof(s->dir)];

	memset(s, 0, sizeof(*s));
	s->ops = ops;
	if (!root || access(root, W_OK) < 0)
		root = "/run";
	snprintf(template, sizeof(template), "%s/ipc-button-sa.XXXXXX", root);
	if (!mkdtemp(template))
		return -errno;
	memcpy(s->dir, template, sizeof(s->dir));
	snprintf(s->instance, sizeof(s->instance), "sa%d", (int)getpid());
	s->config.runtime_dir = s->dir;
	s->config.instance = s->instance;
	s->config.inherited_fd = -1;
	return 0;
}

static void run_mechanism(const struct transport_ops *ops, int rounds)
{
	unsigned int faults[MODES] = { 0 }, all = 0;
	char first[MODES][200] = { { 0 } };
	int done[MODES] = { 0 };
	struct subject s;

	if (subject_init(&s, ops) < 0) {
		tap_ok(false, "%s: a runtime directory", ops->name);
		return;
	}
	for (int i = 0; i < rounds; i++) {
		enum mode m = (enum mode)(i % MODES);
		char why[200] = "";
		unsigned int f;

		f = run_round(&s, m, why, sizeof(why));
		done[m]++;
		if (f && !faults[m])
			snprintf(first[m], sizeof(first[m]), "round %d: %s", i, why);
		faults[m] |= f;
		all |= f;
	}
	for (int m = 0; m < MODES; m++)
		if (faults[m])
			tap_diag("%s, %s: %s", ops->name, mode_name[m], first[m]);
	for (int f = 0; f < FAULTS; f++)
		tap_ok(!(all & (1u << f)), "%s: %s (%d rounds: %d %s, %d %s, %d %s, %d %s)",
		       ops->name, fault_name[f], rounds,
		       done[0], "at once", done[1], "delayed", done[2],
		       "while frames flow", done[3], "with a second stop");
	window_test(&s, BEFORE_UNWAKE);
	window_test(&s, AFTER_UNWAKE);
	window_test(&s, NO_REARM);
	/*
	 * The semaphores look, then take, in user space or with IPC_NOWAIT
	 * (lib/sem_named_wait.c, lib/sem_tally_take.c), and a stop's wake
	 * token goes to the semaphore that counts the events: a stop that
	 * lands between the two has its token taken, and must see it given
	 * back (the flag looked at after every take), not counted as an
	 * event. Without that give-back this window fails every time, the
	 * rounds above only now and then.
	 */
	if (!strcmp(ops->name, "sem-sysv") || !strcmp(ops->name, "sem-posix"))
		window_test(&s, IN_TAKE);
	rmdir(s.dir);
}

int main(int argc, char **argv)
{
	const struct transport_ops *all[MECHANISMS_MAX];
	size_t count = transport_list(all, MECHANISMS_MAX);
	const char *env = getenv("STOP_ANYWHERE_ROUNDS");
	int rounds = env ? atoi(env) : 200;
	size_t tested = 0;

	if (rounds < MODES)
		rounds = MODES;
	srand((unsigned int)getpid());
	note_given_fds();
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < count; i++) {
		bool wanted = argc < 2;

		for (int a = 1; a < argc; a++)
			wanted |= !strcmp(argv[a], all[i]->name);
		if (!wanted || !(all[i]->flags & TRANSPORT_WAKE_ANYWHERE))
			continue;
		run_mechanism(all[i], rounds);
		tested++;
	}
	tap_ok(tested > 0, "%zu mechanisms say TRANSPORT_WAKE_ANYWHERE and were tested",
	       tested);
	return tap_done();
}
