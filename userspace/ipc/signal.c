// SPDX-License-Identifier: MIT
/*
 * signal: real-time signals carrying a value (sigqueue semantics), sent
 * through a pidfd and received through a signalfd.
 *
 * Push, without a frame's payload: each event is one SIGRTMIN whose
 *   si_code is SI_QUEUE and whose value (sival_int, 32 bits on every ABI)
 *   packs what the LED needs:
 *     bit  0      0 press, 1 release
 *     bit  1      desired LED state
 *     bit  2      events were dropped before this one
 *     bit  3      always 1: a value of ours, so a stray signal is refused
 *     bits 4..31  seqno modulo 2^28
 *   The receiver rebuilds the frame from it: the full seqno from the 28
 *   bits and the previous event's seqno, by serial-number arithmetic (less
 *   than 2^27 ahead is forward, more is back: a new sender counting from 1
 *   again), exact while seqnos stay below 2^28 across restarts; the
 *   dropped count as the seqno gap when the flag is set (0 for the first
 *   event after a receiver start: nothing to compare with). Lost: the driver's timestamp and the sender's send time
 *   (event_ns and send_ns are the receive time). The sender refuses a
 *   frame that does not decode (-EINVAL): it has no bytes to pass on.
 *   Signals the receiver did not expect (another code, such as a plain
 *   kill(), or a value without our mark) are counted in t->rejected.
 * Lossless while both run: real-time signals queue, one entry per signal,
 *   in order; plain signals such as SIGUSR1 do not (a second one pending
 *   merges into the first: docs/signal-merging.md shows it, measured).
 *   The queue is bounded by the receiver's RLIMIT_SIGPENDING, charged to
 *   its user; beyond it the kernel refuses the signal with EAGAIN, which
 *   send() returns, and the button keeps the event and retries later.
 * Ordering: signals of one number are delivered in the order sent.
 * Object: the receiver's process, found through the pid file
 *   <runtime dir>/signal.<instance> (mode 0600, the PID in decimal). The receiver
 *   writes it into an unnamed file (O_TMPFILE), takes an OFD write lock on
 *   it and only then links it in, so nobody ever reads a half-written pid
 *   file and the lock is there from its first moment; it unlinks the file
 *   on close. The lock proves that the PID is the receiver's and that it
 *   still runs: a pid file left by a killed receiver has none, and the
 *   next receiver replaces it (a locked one means a receiver runs:
 *   -EBUSY). The sender opens the file (-ENOENT until there is a locked
 *   one), reads the PID, opens a pidfd on it and checks the lock again, so
 *   the pidfd surely refers to the receiver: a reused PID is never
 *   signalled. Before each signal it checks that the lock is still held
 *   (the receiver has not closed) and that the pidfd is not readable (the
 *   receiver has not died, even as a zombie that would swallow the signal
 *   silently); then pidfd_send_signal() delivers to that very process or
 *   fails with ESRCH. Each of these is -EPIPE, and the button reopens.
 * While the receiver restarts: pending signals belong to the receiver's
 *   process and die with it, so events the sender sent and the receiver
 *   had not read yet are lost (stderr says how many when it stops
 *   normally). From the moment the sender sees the receiver gone, it gets
 *   -EPIPE, keeps its events in its backlog and delivers them once a new
 *   receiver has published its pid file.
 * Receiver's signal state: it blocks SIGRTMIN in the calling thread (the
 *   receiver must be opened before other threads start, or they must block
 *   it too) so the signal waits for the signalfd instead of killing the
 *   process, and discards any stale one first. It waits with its own ppoll
 *   mask, which keeps SIGRTMIN blocked while it lets the stop signals in.
 *   On close it discards what is left and leaves SIGRTMIN ignored: a
 *   signal from a sender that has not yet noticed the close must not
 *   terminate the process.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/private_object.h"
#include "../lib/stop.h"
#include "../lib/fd_wait.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>


#define SIGVAL_RELEASE		(1u << 0)
#define SIGVAL_LED		(1u << 1)
#define SIGVAL_DROPPED		(1u << 2)
#define SIGVAL_MARK		(1u << 3)
#define SIGVAL_SEQ_SHIFT	4
#define SIGVAL_SEQ_MASK		(UINT32_MAX >> SIGVAL_SEQ_SHIFT)

struct signal_priv {
	int signo;
	char path[PATH_MAX];
	int pidfile;		/* receiver: published and locked; sender: read */
	/* Receiver. */
	int sfd;
	bool mask_changed, was_blocked;
	bool have_last;
	uint32_t last_seqno;
	/* Sender. */
	int pidfd;
	pid_t self;
	uid_t uid;
};

static uint32_t signal_value_pack(const struct ipc_message *m)
{
	uint32_t v = SIGVAL_MARK | (m->seqno & SIGVAL_SEQ_MASK) << SIGVAL_SEQ_SHIFT;

	if (m->type == IPC_EVENT_RELEASE)
		v |= SIGVAL_RELEASE;
	if (m->led_state)
		v |= SIGVAL_LED;
	if (m->flags & IPC_MESSAGE_F_DROPPED)
		v |= SIGVAL_DROPPED;
	return v;
}

static void signal_value_frame(struct signal_priv *p, uint32_t v,
			       uint8_t frame[IPC_MESSAGE_SIZE])
{
	uint32_t raw = v >> SIGVAL_SEQ_SHIFT, seqno = raw, gap = 0;
	struct ipc_message m = {
		.type = v & SIGVAL_RELEASE ? IPC_EVENT_RELEASE : IPC_EVENT_PRESS,
		.led_state = !!(v & SIGVAL_LED),
	};

	/*
	 * The seqno's lost high bits, by serial-number arithmetic (RFC 1982):
	 * less than half the range ahead of the last one, it moved forward
	 * (gap); further, it went back: a new sender numbering from 1 again.
	 */
	if (p->have_last) {
		uint32_t ahead = (raw - p->last_seqno) & SIGVAL_SEQ_MASK;

		if (ahead <= SIGVAL_SEQ_MASK / 2) {
			seqno = p->last_seqno + ahead;
			gap = ahead;
		} else {
			seqno = p->last_seqno - (SIGVAL_SEQ_MASK + 1 - ahead);
		}
	}
	if (v & SIGVAL_DROPPED) {
		m.flags = IPC_MESSAGE_F_DROPPED;
		m.dropped = gap ? gap - 1 : 0;
	}
	m.seqno = seqno;
	m.event_ns = m.send_ns = monotonic_ns();
	p->last_seqno = seqno;
	p->have_last = true;
	ipc_message_encode(&m, frame);
}

/* 1 while the receiver holds its lock on the pid file, 0 when nobody does. */
static int signal_lock_held(int fd)
{
	struct flock lock = { .l_type = F_RDLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_GETLK, &lock) < 0)
		return -errno;
	return lock.l_type != F_UNLCK;
}

static pid_t signal_read_pid(int fd)
{
	char text[32];
	ssize_t n;
	long pid;
	char *end;

	n = pread(fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	errno = 0;
	pid = strtol(text, &end, 10);
	if (errno || end == text || *end != '\n' || pid <= 0 || pid > INT_MAX)
		return -1;
	return (pid_t)pid;
}

/* Discard every pending @signo; keep it ignored, or restore its action. */
static void signal_discard_pending(int signo, bool keep_ignored)
{
	struct sigaction ignore, old;

	memset(&ignore, 0, sizeof(ignore));
	ignore.sa_handler = SIG_IGN;
	sigemptyset(&ignore.sa_mask);
	/* Setting SIG_IGN discards pending instances, blocked or not. */
	if (sigaction(signo, &ignore, &old) == 0 && !keep_ignored)
		(void)sigaction(signo, &old, NULL);
}

/*
 * A pid file is in the way: 0 when it was stale (removed) or gone, -EBUSY
 * when a live receiver holds it, or another error.
 */
static int signal_remove_stale(struct transport *t, const char *path)
{
	struct stat st, named;
	int fd, held;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno != ELOOP)
			return -errno;
		/* A symlink has no business here: remove it. */
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	}
	held = signal_lock_held(fd);
	if (held > 0) {
		fprintf(stderr, "%s: another receiver (pid %d) holds %s\n",
			t->ops->name, (int)signal_read_pid(fd), path);
		close(fd);
		return -EBUSY;
	}
	/* Left by a killed receiver (or not a pid file at all): replace. */
	if (fstat(fd, &st) == 0 && lstat(path, &named) == 0 &&
	    st.st_ino == named.st_ino && st.st_dev == named.st_dev &&
	    unlink(path) < 0 && errno != ENOENT) {
		int r = -errno;

		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

/* Write the pid file unnamed, lock it, then link it in: all or nothing. */
static int signal_publish(struct transport *t, struct signal_priv *p)
{
	struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char proc[64], text[32];
	const char *step;
	int fd, n, r;
	ssize_t w;

	fd = open(t->config->runtime_dir, O_TMPFILE | O_RDWR | O_CLOEXEC,
		  PRIVATE_OBJECT_MODE);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "%s: unnamed pid file in %s: %s\n",
			t->ops->name, t->config->runtime_dir, strerror(-r));
		return r;
	}
	n = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	step = "chmod";
	if (fchmod(fd, PRIVATE_OBJECT_MODE) < 0)
		goto fail;
	step = "lock";
	if (fcntl(fd, F_OFD_SETLK, &lock) < 0)
		goto fail;
	step = "write";
	w = write(fd, text, n);
	if (w != n) {
		if (w >= 0)
			errno = EIO;
		goto fail;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	step = "link";
	for (int attempt = 0; attempt < 5; attempt++) {
		if (linkat(AT_FDCWD, proc, AT_FDCWD, p->path,
			   AT_SYMLINK_FOLLOW) == 0) {
			p->pidfile = fd;
			return 0;
		}
		if (errno != EEXIST)
			goto fail;
		r = signal_remove_stale(t, p->path);
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	errno = EEXIST;
fail:
	r = -errno;
	fprintf(stderr, "%s: pid file %s: %s: %s\n", t->ops->name, p->path,
		step, strerror(-r));
	close(fd);
	return r;
}

static int signal_open_receiver(struct transport *t, struct signal_priv *p)
{
	sigset_t set, old;
	int r;

	sigemptyset(&set);
	sigaddset(&set, p->signo);
	/* Blocked first: from now on the signal waits for us, never kills. */
	r = -pthread_sigmask(SIG_BLOCK, &set, &old);
	if (r < 0)
		return r;
	p->mask_changed = true;
	p->was_blocked = sigismember(&old, p->signo);
	/* Nobody knows our PID yet: whatever is pending is stale. */
	signal_discard_pending(p->signo, false);
	p->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (p->sfd < 0) {
		r = -errno;
		fprintf(stderr, "%s: signalfd: %s\n", t->ops->name, strerror(-r));
		return r;
	}
	return signal_publish(t, p);
}

static int signal_open_sender(struct signal_priv *p)
{
	struct stat st;
	pid_t pid;
	int r;

	p->self = getpid();
	p->uid = getuid();
	p->pidfile = open(p->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
				   O_NONBLOCK);
	if (p->pidfile < 0)
		return errno == ENOENT || errno == ELOOP ? -ENOENT : -errno;
	if (fstat(p->pidfile, &st) < 0)
		return -errno;
	if (!private_object_file(&st))
		return -ENOENT;	/* not a pid file of ours */
	r = signal_lock_held(p->pidfile);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;	/* left by a dead receiver */
	pid = signal_read_pid(p->pidfile);
	if (pid < 0)
		return -ENOENT;
	p->pidfd = pidfd_open(pid, 0);
	if (p->pidfd < 0)
		return errno == ESRCH ? -ENOENT : -errno;
	/*
	 * Still locked after the pidfd was made: the receiver lived all
	 * along, so the pidfd is the receiver, not a process that took over
	 * its PID after it died.
	 */
	r = signal_lock_held(p->pidfile);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	return 0;
}

static void signal_close(struct transport *t);

static int signal_open(struct transport *t)
{
	struct signal_priv *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->signo = SIGRTMIN;
	p->pidfile = -1;
	p->sfd = -1;
	p->pidfd = -1;
	t->priv = p;
	r = transport_object_path(t, p->path, sizeof(p->path));
	if (r < 0)
		goto fail;
	r = t->role == TRANSPORT_SENDER ? signal_open_sender(p) :
					  signal_open_receiver(t, p);
	if (r < 0)
		goto fail;
	return 0;
fail:
	signal_close(t);
	return r;
}

static int signal_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct signal_priv *p = t->priv;
	struct pollfd died = { .fd = p->pidfd, .events = POLLIN };
	struct ipc_message m;
	siginfo_t info;
	int r;

	if (ipc_message_decode(frame, len, &m) != IPC_MESSAGE_OK)
		return -EINVAL;
	r = signal_lock_held(p->pidfile);
	if (r <= 0)
		return r < 0 ? r : -EPIPE;	/* the receiver closed */
	if (poll(&died, 1, 0) != 0)
		return -EPIPE;			/* the receiver died */

	memset(&info, 0, sizeof(info));
	info.si_signo = p->signo;
	info.si_code = SI_QUEUE;
	info.si_pid = p->self;
	info.si_uid = p->uid;
	info.si_value.sival_int = (int)signal_value_pack(&m);
	if (pidfd_send_signal(p->pidfd, p->signo, &info, 0) < 0) {
		if (errno == ESRCH)
			return -EPIPE;
		return -errno;	/* -EAGAIN: RLIMIT_SIGPENDING reached */
	}
	return 0;
}

static bool signal_expected(const struct signal_priv *p,
			    const struct signalfd_siginfo *si)
{
	return (int)si->ssi_signo == p->signo && si->ssi_code == SI_QUEUE &&
	       (si->ssi_int & SIGVAL_MARK);
}

/*
 * fd_wait(), but SIGRTMIN stays blocked: its wait mask lets the
 * stop signals in and restores the rest of the mask stop_init() found,
 * in which SIGRTMIN was not blocked yet. Let in during ppoll, a queued
 * event would meet its disposition (ignored, or by default the end of
 * the process) instead of waiting in the signalfd.
 */
static int signal_wait(struct signal_priv *p, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->sfd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	sigset_t mask = *stop_wait_mask();
	int r;

	sigaddset(&mask, p->signo);
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	if (stop_requested())
		return -EINTR;
	r = ppoll(&pfd, 1, tsp, &mask);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static ssize_t signal_receive(struct transport *t, uint8_t *buf, size_t size,
			      int timeout_ms)
{
	struct signal_priv *p = t->priv;
	struct signalfd_siginfo si;
	struct deadline d;
	ssize_t n;
	int r;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	deadline_start(&d, timeout_ms);
	for (;;) {
		n = read(p->sfd, &si, sizeof(si));
		if (n == sizeof(si)) {
			if (signal_expected(p, &si)) {
				signal_value_frame(p, (uint32_t)si.ssi_int, buf);
				return IPC_MESSAGE_SIZE;
			}
			/* Logged at 1, 2, 4, 8...: visible, never a flood. */
			t->rejected++;
			if (!(t->rejected & (t->rejected - 1)))
				fprintf(stderr, "%s: refused a signal with code %d from pid %u (%llu refused)\n",
					t->ops->name, si.ssi_code, si.ssi_pid,
					(unsigned long long)t->rejected);
			continue;
		}
		if (n >= 0)
			return -EIO;	/* signalfd reads whole records */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = signal_wait(p, deadline_left_ms(&d));
		if (r < 0)
			return r;
	}
}

static int signal_poll_fd(struct transport *t)
{
	struct signal_priv *p = t->priv;

	/* A sender has nothing to poll: -EAGAIN means back off and retry. */
	return t->role == TRANSPORT_RECEIVER ? p->sfd : -1;
}

static void signal_close_receiver(struct transport *t, struct signal_priv *p)
{
	struct signalfd_siginfo si;
	struct stat st, named;
	unsigned long unread = 0;
	sigset_t set;

	if (p->pidfile >= 0) {
		/* Unlink only our own file; closing drops the lock. */
		if (fstat(p->pidfile, &st) == 0 && lstat(p->path, &named) == 0 &&
		    st.st_ino == named.st_ino && st.st_dev == named.st_dev)
			(void)unlink(p->path);
		close(p->pidfile);
	}
	if (p->sfd >= 0) {
		while (read(p->sfd, &si, sizeof(si)) == sizeof(si))
			if (signal_expected(p, &si))
				unread++;
		if (unread)
			fprintf(stderr, "%s: %lu unread events discarded\n",
				t->ops->name, unread);
		close(p->sfd);
	}
	if (p->mask_changed) {
		signal_discard_pending(p->signo, true);
		if (!p->was_blocked) {
			sigemptyset(&set);
			sigaddset(&set, p->signo);
			pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		}
	}
}

static void signal_close(struct transport *t)
{
	struct signal_priv *p = t->priv;

	if (!p)
		return;
	if (t->role == TRANSPORT_RECEIVER) {
		signal_close_receiver(t, p);
	} else {
		if (p->pidfd >= 0)
			close(p->pidfd);
		if (p->pidfile >= 0)
			close(p->pidfile);
	}
	free(p);
	t->priv = NULL;
}

static const struct transport_ops signal_ops = {
	.name = "signal",
	.summary = "real-time signals with sigqueue values, pidfd sender, signalfd receiver",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_NO_PAYLOAD,
	.open = signal_open,
	.send = signal_send,
	.receive = signal_receive,
	.poll_fd = signal_poll_fd,
	.close = signal_close,
};

TRANSPORT_REGISTER(signal_ops);
