// SPDX-License-Identifier: MIT
/*
 * memory-transports: host tests of the shared-memory and shared-file
 * transports (shared-file, shm-sysv, shm-posix, mmap), through the
 * transport interface only, printing TAP.
 *
 *   memory-transports [VIA...]      (default: all four)
 *
 * Each mechanism gets a fresh runtime directory (0700, under
 * $XDG_RUNTIME_DIR or /run, never /tmp) and its own instance name, so
 * runs never meet. What is checked, per mechanism: a sender before the
 * receiver is told to come back later; objects are 0600 where the
 * mechanism has a path; a second receiver (and, for the rings, a second
 * sender) is refused; 10,000 frames sent as fast as possible by another
 * process arrive complete and in order; a full mechanism says -EAGAIN and
 * overwrites nothing; frames up to 256 bytes cross whole; a new sender
 * works after the old one died; a receiver that closes makes the sender
 * get -EPIPE and the next receiver gets what is sent after; frames queued
 * while the receiver was SIGKILLed are delivered by the next receiver,
 * which adopts the object; stale and foreign objects are replaced;
 * garbled indices and lengths never make the receiver read out of bounds
 * (shared-file: a dead writer's unfinished append is neither read nor
 * waited for, and records cut off by hand are counted once and skipped;
 * a receiver killed holding records it took but did not hand over, or
 * killed while cutting the file back, makes its successor lose none and
 * repeat none; a version 1 file is replaced; a header whose end lies past
 * the file is adopted and mended; a file removed by hand makes its
 * receiver deliver what it holds, then fail with -EIDRM, and its sender
 * get -EPIPE; at 4096 records kept the sender gets -EAGAIN until the
 * receiver cut the file back; a symlink or a file of another user at the
 * path is never used and is replaced; with the stop signals let in, as
 * the LED has them, it sleeps in read() of inotify, a stop ends that
 * wherever it lands, and what was queued meanwhile arrives after unwake);
 * a full ring whose object was removed by hand makes the sender get
 * -EPIPE, not -EAGAIN; a stop signal ends a blocked receive; nothing
 * remains after close.
 */
#include "lib/sysv_record.h"
#include "lib/proc_syscall.h"
#include "lib/tap.h"
#include "../../userspace/ipc/transport.h"
#include "../../userspace/lib/frame_ring.h"
#include "../../userspace/lib/message.h"
#include "../../userspace/lib/stop.h"
#include "../../userspace/lib/deadline.h"
#include "../../userspace/lib/file_record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MANY		10000
#define RING_SLOTS	FRAME_RING_SLOTS

/* Where a sender child is, for the log when it is stuck. */
static volatile sig_atomic_t child_seqno, child_result;

/* test_shared_file_writers(): buttons at once, frames each. */
#define WRITERS		3
#define WRITER_FRAMES	3000u

/* One mechanism under test, in its own runtime directory. */
struct subject {
	const struct transport_ops *ops;
	const char *via;
	char dir[PATH_MAX];
	char instance[32];
	struct transport_config config;
	bool ring;		/* a frame ring: single sender, RING_SLOTS slots */
	struct sysv_key_memo sysv;	/* see sysv_record_key() */
};

static int open_as(struct subject *s, enum transport_role role,
		   struct transport **ret)
{
	return transport_open(s->ops, role, &s->config, ret, NULL);
}

static void frame_for(uint32_t seqno, uint8_t frame[IPC_MESSAGE_SIZE])
{
	struct ipc_message msg = {
		.type = seqno % 2 ? IPC_EVENT_PRESS : IPC_EVENT_RELEASE,
		.led_state = (seqno + 1) / 2 % 2,
		.seqno = seqno,
		.event_ns = monotonic_ns(),
	};

	msg.send_ns = monotonic_ns();
	ipc_message_encode(&msg, frame);
}

/* Receive one frame and return its seqno, or a negative errno / -EBADMSG. */
static int64_t receive_seqno(struct transport *t, int timeout_ms)
{
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	struct ipc_message msg;
	ssize_t n = transport_receive(t, buf, sizeof(buf), timeout_ms);

	if (n < 0)
		return n;
	if (ipc_message_decode(buf, n, &msg) != IPC_MESSAGE_OK)
		return -EBADMSG;
	return msg.seqno;
}

/* Like the button: keep the frame on -EAGAIN and try again shortly. */
static int send_retrying(struct transport *t, uint32_t seqno)
{
	const struct timespec pause = { .tv_nsec = 200000 };
	uint8_t frame[IPC_MESSAGE_SIZE];
	int r;

	frame_for(seqno, frame);
	while ((r = transport_send(t, frame, sizeof(frame))) == -EAGAIN) {
		child_result = r;
		nanosleep(&pause, NULL);	/* a test's back-off */
	}
	return r;
}

static int send_seqno(struct transport *t, uint32_t seqno)
{
	uint8_t frame[IPC_MESSAGE_SIZE];

	frame_for(seqno, frame);
	return transport_send(t, frame, sizeof(frame));
}

static void describe_state(struct subject *s);

/* Receive @count frames and check they are @first, @first+1, ... */
static bool receive_run(struct subject *s, struct transport *t, uint32_t first,
			uint32_t count, int timeout_ms, char *why, size_t whylen)
{
	for (uint32_t i = 0; i < count; i++) {
		int64_t got = receive_seqno(t, timeout_ms);

		if (got != first + i) {
			describe_state(s);
			snprintf(why, whylen, "frame %u: expected seqno %u, got %lld (%s)",
				 i, first + i, (long long)got,
				 got < 0 ? strerror((int)-got) : "out of order");
			return false;
		}
	}
	return true;
}

/* The receiver's object and nothing else in the runtime directory. */
static int runtime_dir_entries(const struct subject *s)
{
	DIR *d = opendir(s->dir);
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

static int sysv_key(struct subject *s)
{
	return subject_sysv_key(s);
}

static void object_path(struct subject *s, char *buf, size_t size)
{
	struct transport t = { .ops = s->ops, .config = &s->config };

	if (!strcmp(s->via, "shm-posix")) {
		char name[NAME_MAX];

		transport_global_name(&t, name, sizeof(name));
		snprintf(buf, size, "/dev/shm%s", name);
	} else {
		transport_object_path(&t, buf, size);
	}
}

/* Does any object of this mechanism exist right now? */
static bool object_exists(struct subject *s)
{
	char path[PATH_MAX];
	struct stat st;

	if (!strcmp(s->via, "shm-sysv")) {
		int key = sysv_key(s);

		return shmget(key, 0, 0) >= 0 || semget(key, 0, 0) >= 0;
	}
	object_path(s, path, sizeof(path));
	return !lstat(path, &st);
}

static bool object_mode_0600(struct subject *s, char *why, size_t whylen)
{
	char path[PATH_MAX];
	struct stat st;

	if (!strcmp(s->via, "shm-sysv")) {
		struct shmid_ds ds;
		struct semid_ds sds;
		union { int val; struct semid_ds *buf; } arg = { .buf = &sds };
		int key = sysv_key(s), shmid = shmget(key, 0, 0),
		    semid = semget(key, 0, 0);

		if (shmid < 0 || semid < 0 || shmctl(shmid, IPC_STAT, &ds) < 0 ||
		    semctl(semid, 0, IPC_STAT, arg) < 0) {
			snprintf(why, whylen, "no segment or set under key 0x%08x", key);
			return false;
		}
		snprintf(why, whylen, "shm mode %04o, sem mode %04o",
			 ds.shm_perm.mode & 0777, sds.sem_perm.mode & 0777);
		return (ds.shm_perm.mode & 0777) == 0600 &&
		       (sds.sem_perm.mode & 0777) == 0600;
	}
	object_path(s, path, sizeof(path));
	if (lstat(path, &st) < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return false;
	}
	snprintf(why, whylen, "%s mode %04o", path, st.st_mode & 07777);
	if (strncmp(path, "/tmp/", 5) == 0)
		return false;
	return S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600;
}

/* Map the receiver's object to scribble on it like a foreign writer. */
static void *map_object(struct subject *s, size_t *ret_size)
{
	char path[PATH_MAX];
	struct stat st;
	void *mem;
	int fd;

	if (!strcmp(s->via, "shm-sysv")) {
		struct shmid_ds ds;
		int shmid = shmget(sysv_key(s), 0, 0);

		if (shmid < 0 || shmctl(shmid, IPC_STAT, &ds) < 0)
			return NULL;
		mem = shmat(shmid, NULL, 0);
		*ret_size = ds.shm_segsz;
		return mem == (void *)-1 ? NULL : mem;
	}
	object_path(s, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	mem = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	*ret_size = st.st_size;
	return mem == MAP_FAILED ? NULL : mem;
}

static void unmap_object(struct subject *s, void *mem, size_t size)
{
	if (!strcmp(s->via, "shm-sysv"))
		shmdt(mem);
	else
		munmap(mem, size);
}

static void dump_file(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		tap_diag("%s: %.*s", path, (int)strcspn(line, "\n"), line);
	fclose(f);
}

/* Where our children are in the kernel: a stuck one says what it waits on. */
static void dump_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], stat[512];
		int pid = atoi(e->d_name), ppid = 0;
		FILE *f;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(stat, sizeof(stat), f)) {
			char *close_paren = strrchr(stat, ')');

			if (close_paren)
				sscanf(close_paren + 2, "%*c %d", &ppid);
		}
		fclose(f);
		if (ppid != getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
		dump_file(path);
		snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
		dump_file(path);
		snprintf(path, sizeof(path), "/proc/%d/stack", pid);
		dump_file(path);
	}
	closedir(d);
}

/* After a failure: what the shared state says, for the log. */
static void describe_state(struct subject *s)
{
	char path[PATH_MAX];
	struct stat st;
	size_t size;
	void *mem;

	if (s->ring) {
		struct frame_ring_header *hdr = map_object(s, &size);

		if (!hdr)
			return;
		tap_diag("ring: head %u tail %u closed %u", atomic_load(&hdr->head),
		     atomic_load(&hdr->tail), atomic_load(&hdr->closed));
		unmap_object(s, hdr, size);
		return;
	}
	object_path(s, path, sizeof(path));
	if (stat(path, &st) < 0)
		return;
	mem = map_object(s, &size);
	if (mem && size >= sizeof(struct file_record_header)) {
		const struct file_record_header *hdr = mem;

		tap_diag("file: size %lld, read offset %llu, closed %u",
		     (long long)st.st_size, (unsigned long long)hdr->read_offset,
		     hdr->closed);
	}
	if (mem)
		unmap_object(s, mem, size);
	dump_file("/proc/locks");
	dump_children();
}

/* Leave junk where the object belongs, as a crashed old version might. */
static bool plant_stale_object(struct subject *s, mode_t mode)
{
	static const char junk[512] = "not a ring, not a frame file";
	char path[PATH_MAX];
	int fd;

	if (!strcmp(s->via, "shm-sysv")) {
		int shmid = shmget(plant_sysv_record(s), sizeof(junk),
				   IPC_CREAT | IPC_EXCL | mode);
		void *mem;

		if (shmid < 0)
			return false;
		mem = shmat(shmid, NULL, 0);
		if (mem == (void *)-1)
			return false;
		memcpy(mem, junk, sizeof(junk));
		shmdt(mem);
		return true;
	}
	object_path(s, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return false;
	if (fchmod(fd, mode) < 0 || write(fd, junk, sizeof(junk)) != sizeof(junk)) {
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* Fork a child that runs @fn and exits with its status. */
static pid_t spawn(int (*fn)(struct subject *, int), struct subject *s, int arg)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(fn(s, arg));
	return pid;
}

static int wait_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static void child_stuck(int signo)
{
	char line[96];
	int n = snprintf(line, sizeof(line),
			 "# sender stuck at seqno %d, last send %d\n",
			 (int)child_seqno, (int)child_result);

	(void)!write(STDOUT_FILENO, line, n);
	_exit(128 + signo);
}

/* A sender, once the receiver has made its object (-ENOENT until then:
 * there is no event to wait for, so a test's pause between looks). */
static int open_sender_once_there(struct subject *s, struct transport **ret)
{
	const struct timespec pause = { .tv_nsec = 1000000 };
	int r;

	while ((r = open_as(s, TRANSPORT_SENDER, ret)) == -ENOENT)
		nanosleep(&pause, NULL);
	return r;
}

/* Open a sender and send seqnos @base + 1 .. @base + @count. */
static int send_span(struct subject *s, uint32_t base, uint32_t count)
{
	struct transport *t;

	/*
	 * A watchdog on progress, not a time limit on the whole run: a
	 * slow machine (the emulated board under load) is not a failure,
	 * 30 s without a single frame through is.
	 */
	signal(SIGALRM, child_stuck);
	alarm(30);
	if (open_sender_once_there(s, &t) < 0)
		return 10;
	for (uint32_t i = 1; i <= count; i++) {
		child_seqno = i;
		if ((child_result = send_retrying(t, base + i)) < 0)
			return 11;
		alarm(30);
	}
	transport_close(t, NULL);
	return 0;
}

/* Child: a sender (once the receiver is there) of seqnos 1..@count. */
static int child_send_many(struct subject *s, int count)
{
	return send_span(s, 0, (uint32_t)count);
}

/* Child: a receiver that says when it is ready, takes 3 frames, waits. */
static int child_receiver_to_kill(struct subject *s, int ready_fd)
{
	struct transport *t;
	char byte = 'r';

	alarm(120);
	if (open_as(s, TRANSPORT_RECEIVER, &t) < 0)
		return 10;
	if (write(ready_fd, &byte, 1) != 1)
		return 11;
	for (int i = 0; i < 3; i++)
		if (receive_seqno(t, 10000) != i + 1)
			return 12;
	if (write(ready_fd, &byte, 1) != 1)
		return 13;
	pause();	/* until SIGKILL */
	return 14;
}

/* The stop handler's callback: the transport's own wake-up. */
static void wake_transport(void *arg)
{
	struct transport *t = arg;

	t->ops->wake(t);
}

/* Child: a receiver blocked forever, which a stop signal must end. */
static int child_receiver_stopped(struct subject *s, int ready_fd)
{
	struct transport *t;
	char byte = 'r';
	int64_t r;

	alarm(60);	/* the default action fails the test if stuck */
	if (stop_init() < 0 || open_as(s, TRANSPORT_RECEIVER, &t) < 0)
		return 10;
	if (t->ops->wake)
		stop_set_wake(wake_transport, t);
	if (write(ready_fd, &byte, 1) != 1)
		return 11;
	r = receive_seqno(t, -1);
	stop_set_wake(NULL, NULL);
	transport_close(t, NULL);
	return r == -EINTR ? 0 : 12;
}

static bool read_byte(int fd)
{
	char byte;

	return read(fd, &byte, 1) == 1;
}

/*
 * Child: a receiver set up as the LED sets it up (transport_arm_stop(): the
 * stop signals let in for good) in receive(-1); bit 16 of @arg: the stop
 * comes before the receive, raised by itself. The stop ends the receive;
 * while it is not taken back, a receive ends at once even with frames
 * there; after transport_unwake() and stop_rearm() every one of them is
 * received, in order, and a second stop ends the next receive again.
 */
static int child_receiver_let_in(struct subject *s, int arg)
{
	struct transport *rx, *tx;

	alarm(60);	/* the default action fails the test if stuck */
	if (stop_init() < 0 || open_as(s, TRANSPORT_RECEIVER, &rx) < 0 ||
	    transport_arm_stop(rx) < 0)
		return 10;
	if (arg >> 16)
		raise(SIGTERM);
	if (write(arg & 0xffff, "r", 1) != 1)
		return 11;
	if (receive_seqno(rx, -1) != -EINTR)
		return 12;
	if (open_as(s, TRANSPORT_SENDER, &tx) < 0)
		return 13;
	for (int i = 1; i <= 3; i++)
		if (send_seqno(tx, i) < 0)
			return 14;
	if (receive_seqno(rx, -1) != -EINTR)
		return 15;
	transport_unwake(rx);
	stop_rearm();
	for (int i = 1; i <= 3; i++)
		if (receive_seqno(rx, 0) != i)
			return 16;
	if (receive_seqno(rx, 0) != -ETIMEDOUT)
		return 17;
	raise(SIGTERM);
	if (receive_seqno(rx, -1) != -EINTR)
		return 18;
	transport_unwake(rx);
	transport_close(tx, NULL);
	transport_close(rx, NULL);
	return 0;
}

/*
 * shared-file with the stop signals let in, as the LED has them: it sleeps
 * in read() of its inotify descriptor, and a stop ends that read wherever
 * it lands (round 0: before the receive; rounds 2 and 3: seen asleep in
 * read() first); nothing is lost to the stop (child_receiver_let_in()).
 */
static void test_shared_file_let_in(struct subject *s)
{
	int failures = 0, asleep = 0, fds[2], r;
	char statuses[64] = "";
	pid_t pid;

	for (int round = 0; round < 4; round++) {
		if (pipe2(fds, O_CLOEXEC) < 0)
			return;
		pid = spawn(child_receiver_let_in, s, fds[1] | (round == 0) << 16);
		close(fds[1]);
		failures += !read_byte(fds[0]);
		close(fds[0]);
		if (round >= 2)
			asleep += proc_await_syscall(pid, SYS_read, 5000);
		if (round > 0)
			kill(pid, SIGTERM);
		r = wait_status(pid);
		if (r) {
			failures++;
			snprintf(statuses + strlen(statuses),
				 sizeof(statuses) - strlen(statuses), " %d", r);
		}
	}
	tap_ok(!failures && asleep == 2,
	   "%s: let in, receive(-1) sleeps in read() of inotify and a stop ends it, before or while it sleeps; after unwake every frame queued meanwhile arrives in order and a second stop ends the wait again (4 rounds, %d of 2 seen asleep in read; statuses%s)",
	   s->via, asleep, statuses[0] ? statuses : " 0");
	tap_ok(!object_exists(s) && runtime_dir_entries(s) == 0,
	   "%s: after the let-in stops nothing is left", s->via);
}

/*
 * Child: a sender as the button is, facing a file nobody reads meanwhile:
 * seqnos from 1 until the file is full, then, keeping that frame, an
 * untimed ppoll() on its poll_fd() for transport_room_events(), a byte on
 * @arg's low 16 bits before each; @arg >> 16 rounds of it, then the kept
 * frame and out. Exit status: how many wake-ups found no room (a stale
 * event: 0 expected, up to 9), or 10 and up for a failure.
 */
static int child_sender_room(struct subject *s, int arg)
{
	int ready_fd = arg & 0xffff, rounds = arg >> 16, stale = 0, r;
	struct transport *t;
	uint32_t seqno = 1;
	char byte = 'w';

	alarm(60);	/* the default action fails the test if stuck */
	if (open_sender_once_there(s, &t) < 0)
		return 10;
	for (int round = 0; round < rounds; seqno++) {
		struct pollfd p = { .fd = -1 };

		r = send_seqno(t, seqno);
		if (!r)
			continue;
		if (r != -EAGAIN)
			return 11;
		p.fd = transport_poll_fd(t);
		p.events = transport_room_events(t);
		if (p.fd < 0 || p.events != POLLIN)
			return 12;
		if (write(ready_fd, &byte, 1) != 1)
			return 13;
		for (;;) {
			if (ppoll(&p, 1, NULL, NULL) != 1)
				return 14;
			r = send_seqno(t, seqno);
			if (r != -EAGAIN)
				break;
			stale += stale < 9;
		}
		if (r)
			return 15;
		round++;
	}
	transport_close(t, NULL);
	return stale;
}

/* Is @pid still asleep in ppoll() after a pause for whatever may wake it? */
static bool still_in_ppoll(pid_t pid)
{
	nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	return proc_in_syscall(pid, SYS_ppoll);
}

/*
 * Receive seqnos *@next, *@next + 1, ... from @rx until the sender @pid
 * has ended and a look after that finds nothing: how far it got before
 * it was full, and so what it sent, depends on when our reads and cuts
 * came. Its wait status in *@status (-1: killed here, stuck or after an
 * earlier failure, @good false). False, with @why, on a frame out of order.
 */
static bool receive_until_gone(bool good, struct transport *rx, pid_t pid,
			       uint32_t *next, int *status, char *why,
			       size_t whylen)
{
	*status = -1;
	for (int idle = 0; good && idle < 100;) {
		int64_t got = receive_seqno(rx, 100);

		if (got == *next) {
			(*next)++;
		} else if (got != -ETIMEDOUT) {
			snprintf(why, whylen, "expected %u, got %lld", *next,
				 (long long)got);
			good = false;
		} else if (*status >= 0) {
			break;	/* it was gone before this look */
		} else if (waitpid(pid, status, WNOHANG) != pid) {
			*status = -1;
			idle++;
		}
	}
	if (*status < 0) {
		kill(pid, SIGKILL);
		(void)wait_status(pid);
	}
	return good;
}

/*
 * shared-file: a sender facing a full file sleeps with no timer on its
 * poll_fd() (readable: inotify), and the receiver's cut-back wakes it:
 * twice, the second time after the sender's own 1024 appends queued
 * events it must not wake for (no stale wake-up, seen asleep in ppoll());
 * nothing lost or repeated. Then with its receiver SIGKILLed: the sender
 * sleeps on (nothing raises an event) until a new receiver adopts the
 * file and, having read it, cuts it back.
 */
static void test_shared_file_room_wakes(struct subject *s)
{
	struct transport *rx = NULL;
	char why[PATH_MAX + 256] = "";
	int fds[2], r, asleep = 0, status;
	uint32_t next = 1;
	pid_t pid, victim;
	bool good;

	if (pipe2(fds, O_CLOEXEC) < 0 || open_as(s, TRANSPORT_RECEIVER, &rx) < 0) {
		tap_ok(false, "%s: a receiver and a pipe for the room test", s->via);
		return;
	}
	pid = spawn(child_sender_room, s, fds[1] | 2 << 16);
	/* Full the first time: 1..1024 lie unread. */
	good = read_byte(fds[0]) && proc_await_syscall(pid, SYS_ppoll, 5000);
	asleep += good && still_in_ppoll(pid);
	good = good && receive_run(s, rx, next, FILE_RECORD_UNREAD_MAX, 5000,
				   why, sizeof(why));
	next += FILE_RECORD_UNREAD_MAX;
	/* All read: this look cuts the file back and the sender wakes; what
	 * it appends may already be there (then the look takes it, and up
	 * to a batch more). */
	r = good ? (int)receive_seqno(rx, 0) : -EIO;
	next += r == (int)next;
	good = good && (r == (int)next - 1 || r == -ETIMEDOUT);
	/* Full again (the marked-read count says so, whatever our batch
	 * holds): asleep, and its own appends' events do not wake it. */
	good = good && read_byte(fds[0]) && proc_await_syscall(pid, SYS_ppoll, 5000);
	asleep += good && still_in_ppoll(pid);
	/* The rest, its last kept frame included, in order. */
	good = receive_until_gone(good, rx, pid, &next, &r, why, sizeof(why));
	good = good && next > 2 * FILE_RECORD_UNREAD_MAX + 1;
	tap_ok(good && asleep == 2 && r == 0,
	   "%s: a sender facing a full file sleeps in ppoll() on its poll_fd() (POLLIN), untimed, and the receiver's cut-back wakes it, twice, with no stale wake-up; %u frames in order (%d of 2 seen asleep, sender status %d%s%s)",
	   s->via, next - 1, asleep, r, why[0] ? ", " : "", why);
	transport_close(rx, NULL);
	rx = NULL;

	/* The receiver killed while the sender waits for room. */
	why[0] = 0;
	victim = spawn(child_receiver_to_kill, s, fds[1]);
	good = read_byte(fds[0]);
	pid = spawn(child_sender_room, s, fds[1] | 1 << 16);
	good = good && read_byte(fds[0]);	/* the victim took 1..3 */
	good = good && read_byte(fds[0]) && proc_await_syscall(pid, SYS_ppoll, 5000);
	kill(victim, SIGKILL);
	good = wait_status(victim) == 128 + SIGKILL && good;
	asleep = good && still_in_ppoll(pid);
	r = good ? open_as(s, TRANSPORT_RECEIVER, &rx) : -EIO;
	good = good && !r;
	/* From 4 on, in order, until the sender is gone and all is read:
	 * how many it sent before it was full depends on how far the victim
	 * had read by then. */
	next = 4;
	good = receive_until_gone(good, rx, pid, &next, &status, why,
				  sizeof(why));
	good = good && status == 0 && next > FILE_RECORD_UNREAD_MAX + 1;
	tap_ok(good && asleep,
	   "%s: with its receiver SIGKILLed a sender waiting for room sleeps on, and the next receiver's cut-back wakes it, none lost (%s asleep after the kill; seqnos 4 to %u in order; sender wait status %d%s%s)",
	   s->via, asleep ? "still" : "not", next - 1, status, why[0] ? "; " : "", why);
	transport_close(rx, NULL);
	close(fds[0]);
	close(fds[1]);
	tap_ok(!object_exists(s) && runtime_dir_entries(s) == 0,
	   "%s: after the room test nothing is left", s->via);
}

/* shared-file: the header's changing fields, read or written by hand. */
static bool file_header(int fd, struct file_record_header *hdr, bool write)
{
	ssize_t n = write ? pwrite(fd, hdr, sizeof(*hdr), 0) :
			    pread(fd, hdr, sizeof(*hdr), 0);

	return n == sizeof(*hdr);
}

/*
 * shared-file: what a buggy writer, a writer killed mid-append and a
 * stray tool leave in the file, made by hand: a published record whose
 * length lies is clamped; a dead writer's announced, unpublished append
 * neither wakes nor fools the reader and is written over by the next
 * sender; records cut off below the published end are counted once as
 * rejected and skipped, and frames flow on.
 */
static void test_shared_file_by_hand(struct subject *s, struct transport *rx,
				     struct transport *tx)
{
	uint8_t record[FILE_RECORD_SIZE], buf[IPC_MESSAGE_MAX_WIRE];
	struct file_record_header hdr;
	uint32_t huge = 0xffffffff;
	char path[PATH_MAX], why[PATH_MAX + 256] = "";
	uint64_t rejected = rx->rejected;
	ssize_t got = -EIO;
	bool good;
	int fd, r = -EIO;

	object_path(s, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	memset(record, 0x5a, sizeof(record));
	memcpy(record, &huge, sizeof(huge));
	if (fd >= 0 && file_header(fd, &hdr, false) &&
	    pwrite(fd, record, sizeof(record), hdr.end) == sizeof(record)) {
		hdr.end += FILE_RECORD_SIZE;
		if (file_header(fd, &hdr, true))
			got = transport_receive(rx, buf, sizeof(buf), 5000);
	}
	tap_ok(got == FILE_RECORD_FRAME_MAX,
	   "%s: a record with a garbled length is clamped to the record (got %zd)",
	   s->via, got);

	/* Killed mid-append: the end published, part of a record written. */
	good = fd >= 0 && file_header(fd, &hdr, false) &&
	       pwrite(fd, record, 100, hdr.end) == 100;
	hdr.end += FILE_RECORD_SIZE;
	good = good && file_header(fd, &hdr, true);
	got = good ? receive_seqno(rx, 50) : -EIO;
	tap_ok(got == -ETIMEDOUT && rx->rejected == rejected + 1,
	   "%s: a dead writer's torn record is not read, and counts one rejected (got %s, rejected +%llu)",
	   s->via, strerror(-got), (unsigned long long)(rx->rejected - rejected));
	r = good ? send_seqno(tx, 300) : -EIO;
	good = !r && receive_run(s, rx, 300, 1, 5000, why, sizeof(why));
	tap_ok(good, "%s: the next sender's frame, past the torn record, is read (%s)",
	   s->via, r ? strerror(-r) : good ? "ok" : why);

	/* Killed between publishing the end and its pwrite(): a hole. */
	rejected = rx->rejected;
	good = fd >= 0 && file_header(fd, &hdr, false);
	hdr.end += FILE_RECORD_SIZE;
	good = good && file_header(fd, &hdr, true);
	r = good ? send_seqno(tx, 310) : -EIO;
	good = !r && receive_run(s, rx, 310, 1, 5000, why, sizeof(why));
	tap_ok(good && rx->rejected == rejected + 1,
	   "%s: a hole a dead writer left below the end counts one rejected, and the frame after it is read (%s, rejected +%llu)",
	   s->via, r ? strerror(-r) : good ? "ok" : why,
	   (unsigned long long)(rx->rejected - rejected));

	/* Published records cut off by hand. */
	rejected = rx->rejected;
	r = send_seqno(tx, 301);
	if (!r)
		r = send_seqno(tx, 302);
	good = !r && fd >= 0 && file_header(fd, &hdr, false) &&
	       !ftruncate(fd, hdr.end - 2 * FILE_RECORD_SIZE);
	got = good ? receive_seqno(rx, 50) : -EIO;
	r = good ? send_seqno(tx, 303) : -EIO;
	good = got == -ETIMEDOUT && rx->rejected == rejected + 1 && !r &&
	       receive_run(s, rx, 303, 1, 5000, why, sizeof(why));
	tap_ok(good, "%s: records cut off by hand count one rejected, then frames flow (got %s, rejected +%llu, %s)",
	   s->via, strerror(-got), (unsigned long long)(rx->rejected - rejected),
	   r ? strerror(-r) : why[0] ? why : "ok");
	if (fd >= 0)
		close(fd);
}

/* Child: a receiver that says when it is ready, is told how many frames
 * to take (one byte on @sock), takes them, says so and waits for SIGKILL. */
static int child_receiver_takes(struct subject *s, int sock)
{
	struct transport *t;
	unsigned char count;
	char byte = 'r';

	alarm(120);
	if (open_as(s, TRANSPORT_RECEIVER, &t) < 0)
		return 10;
	if (write(sock, &byte, 1) != 1 || read(sock, &count, 1) != 1)
		return 11;
	for (int i = 0; i < count; i++)
		if (receive_seqno(t, 10000) < 0)
			return 12;
	if (write(sock, &byte, 1) != 1)
		return 13;
	pause();	/* until SIGKILL */
	return 14;
}

/* A receiver in a child takes @take of the frames @first.. (@sent of
 * them, sent first), then is SIGKILLed; the sender stays open in *@tx. */
static bool kill_receiver_after(struct subject *s, struct transport **tx,
				uint32_t first, int sent, unsigned char take)
{
	bool good;
	pid_t pid;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	pid = spawn(child_receiver_takes, s, sv[1]);
	close(sv[1]);
	good = read_byte(sv[0]);
	r = good && !*tx ? open_as(s, TRANSPORT_SENDER, tx) : 0;
	for (int i = 0; good && !r && i < sent; i++)
		r = send_seqno(*tx, first + i);
	good = good && !r && write(sv[0], &take, 1) == 1 && read_byte(sv[0]);
	kill(pid, SIGKILL);
	wait_status(pid);
	close(sv[0]);
	return good;
}

/*
 * shared-file, crashes and hostile headers: a receiver killed with
 * records taken but not yet handed over leaves them to the next one; a
 * receiver killed cutting the file back (end moved to the start, its read
 * offset not yet) loses nothing of what is appended after; a version 1
 * file is replaced; a header whose offsets point past the file or
 * nowhere is adopted without a crash and frames flow; a file removed or
 * made 0644 by hand is noticed by its receiver (inotify IN_ATTRIB), which
 * ends with -EIDRM, and its sender is told to reopen.
 */
static void test_shared_file_crashes(struct subject *s)
{
	struct transport *rx = NULL, *tx = NULL;
	char path[PATH_MAX], why[PATH_MAX + 256] = "";
	struct file_record_header hdr;
	int64_t got;
	bool good;
	int fd = -1, r;

	object_path(s, path, sizeof(path));
	/* 10 sent, the killed one took them all in one pread() and handed
	 * over 1. */
	good = kill_receiver_after(s, &tx, 1, 10, 1);
	r = good ? open_as(s, TRANSPORT_RECEIVER, &rx) : -EIO;
	good = !r && receive_run(s, rx, 2, 9, 5000, why, sizeof(why));
	got = good ? receive_seqno(rx, 0) : -EIO;
	tap_ok(good && got == -ETIMEDOUT,
	   "%s: a receiver killed holding 9 records it took but did not hand over leaves them to the next, none twice (%s, then %s)",
	   s->via, r ? strerror(-r) : good ? "ok" : why,
	   got < 0 ? strerror((int)-got) : "one more");
	transport_close(rx, NULL);
	rx = NULL;
	transport_close(tx, NULL);
	tx = NULL;

	/* Killed in file_record_trim() between the end and the read offset. */
	good = kill_receiver_after(s, &tx, 1, 70, 70);
	fd = good ? open(path, O_RDWR | O_CLOEXEC) : -1;
	good = fd >= 0 && file_header(fd, &hdr, false);
	hdr.read_offset = FILE_RECORD_START + 70 * FILE_RECORD_SIZE;
	hdr.end = FILE_RECORD_START;
	good = good && file_header(fd, &hdr, true);
	for (uint32_t n = 101; good && n <= 200; n++)
		good = !send_seqno(tx, n);
	r = good ? open_as(s, TRANSPORT_RECEIVER, &rx) : -EIO;
	good = !r && receive_run(s, rx, 101, 100, 5000, why, sizeof(why));
	tap_ok(good, "%s: after a receiver killed cutting the file back, the next gets all 100 frames appended since (%s)",
	   s->via, r ? strerror(-r) : good ? "ok" : why);
	if (fd >= 0)
		close(fd);
	transport_close(tx, NULL);
	tx = NULL;
	transport_close(rx, NULL);
	rx = NULL;

	/* A file of format version 1, then a header garbled beyond the file. */
	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = 0x49425346u;
	hdr.version = 1;
	hdr.record_size = FILE_RECORD_SIZE;
	hdr.creator_uid = geteuid();
	(void)unlink(path);	/* whatever a failure above left */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	good = fd >= 0 && file_header(fd, &hdr, true);
	if (fd >= 0)
		close(fd);
	r = good ? open_as(s, TRANSPORT_SENDER, &tx) : -EIO;
	tap_ok(r == -ENOENT, "%s: a sender does not use a version 1 file (got %s)",
	   s->via, strerror(-r));
	transport_close(tx, NULL);
	tx = NULL;
	r = good ? open_as(s, TRANSPORT_RECEIVER, &rx) : -EIO;
	fd = !r ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	good = fd >= 0 && file_header(fd, &hdr, false) && hdr.version != 1;
	tap_ok(good, "%s: a receiver replaces a version 1 file (%s)", s->via,
	   strerror(-r));
	if (fd >= 0)
		close(fd);
	transport_close(rx, NULL);
	rx = NULL;

	/* Its reader killed, the header garbled: end past the file's size,
	 * read offset off the records. */
	good = kill_receiver_after(s, &tx, 0, 0, 0);
	fd = good ? open(path, O_RDWR | O_CLOEXEC) : -1;
	good = fd >= 0 && file_header(fd, &hdr, false);
	hdr.end = FILE_RECORD_START + 100 * FILE_RECORD_SIZE;
	hdr.read_offset = 3;
	good = good && file_header(fd, &hdr, true);
	if (fd >= 0)
		close(fd);
	r = good ? open_as(s, TRANSPORT_RECEIVER, &rx) : -EIO;
	if (!r)
		r = send_seqno(tx, 500);
	good = !r && receive_run(s, rx, 500, 1, 5000, why, sizeof(why));
	tap_ok(good, "%s: a header with its end past the file and its offsets garbled is adopted, mended, and frames flow (%s)",
	   s->via, r ? strerror(-r) : good ? "ok" : why);

	/* Removed by hand while both run: no new sender could find it. */
	r = good ? send_seqno(tx, 501) : -EIO;
	good = !r && !unlink(path);
	got = good ? receive_seqno(rx, 5000) : -EIO;
	good = got == 501;
	got = good ? receive_seqno(rx, 5000) : got;
	tap_ok(good && got == -EIDRM && strstr(rx->detail, "was removed"),
	   "%s: a receiver whose file is removed by hand delivers what it holds, then says so (first %s, then %s, \"%s\")",
	   s->via, good ? "501" : "not 501", got < 0 ? strerror((int)-got) : "a frame",
	   rx->detail);
	transport_close(rx, NULL);
	r = tx ? send_seqno(tx, 502) : -EIO;
	tap_ok(r == -EPIPE, "%s: its sender then gets -EPIPE, to reopen (got %s)",
	   s->via, strerror(-r));
	transport_close(tx, NULL);
	tap_ok(runtime_dir_entries(s) == 0, "%s: nothing is left (entries: %d)",
	   s->via, runtime_dir_entries(s));

	/* Opened up by hand (chmod 0644): no new sender would trust it. */
	tx = rx = NULL;
	r = open_as(s, TRANSPORT_RECEIVER, &rx);
	r = r ? r : open_as(s, TRANSPORT_SENDER, &tx);
	r = r ? r : chmod(path, 0644) ? -errno : 0;
	got = r ? r : receive_seqno(rx, 5000);
	tap_ok(got == -EIDRM, "%s: a receiver whose file is made 0644 by hand says so (got %s, \"%s\")",
	   s->via, got < 0 ? strerror((int)-got) : "a frame", rx ? rx->detail : "");
	transport_close(rx, NULL);
	transport_close(tx, NULL);
	tap_ok(runtime_dir_entries(s) == 0, "%s: and it removes it (entries: %d)",
	   s->via, runtime_dir_entries(s));
}

/*
 * shared-file at its bound and with hostile paths: a file that holds
 * FILE_RECORD_KEPT_MAX records, read or not, refuses the sender (-EAGAIN)
 * until the receiver has read and cut it back, then takes frames again,
 * none lost; a symlink at the path is never followed (its target stays
 * as it was) and is replaced; a file of another user at the path is
 * replaced, never used.
 */
static void test_shared_file_bound_and_paths(struct subject *s)
{
	struct transport *rx = NULL, *tx = NULL;
	char path[PATH_MAX], target[PATH_MAX + 16], why[PATH_MAX + 256] = "";
	static const char bait[] = "not yours";
	struct file_record_header hdr;
	char back[sizeof(bait)] = "";
	struct stat sb;
	int fd, r, full, after;
	bool good;

	object_path(s, path, sizeof(path));
	/* A successor adopts a file with FILE_RECORD_KEPT_MAX - 1 kept. */
	good = kill_receiver_after(s, &tx, 0, 0, 0);
	fd = good ? open(path, O_RDWR | O_CLOEXEC) : -1;
	good = fd >= 0 && file_header(fd, &hdr, false);
	hdr.read_offset = hdr.end =
		FILE_RECORD_START + (FILE_RECORD_KEPT_MAX - 1) * FILE_RECORD_SIZE;
	good = good && file_header(fd, &hdr, true);
	if (fd >= 0)
		close(fd);
	r = good ? open_as(s, TRANSPORT_RECEIVER, &rx) : -EIO;
	r = r ? r : send_seqno(tx, 600);
	full = r ? r : send_seqno(tx, 601);
	good = !r && full == -EAGAIN && receive_run(s, rx, 600, 1, 5000, why, sizeof(why));
	/* All read: the next look cuts the file back, then there is room. */
	r = good ? (int)receive_seqno(rx, 0) : -EIO;
	after = r == -ETIMEDOUT ? send_seqno(tx, 601) : r;
	good = good && !after && receive_run(s, rx, 601, 1, 5000, why, sizeof(why));
	tap_ok(good, "%s: at %d records kept the sender gets -EAGAIN and keeps the frame, which goes once the receiver cut the file back (then %s, after %s, %s)",
	   s->via, FILE_RECORD_KEPT_MAX, strerror(-full), strerror(-after),
	   why[0] ? why : "ok");
	transport_close(tx, NULL);
	tx = NULL;
	transport_close(rx, NULL);
	rx = NULL;

	/* A symlink at the path, to a file the receiver must not touch. */
	snprintf(target, sizeof(target), "%s/bait", s->dir);
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	good = fd >= 0 && write(fd, bait, sizeof(bait)) == sizeof(bait);
	if (fd >= 0)
		close(fd);
	good = good && !symlink(target, path);
	r = good ? open_as(s, TRANSPORT_SENDER, &tx) : -EIO;
	tap_ok(r == -ENOENT, "%s: a sender does not follow a symlink at the path (got %s)",
	   s->via, strerror(-r));
	transport_close(tx, NULL);
	tx = NULL;
	r = good ? open_as(s, TRANSPORT_RECEIVER, &rx) : -EIO;
	good = !r && !lstat(path, &sb) && S_ISREG(sb.st_mode) &&
	       !stat(target, &sb) && sb.st_size == sizeof(bait);
	fd = open(target, O_RDONLY | O_CLOEXEC);
	good = good && fd >= 0 && read(fd, back, sizeof(back)) == sizeof(back) &&
	       !memcmp(back, bait, sizeof(bait));
	if (fd >= 0)
		close(fd);
	tap_ok(good, "%s: a receiver replaces a symlink at the path and leaves its target as it was (%s)",
	   s->via, strerror(-r));
	transport_close(rx, NULL);
	rx = NULL;
	unlink(target);

	/* A well-formed file of another user at the path. */
	if (geteuid() != 0) {
		tap_skip("making a file of another user needs root",
			 "%s: a file of another user is replaced", s->via);
		return;
	}
	r = open_as(s, TRANSPORT_RECEIVER, &rx);
	fd = !r ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	good = fd >= 0 && file_header(fd, &hdr, false);
	if (fd >= 0)
		close(fd);
	transport_close(rx, NULL);	/* removes it */
	rx = NULL;
	fd = good ? open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
	hdr.creator_uid = 65534;
	good = fd >= 0 && file_header(fd, &hdr, true) && !fchown(fd, 65534, 65534);
	if (fd >= 0)
		close(fd);
	r = good ? open_as(s, TRANSPORT_SENDER, &tx) : -EIO;
	tap_ok(r == -ENOENT, "%s: a sender does not use a file of another user (got %s)",
	   s->via, strerror(-r));
	transport_close(tx, NULL);
	tx = NULL;
	r = good ? open_as(s, TRANSPORT_RECEIVER, &rx) : -EIO;
	good = !r && !stat(path, &sb) && sb.st_uid == geteuid();
	tap_ok(good, "%s: a receiver replaces a file of another user with its own (%s)",
	   s->via, strerror(-r));
	transport_close(rx, NULL);
}

static void test_mechanism(struct subject *s)
{
	struct transport *rx = NULL, *rx2 = NULL, *tx = NULL, *tx2 = NULL;
	char why[PATH_MAX + 256] = "";
	int r, fds[2];
	pid_t pid;
	uint32_t n;
	bool good;

	tap_diag("%s in %s", s->via, s->dir);

	/* Order of opening. */
	r = open_as(s, TRANSPORT_SENDER, &tx);
	tap_ok(r == -ENOENT, "%s: a sender before the receiver gets -ENOENT (got %s)",
	   s->via, strerror(-r));
	if (!r)
		transport_close(tx, NULL);
	tx = NULL;

	r = open_as(s, TRANSPORT_RECEIVER, &rx);
	tap_ok(!r, "%s: the receiver opens (%s)", s->via, strerror(-r));
	if (r < 0)
		return;
	good = object_mode_0600(s, why, sizeof(why));
	tap_ok(good, "%s: the object is 0600, not in /tmp (%s)", s->via, why);
	r = open_as(s, TRANSPORT_RECEIVER, &rx2);
	tap_ok(r == -EBUSY, "%s: a second receiver is refused with -EBUSY (got %s)",
	   s->via, strerror(-r));
	if (!r)
		transport_close(rx2, NULL);

	/* 10,000 frames from another process, as fast as they go. */
	pid = spawn(child_send_many, s, MANY);
	good = receive_run(s, rx, 1, MANY, 10000, why, sizeof(why));
	r = wait_status(pid);
	tap_ok(good && !r, "%s: %d frames from another process arrive complete and in order%s%s",
	   s->via, MANY, good ? "" : ": ", good ? "" : why);
	if (r)
		tap_diag("sender child exited with %d", r);

	/* A new sender after the old one is gone; a second one is refused. */
	r = open_as(s, TRANSPORT_SENDER, &tx);
	tap_ok(!r, "%s: a new sender opens after the old one exited (%s)",
	   s->via, strerror(-r));
	if (r < 0)
		goto out;
	r = open_as(s, TRANSPORT_SENDER, &tx2);
	if (s->ring)
		tap_ok(r == -EBUSY, "%s: a second live sender is refused with -EBUSY (got %s)",
		   s->via, strerror(-r));
	else
		tap_ok(!r, "%s: a second sender may append too (%s)", s->via,
		   strerror(-r));
	if (!r)
		transport_close(tx2, NULL);

	/* Full: -EAGAIN, and nothing overwritten. */
	for (n = 0; n < 100000; n++)
		if ((r = send_seqno(tx, n + 1)) < 0)
			break;
	tap_ok(r == -EAGAIN && n == (s->ring ? RING_SLOTS : FILE_RECORD_UNREAD_MAX),
	   "%s: a full mechanism says -EAGAIN after %u frames (got %s)",
	   s->via, n, strerror(-r));
	good = receive_run(s, rx, 1, n, 5000, why, sizeof(why));
	tap_ok(good, "%s: all %u queued frames come out in order%s%s", s->via, n,
	   good ? "" : ": ", good ? "" : why);
	r = receive_seqno(rx, 0);
	tap_ok(r == -ETIMEDOUT, "%s: then it is empty: receive(0) says -ETIMEDOUT (got %s)",
	   s->via, strerror(-r));

	/* Frame sizes. */
	{
		uint8_t big[FRAME_RING_FRAME_MAX + 1], buf[IPC_MESSAGE_MAX_WIRE];
		ssize_t got;

		memset(big, 0xa5, sizeof(big));
		r = transport_send(tx, big, FRAME_RING_FRAME_MAX);
		got = r ? r : transport_receive(rx, buf, sizeof(buf), 5000);
		tap_ok(got == FRAME_RING_FRAME_MAX && !memcmp(buf, big, got),
		   "%s: a %d-byte frame crosses whole, for the decoder to judge (got %zd)",
		   s->via, FRAME_RING_FRAME_MAX, got);
		r = transport_send(tx, big, sizeof(big));
		tap_ok(r == -EMSGSIZE, "%s: a %zu-byte frame is refused with -EMSGSIZE (got %s)",
		   s->via, sizeof(big), strerror(-r));
	}

	/* A timeout is a timeout. */
	{
		uint64_t start = monotonic_ns();

		r = receive_seqno(rx, 50);
		tap_ok(r == -ETIMEDOUT && monotonic_ns() - start >= 50000000u,
		   "%s: receive(50 ms) on nothing waits and says -ETIMEDOUT (got %s)",
		   s->via, strerror(-r));
	}

	/* The receiver leaves: the sender must hear it, and lose nothing. */
	transport_close(rx, NULL);
	rx = NULL;
	tap_ok(!object_exists(s), "%s: a closed receiver leaves no object behind",
	   s->via);
	r = send_seqno(tx, 1);
	tap_ok(r == -EPIPE, "%s: the sender gets -EPIPE once the receiver closed (got %s)",
	   s->via, strerror(-r));
	transport_close(tx, NULL);
	tx = NULL;
	r = open_as(s, TRANSPORT_SENDER, &tx);
	tap_ok(r == -ENOENT, "%s: reopening before the new receiver gets -ENOENT (got %s)",
	   s->via, strerror(-r));
	if (!r)
		transport_close(tx, NULL);
	tx = NULL;
	r = open_as(s, TRANSPORT_RECEIVER, &rx);
	if (!r)
		r = open_as(s, TRANSPORT_SENDER, &tx);
	if (!r)
		r = send_seqno(tx, 1);
	good = !r && receive_run(s, rx, 1, 1, 5000, why, sizeof(why));
	tap_ok(good, "%s: a new receiver, and the reopened sender delivers (%s)",
	   s->via, r ? strerror(-r) : good ? "ok" : why);
	if (r < 0)
		goto out;

	/* A receiver killed with SIGKILL: queued frames survive. */
	transport_close(rx, NULL);
	rx = NULL;
	transport_close(tx, NULL);
	tx = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		goto out;
	pid = spawn(child_receiver_to_kill, s, fds[1]);
	close(fds[1]);
	good = read_byte(fds[0]);
	r = good ? open_as(s, TRANSPORT_SENDER, &tx) : -EIO;
	for (n = 1; !r && n <= 3; n++)
		r = send_seqno(tx, n);
	good = !r && read_byte(fds[0]);	/* it took 3 */
	kill(pid, SIGKILL);
	wait_status(pid);
	close(fds[0]);
	for (n = 4; good && n < 4 + 100; n++)
		good = !send_seqno(tx, n);
	tap_ok(good && object_exists(s),
	   "%s: with the receiver killed, the object stays and takes 100 frames",
	   s->via);
	r = open_as(s, TRANSPORT_RECEIVER, &rx);
	good = !r && receive_run(s, rx, 4, 100, 5000, why, sizeof(why));
	tap_ok(good, "%s: the next receiver adopts it and gets all 100 queued frames (%s)",
	   s->via, r ? strerror(-r) : good ? "ok" : why);
	r = rx ? send_seqno(tx, 104) : -EIO;
	good = !r && receive_run(s, rx, 104, 1, 5000, why, sizeof(why));
	tap_ok(good, "%s: the same sender goes on sending to the adopting receiver (%s)",
	   s->via, r ? strerror(-r) : good ? "ok" : why);

	/* Garbled shared state must not make the receiver misbehave. */
	if (s->ring && rx) {
		size_t size;
		uint8_t *mem = map_object(s, &size);
		struct frame_ring_header *hdr = (struct frame_ring_header *)mem;
		uint64_t rejected = rx->rejected;
		uint8_t buf[IPC_MESSAGE_MAX_WIRE];
		ssize_t got;

		if (mem) {
			atomic_store(&hdr->head, atomic_load(&hdr->tail) + 1000000);
			got = transport_receive(rx, buf, sizeof(buf), 0);
			tap_ok(got == -ETIMEDOUT && rx->rejected == rejected + 1,
			   "%s: impossible indices are counted and skipped, not followed (got %zd, rejected %llu)",
			   s->via, got, (unsigned long long)rx->rejected);
			r = send_seqno(tx, 200);
			if (r == -EPIPE) {
				transport_close(tx, NULL);
				tx = NULL;
				r = open_as(s, TRANSPORT_SENDER, &tx);
				if (!r)
					r = send_seqno(tx, 200);
			}
			good = !r && receive_run(s, rx, 200, 1, 5000, why, sizeof(why));
			tap_ok(good, "%s: after that the sender reopens and frames flow again (%s)",
			   s->via, r ? strerror(-r) : good ? "ok" : why);

			/* A slot length far beyond the slot. */
			r = send_seqno(tx, 201);
			if (!r) {
				uint32_t tail = atomic_load(&hdr->tail);
				uint8_t *slot = hdr->slots +
					(size_t)(tail & (hdr->slot_count - 1)) * hdr->slot_size;
				uint32_t huge = 0xffffffff;

				memcpy(slot, &huge, sizeof(huge));
			}
			got = r ? r : transport_receive(rx, buf, sizeof(buf), 5000);
			tap_ok(got == FRAME_RING_FRAME_MAX,
			   "%s: a garbled slot length is clamped to the slot (got %zd)",
			   s->via, got);
			unmap_object(s, mem, size);
		} else {
			tap_ok(false, "%s: map the object to garble it: %s", s->via,
			   strerror(errno));
		}
	} else if (rx && tx) {
		test_shared_file_by_hand(s, rx, tx);
	}

	/*
	 * A full ring whose object was removed by hand (ipcrm, rm): nobody
	 * will ever read it, so the sender must hear -EPIPE (reopen), not
	 * -EAGAIN (wait forever). shm-sysv: the segment only, its set stays.
	 */
	if (s->ring && rx && tx) {
		char path[PATH_MAX];
		int id;

		for (n = 0, r = 0; !r && n <= RING_SLOTS; n++)
			r = send_seqno(tx, 400 + n);
		good = r == -EAGAIN;
		if (!strcmp(s->via, "shm-sysv")) {
			id = shmget(sysv_key(s), 0, 0);
			good = good && id >= 0 && !shmctl(id, IPC_RMID, NULL);
		} else {
			object_path(s, path, sizeof(path));
			good = good && !unlink(path);
		}
		r = good ? send_seqno(tx, 400 + n) : -EIO;
		tap_ok(r == -EPIPE,
		   "%s: a full ring whose object was removed by hand gives the sender -EPIPE (got %s)",
		   s->via, strerror(-r));
	}
	transport_close(tx, NULL);
	tx = NULL;
	transport_close(rx, NULL);
	rx = NULL;
	tap_ok(!object_exists(s) && runtime_dir_entries(s) == 0,
	   "%s: after close nothing is left (runtime dir entries: %d)", s->via,
	   runtime_dir_entries(s));

	/* Stale and foreign objects. */
	good = plant_stale_object(s, 0600);
	r = good ? open_as(s, TRANSPORT_SENDER, &tx) : -EIO;
	tap_ok(r == -ENOENT, "%s: a sender does not use a stale object (got %s)",
	   s->via, strerror(-r));
	if (!r)
		transport_close(tx, NULL);
	tx = NULL;
	r = good ? open_as(s, TRANSPORT_RECEIVER, &rx) : -EIO;
	if (!r)
		r = open_as(s, TRANSPORT_SENDER, &tx);
	if (!r)
		r = send_seqno(tx, 7);
	good = !r && receive_run(s, rx, 7, 1, 5000, why, sizeof(why));
	tap_ok(good, "%s: a stale object left by a crash is replaced and works (%s)",
	   s->via, r ? strerror(-r) : good ? "ok" : why);
	transport_close(tx, NULL);
	tx = NULL;
	transport_close(rx, NULL);
	rx = NULL;
	good = plant_stale_object(s, 0644);
	r = good ? open_as(s, TRANSPORT_RECEIVER, &rx) : -EIO;
	good = !r && object_mode_0600(s, why, sizeof(why));
	tap_ok(good, "%s: an object with loose permissions is replaced by a 0600 one (%s)",
	   s->via, r ? strerror(-r) : good ? "ok" : why);
	transport_close(rx, NULL);
	rx = NULL;

	/* A stop signal ends a receive blocked without a timeout. */
	if (pipe2(fds, O_CLOEXEC) < 0)
		goto out;
	pid = spawn(child_receiver_stopped, s, fds[1]);
	close(fds[1]);
	good = read_byte(fds[0]);
	close(fds[0]);
	if (good)
		kill(pid, SIGTERM);
	r = wait_status(pid);
	tap_ok(good && r == 0, "%s: SIGTERM ends a blocked receive with -EINTR (child status %d)",
	   s->via, r);
	tap_ok(!object_exists(s) && runtime_dir_entries(s) == 0,
	   "%s: after SIGTERM nothing is left", s->via);
out:
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

/*
 * shared-file's send_many() and receive_many(): 1100 frames offered in
 * runs of up to 64 fill the file to FILE_RECORD_UNREAD_MAX in a few
 * pwrite()s, the run that does not fit is cut, not torn, and the receiver
 * takes them back in runs of 64, complete and in order.
 */
/* Child: a sender of its own span of seqnos, (@k << 20) + 1 and up. */
static int child_send_span(struct subject *s, int k)
{
	return send_span(s, (uint32_t)k << 20, WRITER_FRAMES);
}

/*
 * shared-file: three buttons appending at once, on both cores, across
 * many cut-backs and full files: every frame arrives once, each button's
 * in its order. An append is published before its pwrite(), so a reader
 * that looks meanwhile must wait for the record, never take or skip it.
 */
static void test_shared_file_writers(struct subject *s)
{
	uint32_t next[WRITERS] = { 0 }, got = 0, bad = 0;
	struct transport *rx = NULL;
	pid_t pids[WRITERS];
	int status = 0;
	int64_t seq = 0;

	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0) {
		tap_ok(false, "%s: a receiver for three buttons", s->via);
		return;
	}
	for (int k = 0; k < WRITERS; k++) {
		next[k] = 1;
		pids[k] = spawn(child_send_span, s, k);
	}
	while (got < WRITERS * WRITER_FRAMES && !bad) {
		uint32_t k, i;

		seq = receive_seqno(rx, 10000);
		if (seq < 0)
			break;
		k = (uint32_t)seq >> 20;
		i = (uint32_t)seq & 0xfffff;
		if (k >= WRITERS || i != next[k])
			bad++;
		else
			next[k]++;
		got++;
	}
	for (int k = 0; k < WRITERS; k++)
		status |= pids[k] < 0 ? -1 : wait_status(pids[k]);
	tap_ok(!bad && got == WRITERS * WRITER_FRAMES && !status &&
	       receive_seqno(rx, 0) == -ETIMEDOUT,
	   "%s: three buttons at once: %u frames, each once and each button's in order (%u taken, last %lld, %u out of order, children %d)",
	   s->via, WRITERS * WRITER_FRAMES, got, (long long)seq, bad, status);
	transport_close(rx, NULL);
}

static void test_shared_file_batches(struct subject *s)
{
	enum { N = FILE_RECORD_UNREAD_MAX + 76 };
	static uint8_t frames[N][IPC_MESSAGE_SIZE];
	static struct transport_batch batch;
	struct transport *rx = NULL, *tx = NULL;
	size_t sent = 0, calls = 0, got = 0, largest = 0;
	struct ipc_message m;
	ssize_t n;
	int r = 0;

	for (uint32_t i = 0; i < N; i++)
		frame_for(i + 1, frames[i]);
	if (open_as(s, TRANSPORT_RECEIVER, &rx) < 0 ||
	    open_as(s, TRANSPORT_SENDER, &tx) < 0) {
		tap_ok(false, "%s: open for the batch test", s->via);
		goto out;
	}
	while (sent < N && (r = transport_send_many(tx, frames[sent],
						   IPC_MESSAGE_SIZE, N - sent)) > 0) {
		sent += r;
		calls++;
	}
	tap_ok(sent == FILE_RECORD_UNREAD_MAX && r == -EAGAIN &&
	       calls <= (FILE_RECORD_UNREAD_MAX + 63) / 64,
	   "%s: send_many appends runs of up to 64 records until the file is full (%zu frames in %zu calls, then %s)",
	   s->via, sent, calls, strerror(-r));
	while (got < sent && (n = transport_receive_many(rx, &batch, 5000)) > 0) {
		for (ssize_t i = 0; i < n; i++, got++)
			if (ipc_message_decode(batch.frame[i], batch.len[i], &m) !=
			    IPC_MESSAGE_OK || m.seqno != got + 1)
				break;
		if ((size_t)n > largest)
			largest = n;
	}
	tap_ok(got == sent && largest == TRANSPORT_BATCH_MAX,
	   "%s: receive_many takes them back in order, up to %d in one call (%zu of %zu, largest %zu)",
	   s->via, TRANSPORT_BATCH_MAX, got, sent, largest);
	r = receive_seqno(rx, 0);
	tap_ok(r == -ETIMEDOUT, "%s: then it is empty (%s)", s->via, strerror(-r));
out:
	transport_close(tx, NULL);
	transport_close(rx, NULL);
}

static bool make_runtime_dir(struct subject *s)
{
	const char *base = getenv("XDG_RUNTIME_DIR");

	if (!base || access(base, W_OK))
		base = "/run";
	snprintf(s->dir, sizeof(s->dir), "%s/ipc-button-test.XXXXXX", base);
	if (!mkdtemp(s->dir)) {
		fprintf(stderr, "memory-transports: runtime dir in %s: %s\n",
			base, strerror(errno));
		return false;
	}
	snprintf(s->instance, sizeof(s->instance), "test%d", (int)getpid());
	s->config.runtime_dir = s->dir;
	s->config.instance = s->instance;
	s->config.inherited_fd = -1;
	return true;
}

/* Leave nothing, even after a failed test. */
static void remove_everything(struct subject *s)
{
	char path[PATH_MAX];
	int key = sysv_key(s), id;

	if ((id = semget(key, 0, 0)) >= 0)
		semctl(id, 0, IPC_RMID);
	if ((id = shmget(key, 0, 0)) >= 0)
		shmctl(id, IPC_RMID, NULL);
	object_path(s, path, sizeof(path));
	if (!strncmp(path, "/dev/shm/", 9) || !strncmp(path, s->dir, strlen(s->dir)))
		unlink(path);
	rmdir(s->dir);
}

int main(int argc, char **argv)
{
	static const char *const all[] = { "shared-file", "shm-sysv", "shm-posix", "mmap" };
	const char *const *vias = argc > 1 ? (const char *const *)argv + 1 : all;
	size_t count = argc > 1 ? (size_t)argc - 1 : sizeof(all) / sizeof(all[0]);

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < count; i++) {
		struct subject s = { .via = vias[i] };

		s.ops = transport_find(vias[i]);
		if (!s.ops) {
			tap_ok(false, "%s: registered", vias[i]);
			continue;
		}
		s.ring = strcmp(vias[i], "shared-file") != 0;
		if (!make_runtime_dir(&s)) {
			tap_ok(false, "%s: a runtime directory for the test", vias[i]);
			continue;
		}
		test_mechanism(&s);
		if (!s.ring) {
			test_shared_file_batches(&s);
			test_shared_file_writers(&s);
			test_shared_file_crashes(&s);
			test_shared_file_bound_and_paths(&s);
			test_shared_file_let_in(&s);
			test_shared_file_room_wakes(&s);
		}
		remove_everything(&s);
	}
	return tap_done();
}
