// SPDX-License-Identifier: MIT
/*
 * tls: the tcp transport inside TLS 1.3 with mutual authentication.
 *
 * Push, lossless while both run, in order, like tcp, whose socket calls it
 * reuses (ipc/tcp.h; port 5556). Both ends verify the other's certificate
 * against the project CA and check the name in it (SSL_set1_host): the
 * button expects "ipc-led", the LED "ipc-button" (option peer-name).
 * Certificates name roles, not hosts. Any other peer (no certificate,
 * another CA or name, plain TCP, a silent one) is refused, logged and
 * counted in t->rejected, and never blocks the LED (lib/net_server.h).
 * Keys and certificates come from `make certs`: a CA and ECDSA P-256 keys,
 * 0600, in the certificate directory (lib/net_tls.h); a key others can read
 * is refused.
 *
 * TLS 1.3 finishes the client's handshake before the server has checked
 * the client's certificate, so the sender's open() also waits for the
 * LED's verdict: the session ticket the LED sends only after accepting the
 * certificate, or its alert, which makes open() fail with -EACCES and the
 * reason (no frame is ever written to a LED that refused us). Once the
 * handshake is done the LED resets the connection when it closes it, so
 * a write after its end fails and the frame stays in the backlog (no
 * poll() before each write; tcp.c says more).
 */
#include "tcp.h"
#include "transport.h"

#include "../lib/net_frame.h"
#include "../lib/net_server.h"
#include "../lib/net_tls.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

struct tls_state {
	struct net_server *server;	/* receiver; first: tcp_receive() */
	struct net_tls_peer peer;	/* net_server's user, for lib/net_tls */
	char name[NET_ADDR_STRLEN];	/* the address, for messages */
	/* sender */
	int fd;
	SSL *ssl;
	struct net_tail tail;		/* frames SSL_write has not finished */
	bool accepted;			/* the LED's ticket came */
	/* receiver */
	struct transport *t;		/* for its notices */
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

/* Told at once, as tcp's (see tcp_notice). */
static void tls_notice(void *user, const char *line)
{
	struct tls_state *st = (struct tls_state *)((char *)user -
		offsetof(struct tls_state, peer));

	transport_notice(st->t, LOG_WARNING, "tls: %s", line);
}

/* The receiver's connections: accepted as tcp's, served by lib/net_tls. */
static const struct net_server_ops tls_server_ops = {
	.accept = tcp_accept,
	.notice = tls_notice,
	.conn_init = net_tls_conn_init,
	.handshake = net_tls_conn_handshake,
	.read = net_tls_conn_read,
	.has_pending = net_tls_conn_has_pending,
	.conn_free = net_tls_conn_free,
};

/* Called by OpenSSL for the LED's ticket: it has accepted us. */
static int tls_new_session(SSL *ssl, SSL_SESSION *session)
{
	struct tls_state *st = SSL_get_app_data(ssl);

	(void)session;
	st->accepted = true;
	return 0;	/* not kept: every connection checks afresh */
}

static int tls_client_open(struct tls_state *st, const struct net_addr *addr,
			   int timeout_ms, char *why, size_t size)
{
	SSL_CTX_set_session_cache_mode(st->peer.ctx, SSL_SESS_CACHE_CLIENT |
				       SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(st->peer.ctx, tls_new_session);

	st->fd = tcp_socket(addr, false, timeout_ms, why, size);
	if (st->fd < 0)
		return st->fd;
	st->ssl = SSL_new(st->peer.ctx);
	if (!st->ssl || SSL_set_app_data(st->ssl, st) != 1 ||
	    SSL_set_fd(st->ssl, st->fd) != 1 ||
	    SSL_set1_host(st->ssl, st->peer.name) != 1 ||
	    SSL_set_tlsext_host_name(st->ssl, st->peer.name) != 1)
		return -ENOMEM;
	return net_tls_client_handshake(st->ssl, st->fd, st->name,
					&st->accepted, timeout_ms, why, size);
}

static void tls_close(struct transport *t)
{
	struct tls_state *st = t->priv;

	if (!st)
		return;
	net_server_close(st->server);
	if (st->ssl) {
		if (SSL_is_init_finished(st->ssl))
			(void)SSL_shutdown(st->ssl);
		SSL_free(st->ssl);
	}
	if (st->fd >= 0)
		close(st->fd);
	SSL_CTX_free(st->peer.ctx);
	ERR_clear_error();
	free(st);
	t->priv = NULL;
}

static int tls_open(struct transport *t)
{
	char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	bool server = t->role == TRANSPORT_RECEIVER;
	char *why = t->detail;
	size_t size = sizeof(t->detail);
	struct net_addr addr;
	struct tls_state *st;
	int timeout_ms, r;

	r = tcp_parse_options(t, &addr, &timeout_ms, why, size);
	if (r == 0 && net_tls_paths(transport_option(t, "cert-dir"),
				    transport_option(t, "ca"),
				    transport_option(t, "cert"),
				    transport_option(t, "key"),
				    server ? "led" : "button", ca, cert, key,
				    sizeof(ca)) < 0) {
		snprintf(why, size, "certificate paths");
		r = -ENAMETOOLONG;
	}
	if (r < 0)
		return r;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->fd = -1;
	st->t = t;
	st->peer.name = transport_option(t, "peer-name");
	if (!st->peer.name)
		st->peer.name = server ? "ipc-button" : "ipc-led";
	net_addr_format(&addr, st->name, sizeof(st->name));
	r = net_tls_context_new(server, ca, cert, key, &st->peer.ctx, why,
				size);
	if (r == 0 && server) {
		r = tcp_socket(&addr, true, 0, why, size);
		if (r >= 0)
			r = net_server_open(r, timeout_ms, &tls_server_ops,
					    &st->peer, &st->server);
	} else if (r == 0) {
		r = tls_client_open(st, &addr, timeout_ms, why, size);
	}
	t->priv = st;
	if (r < 0)
		tls_close(t);
	return r;
}

/* One TLS record of the lot, which OpenSSL sends whole or wants again. */
static int tls_send_many(struct transport *t, const uint8_t *frames,
			 size_t len, size_t count)
{
	struct tls_state *st = t->priv;
	int r;

	if (len && count > sizeof(st->tail.buf) / len)
		count = sizeof(st->tail.buf) / len;

	/* OpenSSL wants an unfinished write repeated with the same bytes. */
	if (!net_tail_empty(&st->tail)) {
		r = net_tls_write(st->ssl, st->tail.buf, st->tail.len);
		if (r < 0)
			return r;
		st->tail.off = st->tail.len = 0;
	}
	/* No look for the LED's end first: it resets the connection when it
	 * closes it (lib/net_server.c), so this write fails (-EPIPE). */
	r = net_tls_write(st->ssl, frames, len * count);
	if (r == -EAGAIN)	/* part of the record may be out: ours now */
		net_tail_keep(&st->tail, frames, len * count, 0);
	return r == 0 || r == -EAGAIN ? (int)count : r;
}

static int tls_send(struct transport *t, const uint8_t *frame, size_t len)
{
	int r = tls_send_many(t, frame, len, 1);

	return r < 0 ? r : 0;
}

static int tls_poll_fd(struct transport *t)
{
	struct tls_state *st = t->priv;

	return st->server ? net_server_poll_fd(st->server) : st->fd;
}

static const struct transport_ops tls_ops = {
	.name = "tls",
	.summary = "TLS 1.3 over TCP, both ends verified against the project CA",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_NETWORK,
	.options = tls_options,
	.open = tls_open,
	.send = tls_send,
	.receive = tcp_receive,
	.send_many = tls_send_many,
	.receive_many = tcp_receive_many,
	.poll_fd = tls_poll_fd,
	.close = tls_close,
};

TRANSPORT_REGISTER(tls_ops);
