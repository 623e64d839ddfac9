// SPDX-License-Identifier: MIT
/*
 * ipc-launch: runs the LED process, then (once it is receiving) the button
 * process, for one mechanism. For pipe and socketpair it creates the pair
 * and hands each child its end (--fd N; only that descriptor loses its
 * close-on-exec flag, in that child). It forwards SIGINT, SIGTERM and
 * SIGHUP, stops the other child when one ends (but for the LED of a pipe
 * or socketpair, which reads to the end of file the button's end leaves),
 * reaps both and exits with a status that says who failed.
 */
#include "cli.h"
#include "log.h"
#include "stop.h"
#include "transport.h"
#include "fd_wait.h"

#include <errno.h>
#include <systemd/sd-daemon.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	OPT_BUTTON_ARG = CLI_OPT_FIRST_PROGRAM,
	OPT_LED_ARG,
};

static const struct option long_options[] = {
	CLI_COMMON_OPTIONS,
	CLI_BUTTON_OPTIONS,
	CLI_LED_OPTIONS,
	{ "button-arg", required_argument, NULL, OPT_BUTTON_ARG },
	{ "led-arg", required_argument, NULL, OPT_LED_ARG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: ipc-launch --via NAME [button options] [LED options] [options]\n"
"\n"
"Runs the LED process (ipc-led) and, once it receives, the button process\n"
"(ipc-button) for the IPC mechanism NAME, from the directory this program\n"
"is in. Needed for pipe and socketpair, whose descriptors it creates and\n"
"hands over; convenient for all. Ctrl-C, SIGTERM or SIGHUP stop both; when\n"
"one of them ends, the other is stopped (SIGTERM; the LED first applies what\n"
"is already queued), but for pipe and socketpair the button's end is the\n"
"LED's end of file, and the LED applies everything before it ends.\n"
"\n"
"Button (passed to ipc-button): --device PATH | --stdin | --synthetic N,\n"
"  --backlog N\n"
"LED (passed to ipc-led): --line NAME | --chip PATH --offset N | --console,\n"
"  --active-low, --quiet, --count N\n"
"  --button-arg ARG, --led-arg ARG\n"
"                     pass any other argument to that program; repeatable\n"
"\n"
CLI_COMMON_HELP
"  -h, --help         this text\n"
"\n"
"Examples:\n"
"  ipc-launch --via fifo --stdin --console   (PC mode: Enter is a click)\n"
"  ipc-launch --via unix                     (driver and GPIO18)\n"
"\n"
"Exit status: 0 when both ended well (or were stopped on request); else the\n"
"status of the first to fail (128+N if killed by signal N); 1 on the\n"
"launcher's own errors, 2 on a usage error.\n");
}

struct argv_builder {
	char **argv;
	size_t n;
};

static int argv_add(struct argv_builder *a, const char *arg)
{
	char **grown = realloc(a->argv, (a->n + 2) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	grown[a->n] = strdup(arg);
	if (!grown[a->n]) {
		a->argv = grown;
		return -ENOMEM;
	}
	grown[++a->n] = NULL;
	a->argv = grown;
	return 0;
}

static void argv_free(struct argv_builder *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->argv[i]);
	free(a->argv);
	a->argv = NULL;
	a->n = 0;
}

struct child {
	const char *name;	/* "ipc-led" */
	pid_t pid;
	bool running;
	bool stopped_by_us;
	int status;		/* our exit-status view of it */
};

struct launch {
	struct cli_common cli;
	struct argv_builder button_extra;	/* program options from our command line */
	struct argv_builder led_extra;
	struct argv_builder button_args;	/* the command lines we run */
	struct argv_builder led_args;
	char bin_dir[PATH_MAX];
	struct child led;
	struct child button;
	int failed_status;	/* of the first child that failed, 0 if none */
	int child_fd;		/* signalfd: SIGCHLD, a child ended */
	sigset_t wait_mask;	/* stop signals and SIGCHLD let in */
};

static int parse_args(struct launch *la, int argc, char **argv)
{
	struct argv_builder *to;
	int opt, r;

	for (;;) {
		opt = getopt_long(argc, argv, "h", long_options, NULL);
		if (opt == -1)
			break;
		to = NULL;
		switch (opt) {
		case CLI_OPT_DEVICE:
		case CLI_OPT_STDIN:
		case CLI_OPT_SYNTHETIC:
		case CLI_OPT_BACKLOG:
			to = &la->button_extra;
			break;
		case CLI_OPT_LINE:
		case CLI_OPT_CHIP:
		case CLI_OPT_OFFSET:
		case CLI_OPT_ACTIVE_LOW:
		case CLI_OPT_CONSOLE:
		case CLI_OPT_QUIET:
		case CLI_OPT_COUNT:
			to = &la->led_extra;
			break;
		case OPT_BUTTON_ARG:
			if (argv_add(&la->button_extra, optarg) < 0)
				return -ENOMEM;
			continue;
		case OPT_LED_ARG:
			if (argv_add(&la->led_extra, optarg) < 0)
				return -ENOMEM;
			continue;
		case 'h':
			usage(stdout);
			return 1;
		default:
			r = cli_common_parse(&la->cli, opt, optarg);
			if (r < 0)
				return r;
			continue;
		}
		/* A program option: pass it on as written, with its value. */
		for (const struct option *o = long_options; o->name; o++) {
			if (o->val != opt)
				continue;
			char flag[64];

			snprintf(flag, sizeof(flag), "--%s", o->name);
			if (argv_add(to, flag) < 0 ||
			    (o->has_arg && argv_add(to, optarg) < 0))
				return -ENOMEM;
			break;
		}
	}
	return cli_common_operands(argc, argv);
}

/* The directory of this program: the other two live next to it. */
static int find_bin_dir(struct launch *la)
{
	ssize_t n = readlink("/proc/self/exe", la->bin_dir, sizeof(la->bin_dir) - 1);
	char *slash;

	if (n < 0) {
		log_errno(errno, "/proc/self/exe");
		return -errno;
	}
	la->bin_dir[n] = '\0';
	slash = strrchr(la->bin_dir, '/');
	if (slash)
		*slash = '\0';
	return 0;
}

/* The arguments every child gets: the same mechanism, directory, instance. */
static int common_args(struct launch *la, struct argv_builder *a,
		       const char *program, int fd,
		       const struct argv_builder *extra)
{
	char path[PATH_MAX + 32], num[16];
	int r = 0;

	snprintf(path, sizeof(path), "%s/%s", la->bin_dir, program);
	r |= argv_add(a, path);
	r |= argv_add(a, "--via");
	r |= argv_add(a, la->cli.ops->name);
	r |= argv_add(a, "--runtime-dir");
	r |= argv_add(a, la->cli.runtime_dir);
	r |= argv_add(a, "--instance");
	r |= argv_add(a, la->cli.instance);
	for (size_t i = 0; i < la->cli.n_options; i++) {
		r |= argv_add(a, "--opt");
		r |= argv_add(a, la->cli.options[i]);
	}
	if (fd >= 0) {
		snprintf(num, sizeof(num), "%d", fd);
		r |= argv_add(a, "--fd");
		r |= argv_add(a, num);
	}
	if (la->cli.verbose)
		r |= argv_add(a, "--verbose");
	for (size_t i = 0; i < extra->n; i++)
		r |= argv_add(a, extra->argv[i]);
	return r ? -ENOMEM : 0;
}

/*
 * Start @program with @args, handing it @pass_fds (-1 for none); only
 * those lose close-on-exec, and only in the child.
 */
static int spawn(struct child *c, char *const argv[], const int pass_fds[2])
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		stop_reset_for_exec();
		/* systemd hears readiness from the launcher, not its children. */
		unsetenv("NOTIFY_SOCKET");
		for (int i = 0; i < 2; i++)
			if (pass_fds[i] >= 0 && fcntl(pass_fds[i], F_SETFD, 0) < 0)
				_exit(127);
		execv(argv[0], argv);
		fprintf(stderr, "ipc-launch: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	c->pid = pid;
	c->running = true;
	return 0;
}

static void stop_child(struct child *c)
{
	if (!c->running || c->stopped_by_us)
		return;
	c->stopped_by_us = true;
	log_verbose("stopping %s (pid %d)", c->name, (int)c->pid);
	(void)kill(c->pid, SIGTERM);
}

/* Record how @c ended, from its wait status. */
static void ended(struct launch *la, struct child *c, int wstatus)
{
	if (WIFEXITED(wstatus)) {
		c->status = WEXITSTATUS(wstatus);
	} else if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);

		/* Stopped on request is a normal end. */
		c->status = (sig == SIGTERM && c->stopped_by_us) ? 0 : 128 + sig;
		if (c->status)
			log_error("%s was killed by signal %d (%s)", c->name, sig,
				  strsignal(sig));
	}
	c->running = false;
	if (c->status && !la->failed_status)
		la->failed_status = c->status;
	log_verbose("%s ended with status %d", c->name, c->status);
}

/* Wait for @c to end, however long it takes. */
static void reap(struct launch *la, struct child *c)
{
	int wstatus;

	while (waitpid(c->pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			log_errno(errno, "waitpid %s", c->name);
			c->running = false;
			return;
		}
	}
	ended(la, c, wstatus);
}

/* Collect any child that ended, without waiting. Returns how many. */
static int reap_ended(struct launch *la)
{
	struct child *children[] = { &la->button, &la->led };
	int n = 0, wstatus;

	for (size_t i = 0; i < 2; i++) {
		struct child *c = children[i];

		if (c->running && waitpid(c->pid, &wstatus, WNOHANG) == c->pid) {
			ended(la, c, wstatus);
			n++;
		}
	}
	return n;
}

/*
 * Wait for the LED's ready byte, or its death (end of file). Returns 0
 * when ready, 1 when it ended first, or a negative errno.
 */
static int wait_ready(struct launch *la, int ready_fd)
{
	char byte;

	for (;;) {
		ssize_t n = read(ready_fd, &byte, 1);
		int r;

		if (n == 1)
			return 0;
		if (n == 0) {
			reap(la, &la->led);
			if (stop_requested())
				return 1;	/* stopped on request: no failure */
			log_error("ipc-led ended (status %d) before it was ready",
				  la->led.status);
			if (!la->failed_status)
				la->failed_status = 1;
			return 1;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		r = fd_wait(ready_fd, POLLIN, -1, NULL);
		if (r == -EINTR) {
			stop_child(&la->led);
			continue;	/* its death closes the pipe */
		}
		if (r < 0)
			return r;
	}
}

/*
 * Until both children ended: forward stops, stop one when the other ends.
 * SIGCHLD arrives through a signalfd, let in atomically with the stop
 * signals by ppoll (pidfds would do too, but valgrind does not know them).
 */
static int supervise(struct launch *la)
{
	bool forwarded = false;

	while (la->led.running || la->button.running) {
		struct pollfd pfd = { .fd = la->child_fd, .events = POLLIN };
		struct signalfd_siginfo info;

		if (stop_requested() && !forwarded) {
			forwarded = true;
			stop_child(&la->button);
			stop_child(&la->led);
		}
		if (!reap_ended(la) &&
		    ppoll(&pfd, 1, NULL, &la->wait_mask) < 0 && errno != EINTR)
			return -errno;
		while (read(la->child_fd, &info, sizeof(info)) > 0)
			;	/* SIGCHLDs merge: waitpid tells who ended */
		if (!la->led.running)
			stop_child(&la->button);
		/* An inherited pair's LED reads to the end of file the button's
		 * end leaves: all it was sent, more than a stop's drain takes. */
		if (!la->button.running &&
		    !(la->cli.ops->flags & TRANSPORT_INHERITED))
			stop_child(&la->led);
	}
	return 0;
}

/* SIGCHLD blocked and readable from a signalfd. */
static int watch_children(struct launch *la)
{
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
		return -errno;
	la->child_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (la->child_fd < 0)
		return -errno;
	/* Let the stop signals in, but keep SIGCHLD for the signalfd. */
	la->wait_mask = *stop_wait_mask();
	sigaddset(&la->wait_mask, SIGCHLD);
	return 0;
}

static int run(struct launch *la)
{
	int pair[2] = { -1, -1 }, ready[2] = { -1, -1 };
	int r;

	r = watch_children(la);
	if (r < 0) {
		log_errno(r, "signalfd");
		return r;
	}

	if (la->cli.ops->flags & TRANSPORT_INHERITED) {
		if (!la->cli.ops->make_pair) {
			log_error("%s: cannot make its descriptor pair", la->cli.ops->name);
			return -ENOTSUP;
		}
		r = la->cli.ops->make_pair(pair);
		if (r < 0) {
			log_errno(r, "%s: creating the pair", la->cli.ops->name);
			return r;
		}
	}
	if (pipe2(ready, O_CLOEXEC) < 0) {
		r = -errno;
		log_errno(r, "ready pipe");
		goto out;
	}
	r = common_args(la, &la->led_args, "ipc-led", pair[0], &la->led_extra);
	if (r == 0) {
		char num[16];

		snprintf(num, sizeof(num), "%d", ready[1]);
		r = argv_add(&la->led_args, "--ready-fd") |
		    argv_add(&la->led_args, num);
	}
	r = r ? r : common_args(la, &la->button_args, "ipc-button", pair[1],
				&la->button_extra);
	if (r < 0)
		goto out;

	r = spawn(&la->led, la->led_args.argv, (int[2]){ pair[0], ready[1] });
	if (r < 0) {
		log_errno(r, "starting ipc-led");
		goto out;
	}
	close(ready[1]);
	ready[1] = -1;
	if (pair[0] >= 0) {
		close(pair[0]);
		pair[0] = -1;
	}
	r = wait_ready(la, ready[0]);
	if (r != 0)
		goto out;
	log_verbose("ipc-led is ready; starting ipc-button");
	r = spawn(&la->button, la->button_args.argv, (int[2]){ pair[1], -1 });
	if (r < 0) {
		log_errno(r, "starting ipc-button");
		goto out;
	}
	if (pair[1] >= 0) {
		close(pair[1]);
		pair[1] = -1;
	}
	/* The LED receives and the button runs: ready (Type=notify). */
	r = sd_notify(0, "READY=1");
	if (r < 0)
		log_errno(r, "sd_notify");
	r = supervise(la);
out:
	for (int i = 0; i < 2; i++) {
		if (pair[i] >= 0)
			close(pair[i]);
		if (ready[i] >= 0)
			close(ready[i]);
	}
	/* Never leave a child behind, whatever went wrong. */
	stop_child(&la->button);
	stop_child(&la->led);
	if (la->button.running)
		reap(la, &la->button);
	if (la->led.running)
		reap(la, &la->led);
	return r;
}

int main(int argc, char **argv)
{
	struct launch la = {
		.led = { .name = "ipc-led" },
		.button = { .name = "ipc-button" },
		.child_fd = -1,
	};
	int r, status;

	log_init(argv[0]);
	cli_common_init(&la.cli);
	la.cli.makes_pairs = true;
	r = parse_args(&la, argc, argv);
	if (r != 0) {
		status = r > 0 ? 0 : 2;
		goto out;
	}
	r = cli_common_finish(&la.cli);
	if (r != 0) {
		status = r > 0 ? 0 : r == -EINVAL || r == -ENOENT ? 2 : 1;
		goto out;
	}
	r = stop_init();
	if (r == 0)
		r = find_bin_dir(&la);
	if (r < 0) {
		status = 1;
		goto out;
	}
	r = run(&la);
	status = r < 0 ? 1 : la.failed_status;
out:
	if (la.child_fd >= 0)
		close(la.child_fd);
	argv_free(&la.button_args);
	argv_free(&la.led_args);
	argv_free(&la.button_extra);
	argv_free(&la.led_extra);
	cli_common_free(&la.cli);
	return status;
}
