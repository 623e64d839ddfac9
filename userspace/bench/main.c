// SPDX-License-Identifier: MIT
/*
 * ipc-bench: every mechanism measured side by side in one run, with the
 * baselines beside them (the futex floor, the bare version of each).
 *
 * It runs a matrix of runs (see roles.h for what each mode measures), each
 * run two fresh processes (spawn.h) with the daemon their mechanism goes
 * through, if any, pinned beside them (service.h), repeated, and prints one
 * line per run: tab-separated key=value fields that bench/report turns into
 * tables and plots. Latency histograms go to OUT/hist/.
 */
#include "lesson.h"
#include "board.h"
#include "role_main.h"
#include "service.h"
#include "spawn.h"
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MAX_MECHANISMS	40
#define MAX_MECH_OPTS	16
#define FLOOR		"futex"

struct mechanism {
	const char *name;
	bool ours;		/* a registered transport */
	bool bare;		/* a bare version exists */
	bool lossless;
	const char *variant;	/* NULL: "ours" ("floor", "bare"); else "spin" */
	const char *options[MAX_MECH_OPTS + 1];
	size_t n_options;
	double saturation;	/* ours, this repetition: events/s */
};

static struct {
	bool quick;
	unsigned int repeat;
	uint64_t events;
	uint64_t warmup;
	uint64_t gap_us;
	uint64_t saturation_events;
	double step_s;
	size_t backlog;
	const char *out_dir;
	const char *only;		/* comma-separated mechanism names */
	const char *tests;		/* latency,saturation,rate */
	const char *pins;		/* cross,same */
	bool no_bare;
	const char *mech_opts[128];	/* "mechanism:key=value" */
	size_t n_mech_opts;
} arg = {
	.repeat = 3,
	.events = 100000,
	.warmup = 2000,
	.gap_us = 20,
	.saturation_events = 200000,
	.step_s = 0.5,
	.backlog = 1024,
	.out_dir = "build/bench/host",
	.tests = "latency,saturation,rate",
	.pins = "cross,same",
};

static struct mechanism mechs[MAX_MECHANISMS];
static size_t n_mechs;
static char base_dir[PATH_MAX / 2], ours_dir[PATH_MAX], bare_dir[PATH_MAX];
static char instance[64];
static FILE *results;
static char hist_dir[PATH_MAX / 2];

static const double ladder[] = {
	1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6,
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipc-bench [options]\n"
"\n"
"Measure every IPC mechanism side by side: one-way latency (one event in\n"
"flight; sender's send to receiver's return, CLOCK_MONOTONIC) pinned to two\n"
"cores and to one; saturation throughput; the highest offered rate with zero\n"
"loss through the button's own backlog (lossless mechanisms) or the loss\n"
"curve (lossy ones); CPU time per event and peak RSS of each process. Each\n"
"beside the futex floor and the bare version of the same mechanism. The\n"
"shared-memory rings run twice, plain and with spin=adaptive (variant\n"
"\"spin\" in the results; latency and saturation, no rate search).\n"
"\n"
"  --quick             small counts, one repetition (proves it works)\n"
"  --repeat N          repetitions of every figure (default 3)\n"
"  --events N          latency events per run (default 100000)\n"
"  --warmup N          latency events sent first, not recorded (default 2000)\n"
"  --gap-us N          latency: pause after each acknowledgement, so that the\n"
"                      receiver is blocked again when the next event is sent\n"
"                      (default 20; 0: back to back)\n"
"  --saturation-events N  events per saturation run (default 200000)\n"
"  --step SECONDS      length of each offered-rate run (default 0.5)\n"
"  --backlog N         the button's backlog for rate runs (default 1024)\n"
"  --only A,B,...      these mechanisms only (the floor always runs)\n"
"  --tests LIST        latency,saturation,rate (default all three)\n"
"  --pins LIST         cross,same (default both)\n"
"  --no-bare           skip the bare versions\n"
"  --opt MECH:KEY=VAL  an option for a mechanism (repeatable), e.g.\n"
"                      dbus:bus=unix:path=/run/x/bus tls:cert-dir=DIR\n"
"  --service-pid MECH:PID  a process that carries MECH's messages (its bus\n"
"                      daemon, its broker): pinned with the sender for every\n"
"                      run of MECH, its affinity given back at exit (repeatable)\n"
"  --out DIR           where results.tsv and hist/ go (default build/bench/host)\n"
"  --list              the mechanisms this build measures (variant=spin:\n"
"                      also measured with spin=adaptive)\n"
"  --version           print the program's name and version, and exit\n"
"\n"
"Results: one line per run on standard output and in DIR/results.tsv.\n");
}

static bool in_list(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == len && !strncmp(p, word, len))
			return true;
		p = end ? end + 1 : p + n;
	}
	return false;
}

/* A free loopback port for @type (SOCK_STREAM or SOCK_DGRAM), or 0. */
static int free_port(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), port = 0;

	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool has_option(const struct transport_ops *ops, const char *key)
{
	for (const struct transport_option *o = ops ? ops->options : NULL;
	     o && o->name; o++)
		if (!strcmp(o->name, key))
			return true;
	return false;
}

static void add_option(struct mechanism *m, const char *kv)
{
	if (m->n_options < MAX_MECH_OPTS)
		m->options[m->n_options++] = kv;
}

static int collect_mechanisms(void)
{
	const struct transport_ops *list[MAX_MECHANISMS];
	size_t n = transport_list(list, MAX_MECHANISMS);

	mechs[n_mechs++] = (struct mechanism){ .name = FLOOR, .bare = true,
					       .lossless = true };
	for (size_t i = 0; i < n && n_mechs < MAX_MECHANISMS; i++) {
		struct mechanism *m = &mechs[n_mechs];
		const char *name = list[i]->name;

		if (arg.only && !in_list(arg.only, name))
			continue;
		*m = (struct mechanism){
			.name = name,
			.ours = true,
			.bare = !arg.no_bare && lesson_find(name),
			.lossless = list[i]->flags & TRANSPORT_LOSSLESS,
		};
		for (size_t k = 0; k < arg.n_mech_opts; k++) {
			const char *o = arg.mech_opts[k], *colon = strchr(o, ':');

			if (colon && (size_t)(colon - o) == strlen(name) &&
			    !strncmp(o, name, colon - o))
				add_option(m, colon + 1);
		}
		if (has_option(list[i], "port") &&
		    !option_value(m->options, "port")) {
			char *kv;
			int port = free_port(list[i]->flags & TRANSPORT_LOSSLESS ?
					     SOCK_STREAM : SOCK_DGRAM);

			if (port && asprintf(&kv, "port=%d", port) > 0)
				add_option(m, kv);
		}
		n_mechs++;
		/* The rings' adaptive receiver, measured beside the plain one. */
		if (has_option(list[i], "spin") && n_mechs < MAX_MECHANISMS) {
			mechs[n_mechs] = *m;
			mechs[n_mechs].bare = false;
			mechs[n_mechs].variant = "spin";
			add_option(&mechs[n_mechs++], "spin=adaptive");
		}
	}
	return 0;
}

static int make_dirs(void)
{
	const char *parent = getuid() == 0 ? "/run" : getenv("XDG_RUNTIME_DIR");
	char path[PATH_MAX + 64];

	if (!parent) {
		fprintf(stderr, "ipc-bench: no XDG_RUNTIME_DIR for the IPC objects\n");
		return -ENOENT;
	}
	snprintf(instance, sizeof(instance), "bench%d", (int)getpid());
	snprintf(base_dir, sizeof(base_dir), "%s/ipc-bench.%d", parent, (int)getpid());
	snprintf(ours_dir, sizeof(ours_dir), "%s/ours", base_dir);
	snprintf(bare_dir, sizeof(bare_dir), "%s/bare", base_dir);
	if (mkdir(base_dir, 0700) < 0 || mkdir(ours_dir, 0700) < 0 ||
	    mkdir(bare_dir, 0700) < 0) {
		fprintf(stderr, "ipc-bench: %s: %s\n", base_dir, strerror(errno));
		return -errno;
	}
	snprintf(hist_dir, sizeof(hist_dir), "%s/hist", arg.out_dir);
	snprintf(path, sizeof(path), "mkdir -p '%s'", hist_dir);
	if (system(path) != 0) {
		fprintf(stderr, "ipc-bench: cannot create %s\n", hist_dir);
		return -EIO;
	}
	snprintf(path, sizeof(path), "%s/results.tsv", arg.out_dir);
	results = fopen(path, "we");
	if (!results) {
		fprintf(stderr, "ipc-bench: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	vfprintf(results, fmt, ap);
	va_end(ap);
	fflush(stdout);
	fflush(results);
}

/* System V objects keyed on @dir (any ftok id): count them, remove them. */
static unsigned int sysv_leftovers(const char *dir)
{
	unsigned int n = 0;

	for (int id = 1; id < 256; id++) {
		key_t key = ftok(dir, id);
		int q;

		if (key == -1)
			return n;
		if ((q = msgget(key, 0)) >= 0 && ++n)
			msgctl(q, IPC_RMID, NULL);
		if ((q = shmget(key, 0, 0)) >= 0 && ++n)
			shmctl(q, IPC_RMID, NULL);
		if ((q = semget(key, 0, 0)) >= 0 && ++n)
			semctl(q, 0, IPC_RMID);
	}
	return n;
}

/* Entries of @dir whose name contains @part (NULL: all of them). */
static unsigned int count_entries(const char *dir, const char *part)
{
	unsigned int n = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && (!part || strstr(e->d_name, part)))
			n++;
	closedir(d);
	return n;
}

/*
 * Every run's receiver removes what it created; check that, say what was
 * left (the quick test asserts none), and remove it all anyway.
 */
static void remove_leftovers(void)
{
	unsigned int files = count_entries(ours_dir, NULL) + count_entries(bare_dir, NULL);
	unsigned int sysv = sysv_leftovers(ours_dir) + sysv_leftovers(bare_dir);
	unsigned int posix = count_entries("/dev/shm", instance) +
			     count_entries("/dev/mqueue", instance);
	char cmd[PATH_MAX * 2];

	out("kind=leaks\tfiles=%u\tsysv=%u\tposix=%u\n", files, sysv, posix);
	snprintf(cmd, sizeof(cmd),
		 "rm -rf '%s'; rm -f /dev/shm/*%s* /dev/mqueue/*%s* 2>/dev/null",
		 base_dir, instance, instance);
	if (system(cmd) != 0)
		fprintf(stderr, "ipc-bench: could not clean %s\n", base_dir);
}

static const char *variant(const struct mechanism *m, bool bare)
{
	if (m->variant)
		return m->variant;
	return !strcmp(m->name, FLOOR) ? "floor" : bare ? "bare" : "ours";
}

static double per_event(uint64_t ns, uint64_t events)
{
	return events ? (double)ns / (double)events : 0;
}

static void out_common(const char *kind, const struct mechanism *m, bool bare,
		       const char *pin, unsigned int rep,
		       const struct run_result *r)
{
	const char *where = service_cpu(m->name);

	out("kind=%s\tmech=%s\tvariant=%s\tpin=%s\trep=%u\tstatus=%s"
	    "\ttx_events=%lu\trx_events=%lu\ttx_cpu_ns=%.0f\trx_cpu_ns=%.0f"
	    "\ttx_rss_kb=%lu\trx_rss_kb=%lu\tlost=%lu\tgaps=%lu\treordered=%lu"
	    "\trejected=%lu\teagain=%lu\toverflowed=%lu",
	    kind, m->name, variant(m, bare), pin, rep, r->ok ? "ok" : "fail",
	    (unsigned long)r->sender.events, (unsigned long)r->receiver.events,
	    per_event(r->sender.cpu_ns, r->sender.events),
	    per_event(r->receiver.cpu_ns, r->receiver.events),
	    (unsigned long)r->sender.rss_peak_kb,
	    (unsigned long)r->receiver.rss_peak_kb,
	    (unsigned long)r->receiver.lost, (unsigned long)r->receiver.gaps,
	    (unsigned long)r->receiver.reordered,
	    (unsigned long)r->receiver.rejected,
	    (unsigned long)r->sender.eagain,
	    (unsigned long)r->sender.overflowed);
	if (where)
		out("\tservice_cpu=%s", where);
}

static void out_end(const struct run_result *r)
{
	if (!r->ok)
		out("\terror=%s", r->error);
	out("\n");
}

static void write_histogram(const struct mechanism *m, bool bare,
			    const char *pin, unsigned int rep,
			    const struct histogram *h)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%s.%s.%u.tsv", hist_dir, m->name,
		 variant(m, bare), pin, rep);
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "# bucket_low_ns\tbucket_width_ns\tcount\n");
	for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++)
		if (h->buckets[i])
			fprintf(f, "%lu\t%lu\t%u\n",
				(unsigned long)histogram_bucket_low(i),
				(unsigned long)histogram_bucket_width(i),
				h->buckets[i]);
	fclose(f);
}

static void spec_init(struct run_spec *s, const struct mechanism *m, bool bare,
		      enum bench_pin pin, enum bench_mode mode)
{
	*s = (struct run_spec){
		.mechanism = m->name,
		.bare = bare,
		.pin = pin,
		.params = { .mode = mode, .backlog = arg.backlog },
		.runtime_dir = ours_dir,
		.bare_dir = bare_dir,
		.instance = instance,
		.options = m->options,
		.deadline_s = arg.quick ? 30 : 180,
	};
}

/*
 * A run that failed may have had its receiver killed before it removed its
 * objects, and the next run of the same mechanism must not trip on them.
 */
static void clean_after_failure(const struct run_result *r)
{
	char cmd[PATH_MAX * 3];

	if (r->ok)
		return;
	sysv_leftovers(ours_dir);
	sysv_leftovers(bare_dir);
	snprintf(cmd, sizeof(cmd),
		 "rm -rf '%s'/* '%s'/*; rm -f /dev/shm/*%s* /dev/mqueue/*%s* 2>/dev/null",
		 ours_dir, bare_dir, instance, instance);
	if (system(cmd) != 0)
		fprintf(stderr, "ipc-bench: could not clean %s\n", base_dir);
}

/* One run, its mechanism's services (service.h) pinned beside it first. */
static void run_pinned(const struct run_spec *s, struct run_result *r)
{
	memset(r, 0, sizeof(*r));
	if (service_pin(s->mechanism, s->pin, r->error, sizeof(r->error)) < 0)
		return;
	if (run_once(s, r) < 0) {
		r->ok = false;
		snprintf(r->error, sizeof(r->error), "could not start the run");
	}
}

static void progress(const char *what, const struct mechanism *m, bool bare,
		     const char *pin, unsigned int rep, const struct run_result *r)
{
	fprintf(stderr, "ipc-bench: %-10s %-14s %-5s %-5s #%u %s%s\n", what,
		m->name, variant(m, bare), pin, rep, r->ok ? "ok" : "FAILED: ",
		r->ok ? "" : r->error);
}

static void run_latency(const struct mechanism *m, bool bare, enum bench_pin pin,
			unsigned int rep)
{
	struct run_result *r = malloc(sizeof(*r));
	const struct histogram *h;
	struct run_spec s;

	if (!r)
		return;
	spec_init(&s, m, bare, pin, MODE_LATENCY);
	s.params.events = arg.events;
	s.params.warmup = arg.warmup;
	s.params.gap_ns = arg.gap_us * 1000;
	run_pinned(&s, r);
	h = &r->latency;
	out_common("latency", m, bare, pin_name(pin), rep, r);
	out("\tunslept=%lu\tsamples=%lu\tp50_ns=%lu\tp99_ns=%lu\tp999_ns=%lu\tmax_ns=%lu"
	    "\tmin_ns=%lu\tmean_ns=%.0f",
	    (unsigned long)r->receiver.unslept, (unsigned long)h->count,
	    (unsigned long)histogram_quantile(h, 0.50),
	    (unsigned long)histogram_quantile(h, 0.99),
	    (unsigned long)histogram_quantile(h, 0.999),
	    (unsigned long)h->max_ns, (unsigned long)(h->count ? h->min_ns : 0),
	    h->count ? (double)h->sum_ns / (double)h->count : 0);
	out_end(r);
	if (r->ok)
		write_histogram(m, bare, pin_name(pin), rep, h);
	progress("latency", m, bare, pin_name(pin), rep, r);
	clean_after_failure(r);
	free(r);
}

/* One throughput run; the achieved rate (events/s) or 0. */
static double run_throughput(const char *kind, const struct mechanism *m,
			     bool bare, enum bench_mode mode, double rate,
			     uint64_t events, unsigned int rep, bool *ret_clean)
{
	struct run_result *r = malloc(sizeof(*r));
	double achieved = 0, span = 0;
	struct run_spec s;
	bool clean;

	if (!r)
		return 0;
	spec_init(&s, m, bare, PIN_CROSS, mode);
	s.params.events = events;
	s.params.rate = rate;
	run_pinned(&s, r);
	if (r->ok && r->last_rx_ns > r->start_ns) {
		span = (double)(r->last_rx_ns - r->start_ns) / 1e9;
		achieved = (double)r->receiver.events / span;
	}
	clean = r->ok && !r->receiver.lost && !r->receiver.reordered &&
		!r->sender.overflowed && r->receiver.events == events;
	/*
	 * Sustained: nothing lost, and not finishing late behind a backlog
	 * (10 % and 20 ms of slack: other tenants of a shared machine can
	 * hold either process off the CPU for that long).
	 */
	if (mode == MODE_RATE && clean && span > events / rate * 1.10 + 0.020)
		clean = false;
	out_common(kind, m, bare, "cross", rep, r);
	out("\toffered=%.0f\tachieved=%.0f\tspan_s=%.4f\tclean=%d",
	    rate, achieved, span, clean);
	out_end(r);
	if (!r->ok)
		progress(kind, m, bare, "cross", rep, r);
	clean_after_failure(r);
	free(r);
	if (ret_clean)
		*ret_clean = clean;
	return achieved;
}

static uint64_t step_events(double rate)
{
	double n = rate * arg.step_s;

	return n < 200 ? 200 : (uint64_t)n;
}

/* sqrt for the geometric bisection; no libm on the board. */
static double root(double x)
{
	double r = x > 1 ? x / 2 : 1;

	for (int i = 0; i < 60 && x > 0; i++)
		r = (r + x / r) / 2;
	return r;
}

/* The highest offered rate the button's backlog gets through intact. */
static void zero_loss_search(struct mechanism *m, unsigned int rep)
{
	double ok = 0, bad = 0, limit = m->saturation > 0 ? m->saturation * 1.5 : 1e12;
	bool clean, at_100k = false, tried_100k = false;

	for (size_t i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++) {
		if (ladder[i] > limit && ladder[i] > 1e5)
			break;
		/* Quick: only that it works, at 10 k and 100 k/s. */
		if (arg.quick && ladder[i] != 1e4 && ladder[i] != 1e5)
			continue;
		run_throughput("rate", m, false, MODE_RATE, ladder[i],
			       step_events(ladder[i]), rep, &clean);
		if (ladder[i] == 1e5) {
			tried_100k = true;
			at_100k = clean;
		}
		if (!clean) {
			bad = ladder[i];
			break;
		}
		ok = ladder[i];
	}
	/* Narrow the step between the last clean rate and the first not. */
	for (int i = 0; bad > 0 && i < (arg.quick ? 0 : 3); i++) {
		double mid = ok > 0 ? root(ok * bad) : bad / 2;

		run_throughput("rate", m, false, MODE_RATE, mid, step_events(mid),
			       rep, &clean);
		if (clean)
			ok = mid;
		else
			bad = mid;
	}
	out("kind=zeroloss\tmech=%s\tvariant=ours\tpin=cross\trep=%u\tstatus=ok"
	    "\trate=%.0f\tfirst_bad=%.0f\tsustains_100k=%s\n", m->name, rep, ok, bad,
	    tried_100k ? (at_100k ? "yes" : "no") : "untested");
	fprintf(stderr, "ipc-bench: zero-loss  %-14s #%u %.0f events/s\n",
		m->name, rep, ok);
}

/* Lossy mechanisms: the share lost at each offered rate. */
static void loss_curve(struct mechanism *m, unsigned int rep)
{
	double limit = m->saturation > 0 ? m->saturation * 2 : 1e12;

	for (size_t i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++) {
		if (ladder[i] > limit && ladder[i] > 1e5)
			break;
		if (arg.quick && ladder[i] != 1e4 && ladder[i] != 1e5)
			continue;
		run_throughput("loss", m, false, MODE_RATE, ladder[i],
			       step_events(ladder[i]), rep, NULL);
	}
	fprintf(stderr, "ipc-bench: loss curve %-14s #%u done\n", m->name, rep);
}

static void print_meta(void)
{
	struct utsname u;
	char date[64];
	time_t t = time(NULL);

	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	out("kind=meta\tdate=%s\tkernel=%s %s\tmachine=%s\tcpus=%ld\tquick=%d"
	    "\trepeat=%u\tevents=%lu\twarmup=%lu\tgap_us=%lu\tsaturation_events=%lu"
	    "\tstep_s=%.3f\tbacklog=%zu\n", date, u.sysname, u.release, u.machine,
	    sysconf(_SC_NPROCESSORS_ONLN), arg.quick, arg.repeat,
	    (unsigned long)arg.events, (unsigned long)arg.warmup,
	    (unsigned long)arg.gap_us,
	    (unsigned long)arg.saturation_events, arg.step_s, arg.backlog);
}

static int parse(int argc, char **argv)
{
	enum { O_QUICK = 256, O_REPEAT, O_EVENTS, O_WARMUP, O_GAP, O_SAT, O_STEP,
	       O_BACKLOG, O_ONLY, O_TESTS, O_PINS, O_NOBARE, O_OPT, O_OUT,
	       O_LIST, O_HELP, O_VERSION, O_SERVICE };
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, O_QUICK },
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "events", required_argument, NULL, O_EVENTS },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "gap-us", required_argument, NULL, O_GAP },
		{ "saturation-events", required_argument, NULL, O_SAT },
		{ "step", required_argument, NULL, O_STEP },
		{ "backlog", required_argument, NULL, O_BACKLOG },
		{ "only", required_argument, NULL, O_ONLY },
		{ "tests", required_argument, NULL, O_TESTS },
		{ "pins", required_argument, NULL, O_PINS },
		{ "no-bare", no_argument, NULL, O_NOBARE },
		{ "opt", required_argument, NULL, O_OPT },
		{ "service-pid", required_argument, NULL, O_SERVICE },
		{ "out", required_argument, NULL, O_OUT },
		{ "list", no_argument, NULL, O_LIST },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	bool list = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case O_QUICK:
			arg.quick = true;
			arg.repeat = 1;
			arg.events = 1000;
			arg.warmup = 100;
			arg.saturation_events = 5000;
			arg.step_s = 0.05;
			break;
		case O_REPEAT: arg.repeat = strtoul(optarg, NULL, 10); break;
		case O_EVENTS: arg.events = strtoull(optarg, NULL, 10); break;
		case O_WARMUP: arg.warmup = strtoull(optarg, NULL, 10); break;
		case O_GAP: arg.gap_us = strtoull(optarg, NULL, 10); break;
		case O_SAT: arg.saturation_events = strtoull(optarg, NULL, 10); break;
		case O_STEP: arg.step_s = strtod(optarg, NULL); break;
		case O_BACKLOG: arg.backlog = strtoul(optarg, NULL, 10); break;
		case O_ONLY: arg.only = optarg; break;
		case O_TESTS: arg.tests = optarg; break;
		case O_PINS: arg.pins = optarg; break;
		case O_NOBARE: arg.no_bare = true; break;
		case O_OPT:
			if (!strchr(optarg, ':') || !strchr(optarg, '=')) {
				fprintf(stderr, "ipc-bench: --opt '%s': expected MECH:KEY=VALUE\n",
					optarg);
				return 2;
			}
			if (arg.n_mech_opts < sizeof(arg.mech_opts) / sizeof(arg.mech_opts[0]))
				arg.mech_opts[arg.n_mech_opts++] = optarg;
			break;
		case O_SERVICE:
			if (service_add(optarg) < 0)
				return 2;
			break;
		case O_OUT: arg.out_dir = optarg; break;
		case O_LIST: list = true; break;
		case 'h':
		case O_HELP: usage(stdout); exit(0);
		case O_VERSION: printf("ipc-bench %s\n", IPC_BUTTON_VERSION); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !arg.repeat || !arg.events || arg.step_s <= 0 ||
	    !arg.backlog) {
		usage(stderr);
		return 2;
	}
	if (list) {
		collect_mechanisms();
		for (size_t i = 0; i < n_mechs; i++) {
			bool spin = i + 1 < n_mechs && mechs[i + 1].variant;

			if (mechs[i].variant)
				continue;	/* said on its mechanism's line */
			printf("%s\tours=%s\tbare=%s\t%s%s\n", mechs[i].name,
			       mechs[i].ours ? "yes" : "no",
			       mechs[i].bare ? "yes" : "no",
			       mechs[i].lossless ? "lossless" : "lossy",
			       spin ? "\tvariant=spin" : "");
		}
		exit(0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool do_latency, do_saturation, do_rate;
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--role", 6))
			return role_main(argc, argv);
		if (!strncmp(argv[i], "--board-", 8))
			return board_main(argc, argv);
	}
	r = parse(argc, argv);
	if (r)
		return r;
	do_latency = in_list(arg.tests, "latency");
	do_saturation = in_list(arg.tests, "saturation") || in_list(arg.tests, "rate");
	do_rate = in_list(arg.tests, "rate");
	if (collect_mechanisms() < 0 || make_dirs() < 0)
		return 1;
	print_meta();

	/* Repetitions outermost: a slow minute of the machine hits all alike. */
	for (unsigned int rep = 1; rep <= arg.repeat; rep++) {
		for (size_t i = 0; do_latency && i < n_mechs; i++)
			for (int pin = PIN_CROSS; pin <= PIN_SAME; pin++) {
				if (!in_list(arg.pins, pin_name(pin)))
					continue;
				if (mechs[i].ours)
					run_latency(&mechs[i], false, pin, rep);
				if (mechs[i].bare)
					run_latency(&mechs[i], true, pin, rep);
			}
		for (size_t i = 0; do_saturation && i < n_mechs; i++) {
			struct mechanism *m = &mechs[i];

			/* The floor is a one-slot hand-off: no throughput figure. */
			if (!strcmp(m->name, FLOOR))
				continue;
			if (m->ours)
				m->saturation = run_throughput("saturation", m, false,
					MODE_SATURATION, 0, arg.saturation_events, rep, NULL);
			if (m->bare)
				run_throughput("saturation", m, true, MODE_SATURATION, 0,
					       arg.saturation_events, rep, NULL);
			fprintf(stderr, "ipc-bench: saturation %-14s %-5s #%u %.0f events/s\n",
				m->name, variant(m, false), rep, m->saturation);
		}
		for (size_t i = 0; do_rate && i < n_mechs; i++) {
			if (!mechs[i].ours || mechs[i].variant)
				continue;
			if (mechs[i].lossless)
				zero_loss_search(&mechs[i], rep);
			else
				loss_curve(&mechs[i], rep);
		}
	}
	remove_leftovers();
	fclose(results);
	return 0;
}
