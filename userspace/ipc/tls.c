// SPDX-License-Identifier: MIT
/*
 * tls: the tcp transport inside TLS 1.3 with mutual authentication.
 *
 * Push, lossless while both run, in order, like tcp (same framing, same
 * one-sender-at-a-time receiver, see lib/net_server.h; port 5556). Both
 * ends verify the other's certificate against the project CA and check the
 * name in it (SSL_set1_host): the button expects the LED's certificate to
 * be for "ipc-led", the LED expects the button's to be for "ipc-button"
 * (option peer-name). Certificates name roles, not hosts, so the same set
 * works on loopback and across hosts; extended key usage keeps them apart
 * (the LED's is a server certificate, the button's a client one). Any other
 * peer (no certificate, another CA, another name, a plain TCP client, a
 * silent one) is refused, logged and counted in t->rejected, and never
 * blocks the LED: handshakes are non-blocking and bounded by the timeout.
 *
 * Keys and certificates come from `make certs` (scripts/make-certs): a CA
 * and ECDSA P-256 keys, private keys 0600, in the certificate directory
 * (lib/net_tls.h says which and why); a key others can read is refused.
 * Nothing to clean up at exit.
 *
 * Peer restarts work as for tcp. TLS 1.3 finishes the client's handshake
 * before the server has checked the client's certificate, so the sender's
 * open() also waits for the LED's verdict: the session ticket the LED sends
 * only after accepting the certificate, or its alert, which makes open()
 * fail with -EACCES and the reason (no frame is ever written to a LED that
 * refused us).
 */
#include "transport.h"

#include "../lib/log.h"
#include "../lib/net_frame.h"
#include "../lib/net_options.h"
#include "../lib/net_server.h"
#include "../lib/net_socket.h"
#include "../lib/net_tls.h"
#include "../lib/deadline.h"
#include "../lib/fd_wait.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct tls {
	SSL_CTX *ctx;
	const char *peer_name;
	char name[NET_ADDR_STRLEN];	/* the address, for messages */
	/* sender */
	int fd;
	SSL *ssl;
	struct net_tail tail;		/* a frame SSL_write has not finished */
	bool accepted;			/* the LED's ticket came */
	/* receiver */
	struct net_server *server;
};

static const struct transport_option tls_options[] = {
	{ "host", NULL, "address or name to listen on / connect to (default 127.0.0.1, or ::1 with family=ipv6)", NULL },
	{ "port", "5556", "TCP port", net_port_check },
	{ "family", "any", "ipv4, ipv6 or any: which addresses of host to use", NULL },
	{ "timeout", "3000", "ms: limit for connecting and the handshake (sender); for a new connection's handshake (receiver)", NULL },
	{ "cert-dir", NULL, "certificates and keys (default $XDG_CONFIG_HOME/ipc-button/certs or ~/.config/ipc-button/certs; make certs)", NULL },
	{ "ca", NULL, "the project CA certificate (default <cert-dir>/ca.crt)", NULL },
	{ "cert", NULL, "our certificate (default <cert-dir>/led.crt for the receiver, button.crt for the sender)", NULL },
	{ "key", NULL, "our private key, mode 0600 (default <cert-dir>/led.key or button.key)", NULL },
	{ "peer-name", NULL, "name the peer's certificate must carry (default ipc-button for the receiver, ipc-led for the sender)", NULL },
	{ NULL, NULL, NULL, NULL },
};

/* --- receiver: the handshake and reads of one connection -------------- */

static int tls_conn_init(void *user, struct net_conn *c)
{
	struct tls *tls = user;
	SSL *ssl = SSL_new(tls->ctx);

	if (!ssl)
		return -ENOMEM;
	if (SSL_set_fd(ssl, c->fd) != 1 ||
	    SSL_set1_host(ssl, tls->peer_name) != 1) {
		SSL_free(ssl);
		return -ENOMEM;
	}
	SSL_set_accept_state(ssl);
	c->priv = ssl;
	return 0;
}

/* After -1 from OpenSSL: -EAGAIN with c->want set, or another error. */
static int tls_conn_wait(struct net_conn *c, int ret)
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

static int tls_conn_handshake(void *user, struct net_conn *c)
{
	int ret, r;

	(void)user;
	ERR_clear_error();
	ret = SSL_do_handshake(c->priv);
	if (ret == 1)
		return 0;
	r = tls_conn_wait(c, ret);
	if (r == -EAGAIN)
		return r;
	net_tls_reason(c->priv, r < 0 ? strerror(-r) :
		       "connection closed during the handshake", c->why,
		       sizeof(c->why));
	ERR_clear_error();
	return r < 0 ? r : -ECONNRESET;
}

static ssize_t tls_conn_read(void *user, struct net_conn *c, void *buf,
			     size_t len)
{
	size_t n;
	int ret, r;

	(void)user;
	ERR_clear_error();
	ret = SSL_read_ex(c->priv, buf, len, &n);
	if (ret == 1)
		return (ssize_t)n;
	r = tls_conn_wait(c, ret);
	if (r == -EPROTO) {
		char reason[160];

		log_error("tls: connection from %s: %s", c->name,
			  net_tls_reason(NULL, "protocol error", reason,
					 sizeof(reason)));
	}
	ERR_clear_error();
	return r;
}

static bool tls_conn_has_pending(void *user, struct net_conn *c)
{
	(void)user;
	return SSL_pending(c->priv) > 0;
}

static void tls_conn_free(void *user, struct net_conn *c)
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

static const struct net_server_ops tls_server_ops = {
	.conn_init = tls_conn_init,
	.handshake = tls_conn_handshake,
	.read = tls_conn_read,
	.has_pending = tls_conn_has_pending,
	.conn_free = tls_conn_free,
};

/* --- sender ------------------------------------------------------------ */

/* Run SSL_connect to completion within @timeout_ms, waiting on the fd. */
static int tls_client_handshake(struct tls *tls, int timeout_ms)
{
	uint64_t end = monotonic_ns() + (uint64_t)timeout_ms * 1000000u;
	char reason[200];

	for (;;) {
		uint64_t now;
		short events;
		int ret, err, r;

		ERR_clear_error();
		if (!SSL_is_init_finished(tls->ssl)) {
			ret = SSL_connect(tls->ssl);
		} else {
			uint8_t junk[64];
			size_t n;

			/* Processes the ticket (see tls_new_session). */
			ret = SSL_read_ex(tls->ssl, junk, sizeof(junk), &n);
			if (ret == 1) {
				log_error("tls: %s sent data during the "
					  "handshake", tls->name);
				return -EPROTO;
			}
		}
		if (tls->accepted)
			return 0;
		err = ret == 1 ? SSL_ERROR_WANT_READ :
				 SSL_get_error(tls->ssl, ret);
		if (err == SSL_ERROR_WANT_READ)
			events = POLLIN;
		else if (err == SSL_ERROR_WANT_WRITE)
			events = POLLOUT;
		else if (SSL_get_verify_result(tls->ssl) != X509_V_OK) {
			/* The LED is not who it should be: no retry. */
			log_error("tls: %s: server %s", tls->name,
				  net_tls_reason(tls->ssl, "", reason,
						 sizeof(reason)));
			return -EACCES;
		} else if (err == SSL_ERROR_SSL) {
			/* An alert: the LED refused our certificate. */
			log_error("tls: %s refused the button: %s", tls->name,
				  net_tls_reason(NULL, "protocol error", reason,
						 sizeof(reason)));
			return -EACCES;
		} else {
			/* Reset or closed mid-handshake: an LED restarting.
			 * Retried later. */
			log_error("tls: %s: handshake: %s", tls->name,
				  net_tls_reason(NULL, err == SSL_ERROR_SYSCALL ?
						 "connection closed" :
						 "protocol error", reason,
						 sizeof(reason)));
			return -ECONNREFUSED;
		}
		now = monotonic_ns();
		if (now >= end) {
			log_error("tls: %s: no handshake within %d ms",
				  tls->name, timeout_ms);
			return -ECONNREFUSED;
		}
		r = fd_wait(tls->fd, events,
				      (int)((end - now + 999999) / 1000000),
				      NULL);
		if (r < 0 && r != -ETIMEDOUT)
			return r;
	}
}

/* Called by OpenSSL for the LED's ticket: it has accepted us. */
static int tls_new_session(SSL *ssl, SSL_SESSION *session)
{
	struct tls *tls = SSL_get_app_data(ssl);

	(void)session;
	tls->accepted = true;
	return 0;	/* not kept: every connection checks afresh */
}

static int tls_client_open(struct tls *tls, const struct net_addr *addr,
			   int timeout_ms)
{
	int r;

	SSL_CTX_set_session_cache_mode(tls->ctx, SSL_SESS_CACHE_CLIENT |
				       SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(tls->ctx, tls_new_session);

	r = net_connect("tls", addr, timeout_ms, &tls->fd);
	if (r < 0)
		return r;
	tls->ssl = SSL_new(tls->ctx);
	if (!tls->ssl || SSL_set_app_data(tls->ssl, tls) != 1 ||
	    SSL_set_fd(tls->ssl, tls->fd) != 1 ||
	    SSL_set1_host(tls->ssl, tls->peer_name) != 1 ||
	    SSL_set_tlsext_host_name(tls->ssl, tls->peer_name) != 1)
		return -ENOMEM;
	return tls_client_handshake(tls, timeout_ms);
}

/* --- the transport ----------------------------------------------------- */

static int tls_paths(struct transport *t, char *ca, char *cert, char *key,
		     size_t size)
{
	const char *dir = transport_option(t, "cert-dir");
	const char *leaf = t->role == TRANSPORT_RECEIVER ? "led" : "button";
	const char *opt;
	char def[PATH_MAX];
	int n;

	if (!dir) {
		if (net_tls_default_dir(def, sizeof(def)) < 0)
			return -ENAMETOOLONG;
		dir = def;
	}
	opt = transport_option(t, "ca");
	n = opt ? snprintf(ca, size, "%s", opt) :
		  snprintf(ca, size, "%s/ca.crt", dir);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	opt = transport_option(t, "cert");
	n = opt ? snprintf(cert, size, "%s", opt) :
		  snprintf(cert, size, "%s/%s.crt", dir, leaf);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	opt = transport_option(t, "key");
	n = opt ? snprintf(key, size, "%s", opt) :
		  snprintf(key, size, "%s/%s.key", dir, leaf);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static void tls_free(struct tls *tls)
{
	net_server_close(tls->server);
	if (tls->ssl) {
		if (SSL_is_init_finished(tls->ssl))
			(void)SSL_shutdown(tls->ssl);
		SSL_free(tls->ssl);
	}
	if (tls->fd >= 0)
		close(tls->fd);
	SSL_CTX_free(tls->ctx);
	ERR_clear_error();
	free(tls);
}

static int tls_open(struct transport *t)
{
	char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	bool server = t->role == TRANSPORT_RECEIVER;
	struct net_addr addr;
	struct tls *tls;
	int timeout_ms, r;

	r = net_options_address(t, &addr);
	if (r < 0)
		return r;
	r = net_options_ms(t, "timeout", &timeout_ms);
	if (r < 0)
		return r;
	r = tls_paths(t, ca, cert, key, sizeof(ca));
	if (r < 0) {
		log_errno(r, "tls: certificate paths");
		return r;
	}
	tls = calloc(1, sizeof(*tls));
	if (!tls)
		return -ENOMEM;
	tls->fd = -1;
	tls->peer_name = transport_option(t, "peer-name");
	if (!tls->peer_name)
		tls->peer_name = server ? "ipc-button" : "ipc-led";
	net_addr_format(&addr, tls->name, sizeof(tls->name));
	r = net_tls_context_new("tls", server, ca, cert, key, &tls->ctx);
	if (r == 0)
		r = server ? net_server_open("tls", &addr, timeout_ms,
					     &tls_server_ops, tls, &tls->server)
			   : tls_client_open(tls, &addr, timeout_ms);
	if (r < 0) {
		tls_free(tls);
		return r;
	}
	t->priv = tls;
	return 0;
}

/*
 * Before writing, read what the LED sent, which is only ever the end: its
 * close_notify, or an alert when it refused our certificate. Either way the
 * frame stays with the caller (-EPIPE) for the next connection.
 */
static int tls_check_peer(struct tls *tls)
{
	struct pollfd pfd = { .fd = tls->fd, .events = POLLIN | POLLRDHUP };
	char reason[200];
	uint8_t junk[64];
	size_t n;
	int ret, err;

	if (poll(&pfd, 1, 0) < 0)
		return -errno;
	if (!pfd.revents)
		return 0;
	ERR_clear_error();
	ret = SSL_read_ex(tls->ssl, junk, sizeof(junk), &n);
	if (ret == 1) {
		log_error("tls: %s sent data to the button; reconnecting",
			  tls->name);
		return -EPIPE;
	}
	err = SSL_get_error(tls->ssl, ret);
	if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) &&
	    !(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
		return 0;	/* a record that was not data (key update) */
	if (err == SSL_ERROR_SSL)
		log_error("tls: %s ended the connection: %s", tls->name,
			  net_tls_reason(NULL, "protocol error", reason,
					 sizeof(reason)));
	ERR_clear_error();
	return -EPIPE;
}

/* SSL_write of bytes [off, len) of the tail, or of a new frame. */
static int tls_write(struct tls *tls, const uint8_t *buf, size_t len)
{
	size_t n;
	int ret, err;

	ERR_clear_error();
	ret = SSL_write_ex(tls->ssl, buf, len, &n);
	if (ret == 1)
		return 0;
	err = SSL_get_error(tls->ssl, ret);
	ERR_clear_error();
	if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
		return -EAGAIN;
	return -EPIPE;
}

static int tls_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct tls *tls = t->priv;
	int r;

	/* OpenSSL wants an unfinished write repeated with the same bytes. */
	if (!net_tail_empty(&tls->tail)) {
		r = tls_write(tls, tls->tail.buf, tls->tail.len);
		if (r < 0)
			return r;
		tls->tail.off = tls->tail.len = 0;
	}
	r = tls_check_peer(tls);
	if (r < 0)
		return r;
	r = tls_write(tls, frame, len);
	if (r == -EAGAIN) {
		/* Part of the record may be out: the frame is ours now. */
		net_tail_keep(&tls->tail, frame, len, 0);
		return 0;
	}
	return r;
}

static ssize_t tls_receive(struct transport *t, uint8_t *buf, size_t size,
			   int timeout_ms)
{
	struct tls *tls = t->priv;

	return net_server_receive(tls->server, buf, size, timeout_ms,
				  &t->rejected);
}

static int tls_poll_fd(struct transport *t)
{
	struct tls *tls = t->priv;

	return tls->server ? net_server_poll_fd(tls->server) : tls->fd;
}

static void tls_close(struct transport *t)
{
	if (t->priv)
		tls_free(t->priv);
	t->priv = NULL;
}

static const struct transport_ops tls_ops = {
	.name = "tls",
	.summary = "TLS 1.3 over TCP, both ends verified against the project CA",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_NETWORK,
	.options = tls_options,
	.open = tls_open,
	.send = tls_send,
	.receive = tls_receive,
	.poll_fd = tls_poll_fd,
	.close = tls_close,
};

TRANSPORT_REGISTER(tls_ops);
