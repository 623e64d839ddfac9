// SPDX-License-Identifier: MIT
/*
 * wake-anywhere: the receivers that sleep in their mechanism's own
 * receiving call, with the stop signals let in for good
 * (TRANSPORT_WAKE_ANYWHERE), where a stop swaps the descriptor for an
 * ended pipe (lib/wake_fd.h): udp, udp-broadcast, udp-multicast and unix,
 * through the transport interface, as the LED uses it, printing TAP.
 *
 *   wake-anywhere [VIA...]      (default: the four)
 *
 * Per mechanism, each receiver in a child process of its own:
 *  - a stop that lands before the receive (the receiver raises it itself,
 *    then a frame is sent) ends that receive at once with -EINTR; after
 *    transport_unwake() and stop_rearm(), as the LED's drain does, the
 *    frame is received (the stop lost nothing), and a second stop ends a
 *    wait again; with a sender connected, and (unix) with none yet;
 *  - untimed, the receiver is seen asleep in the receiving call itself
 *    (recvmsg, unix: recvfrom), no ppoll() before it, and a stop signal
 *    sent then ends it with -EINTR; udp also timed (its socket's own
 *    timeout), where unix waits in ppoll();
 *  - a timed receive with nothing sent ends with -ETIMEDOUT.
 * Ports are free ones the kernel gives, the runtime directory a fresh one,
 * so concurrent runs never meet.
 */
#include "lib/tap.h"
#include "lib/proc_syscall.h"
#include "../../userspace/ipc/transport.h"
#include "../../userspace/lib/message.h"
#include "../../userspace/lib/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS		10000	/* upper bound of one wait: fail, never hang */

struct subject {
	const struct transport_ops *ops;
	const char *via;
	char dir[PATH_MAX / 2];
	char instance[32];
	char port[16];
	const char *options[2];
	struct transport_config config;
	bool unix_socket;
};

struct job {
	int ready[2];
	bool before;		/* the stop comes before the receive */
	bool connected;		/* a sender is there (unix: accepted) */
	int timeout_ms;		/* of the receive that the stop ends */
	bool nothing;		/* no stop: the receive must time out */
};

static int open_as(struct subject *s, enum transport_role role,
		   struct transport **ret)
{
	return transport_open(s->ops, role, &s->config, ret, NULL);
}

static int send_event(struct transport *tx, uint32_t seqno)
{
	struct ipc_message msg = {
		.type = seqno % 2 ? IPC_EVENT_PRESS : IPC_EVENT_RELEASE,
		.led_state = (seqno / 2 + seqno % 2) % 2,
		.seqno = seqno,
	};
	uint8_t frame[IPC_MESSAGE_SIZE];

	ipc_message_encode(&msg, frame);
	return transport_send(tx, frame, sizeof(frame));
}

/* Receive one frame within WAIT_MS: its seqno, or 0. */
static uint32_t receive_seqno(struct transport *rx, int timeout_ms)
{
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	struct ipc_message msg;
	ssize_t n = transport_receive(rx, buf, sizeof(buf), timeout_ms);

	if (n <= 0 || ipc_message_decode(buf, (size_t)n, &msg) != IPC_MESSAGE_OK)
		return 0;
	return msg.seqno;
}

static void put_byte(int fd)
{
	(void)!write(fd, "x", 1);
}

/* The receiver, as the LED is: its exit status says what went wrong. */
static int receiver_child(struct subject *s, struct job *job)
{
	struct transport *rx, *tx = NULL;
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	int status = 0;
	ssize_t n;

	if (stop_init() < 0 || open_as(s, TRANSPORT_RECEIVER, &rx) < 0)
		return 40;
	if (transport_arm_stop(rx) < 0 || !stop_is_let_in())
		return 41;
	if (job->connected || job->before) {
		if (open_as(s, TRANSPORT_SENDER, &tx) < 0)
			return 42;
	}
	if (job->connected) {
		if (send_event(tx, 1) < 0 || receive_seqno(rx, WAIT_MS) != 1)
			return 43;
	}
	if (job->before) {
		raise(SIGTERM);		/* let in: handled here, now */
		if (send_event(tx, 2) < 0)
			return 44;
	}
	put_byte(job->ready[1]);
	n = transport_receive(rx, buf, sizeof(buf), job->timeout_ms);
	if (job->nothing)
		status = n == -ETIMEDOUT ? 0 : 45;
	else if (n != -EINTR)
		status = 46;
	if (!job->nothing && !status) {
		/* The LED's drain: the descriptor back, the stop taken. */
		transport_unwake(rx);
		stop_rearm();
		if (job->before && receive_seqno(rx, WAIT_MS) != 2)
			status = 47;
		raise(SIGTERM);		/* a second stop wakes again */
		n = transport_receive(rx, buf, sizeof(buf), -1);
		if (!status && n != -EINTR)
			status = 48;
	}
	/* As the LED: what it made goes, whatever happened. */
	transport_close(tx, NULL);
	transport_close(rx, NULL);
	return status;
}

/* The child's exit status (128 + signal when killed); kills it on timeout. */
static int reap(pid_t pid)
{
	int pidfd = pidfd_open(pid, 0), status = 0;
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd >= 0) {
		if (poll(&p, 1, WAIT_MS) == 0)
			kill(pid, SIGKILL);
		close(pidfd);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}

/*
 * One receiver: started, ready, then (unless the stop came before, or
 * none is due) seen asleep in system call @nr (0: not looked for) and
 * stopped. Returns its exit status; *@asleep whether it was seen so.
 */
static int run(struct subject *s, struct job *job, long nr, bool *asleep)
{
	struct pollfd p;
	pid_t child;
	char c;

	*asleep = false;
	if (pipe2(job->ready, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	child = fork();
	if (child == 0)
		_exit(receiver_child(s, job));
	close(job->ready[1]);
	p = (struct pollfd){ .fd = job->ready[0], .events = POLLIN };
	if (child > 0 && poll(&p, 1, WAIT_MS) == 1 &&
	    read(job->ready[0], &c, 1) == 1 && !job->before && !job->nothing) {
		*asleep = nr && proc_await_syscall(child, nr, WAIT_MS);
		kill(child, SIGTERM);
	}
	close(job->ready[0]);
	return child > 0 ? reap(child) : -1;
}

static void test_subject(struct subject *s)
{
	long sleeper = s->unix_socket ? SYS_recvfrom : SYS_recvmsg;
	const char *call = s->unix_socket ? "recv()" : "recvmsg()";
	struct job job = { .before = true, .connected = true, .timeout_ms = -1 };
	bool asleep;
	int st;

	st = run(s, &job, 0, &asleep);
	tap_ok(st == 0, "%s: a stop before an untimed receive ends it at once with -EINTR; the frame sent after it is received after unwake, and a second stop wakes again (status %d)",
	       s->via, st);
	if (s->unix_socket) {
		job = (struct job){ .before = true, .timeout_ms = -1 };
		st = run(s, &job, 0, &asleep);
		tap_ok(st == 0, "%s: the same with no sender connected yet: the stop ends the wait on the listening socket, the sender is accepted after (status %d)",
		       s->via, st);
	}
	job = (struct job){ .connected = true, .timeout_ms = -1 };
	st = run(s, &job, sleeper, &asleep);
	tap_ok(st == 0 && asleep, "%s: an untimed receive sleeps in %s itself (%s) and a stop ends it with -EINTR (status %d)",
	       s->via, call, asleep ? "seen" : "not seen", st);
	job = (struct job){ .connected = true, .timeout_ms = WAIT_MS };
	st = run(s, &job, s->unix_socket ? SYS_ppoll : SYS_recvmsg, &asleep);
	tap_ok(st == 0 && asleep, "%s: a timed receive sleeps in %s (%s) and a stop ends it with -EINTR (status %d)",
	       s->via, s->unix_socket ? "ppoll()" : "recvmsg() under SO_RCVTIMEO",
	       asleep ? "seen" : "not seen", st);
	if (s->unix_socket) {
		job = (struct job){ .timeout_ms = -1 };
		st = run(s, &job, SYS_ppoll, &asleep);
		tap_ok(st == 0 && asleep, "%s: with no sender, the receiver waits on the listening socket in ppoll() (%s) and a stop ends it (status %d)",
		       s->via, asleep ? "seen" : "not seen", st);
	}
	job = (struct job){ .connected = true, .timeout_ms = 200, .nothing = true };
	st = run(s, &job, 0, &asleep);
	tap_ok(st == 0, "%s: a timed receive with nothing sent ends with -ETIMEDOUT (status %d)",
	       s->via, st);
}

/* A UDP port nobody uses now: the kernel's pick. */
static int free_udp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int subject_init(struct subject *s, const char *via)
{
	const char *root = getenv("XDG_RUNTIME_DIR");
	int n;

	memset(s, 0, sizeof(*s));
	s->via = via;
	s->ops = transport_find(via);
	if (!s->ops)
		return -ENOENT;
	if (!root || access(root, W_OK) < 0)
		root = "/run";
	n = snprintf(s->dir, sizeof(s->dir), "%s/ipc-button-wa.XXXXXX", root);
	if (n < 0 || (size_t)n >= sizeof(s->dir))
		return -ENAMETOOLONG;
	if (!mkdtemp(s->dir))
		return -errno;
	snprintf(s->instance, sizeof(s->instance), "wa%d", (int)getpid());
	s->unix_socket = !strcmp(via, "unix");
	if (!s->unix_socket) {
		snprintf(s->port, sizeof(s->port), "port=%d", free_udp_port());
		s->options[0] = s->port;
	}
	s->config.runtime_dir = s->dir;
	s->config.instance = s->instance;
	s->config.inherited_fd = -1;
	s->config.options = s->options;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const all[] = { "udp", "udp-broadcast",
					   "udp-multicast", "unix" };
	int count = argc > 1 ? argc - 1 : (int)(sizeof(all) / sizeof(all[0]));

	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < count; i++) {
		const char *via = argc > 1 ? argv[i + 1] : all[i];
		struct subject s;
		int r = subject_init(&s, via);

		if (r < 0) {
			tap_ok(false, "%s: set up (%s)", via, strerror(-r));
			continue;
		}
		test_subject(&s);
		if (rmdir(s.dir) < 0)
			tap_ok(false, "%s: the runtime directory is left empty (%s)",
			       via, strerror(errno));
	}
	return tap_done();
}
