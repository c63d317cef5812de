/* tls.h: OpenSSL server context built from PEM held in memory.
 *
 * Master reads the certificate and key files and hands the PEM to the
 * front roles over IPC; fronts never open key files (they cannot: their
 * sandbox forbids every open). TLS 1.2 is the floor. Returns NULL with
 * *error_r on failure. */
#ifndef RD_TLS_H
#define RD_TLS_H
#include <stddef.h>
#include <openssl/ssl.h>

SSL_CTX *tls_server_ctx(const void *cert_pem, size_t cert_len,
			const void *key_pem, size_t key_len, const char **error_r);
/* "TLSv1.3/TLS_AES_256_GCM_SHA384" for logs and Received headers. */
void tls_describe(SSL *ssl, char *out, size_t outlen);
#endif
