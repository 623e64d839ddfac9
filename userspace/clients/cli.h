/* SPDX-License-Identifier: MIT */
/*
 * The command-line options the three programs share (--via, --runtime-dir,
 * --instance, --opt, --fd, --verbose, --list, --list-options), parsed into
 * the transport configuration they all need.
 *
 * Each program lists CLI_COMMON_OPTIONS in its getopt_long table and hands
 * every option it does not know itself to cli_common_parse().
 */
#ifndef IPC_CLI_H
#define IPC_CLI_H

#include "transport.h"

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

enum {
	CLI_OPT_VIA = 0x1000,
	CLI_OPT_RUNTIME_DIR,
	CLI_OPT_INSTANCE,
	CLI_OPT_OPT,
	CLI_OPT_FD,
	CLI_OPT_VERBOSE,
	CLI_OPT_LIST,
	CLI_OPT_LIST_OPTIONS,
	CLI_OPT_VERSION,
	/*
	 * The button's and the LED's options, numbered once, so that
	 * ipc-launch takes them with the same table rows and passes them on.
	 */
	CLI_OPT_DEVICE,
	CLI_OPT_STDIN,
	CLI_OPT_SYNTHETIC,
	CLI_OPT_BACKLOG,
	CLI_OPT_LINE,
	CLI_OPT_CHIP,
	CLI_OPT_OFFSET,
	CLI_OPT_ACTIVE_LOW,
	CLI_OPT_CONSOLE,
	CLI_OPT_QUIET,
	CLI_OPT_COUNT,
	CLI_OPT_FIRST_PROGRAM,	/* a program numbers its own options from here */
};

#define CLI_BUTTON_OPTIONS						\
	{ "device", required_argument, NULL, CLI_OPT_DEVICE },		\
	{ "stdin", no_argument, NULL, CLI_OPT_STDIN },			\
	{ "synthetic", required_argument, NULL, CLI_OPT_SYNTHETIC },	\
	{ "backlog", required_argument, NULL, CLI_OPT_BACKLOG }

#define CLI_LED_OPTIONS							\
	{ "line", required_argument, NULL, CLI_OPT_LINE },		\
	{ "chip", required_argument, NULL, CLI_OPT_CHIP },		\
	{ "offset", required_argument, NULL, CLI_OPT_OFFSET },		\
	{ "active-low", no_argument, NULL, CLI_OPT_ACTIVE_LOW },	\
	{ "console", no_argument, NULL, CLI_OPT_CONSOLE },		\
	{ "quiet", no_argument, NULL, CLI_OPT_QUIET },			\
	{ "count", required_argument, NULL, CLI_OPT_COUNT }

#define CLI_COMMON_OPTIONS						\
	{ "via", required_argument, NULL, CLI_OPT_VIA },		\
	{ "runtime-dir", required_argument, NULL, CLI_OPT_RUNTIME_DIR }, \
	{ "instance", required_argument, NULL, CLI_OPT_INSTANCE },	\
	{ "opt", required_argument, NULL, CLI_OPT_OPT },		\
	{ "fd", required_argument, NULL, CLI_OPT_FD },			\
	{ "verbose", no_argument, NULL, CLI_OPT_VERBOSE },		\
	{ "list", no_argument, NULL, CLI_OPT_LIST },			\
	{ "list-options", required_argument, NULL, CLI_OPT_LIST_OPTIONS }, \
	{ "version", no_argument, NULL, CLI_OPT_VERSION }

/* The help text of the shared options, for each program's --help. */
#define CLI_COMMON_HELP							\
"Mechanism:\n"								\
"  --via NAME            the IPC mechanism (see --list)\n"		\
"  --opt KEY=VALUE       a mechanism option (see --list-options NAME);\n" \
"                        repeatable\n"					\
"  --runtime-dir DIR     where named objects live (default:\n"		\
"                        $IPC_BUTTON_RUNTIME_DIR, else\n"		\
"                        $XDG_RUNTIME_DIR/ipc-button, else /run/ipc-button\n" \
"                        for root); created 0700, refused if a symlink or\n" \
"                        not ours\n"					\
"  --instance NAME       tells concurrent runs apart in global names\n"	\
"                        (default $IPC_BUTTON_INSTANCE, else 0)\n"	\
"  --fd N                the pipe or socketpair end a launcher passed\n"	\
"  --list                one line per mechanism: name, push or pull,\n"	\
"                        lossless or lossy, what it is\n"		\
"  --list-options NAME   the options of mechanism NAME\n"		\
"  --verbose             say what happens (connections, retries, rejects)\n" \
"  --version             print the program's name and version, and exit\n"

struct cli_common {
	const char *via;
	const char *runtime_dir_arg;
	const char *instance;
	const char **options;		/* NULL-terminated */
	size_t n_options;
	int inherited_fd;
	bool verbose;
	bool makes_pairs;		/* the launcher: creates inherited fds itself */
	bool list;			/* --list */
	const char *list_options;	/* --list-options NAME */
	bool version;			/* --version */

	/* Filled by cli_common_finish(). */
	const struct transport_ops *ops;
	char runtime_dir[PATH_MAX];
	struct transport_config config;
};

void cli_common_init(struct cli_common *c);
void cli_common_free(struct cli_common *c);

/*
 * Handle @opt, a getopt_long return value the program does not handle
 * itself: a shared option (1), or anything else, such as '?' (-EINVAL,
 * or another negative errno, after printing why).
 */
int cli_common_parse(struct cli_common *c, int opt, const char *arg);

/* After getopt_long: no operands are expected. 0, or -EINVAL after saying so. */
int cli_common_operands(int argc, char **argv);

/*
 * After parsing: print the version or the listing asked for (--version;
 * --list, with the flags too under --verbose; --list-options) and return 1, or look the mechanism
 * up, prepare the runtime directory, fill c->config and return 0; or a
 * negative errno after printing why.
 */
int cli_common_finish(struct cli_common *c);

/* Parse a whole non-negative number with an upper bound; -EINVAL if not one. */
int cli_parse_uint(const char *arg, unsigned long long max,
		   unsigned long long *ret);

/*
 * Print, once, why @what (e.g. "cannot open the receiver") failed with
 * @err on mechanism @ops: the transport's @detail when it gave one (alone
 * for TRANSPORT_BUSY, whose detail names the holder), then the errno.
 */
void cli_log_transport_error(const struct transport_ops *ops, int err,
			     const char *detail, const char *what);

/*
 * Print what @t had to say after a call that did not fail (a stale object
 * replaced, a peer refused), if anything, and forget it.
 */
void cli_log_transport_notice(struct transport *t);

void cli_print_list(FILE *out, bool with_flags);
int cli_print_options(FILE *out, const char *name);

#endif /* IPC_CLI_H */
