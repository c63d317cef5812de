/* dnsname.h: is a string a valid host name in DNS?
 *
 * Used for the server's own host name in the config and, by the command
 * line, for mail domains. Host names follow RFC 1123 2.1 / RFC 952: labels
 * of letters, digits and hyphens (LDH), 1..63 characters, not starting or
 * ending with a hyphen, at most RD_DNS_NAME_MAX characters in all, written
 * without a trailing dot. The last label must not be all digits, so a
 * dotted IPv4 address is never taken for a name (RFC 3696 2).
 * Underscores are refused: they belong in service labels, not host names. */
#ifndef RD_DNSNAME_H
#define RD_DNSNAME_H

/* Returns 1 if s is a valid host name, 0 if not (NULL included). */
int dns_name_valid(const char *s);

#endif
