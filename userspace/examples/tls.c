// SPDX-License-Identifier: MIT
/*
 * TLS 1.3 (OpenSSL) over one loopback TCP connection, 8 bytes per
 * SSL_write/SSL_read. The receiver serves the LED's certificate from
 * option cert-dir (scripts/make-certs writes one); the sender checks it
 * against the CA and the name ipc-led. No client certificate, no
 * reconnection.
 */
#include "lesson.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

struct tls_state {
	int listen_fd;
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

/* "<cert-dir>/<leaf>"; -ENOENT without option cert-dir. */
static int tls_file(const struct lesson *l, const char *leaf, char *buf, size_t size)
{
	const char *dir = lesson_option(l, "cert-dir");
	int n;

	if (!dir)
		return -ENOENT;
	n = snprintf(buf, size, "%s/%s", dir, leaf);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int tls_open(struct lesson *l)
{
	char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];
	struct tls_state *st = l->priv;
	struct sockaddr_in addr;
	int one = 1, r;

	r = lesson_inet_address(l, "127.0.0.1", 5656, &addr);
	if (r < 0)
		return r;
	st->listen_fd = st->fd = -1;
	st->ctx = SSL_CTX_new(l->receiver ? TLS_server_method() : TLS_client_method());
	if (!st->ctx)
		return -EPROTO;
	if (!SSL_CTX_set_min_proto_version(st->ctx, TLS1_3_VERSION)) {
		r = -EPROTO;
		goto err_free_ctx;
	}
	if (l->receiver) {
		/* The server proves who it is: its certificate and key. */
		if (tls_file(l, "led.crt", cert, sizeof(cert)) < 0 ||
		    tls_file(l, "led.key", key, sizeof(key)) < 0 ||
		    SSL_CTX_use_certificate_chain_file(st->ctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(st->ctx, key, SSL_FILETYPE_PEM) != 1) {
			r = -ENOENT;
			goto err_free_ctx;
		}
		st->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (st->listen_fd < 0 ||
		    setsockopt(st->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(st->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
		    listen(st->listen_fd, 1) < 0) {
			r = -errno;
			goto err_close;
		}
	} else {
		/* lesson-excerpt: begin */
		/* The client refuses any server the CA did not sign for ipc-led. */
		if (tls_file(l, "ca.crt", ca, sizeof(ca)) < 0 ||
		    SSL_CTX_load_verify_locations(st->ctx, ca, NULL) != 1) {
			r = -ENOENT;
			goto err_free_ctx;
		}
		SSL_CTX_set_verify(st->ctx, SSL_VERIFY_PEER, NULL);
		st->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (st->fd < 0 ||
		    setsockopt(st->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
		    connect(st->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
			r = -errno;
			goto err_close;
		}
		st->ssl = SSL_new(st->ctx);
		if (!st->ssl || !SSL_set1_host(st->ssl, "ipc-led") ||
		    !SSL_set_fd(st->ssl, st->fd) || SSL_connect(st->ssl) != 1) {
			r = -ECONNREFUSED;
			goto err_close;
		}
		/* lesson-excerpt: end */
	}
	return 0;
err_close:
	SSL_free(st->ssl);	/* NULL is fine */
	if (st->fd >= 0)
		close(st->fd);
	if (st->listen_fd >= 0)
		close(st->listen_fd);
err_free_ctx:
	SSL_CTX_free(st->ctx);
	return r;
}

static int tls_send(struct lesson *l, uint64_t value)
{
	struct tls_state *st = l->priv;

	return SSL_write(st->ssl, &value, sizeof(value)) == sizeof(value) ? 0 : -EPIPE;
}

/* lesson-excerpt: begin */
static int tls_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct tls_state *st = l->priv;
	size_t done = 0;
	int n;

	(void)timeout_ms;
	if (!st->ssl) {
		st->fd = accept4(st->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (st->fd < 0)
			return -errno;
		st->ssl = SSL_new(st->ctx);
		if (!st->ssl || !SSL_set_fd(st->ssl, st->fd) || SSL_accept(st->ssl) != 1)
			return -EPROTO;
	}
	while (done < sizeof(*value)) {
		n = SSL_read(st->ssl, (char *)value + done, sizeof(*value) - done);
		if (n <= 0)
			return -EPIPE;
		done += n;
	}
	return 0;
}
/* lesson-excerpt: end */

static void tls_close(struct lesson *l)
{
	struct tls_state *st = l->priv;

	if (st->ssl) {
		SSL_shutdown(st->ssl);	/* close_notify: a clean end, not a cut */
		SSL_free(st->ssl);
	}
	SSL_CTX_free(st->ctx);
	if (st->fd >= 0)
		close(st->fd);
	if (st->listen_fd >= 0)
		close(st->listen_fd);
}

static const struct lesson_ops lesson_tls = {
	.name = "tls",
	.state_size = sizeof(struct tls_state),
	.needs = "certificates: scripts/make-certs DIR, then cert-dir=DIR",
	.open = tls_open,
	.send = tls_send,
	.receive = tls_receive,
	.close = tls_close,
};
LESSON_REGISTER(lesson_tls);
