/* SHA-256 (FIPS 180-4), the blob store's content address.
 *
 * Written here rather than taken from a library because the two packaged
 * in Debian that the store could use are either OpenSSL (which the
 * redoubt-store executable is kept free of) or libsodium, whose SHA-256 is
 * plain C: about 470 MB/s here, a fifth of a 100 KiB message's delivery.
 * On a CPU with the SHA extensions (x86 SHA-NI, checked once with cpuid)
 * the block function uses them; elsewhere it is portable C. Both give the
 * same digest; test-sha256 checks the FIPS vectors and each against the
 * other on many lengths. */
#ifndef RD_SHA256_H
#define RD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_BLOCK_LEN 64

struct sha256 {
	uint32_t h[8];
	uint64_t total;                  /* octets hashed so far */
	uint8_t buf[SHA256_BLOCK_LEN];   /* a partial block */
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_LEN]);
/* One call for a whole buffer. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);

/* For tests: 1 if the SHA-extension block function is in use; force = 0
 * makes later calls use the portable one, 1 restores the detected one. */
int sha256_accelerated(void);
void sha256_force_portable(int force);

#endif
