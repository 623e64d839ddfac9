// SPDX-License-Identifier: MIT
#include "net_tls.h"

#include "deadline.h"
#include "fd_wait.h"

#include <errno.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int net_tls_default_dir(char *buf, size_t size)
{
	const char *config = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;

	if (config && config[0] == '/')
		n = snprintf(buf, size, "%s/ipc-button/certs", config);
	else if (home && home[0] == '/' && strcmp(home, "/"))
		n = snprintf(buf, size, "%s/.config/ipc-button/certs", home);
	else
		n = snprintf(buf, size, "/etc/ipc-button/certs");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* @opt when given, else "<dir>/<leaf><ext>". */
static int path_or_default(const char *opt, const char *dir,
			   const char *leaf, const char *ext, char *buf,
			   size_t size)
{
	int n = opt ? snprintf(buf, size, "%s", opt) :
		      snprintf(buf, size, "%s/%s%s", dir, leaf, ext);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int net_tls_paths(const char *dir, const char *ca_opt, const char *cert_opt,
		  const char *key_opt, const char *leaf, char *ca, char *cert,
		  char *key, size_t size)
{
	char def[PATH_MAX];
	int r;

	if (!dir) {
		if (net_tls_default_dir(def, sizeof(def)) < 0)
			return -ENAMETOOLONG;
		dir = def;
	}
	r = path_or_default(ca_opt, dir, "ca", ".crt", ca, size);
	if (r == 0)
		r = path_or_default(cert_opt, dir, leaf, ".crt", cert, size);
	if (r == 0)
		r = path_or_default(key_opt, dir, leaf, ".key", key, size);
	return r;
}

/* Drain OpenSSL's error queue into one line. */
static const char *queue_reason(const char *fallback, char *buf, size_t size)
{
	unsigned long e, last = 0;

	while ((e = ERR_get_error()))
		last = e;
	if (!last)
		snprintf(buf, size, "%s", fallback);
	else
		ERR_error_string_n(last, buf, size);
	return buf;
}

const char *net_tls_reason(SSL *ssl, const char *fallback, char *buf,
			   size_t size)
{
	long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (verify != X509_V_OK) {
		ERR_clear_error();
		snprintf(buf, size, "certificate refused: %s",
			 X509_verify_cert_error_string(verify));
		return buf;
	}
	return queue_reason(fallback, buf, size);
}

static SSL_TICKET_RETURN ignore_tickets(SSL *ssl, SSL_SESSION *session,
					const unsigned char *keyname,
					size_t keyname_len,
					SSL_TICKET_STATUS status, void *arg)
{
	(void)ssl;
	(void)session;
	(void)keyname;
	(void)keyname_len;
	(void)status;
	(void)arg;
	return SSL_TICKET_RETURN_IGNORE;
}

/* Never ask for a passphrase on a terminal: keys are stored unencrypted,
 * protected by their file mode, and the LED runs unattended. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int load_private_key(SSL_CTX *ctx, const char *path, char *why,
			    size_t size)
{
	char reason[256];
	EVP_PKEY *key;
	struct stat st;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		snprintf(why, size, "key %s (make certs creates it)", path);
		return r;
	}
	if (fstat(fileno(f), &st) < 0) {
		r = -errno;
		snprintf(why, size, "key %s", path);
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, size, "key %s: not a regular file", path);
		r = -EINVAL;
	} else if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(why, size, "key %s: owned by another user (uid %u)",
			 path, (unsigned int)st.st_uid);
		r = -EPERM;
	} else if (st.st_mode & 077) {
		snprintf(why, size, "key %s: mode %04o lets others read it; "
			 "chmod 600 it", path,
			 (unsigned int)(st.st_mode & 07777));
		r = -EPERM;
	}
	if (r < 0) {
		fclose(f);
		return r;
	}
	key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (!key) {
		snprintf(why, size, "key %s: %s", path,
			 queue_reason("not a PEM private key", reason,
				      sizeof(reason)));
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1)
		r = -EINVAL;
	EVP_PKEY_free(key);
	if (r == 0 && SSL_CTX_check_private_key(ctx) != 1)
		r = -EINVAL;
	if (r < 0)
		snprintf(why, size, "key %s: %s", path,
			 queue_reason("does not match the certificate",
				      reason, sizeof(reason)));
	return r;
}

int net_tls_context_new(bool server, const char *ca_file,
			const char *cert_file, const char *key_file,
			SSL_CTX **ret, char *why, size_t size)
{
	char reason[256];
	SSL_CTX *ctx;
	int r;

	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx) {
		snprintf(why, size, "%s", queue_reason("out of memory", reason,
							 sizeof(reason)));
		return -ENOMEM;
	}
	/* TLS 1.3 only, 128-bit security at least (level 3). */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		snprintf(why, size, "cannot restrict to TLS 1.3");
		r = -EINVAL;
		goto err_free_ctx;
	}
	SSL_CTX_set_security_level(ctx, 3);
	/* Frames have a fixed size, so a missing close_notify cannot cut one
	 * unnoticed; a peer that just dies is an ordinary end of stream. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
			    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (server) {
		/*
		 * In TLS 1.3 the client's handshake ends before the server
		 * has checked the client's certificate. The one session
		 * ticket the server sends after that check is the button's
		 * confirmation that it was accepted (an alert says it was
		 * not). Tickets are never honoured: every connection makes a
		 * full handshake and a fresh certificate check.
		 */
		SSL_CTX_set_num_tickets(ctx, 1);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_session_ticket_cb(ctx, NULL, ignore_tickets, NULL);
		/*
		 * Read what the socket holds, not a record's 5-byte header
		 * and then its body: one recv() per record instead of two,
		 * and one for a whole burst. What is read ahead is invisible
		 * to poll, so net_tls_conn_has_pending() asks
		 * SSL_has_pending(). The client keeps it off: its handshake
		 * waits in poll() after SSL_read().
		 */
		SSL_CTX_set_read_ahead(ctx, 1);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
			   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if (SSL_CTX_load_verify_file(ctx, ca_file) != 1) {
		snprintf(why, size, "CA %s: %s (make certs creates it)", ca_file,
			 queue_reason("cannot load", reason, sizeof(reason)));
		r = -ENOENT;
		goto err_free_ctx;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		snprintf(why, size, "certificate %s: %s", cert_file,
			 queue_reason("cannot load", reason, sizeof(reason)));
		r = -ENOENT;
		goto err_free_ctx;
	}
	r = load_private_key(ctx, key_file, why, size);
	if (r < 0)
		goto err_free_ctx;
	*ret = ctx;
	return 0;

err_free_ctx:
	SSL_CTX_free(ctx);
	return r;
}

int net_tls_conn_init(void *user, struct net_conn *c)
{
	struct net_tls_peer *peer = user;
	SSL *ssl = SSL_new(peer->ctx);

	if (!ssl)
		return -ENOMEM;
	if (SSL_set_fd(ssl, c->fd) != 1 ||
	    SSL_set1_host(ssl, peer->name) != 1) {
		SSL_free(ssl);
		return -ENOMEM;
	}
	SSL_set_accept_state(ssl);
	c->priv = ssl;
	return 0;
}

/* After -1 from OpenSSL: -EAGAIN with c->want set, or another error. */
static int conn_wait(struct net_conn *c, int ret)
{
	switch (SSL_get_error(c->priv, ret)) {
	case SSL_ERROR_WANT_READ:
		c->want = EPOLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->want = EPOLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		return errno ? -errno : 0;
	default:
		return -EPROTO;
	}
}

int net_tls_conn_handshake(void *user, struct net_conn *c)
{
	int ret, r;

	(void)user;
	ERR_clear_error();
	ret = SSL_do_handshake(c->priv);
	if (ret == 1)
		return 0;
	r = conn_wait(c, ret);
	if (r == -EAGAIN)
		return r;
	net_tls_reason(c->priv, r < 0 ? strerror(-r) :
		       "connection closed during the handshake", c->why,
		       sizeof(c->why));
	ERR_clear_error();
	return r < 0 ? r : -ECONNRESET;
}

ssize_t net_tls_conn_read(void *user, struct net_conn *c, void *buf,
			     size_t len)
{
	size_t n;
	int ret, r;

	(void)user;
	ERR_clear_error();
	ret = SSL_read_ex(c->priv, buf, len, &n);
	if (ret == 1)
		return (ssize_t)n;
	r = conn_wait(c, ret);
	if (r == -EPROTO)
		net_tls_reason(NULL, "protocol error", c->why, sizeof(c->why));
	ERR_clear_error();
	return r;
}

bool net_tls_conn_has_pending(void *user, struct net_conn *c)
{
	(void)user;
	/* Records read ahead count too, not only a record's unread rest. */
	return SSL_has_pending(c->priv) == 1;
}

void net_tls_conn_free(void *user, struct net_conn *c)
{
	(void)user;
	if (!c->priv)
		return;
	/* Best effort close_notify; never wait for the peer's. */
	if (c->established)
		(void)SSL_shutdown(c->priv);
	ERR_clear_error();
	SSL_free(c->priv);
	c->priv = NULL;
}

int net_tls_write(SSL *ssl, const uint8_t *buf, size_t len)
{
	size_t n;
	int ret, err;

	ERR_clear_error();
	ret = SSL_write_ex(ssl, buf, len, &n);
	if (ret == 1)
		return 0;
	err = SSL_get_error(ssl, ret);
	ERR_clear_error();
	if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
		return -EAGAIN;
	return -EPIPE;
}

int net_tls_client_handshake(SSL *ssl, int fd, const char *name,
			     const bool *accepted, int timeout_ms, char *why,
			     size_t size)
{
	char reason[200];
	struct deadline end;
	uint8_t junk[64];
	int ret, err, r;
	size_t n;

	deadline_start(&end, timeout_ms);
	for (;;) {
		ERR_clear_error();
		if (!SSL_is_init_finished(ssl)) {
			ret = SSL_connect(ssl);
		} else if ((ret = SSL_read_ex(ssl, junk, sizeof(junk), &n))) {
			snprintf(why, size, "%s sent data during the handshake",
				 name);
			return -EPROTO;
		}
		if (*accepted)
			return 0;
		err = ret == 1 ? SSL_ERROR_WANT_READ : SSL_get_error(ssl, ret);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
			break;
		if (deadline_left_ns(&end) == 0) {
			snprintf(why, size, "%s: no handshake within %d ms",
				 name, timeout_ms);
			return -ENOENT;	/* retried later */
		}
		r = fd_wait(fd, err == SSL_ERROR_WANT_READ ?
				      POLLIN : POLLOUT, deadline_left_ms(&end),
				      NULL);
		if (r < 0 && r != -ETIMEDOUT)
			return r;
	}
	if (SSL_get_verify_result(ssl) != X509_V_OK) {
		/* The LED is not who it should be: no retry. */
		snprintf(why, size, "%s: server %s", name,
			 net_tls_reason(ssl, "", reason, sizeof(reason)));
		return -EACCES;
	}
	if (err == SSL_ERROR_SSL) {
		/* An alert: the LED refused our certificate. */
		snprintf(why, size, "%s refused the button: %s", name,
			 net_tls_reason(NULL, "protocol error", reason,
					sizeof(reason)));
		return -EACCES;
	}
	/* Reset or closed mid-handshake: an LED restarting. Retried later. */
	snprintf(why, size, "%s: handshake: %s", name,
		 net_tls_reason(NULL, err == SSL_ERROR_SYSCALL ?
				"connection closed" : "protocol error",
				reason, sizeof(reason)));
	return -ENOENT;	/* retried later */
}
