#include "lib/tls.h"
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>

SSL_CTX *tls_server_ctx(const void *cert_pem, size_t cert_len,
			const void *key_pem, size_t key_len, const char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		*error_r = "SSL_CTX_new failed";
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
			    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* an idle connection gives its record buffers back (about 34 KiB
	 * while in use): most logged-in IMAP sessions sit idle for hours */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	BIO *cb = BIO_new_mem_buf(cert_pem, (int)cert_len);
	BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len);
	X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	int ok = cert && key && SSL_CTX_use_certificate(ctx, cert) == 1 &&
		 SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
		 SSL_CTX_check_private_key(ctx) == 1;
	/* the rest of the chain, if the file holds one */
	if (ok) {
		X509 *extra;
		while ((extra = PEM_read_bio_X509(cb, NULL, NULL, NULL)) != NULL)
			if (SSL_CTX_add0_chain_cert(ctx, extra) != 1)
				X509_free(extra);
		ERR_clear_error();
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	if (!ok) {
		*error_r = "certificate or key unusable (or they do not match)";
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

void tls_describe(SSL *ssl, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s", SSL_get_version(ssl),
		 SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
}
