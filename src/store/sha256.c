/* SHA-256 (FIPS 180-4): portable block function and, on x86-64 CPUs with
 * the SHA extensions, one built on SHA256RNDS2/MSG1/MSG2. See sha256.h. */
#include "store/sha256.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RD_SHA_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void blocks_portable(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	while (nblocks-- > 0) {
		uint32_t w[64];
		for (int i = 0; i < 16; i++)
			w[i] = be32(p + 4 * i);
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
		uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];
		for (int i = 0; i < 64; i++) {
			uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
				      ((e & f) ^ (~e & g)) + K[i] + w[i];
			uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
				      ((a & b) ^ (a & c) ^ (b & c));
			hh = g;
			g = f;
			f = e;
			e = d + t1;
			d = c;
			c = b;
			b = a;
			a = t1 + t2;
		}
		h[0] += a;
		h[1] += b;
		h[2] += c;
		h[3] += d;
		h[4] += e;
		h[5] += f;
		h[6] += g;
		h[7] += hh;
		p += SHA256_BLOCK_LEN;
	}
}

#ifdef RD_SHA_X86
/* The state lives in two registers as the instructions want it: ABEF
 * (A in the top dword) and CDGH. SHA256RNDS2 runs two rounds on the low
 * two dwords of its third operand (message words plus constants) and
 * returns the new ABEF; the old ABEF is the new CDGH. */
#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

SHA_TARGET static inline void four_rounds(__m128i *s0, __m128i *s1, __m128i w, int k)
{
	__m128i m = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K[k]));
	*s1 = _mm_sha256rnds2_epu32(*s1, *s0, m);
	*s0 = _mm_sha256rnds2_epu32(*s0, *s1, _mm_shuffle_epi32(m, 0x0e));
}

/* W[i+16..i+19] from W[i..i+15] held in w0..w3. */
SHA_TARGET static inline __m128i schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3)
{
	__m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
	return _mm_sha256msg2_epu32(t, w3);
}

SHA_TARGET static void blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xb1);  /* b a d c */
	__m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1b); /* h g f e */
	__m128i s0 = _mm_alignr_epi8(t, s1, 8);       /* f e b a = ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xf0);            /* h g d c = CDGH */

	while (nblocks-- > 0) {
		__m128i save0 = s0, save1 = s1;
		__m128i w[4];
		for (int i = 0; i < 4; i++)
			w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
		for (int r = 0; r < 16; r++) {
			four_rounds(&s0, &s1, w[r & 3], 4 * r);
			if (r < 12)
				w[r & 3] = schedule(w[r & 3], w[(r + 1) & 3], w[(r + 2) & 3],
						    w[(r + 3) & 3]);
		}
		s0 = _mm_add_epi32(s0, save0);
		s1 = _mm_add_epi32(s1, save1);
		p += SHA256_BLOCK_LEN;
	}

	t = _mm_shuffle_epi32(s0, 0x1b);              /* a b e f */
	s1 = _mm_shuffle_epi32(s1, 0xb1);             /* g h c d */
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, s1, 0xf0));  /* a b c d */
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(s1, t, 8));     /* e f g h */
}

static int cpu_has_sha(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	if (!(b & (1u << 29)))   /* SHA */
		return 0;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	return (c & (1u << 19)) && (c & (1u << 9));   /* SSE4.1, SSSE3 */
}
#endif

/* -1 not yet asked, 0 portable, 1 SHA extensions. Written once with the
 * same value by whoever asks first; the CPU does not change underneath. */
static int accel = -1;
static int forced_portable;

static int use_accel(void)
{
	if (accel < 0) {
#ifdef RD_SHA_X86
		accel = cpu_has_sha();
#else
		accel = 0;
#endif
	}
	return accel && !forced_portable;
}

static void blocks(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
#ifdef RD_SHA_X86
	if (use_accel()) {
		blocks_shani(h, p, nblocks);
		return;
	}
#endif
	blocks_portable(h, p, nblocks);
}

int sha256_accelerated(void)
{
	return use_accel();
}

void sha256_force_portable(int force)
{
	forced_portable = force;
}

void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(s->h, iv, sizeof(iv));
	s->total = 0;
	s->nbuf = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	s->total += len;
	if (s->nbuf > 0) {
		size_t n = SHA256_BLOCK_LEN - s->nbuf;
		if (n > len)
			n = len;
		memcpy(s->buf + s->nbuf, p, n);
		s->nbuf += n;
		p += n;
		len -= n;
		if (s->nbuf < SHA256_BLOCK_LEN)
			return;
		blocks(s->h, s->buf, 1);
		s->nbuf = 0;
	}
	if (len >= SHA256_BLOCK_LEN) {
		size_t nb = len / SHA256_BLOCK_LEN;
		blocks(s->h, p, nb);
		p += nb * SHA256_BLOCK_LEN;
		len -= nb * SHA256_BLOCK_LEN;
	}
	if (len > 0) {
		memcpy(s->buf, p, len);
		s->nbuf = len;
	}
}

void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_LEN])
{
	uint64_t bits = s->total * 8;
	uint8_t pad[SHA256_BLOCK_LEN * 2] = { 0x80 };
	/* 0x80, zeros, then the 64-bit length ends a block */
	size_t n = (s->nbuf < 56 ? 56 : 120) - s->nbuf;
	uint8_t len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(s, pad, n);
	sha256_update(s, len, 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
	memset(s, 0, sizeof(*s));
}

void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN])
{
	struct sha256 s;
	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, out);
}
