/* SPDX-License-Identifier: MIT */
/*
 * OpenSSL 3 set-up shared by both ends of the tls transport: one place that
 * decides the protocol (TLS 1.3 only), the security level (128-bit: ECDSA
 * P-256 or RSA 3072 and up; the series' 1024-bit RSA is refused), mutual
 * verification against the project CA, and how private keys are loaded
 * (only from a file nobody else can read).
 */
#ifndef IPC_NET_TLS_H
#define IPC_NET_TLS_H

#include "net_server.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The default certificate directory: $XDG_CONFIG_HOME/ipc-button/certs,
 * else $HOME/.config/ipc-button/certs, else /etc/ipc-button/certs. A
 * configuration directory and not the runtime one: the CA and keys must
 * survive reboots (the runtime directory is a tmpfs) and be the same on
 * every host that talks to another, so they are made once and copied.
 */
int net_tls_default_dir(char *buf, size_t size);

/*
 * The files of one end: each option (@ca_opt, @cert_opt, @key_opt) if
 * given, else ca.crt, <leaf>.crt and <leaf>.key in @dir (NULL: the default
 * directory). @leaf is "led" or "button". 0 or -ENAMETOOLONG.
 */
int net_tls_paths(const char *dir, const char *ca_opt, const char *cert_opt,
		  const char *key_opt, const char *leaf, char *ca, char *cert,
		  char *key, size_t size);

/*
 * A context for @server (the LED) or the client (the button): TLS 1.3
 * only, security level 3, peers verified against @ca_file and required to
 * present a certificate, our @cert_file (chain) and @key_file. The key file
 * must be a regular file of ours (or root's) with no access for group and
 * others. On failure @why (of @size bytes) names the file and the reason.
 */
int net_tls_context_new(bool server, const char *ca_file,
			const char *cert_file, const char *key_file,
			SSL_CTX **ret, char *why, size_t size);

/*
 * The most useful reason for the last failure on @ssl: the certificate
 * verification error if there was one, else OpenSSL's error queue (which
 * is cleared), else @fallback. Returns @buf.
 */
const char *net_tls_reason(SSL *ssl, const char *fallback, char *buf,
			   size_t size);

/*
 * The sender's handshake on the connected non-blocking @fd of @ssl (whose
 * peer must be @name): SSL_connect to completion within @timeout_ms, then
 * read until the LED's verdict on our certificate comes: *@accepted turns
 * true (the caller's new-session callback sets it on the LED's ticket), or
 * an alert. 0; -EACCES when the LED is not who it should be or refused us
 * (no retry); -ENOENT (TRANSPORT_ABSENT) when it did not answer in time or
 * closed mid-handshake (retry later); -EPROTO, -EINTR or another negative
 * errno. @why says what happened.
 */
int net_tls_client_handshake(SSL *ssl, int fd, const char *name,
			     const bool *accepted, int timeout_ms, char *why,
			     size_t size);

/*
 * SSL_write_ex of @len bytes: 0, -EAGAIN (OpenSSL wants the same bytes
 * again later) or -EPIPE.
 */
int net_tls_write(SSL *ssl, const uint8_t *buf, size_t len);

/*
 * The TLS side of the receiver's connections, as struct net_server_ops
 * members (the transport adds accept and notice): @user is a struct
 * net_tls_peer. Each connection gets its SSL in c->priv, checks the peer's
 * certificate for @name, and on refusal says why in c->why.
 */
struct net_tls_peer {
	SSL_CTX *ctx;
	const char *name;	/* the name the peer's certificate must carry */
};

int net_tls_conn_init(void *user, struct net_conn *c);
int net_tls_conn_handshake(void *user, struct net_conn *c);
ssize_t net_tls_conn_read(void *user, struct net_conn *c, void *buf,
			  size_t len);
bool net_tls_conn_has_pending(void *user, struct net_conn *c);
void net_tls_conn_free(void *user, struct net_conn *c);

#endif /* IPC_NET_TLS_H */
