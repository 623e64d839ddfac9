// SPDX-License-Identifier: MIT
/*
 * Bare TLS: TLS 1.3 over one loopback TCP connection (TCP_NODELAY), 8 bytes
 * per SSL_write/SSL_read. The receiver serves the LED's certificate from the
 * same directory as our tls transport (option cert-dir); the sender checks
 * it against the CA and the name ipc-led. No client certificate, no
 * re-connection, no framing: the handshake is not timed anyway.
 */
#include "bare.h"

#include "../endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct tls {
	int listen_fd;
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

static int tls_file(const struct bare *b, const char *leaf, char *buf, size_t size)
{
	const char *dir = option_value(b->options, "cert-dir");
	int n;

	if (!dir)
		return -ENOENT;
	n = snprintf(buf, size, "%s/%s", dir, leaf);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int tls_open(struct bare *b)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(bare_port(b, 5656)),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];
	struct tls *t = calloc(1, sizeof(*t));
	int one = 1, r = 0;

	if (!t)
		return -ENOMEM;
	t->listen_fd = t->fd = -1;
	t->ctx = SSL_CTX_new(b->receiver ? TLS_server_method() : TLS_client_method());
	if (!t->ctx || !SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION)) {
		r = -EPROTO;
		goto fail;
	}
	if (b->receiver) {
		if (tls_file(b, "led.crt", cert, sizeof(cert)) < 0 ||
		    tls_file(b, "led.key", key, sizeof(key)) < 0 ||
		    SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1) {
			r = -ENOENT;
			goto fail;
		}
		t->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (t->listen_fd < 0 ||
		    setsockopt(t->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(t->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
		    listen(t->listen_fd, 1) < 0) {
			r = -errno;
			goto fail;
		}
	} else {
		if (tls_file(b, "ca.crt", ca, sizeof(ca)) < 0 ||
		    SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1) {
			r = -ENOENT;
			goto fail;
		}
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
		t->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (t->fd < 0 ||
		    setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
		    connect(t->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
			r = -errno;
			goto fail;
		}
		t->ssl = SSL_new(t->ctx);
		if (!t->ssl || !SSL_set1_host(t->ssl, "ipc-led") ||
		    !SSL_set_fd(t->ssl, t->fd) || SSL_connect(t->ssl) != 1) {
			r = -ECONNREFUSED;
			goto fail;
		}
	}
	b->priv = t;
	return 0;
fail:
	if (t->ssl)
		SSL_free(t->ssl);
	if (t->ctx)
		SSL_CTX_free(t->ctx);
	if (t->fd >= 0)
		close(t->fd);
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	free(t);
	return r;
}

static int tls_send(struct bare *b, uint64_t value)
{
	struct tls *t = b->priv;

	return SSL_write(t->ssl, &value, sizeof(value)) == sizeof(value) ? 0 : -EPIPE;
}

static int tls_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct tls *t = b->priv;
	size_t done = 0;
	int n;

	(void)timeout_ms;
	if (!t->ssl) {
		t->fd = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (t->fd < 0)
			return -errno;
		t->ssl = SSL_new(t->ctx);
		if (!t->ssl || !SSL_set_fd(t->ssl, t->fd) || SSL_accept(t->ssl) != 1)
			return -EPROTO;
	}
	while (done < sizeof(*value)) {
		n = SSL_read(t->ssl, (char *)value + done, sizeof(*value) - done);
		if (n <= 0)
			return -EPIPE;
		done += n;
	}
	return 0;
}

static void tls_close(struct bare *b)
{
	struct tls *t = b->priv;

	if (t->ssl) {
		SSL_shutdown(t->ssl);
		SSL_free(t->ssl);
	}
	SSL_CTX_free(t->ctx);
	if (t->fd >= 0)
		close(t->fd);
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	free(t);
}

static const struct bare_ops bare_tls = {
	.name = "tls",
	.open = tls_open,
	.send = tls_send,
	.receive = tls_receive,
	.close = tls_close,
};
BARE_REGISTER(bare_tls);
