// SPDX-License-Identifier: MIT
#include "net_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
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
		snprintf(why, size, "key %s (make certs creates it): %s", path,
			 strerror(-r));
		return r;
	}
	if (fstat(fileno(f), &st) < 0) {
		r = -errno;
		snprintf(why, size, "key %s: %s", path, strerror(-r));
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
