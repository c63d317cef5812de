/* sasl.h: pure decoding of SASL PLAIN (RFC 4616) and of one base64 line
 * (RFC 4954 AUTH LOGIN steps), shared by the SMTP and IMAP fronts.
 *
 * sasl_plain_decode: base64 of "authzid NUL authcid NUL passwd" into the
 * three caller buffers. A non-empty authzid must equal authcid (no one logs
 * in as someone else here; delegation is a grant, not a login). Returns 0,
 * or -1 with *error_r. Buffers are wiped by the caller. No allocation. */
#ifndef RD_SASL_H
#define RD_SASL_H
#include <stddef.h>
#include "limits.h"

struct sasl_plain {
	char user[RD_MAX_ADDRESS + 1];
	char pass[RD_MAX_PASSWORD + 1];
};

int sasl_plain_decode(const char *b64, size_t len, struct sasl_plain *out,
		      const char **error_r);
/* Decode one base64 string into out (NUL-terminated, no NUL inside
 * allowed); -1 on bad base64, embedded NUL or overflow. */
int sasl_b64_line(const char *b64, size_t len, char *out, size_t outlen,
		  const char **error_r);
#endif
