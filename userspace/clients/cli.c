// SPDX-License-Identifier: MIT
#include "cli.h"

#include "log.h"
#include "runtime_dir.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#define INSTANCE_MAX	32

void cli_common_init(struct cli_common *c)
{
	memset(c, 0, sizeof(*c));
	c->inherited_fd = -1;
}

void cli_common_free(struct cli_common *c)
{
	free(c->options);
	c->options = NULL;
}

int cli_parse_uint(const char *arg, unsigned long long max,
		   unsigned long long *ret)
{
	unsigned long long v;
	char *end;

	if (!arg || !isdigit((unsigned char)*arg))
		return -EINVAL;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int add_option(struct cli_common *c, const char *arg)
{
	const char **grown;

	if (!strchr(arg, '=') || *arg == '=') {
		log_error("--opt '%s': expected KEY=VALUE", arg);
		return -EINVAL;
	}
	grown = realloc(c->options, (c->n_options + 2) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	grown[c->n_options++] = arg;
	grown[c->n_options] = NULL;
	c->options = grown;
	return 0;
}

int cli_common_parse(struct cli_common *c, int opt, const char *arg)
{
	unsigned long long v;

	switch (opt) {
	case CLI_OPT_VIA:
		c->via = arg;
		return 1;
	case CLI_OPT_RUNTIME_DIR:
		c->runtime_dir_arg = arg;
		return 1;
	case CLI_OPT_INSTANCE:
		c->instance = arg;
		return 1;
	case CLI_OPT_OPT:
		return add_option(c, arg) < 0 ? -EINVAL : 1;
	case CLI_OPT_FD:
		if (cli_parse_uint(arg, INT_MAX, &v) < 0) {
			log_error("--fd '%s': expected a file descriptor number", arg);
			return -EINVAL;
		}
		if (fcntl((int)v, F_GETFD) < 0) {
			log_errno(errno, "--fd %d", (int)v);
			return -EBADF;
		}
		c->inherited_fd = (int)v;
		return 1;
	case CLI_OPT_VERBOSE:
		c->verbose = true;
		log_set_verbose(true);
		return 1;
	case CLI_OPT_LIST:
		c->list = true;
		return 1;
	case CLI_OPT_LIST_OPTIONS:
		c->list_options = arg;
		return 1;
	case CLI_OPT_VERSION:
		c->version = true;
		return 1;
	}
	/* '?': getopt_long already said what is wrong with it. */
	return -EINVAL;
}

int cli_common_operands(int argc, char **argv)
{
	if (optind < argc) {
		log_error("unexpected argument '%s' (try --help)", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Instance names end up in file and IPC names: keep them plain. */
static bool instance_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > INSTANCE_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

int cli_common_finish(struct cli_common *c)
{
	const char *env, *why;
	int r;

	if (c->version) {
		printf("%s %s\n", log_program(), IPC_BUTTON_VERSION);
		return 1;
	}
	if (c->list) {
		cli_print_list(stdout, c->verbose);
		return 1;
	}
	if (c->list_options)
		return cli_print_options(stdout, c->list_options) < 0 ? -ENOENT : 1;
	if (!c->via) {
		log_error("no mechanism given: use --via NAME (see --list)");
		return -EINVAL;
	}
	c->ops = transport_find(c->via);
	if (!c->ops) {
		log_error("unknown mechanism '%s' (see --list)", c->via);
		return -ENOENT;
	}
	if (!c->instance) {
		env = getenv("IPC_BUTTON_INSTANCE");
		c->instance = env && *env ? env : "0";
	}
	for (size_t i = 0; i < c->n_options; i++) {
		const char *opt = c->options[i];
		size_t keylen = strcspn(opt, "=");
		const struct transport_option *o = c->ops->options;

		while (o && o->name && (strlen(o->name) != keylen ||
					strncmp(o->name, opt, keylen)))
			o++;
		if (!o || !o->name) {
			log_error("%s has no option '%.*s' (see --list-options %s)",
				  c->ops->name, (int)keylen, opt, c->ops->name);
			return -EINVAL;
		}
		if (o->check && opt[keylen] == '=' &&
		    (why = o->check(opt + keylen + 1))) {
			log_error("%s: option %s: %s", c->ops->name, opt, why);
			return -EINVAL;
		}
	}
	if (!instance_valid(c->instance)) {
		log_error("instance '%s': use 1 to %d letters, digits, '-' or '_'",
			  c->instance, INSTANCE_MAX);
		return -EINVAL;
	}
	if (c->ops->flags & TRANSPORT_INHERITED && c->inherited_fd < 0 &&
	    !c->makes_pairs) {
		log_error("%s needs the launcher's descriptor: run ipc-launch --via %s (or pass --fd N)",
			  c->ops->name, c->ops->name);
		return -EINVAL;
	}
	r = runtime_dir_prepare(c->runtime_dir_arg, c->runtime_dir,
				sizeof(c->runtime_dir));
	if (r < 0)
		return r;
	c->config.runtime_dir = c->runtime_dir;
	c->config.instance = c->instance;
	c->config.inherited_fd = c->inherited_fd;
	c->config.options = c->options;
	c->config.notice = log_relay;	/* transports never print themselves */
	return 0;
}

void cli_print_list(FILE *out, bool with_flags)
{
	static const struct {
		unsigned int flag;
		const char *name;
	} extra[] = {
		{ TRANSPORT_INHERITED, "inherited" },
		{ TRANSPORT_NETWORK, "network" },
		{ TRANSPORT_NO_PAYLOAD, "no-payload" },
		{ TRANSPORT_DURABLE, "durable" },
		{ TRANSPORT_FAN_OUT, "fan-out" },
	};
	const struct transport_ops *ops[64];
	size_t n = transport_list(ops, 64);

	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%-14s %-4s %-8s %s", ops[i]->name,
			ops[i]->flags & TRANSPORT_PUSH ? "push" : "pull",
			ops[i]->flags & TRANSPORT_LOSSLESS ? "lossless" : "lossy",
			ops[i]->summary);
		if (with_flags) {
			const char *sep = " [";

			for (size_t j = 0; j < sizeof(extra) / sizeof(extra[0]); j++) {
				if (!(ops[i]->flags & extra[j].flag))
					continue;
				fprintf(out, "%s%s", sep, extra[j].name);
				sep = ",";
			}
			if (*sep == ',')
				fputc(']', out);
		}
		fputc('\n', out);
	}
}

int cli_print_options(FILE *out, const char *name)
{
	const struct transport_ops *ops = transport_find(name);
	const struct transport_option *o;

	if (!ops) {
		log_error("unknown mechanism '%s' (see --list)", name);
		return -ENOENT;
	}
	if (!ops->options || !ops->options->name) {
		fprintf(out, "%s has no options\n", ops->name);
		return 0;
	}
	for (o = ops->options; o->name; o++) {
		char key[64];

		snprintf(key, sizeof(key), "%s=%s", o->name,
			 o->default_value ? o->default_value : "");
		fprintf(out, "%-28s %s\n", key, o->help ? o->help : "");
	}
	return 0;
}

void cli_log_transport_error(const struct transport_ops *ops, int err,
			     const char *detail, const char *what)
{
	if (!detail || !*detail)
		log_errno(err, "%s: %s", ops->name, what);
	else if (err == TRANSPORT_BUSY)
		log_error("%s: %s", ops->name, detail);
	else
		log_errno(err, "%s: %s: %s", ops->name, what, detail);
}

void cli_log_transport_notice(struct transport *t)
{
	const char *line, *end;

	if (!t || !t->detail[0])
		return;
	/* Several notes since the last call come one a line (lib/detail.h). */
	for (line = t->detail; *line; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		log_warning("%s: %.*s", t->ops->name, (int)(end - line), line);
	}
	t->detail[0] = '\0';
}
