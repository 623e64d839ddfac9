// SPDX-License-Identifier: MIT
#include "net_mqtt.h"

#include "deadline.h"
#include "number.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status;

static void lib_init(void)
{
	lib_status = mosquitto_lib_init();
}

int net_mqtt_errno(int rc)
{
	switch (rc) {
	case MOSQ_ERR_SUCCESS:
		return 0;
	case MOSQ_ERR_NOMEM:
		return -ENOMEM;
	case MOSQ_ERR_INVAL:
	case MOSQ_ERR_MALFORMED_UTF8:
		return -EINVAL;
	case MOSQ_ERR_NO_CONN:
	case MOSQ_ERR_CONN_LOST:
		return -ENOTCONN;
	case MOSQ_ERR_CONN_REFUSED:
	case MOSQ_ERR_AUTH:
	case MOSQ_ERR_ACL_DENIED:
		return -EACCES;
	case MOSQ_ERR_PAYLOAD_SIZE:
		return -EMSGSIZE;
	case MOSQ_ERR_ERRNO:
		return errno ? -errno : -EIO;
	case MOSQ_ERR_EAI:
		return -EHOSTUNREACH;
	case MOSQ_ERR_TLS:
		return -EPROTO;
	default:
		return -EIO;
	}
}

const char *net_mqtt_strerror(int rc)
{
	return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

bool net_mqtt_unreachable(int err)
{
	return err == -ECONNREFUSED || err == -EHOSTUNREACH ||
	       err == -ENETUNREACH || err == -ETIMEDOUT || err == -ENOENT;
}

int net_mqtt_connack_errno(int rc)
{
	/* 4: bad user name or password, 5: not authorised. */
	return rc == 4 || rc == 5 ? -EACCES : -ECONNREFUSED;
}

void net_mqtt_cloexec(struct mosquitto *mosq)
{
	int fd = mosquitto_socket(mosq);

	if (fd >= 0)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int net_mqtt_start_thread(struct mosquitto *mosq)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = mosquitto_loop_start(mosq);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return net_mqtt_errno(rc);
}

static int bad(char *why, size_t size, const char *text)
{
	snprintf(why, size, "%s", text);
	return -EINVAL;
}

/* A device name is one topic level: no separators, no wildcards. */
static bool topic_level_valid(const char *s)
{
	return *s && !strpbrk(s, "/+#") && strlen(s) < 128;
}

int net_mqtt_parse(const char *(*get)(void *ctx, const char *key), void *ctx,
		   const char *instance, bool sender,
		   struct net_mqtt_config *c, char *why, size_t size)
{
	const struct {
		const char *host, *port, *device, *client_id, *keepalive;
		const char *ca, *cert, *key, *username, *password_file;
		const char *linger_ms;
	} opt = {
		get(ctx, "host"), get(ctx, "port"), get(ctx, "device"),
		get(ctx, "client-id"), get(ctx, "keepalive"), get(ctx, "ca"),
		get(ctx, "cert"), get(ctx, "key"), get(ctx, "username"),
		get(ctx, "password-file"), get(ctx, "linger-ms"),
	}, *o = &opt;
	const char *device = o->device ? o->device : instance;
	char hostname[65] = "localhost";
	long long v;

	memset(c, 0, sizeof(*c));
	if (!topic_level_valid(device)) {
		snprintf(why, size, "device '%s' cannot be a topic level (no '/', '+', '#')",
			 device);
		return -EINVAL;
	}
	snprintf(c->event_topic, sizeof(c->event_topic), "ipc-button/%s/event", device);
	snprintf(c->state_topic, sizeof(c->state_topic), "ipc-button/%s/led", device);
	snprintf(c->progress_topic, sizeof(c->progress_topic), "ipc-button/%s/applied",
		 device);
	if (snprintf(c->host, sizeof(c->host), "%s", o->host) >= (int)sizeof(c->host))
		return -ENAMETOOLONG;
	c->port = o->ca ? 8883 : 1883;
	if (o->port) {
		if (number_parse(o->port, 1, 65535, &v) < 0) {
			snprintf(why, size, "port '%s' is not a port number", o->port);
			return -EINVAL;
		}
		c->port = (int)v;
	}
	if (number_parse(o->keepalive, 5, 65535, &v) < 0)
		return bad(why, size, "keepalive must be 5 to 65535 seconds");
	c->keepalive = (int)v;
	if (number_parse(o->linger_ms, 0, 3600000, &v) < 0)
		return bad(why, size, "linger-ms must be a number of milliseconds");
	c->linger_ms = (long)v;
	if (o->client_id) {
		if (snprintf(c->client_id, sizeof(c->client_id), "%s", o->client_id) >=
		    (int)sizeof(c->client_id) || !*o->client_id) {
			snprintf(why, size, "client-id must be 1 to %zu bytes",
				 sizeof(c->client_id) - 1);
			return -EINVAL;
		}
	} else {
		/* Fixed per host and instance: the broker keeps its session. */
		(void)gethostname(hostname, sizeof(hostname) - 1);
		snprintf(c->client_id, sizeof(c->client_id), "%s-%.64s-%.32s",
			 sender ? "ipc-button" : "ipc-led", hostname, instance);
	}
	snprintf(c->label, sizeof(c->label), strchr(c->host, ':') ?
		 "broker [%s]:%d" : "broker %s:%d", c->host, c->port);
	if ((o->cert || o->key) && !o->ca)
		return bad(why, size, "cert and key need ca (TLS)");
	if (!o->cert != !o->key)
		return bad(why, size, "cert and key go together");
	if (o->password_file && !o->username)
		return bad(why, size, "password-file needs username");
	c->ca = o->ca;
	c->cert = o->cert;
	c->key = o->key;
	c->username = o->username;
	c->password_file = o->password_file;
	return 0;
}

/*
 * libmosquitto makes a socket pair (to wake its own select()) without
 * close-on-exec, and offers no way to ask for it: mark every descriptor
 * that appeared while it built the client.
 */
#define FD_SET_MAX	1024

static int list_fds(bool open_fds[FD_SET_MAX])
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;

	if (!dir)
		return -errno;
	memset(open_fds, 0, FD_SET_MAX * sizeof(bool));
	while ((de = readdir(dir))) {
		long fd = strtol(de->d_name, NULL, 10);

		if (de->d_name[0] != '.' && fd >= 0 && fd < FD_SET_MAX &&
		    fd != dirfd(dir))
			open_fds[fd] = true;
	}
	closedir(dir);
	return 0;
}

static void cloexec_new_fds(const bool before[FD_SET_MAX])
{
	bool now[FD_SET_MAX];

	if (list_fds(now) < 0)
		return;
	for (int fd = 0; fd < FD_SET_MAX; fd++)
		if (now[fd] && !before[fd])
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int set_credentials(const struct net_mqtt_config *c,
			   struct mosquitto *mosq, char *why, size_t size)
{
	char password[256] = "";
	FILE *f;
	int rc;

	if (c->password_file) {
		f = fopen(c->password_file, "re");
		if (!f) {
			int err = -errno;

			snprintf(why, size, "password file %s: %s",
				 c->password_file, strerror(-err));
			return err;
		}
		if (!fgets(password, (int)sizeof(password), f))
			password[0] = '\0';
		fclose(f);
		password[strcspn(password, "\r\n")] = '\0';
	}
	rc = mosquitto_username_pw_set(mosq, c->username,
				       c->password_file ? password : NULL);
	explicit_bzero(password, sizeof(password));
	return net_mqtt_errno(rc);
}

int net_mqtt_new(const struct net_mqtt_config *c, void *userdata,
		 struct mosquitto **ret, char *why, size_t size)
{
	bool fds_before[FD_SET_MAX];
	struct mosquitto *mosq;
	int rc, r;

	pthread_once(&lib_once, lib_init);
	if (lib_status != MOSQ_ERR_SUCCESS)
		return net_mqtt_errno(lib_status);
	r = list_fds(fds_before);
	if (r < 0)
		return r;
	/* clean_session false: the broker keeps this client's session. */
	mosq = mosquitto_new(c->client_id, false, userdata);
	if (!mosq)
		return errno == EINVAL ? -EINVAL : -ENOMEM;
	*ret = mosq;	/* the caller destroys it, also on failure */
	cloexec_new_fds(fds_before);
	rc = mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION,
				  MQTT_PROTOCOL_V311);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (rc != MOSQ_ERR_SUCCESS)
		return net_mqtt_errno(rc);
	if (c->ca) {
		rc = mosquitto_tls_set(mosq, c->ca, NULL, c->cert, c->key, NULL);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_tls_opts_set(mosq, 1, "tlsv1.3", NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			snprintf(why, size, "TLS files (ca %s%s%s%s%s): %s", c->ca,
				 c->cert ? ", cert " : "", c->cert ? c->cert : "",
				 c->key ? ", key " : "", c->key ? c->key : "",
				 net_mqtt_strerror(rc));
			return net_mqtt_errno(rc);
		}
	}
	return c->username ? set_credentials(c, mosq, why, size) : 0;
}

void net_mqtt_leave(struct mosquitto *mosq, int drain_ms)
{
	int fd = mosquitto_socket(mosq);
	int keep = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
	char scratch[4096];
	struct deadline end;

	/* libmosquitto closes its socket right after DISCONNECT: keep a
	 * duplicate to drain what the broker still sends. */
	mosquitto_disconnect(mosq);
	if (mosquitto_socket(mosq) >= 0 && mosquitto_want_write(mosq))
		(void)mosquitto_loop_write(mosq, 1);
	if (keep < 0)
		return;
	deadline_start(&end, drain_ms);
	if (mosquitto_socket(mosq) < 0) {	/* DISCONNECT went out */
		struct pollfd pfd = { .fd = keep, .events = POLLIN };

		(void)shutdown(keep, SHUT_WR);
		while (deadline_left_ns(&end) > 0 &&
		       poll(&pfd, 1, deadline_left_ms(&end)) > 0 &&
		       read(keep, scratch, sizeof(scratch)) > 0)
			;
	}
	close(keep);
}
