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

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The default certificate directory: $XDG_CONFIG_HOME/ipc-button/certs,
 * else $HOME/.config/ipc-button/certs, else /etc/ipc-button/certs. A
 * configuration directory and not the runtime one: the CA and keys must
 * survive reboots (the runtime directory is a tmpfs) and be the same on
 * every host that talks to another, so they are made once and copied.
 */
int net_tls_default_dir(char *buf, size_t size);

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

#endif /* IPC_NET_TLS_H */
