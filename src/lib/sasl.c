#include "lib/sasl.h"
#include <string.h>
#include <strings.h>

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (padding required, no whitespace). */
static int b64_decode(const char *in, size_t len, unsigned char *out, size_t outlen,
		      size_t *n_r)
{
	size_t o = 0;
	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + (size_t)k];
			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad > 0 || (v[k] = b64val(c)) < 0) {
				return -1;
			}
		}
		unsigned long w = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
				  (unsigned long)v[2] << 6 | (unsigned long)v[3];
		unsigned char b[3] = { (unsigned char)(w >> 16), (unsigned char)(w >> 8),
				       (unsigned char)w };
		for (int k = 0; k < 3 - pad; k++) {
			if (o >= outlen)
				return -1;
			out[o++] = b[k];
		}
	}
	*n_r = o;
	return 0;
}

int sasl_b64_line(const char *b64, size_t len, char *out, size_t outlen,
		  const char **error_r)
{
	size_t n;
	if (outlen == 0 || b64_decode(b64, len, (unsigned char *)out, outlen - 1, &n) < 0) {
		*error_r = "invalid base64";
		return -1;
	}
	if (memchr(out, '\0', n) != NULL) {
		*error_r = "NUL in decoded text";
		return -1;
	}
	out[n] = '\0';
	return 0;
}

int sasl_plain_decode(const char *b64, size_t len, struct sasl_plain *out,
		      const char **error_r)
{
	unsigned char dec[RD_MAX_ADDRESS * 2 + RD_MAX_PASSWORD + 4];
	size_t n;
	int rc = -1;
	if (b64_decode(b64, len, dec, sizeof(dec), &n) < 0) {
		*error_r = "invalid base64";
		goto out;
	}
	const unsigned char *z1 = memchr(dec, '\0', n);
	const unsigned char *z2 = z1 ? memchr(z1 + 1, '\0', n - (size_t)(z1 + 1 - dec)) : NULL;
	if (z1 == NULL || z2 == NULL || memchr(z2 + 1, '\0', n - (size_t)(z2 + 1 - dec))) {
		*error_r = "malformed PLAIN message";
		goto out;
	}
	size_t zl = (size_t)(z1 - dec), ul = (size_t)(z2 - z1 - 1), pl = n - (size_t)(z2 + 1 - dec);
	if (ul == 0 || ul > RD_MAX_ADDRESS || pl > RD_MAX_PASSWORD) {
		*error_r = "user name or password of impossible length";
		goto out;
	}
	memcpy(out->user, z1 + 1, ul);
	out->user[ul] = '\0';
	memcpy(out->pass, z2 + 1, pl);
	out->pass[pl] = '\0';
	if (zl != 0 && (zl != ul || strncasecmp((const char *)dec, out->user, ul) != 0)) {
		*error_r = "authorization identity differs from the user";
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(dec, sizeof(dec));
	return rc;
}
