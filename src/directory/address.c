/* address.c: see address.h. Every check works on (bytes, length) so that a
 * NUL inside the input is seen and refused rather than silently ending it. */
#include "directory/address.h"
#include <string.h>

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static int set_err(const char **error_r, const char *msg)
{
	if (error_r != NULL)
		*error_r = msg;
	return -1;
}

/* Why a byte is not allowed, for bytes that fail in both parts alike. The
 * messages name the class of byte so an admin sees what to fix. */
static const char *bad_byte_reason(unsigned char c, int in_local)
{
	if (c == '\0')
		return "a NUL byte is not allowed";
	if (c == ' ' || c == '\t')
		return "a space is not allowed";
	if (c < 0x20 || c == 0x7f)
		return "a control byte is not allowed";
	if (c >= 0x80)
		return "a non-ASCII byte is not allowed "
		       "(internationalised addresses are not supported)";
	if (in_local && (c == '"' || c == '\\'))
		return "quoted local parts are not supported";
	if (c == '/')
		return "'/' is not allowed";
	/* Everything else (shell and address metacharacters) gets the
	 * message of the part it appeared in, which lists what is allowed. */
	return NULL;
}

/* Local part: dot-atom over [A-Za-z0-9._+=-]. '=' and '+' stay because
 * subaddressing (user+tag) and SRS/BATV forms use them. */
static int local_valid(const char *s, size_t len, const char **error_r)
{
	if (len == 0)
		return set_err(error_r, "local part is empty");
	if (len > RD_MAX_LOCALPART)
		return set_err(error_r, "local part is longer than 64 octets");
	if (s[0] == '.' || s[len - 1] == '.')
		return set_err(error_r, "local part starts or ends with '.'");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.' && i + 1 < len && s[i + 1] == '.')
			return set_err(error_r, "local part contains '..'");
		if (is_alnum(c) || strchr("._+=-", c) != NULL)
			continue;
		const char *why = bad_byte_reason(c, 1);
		return set_err(error_r, why != NULL ? why :
			       "local part may hold only letters, digits and "
			       "\"._+=-\" (shell metacharacters are refused)");
	}
	return 0;
}

static int domain_valid_n(const char *s, size_t len, const char **error_r)
{
	if (len == 0)
		return set_err(error_r, "domain is empty");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_alnum(c) || c == '-' || c == '.')
			continue;
		const char *why = bad_byte_reason(c, 0);
		return set_err(error_r, why != NULL ? why :
			       "domain may hold only letters, digits, '-' and "
			       "'.'");
	}
	if (len > RD_MAX_DNS_NAME)
		return set_err(error_r, "domain is longer than 253 octets");
	size_t start = 0;
	int top_all_digits = 1;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		size_t llen = i - start;
		if (llen == 0)
			return set_err(error_r, i == len ?
				       "domain ends with '.'" :
				       "domain has an empty label");
		if (llen > RD_MAX_DNS_LABEL)
			return set_err(error_r,
				       "domain label is longer than 63 octets");
		if (s[start] == '-' || s[i - 1] == '-')
			return set_err(error_r,
				       "domain label starts or ends with '-'");
		top_all_digits = 1;
		for (size_t j = start; j < i; j++)
			if (s[j] < '0' || s[j] > '9')
				top_all_digits = 0;
		start = i + 1;
	}
	if (top_all_digits)
		return set_err(error_r, "domain's last label is all digits "
			       "(address literals are not supported)");
	return 0;
}

int address_valid_n(const char *addr, size_t len, const char **error_r)
{
	if (addr == NULL || len == 0)
		return set_err(error_r, "address is empty");
	if (memchr(addr, '\0', len) != NULL)
		return set_err(error_r, "a NUL byte is not allowed");
	if (len > ADDRESS_MAX_LEN)
		return set_err(error_r, "address is longer than 254 octets");
	const char *at = memchr(addr, '@', len);
	if (at == NULL)
		return set_err(error_r, "address has no '@'");
	size_t llen = (size_t)(at - addr);
	size_t dlen = len - llen - 1;
	if (memchr(at + 1, '@', dlen) != NULL)
		return set_err(error_r, "address has more than one '@'");
	if (local_valid(addr, llen, error_r) < 0)
		return -1;
	return domain_valid_n(at + 1, dlen, error_r);
}

int address_valid(const char *addr, const char **error_r)
{
	if (addr == NULL)
		return set_err(error_r, "address is empty");
	/* Bound the scan: anything past the cap is refused anyway. */
	return address_valid_n(addr, strnlen(addr, ADDRESS_MAX_LEN + 1),
			       error_r);
}

static void lower_copy(char *out, const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
}

/* Validate with valid(), then copy lower-cased: one path for addresses and
 * domains, so both get the same empty-on-failure contract. */
static int canon_with(int (*valid)(const char *, const char **),
		      const char *in, char *out, size_t outlen,
		      const char **error_r)
{
	if (outlen > 0)
		out[0] = '\0';
	if (valid(in, error_r) < 0)
		return -1;
	size_t len = strlen(in);
	if (len >= outlen)
		return set_err(error_r, "output buffer too small");
	lower_copy(out, in, len);
	return 0;
}

int address_canon_err(const char *in, char *out, size_t outlen,
		      const char **error_r)
{
	return canon_with(address_valid, in, out, outlen, error_r);
}

int address_canon(const char *in, char *out, size_t outlen)
{
	return address_canon_err(in, out, outlen, NULL);
}

int domain_valid(const char *domain, const char **error_r)
{
	if (domain == NULL)
		return set_err(error_r, "domain is empty");
	return domain_valid_n(domain, strnlen(domain, RD_MAX_DNS_NAME + 1),
			      error_r);
}

int domain_canon(const char *in, char *out, size_t outlen,
		 const char **error_r)
{
	return canon_with(domain_valid, in, out, outlen, error_r);
}

const char *address_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at != NULL ? at + 1 : addr + strlen(addr);
}
