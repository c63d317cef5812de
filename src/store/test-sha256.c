/* test-sha256.c: the store's own SHA-256 against the FIPS 180-2 example
 * vectors on both block functions (SHA extensions where the CPU has them,
 * portable C always), against libsodium's as an independent reference on
 * every length from 0 to 1,100 octets and some large ones, and fed in
 * pieces of every size down to one octet at a time. */
#include "store/sha256.h"
#include "lib/test.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex(const uint8_t *md, char *out)
{
	for (int i = 0; i < SHA256_DIGEST_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static const struct {
	const char *data;   /* NULL: one million 'a' */
	const char *hex;
} vectors[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ NULL, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

static void known(const char *path, const uint8_t *million)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint8_t md[SHA256_DIGEST_LEN];
		char h[2 * SHA256_DIGEST_LEN + 1];
		const void *d = vectors[i].data ? (const void *)vectors[i].data : million;
		size_t n = vectors[i].data ? strlen(vectors[i].data) : 1000000;
		sha256(d, n, md);
		hex(md, h);
		CHECK_STR(h, vectors[i].hex, "%s: vector %zu", path, i);
	}
}

/* every length 0..1100 and a few large ones equal libsodium's digest */
static void lengths(const char *path, const uint8_t *buf)
{
	static const size_t big[] = { 4095, 4096, 65536, 102400, 1000003 };
	int bad = 0;
	for (size_t n = 0; n <= 1100 + 5; n++) {
		size_t len = n <= 1100 ? n : big[n - 1101];
		uint8_t a[SHA256_DIGEST_LEN], b[SHA256_DIGEST_LEN];
		sha256(buf, len, a);
		crypto_hash_sha256(b, buf, len);
		if (memcmp(a, b, sizeof(a)) != 0) {
			if (bad++ == 0)
				CHECK(0, "%s: length %zu differs from libsodium", path, len);
		}
	}
	CHECK(bad == 0, "%s: all lengths agree with libsodium (%d differ)", path, bad);
}

/* the same digest whatever the pieces: fixed sizes 1..130 and random */
static void pieces(const char *path, const uint8_t *buf)
{
	const size_t len = 5000;
	uint8_t whole[SHA256_DIGEST_LEN];
	int bad = 0;
	sha256(buf, len, whole);
	for (size_t step = 1; step <= 130; step++) {
		struct sha256 s;
		uint8_t md[SHA256_DIGEST_LEN];
		sha256_init(&s);
		for (size_t o = 0; o < len; o += step)
			sha256_update(&s, buf + o, o + step <= len ? step : len - o);
		sha256_final(&s, md);
		bad += memcmp(md, whole, sizeof(md)) != 0;
	}
	srand(7);
	for (int t = 0; t < 200; t++) {
		struct sha256 s;
		uint8_t md[SHA256_DIGEST_LEN];
		sha256_init(&s);
		for (size_t o = 0; o < len;) {
			size_t k = (size_t)rand() % 300;
			if (o + k > len)
				k = len - o;
			sha256_update(&s, buf + o, k);
			o += k;
		}
		sha256_final(&s, md);
		bad += memcmp(md, whole, sizeof(md)) != 0;
	}
	CHECK(bad == 0, "%s: pieces give the one-call digest (%d differ)", path, bad);
}

int main(void)
{
	uint8_t *million = malloc(1000000), *buf = malloc(1000003);
	if (million == NULL || buf == NULL || sodium_init() < 0) {
		CHECK(0, "setup");
		return TEST_DONE();
	}
	memset(million, 'a', 1000000);
	for (size_t i = 0; i < 1000003; i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 8) * 7 + 1);
	int accel = sha256_accelerated();
	printf("# SHA extensions %s\n", accel ? "in use" : "not available: portable only");
	for (int force = accel ? 0 : 1; force <= 1; force++) {
		const char *path = force ? "portable" : "SHA extensions";
		sha256_force_portable(force);
		CHECK(sha256_accelerated() == !force, "%s block function chosen", path);
		known(path, million);
		lengths(path, buf);
		pieces(path, buf);
	}
	free(million);
	free(buf);
	return TEST_DONE();
}
