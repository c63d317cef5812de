/* address.h: validation and canonical form of mail addresses (local@domain).
 *
 * Pure functions over bytes: no I/O, no allocation. The accepted language is
 * deliberately narrower than RFC 5322: the local part is a dot-atom made of
 * [A-Za-z0-9] and "._+=-" only (no quoted local parts, no shell
 * metacharacters, no '/'), the domain is an LDH DNS name. Addresses end up in
 * file names, logs and admin shells, so anything that could be read as syntax
 * by one of them is refused here, once, with a message saying why.
 *
 * Canonical form: lower case. Lengths: local part <= RD_MAX_LOCALPART,
 * domain <= RD_MAX_DNS_NAME, whole address <= RD_MAX_ADDRESS - 2 (RFC 5321
 * counts the angle brackets in its 256-octet path).
 *
 * Return convention: 0 valid / written, -1 refused with *error_r set to a
 * static string (error_r may be NULL). */
#ifndef RD_ADDRESS_H
#define RD_ADDRESS_H
#include <stddef.h>
#include "limits.h"

/* Longest valid address and a buffer that holds it with its NUL. */
#define ADDRESS_MAX_LEN   (RD_MAX_ADDRESS - 2u)
#define ADDRESS_BUF_SIZE  (ADDRESS_MAX_LEN + 1u)
#define DOMAIN_BUF_SIZE   (RD_MAX_DNS_NAME + 1u)

/* addr is NUL-terminated. */
int address_valid(const char *addr, const char **error_r);
/* addr is len bytes and may contain NUL bytes (which are refused): for input
 * that arrived with a length, so "a\0@b" cannot pass as "a". */
int address_valid_n(const char *addr, size_t len, const char **error_r);
/* Validate in and write its lower-cased form to out (outlen bytes incl. NUL).
 * -1 if in is invalid or out too small; out is then an empty string. */
int address_canon(const char *in, char *out, size_t outlen);
/* Same, reporting why. */
int address_canon_err(const char *in, char *out, size_t outlen,
		      const char **error_r);

/* A domain on its own (LDH labels 1..63, total <= RD_MAX_DNS_NAME, no final
 * dot, top label not all digits so it can't pass for an IPv4 address). */
int domain_valid(const char *domain, const char **error_r);
int domain_canon(const char *in, char *out, size_t outlen,
		 const char **error_r);

/* The domain part of a valid address (pointer into addr). */
const char *address_domain(const char *addr);

#endif
