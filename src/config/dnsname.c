/* dnsname.c: LDH host name check (see dnsname.h). */
#include "config/dnsname.h"
#include "limits.h"
#include <stddef.h>

static int is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

int dns_name_valid(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	size_t total = 0, label = 0;
	int label_all_digits = 1;
	char prev = '.';
	for (const char *p = s; *p != '\0'; p++, total++) {
		char ch = *p;
		if (total >= RD_DNS_NAME_MAX)
			return 0;
		if (ch == '.') {
			/* empty label, or one ending in a hyphen */
			if (label == 0 || prev == '-')
				return 0;
			label = 0;
			label_all_digits = 1;
		} else if (is_alnum(ch) || ch == '-') {
			if (ch == '-' && label == 0)
				return 0;
			if (++label > 63)
				return 0;
			if (!(ch >= '0' && ch <= '9'))
				label_all_digits = 0;
		} else {
			return 0;
		}
		prev = ch;
	}
	/* a trailing dot leaves an empty last label */
	if (label == 0 || prev == '-')
		return 0;
	if (label_all_digits)
		return 0;
	return 1;
}
