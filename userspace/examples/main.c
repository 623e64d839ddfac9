// SPDX-License-Identifier: MIT
/*
 * ipc-lesson: runs one lesson end to end. The parent opens the receiver
 * (which creates the object), forks a sender that opens it and sends a few
 * presses, prints each press as it arrives, then closes the receiver (which
 * removes the object) and checks that nothing was left in its directory.
 *
 *   ipc-lesson MECHANISM [KEY=VALUE]...    e.g. ipc-lesson fifo
 *   ipc-lesson --list
 */
#include "lesson.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PRESSES		3
#define RECEIVE_MS	5000	/* what a lossy receive waits for a press */
#define WATCHDOG_S	30	/* a blocking lesson whose sender died ends here */

static void usage(FILE *out)
{
	fprintf(out,
"Usage: ipc-lesson MECHANISM [KEY=VALUE]...\n"
"       ipc-lesson --list | --help\n"
"Runs the lesson of one IPC mechanism: a receiver creates the object, a\n"
"forked sender sends %d button presses through it, the receiver prints\n"
"each one, then removes the object. Exit status 0 when every press arrived\n"
"and nothing was left behind.\n"
"Options some lessons read: port=N (tcp, udp, tls, mqtt), host=NAME (mqtt),\n"
"bus=ADDRESS (dbus; default $DBUS_SESSION_BUS_ADDRESS), cert-dir=DIR (tls).\n"
"Its files live in a new directory in $TMPDIR (default /tmp).\n",
		PRESSES);
}

static int list(void)
{
	const struct lesson_ops *const *all;
	size_t n;

	all = lesson_all(&n);
	for (size_t i = 0; i < n; i++)
		printf("%s%s%s\n", all[i]->name, all[i]->needs ? "\tneeds " : "",
		       all[i]->needs ? all[i]->needs : "");
	return 0;
}

/* The child: open the sender, send the presses, wait for the receiver's word. */
static int run_sender(struct lesson *l, int done_fd)
{
	char byte;
	int r;

	r = lesson_open(l);
	if (r < 0) {
		fprintf(stderr, "ipc-lesson: %s: sender: %s\n", l->ops->name, strerror(-r));
		return 1;
	}
	for (uint64_t press = 1; press <= PRESSES && r == 0; press++)
		r = l->ops->send(l, press);
	if (r < 0)
		fprintf(stderr, "ipc-lesson: %s: send: %s\n", l->ops->name, strerror(-r));
	/* Closing may drop what a library still queues: wait until it arrived. */
	while (read(done_fd, &byte, 1) < 0 && errno == EINTR)
		;
	lesson_close(l);
	return r < 0;
}

static int run(const struct lesson_ops *ops, const char *const *options)
{
	_Atomic int32_t receiver_pid = getpid();
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX], instance[32];
	struct lesson rx = { .ops = ops, .receiver = true, .dir = dir,
			     .instance = instance, .inherited_fd = -1,
			     .options = options, .receiver_pid = &receiver_pid };
	struct lesson tx = rx;
	int pair[2] = { -1, -1 }, done[2], arrived = 0, status, r;
	pid_t pid;

	snprintf(instance, sizeof(instance), "%d", (int)getpid());
	snprintf(dir, sizeof(dir), "%s/ipc-lesson.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || pipe2(done, O_CLOEXEC) < 0) {
		fprintf(stderr, "ipc-lesson: %s\n", strerror(errno));
		return 1;
	}
	r = ops->make_pair ? ops->make_pair(pair) : 0;
	rx.inherited_fd = pair[0];
	if (r == 0)
		r = lesson_open(&rx);
	if (r < 0) {
		fprintf(stderr, "ipc-lesson: %s: receiver: %s%s%s\n", ops->name,
			strerror(-r), ops->needs ? "; needs " : "",
			ops->needs ? ops->needs : "");
		rmdir(dir);
		return 1;
	}
	printf("%s: receiver %d opened it; a sender sends %d presses\n",
	       ops->name, (int)getpid(), PRESSES);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(done[1]);
		if (pair[0] >= 0)
			close(pair[0]);
		tx.receiver = false;
		tx.inherited_fd = pair[1];
		_exit(run_sender(&tx, done[0]));
	}
	close(done[0]);
	if (pair[1] >= 0)
		close(pair[1]);
	if (pid < 0) {
		fprintf(stderr, "ipc-lesson: fork: %s\n", strerror(errno));
		lesson_close(&rx);
		rmdir(dir);
		return 1;
	}
	alarm(WATCHDOG_S);
	for (int i = 0; i < PRESSES; i++) {
		uint64_t value;

		r = ops->receive(&rx, &value, RECEIVE_MS);
		if (r == -ETIMEDOUT) {
			printf("%s: no press within %d ms%s\n", ops->name, RECEIVE_MS,
			       ops->lossy ? " (datagrams may be lost)" : "");
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "ipc-lesson: %s: receive: %s\n", ops->name,
				strerror(-r));
			break;
		}
		printf("%s: press %llu arrived\n", ops->name, (unsigned long long)value);
		arrived++;
	}
	close(done[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	lesson_close(&rx);
	if (rmdir(dir) < 0) {
		fprintf(stderr, "ipc-lesson: %s: %s left behind: %s\n", ops->name,
			dir, strerror(errno));
		return 1;
	}
	printf("%s: %d of %d presses arrived, nothing left behind\n",
	       ops->name, arrived, PRESSES);
	return arrived == PRESSES && WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : 1;
}

int main(int argc, char **argv)
{
	const struct lesson_ops *ops;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--list"))
		return list();
	ops = lesson_find(argv[1]);
	if (!ops) {
		fprintf(stderr, "ipc-lesson: no lesson '%s' (ipc-lesson --list)\n", argv[1]);
		return 2;
	}
	for (int i = 2; i < argc; i++)
		if (!strchr(argv[i], '=')) {
			fprintf(stderr, "ipc-lesson: '%s' is not KEY=VALUE\n", argv[i]);
			return 2;
		}
	return run(ops, (const char *const *)argv + 2);
}
