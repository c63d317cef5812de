/* libFuzzer target: the MAIL/RCPT argument parser. The first octet picks
 * the command (bit 0) and whether SMTPUTF8 applies (bit 1); the rest is
 * the argument. Beyond ASan/UBSan, the result's contract is checked and a
 * violation aborts. */
#include "smtp/smtp-path.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoded xtext must be printable ASCII: that is what keeps it out of
 * line-based records. */
static int printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	}
	return 1;
}

static int address_ok(const struct smtp_path *p, enum smtp_path_kind kind)
{
	size_t n = strnlen(p->address, sizeof(p->address));
	if (n > RD_MAX_ADDRESS - 2 || p->null_path != (n == 0))
		return 0;
	if (kind == SMTP_PATH_RCPT && p->null_path)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p->address[i];
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !p->has_utf8))
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum smtp_path_kind kind = (data[0] & 1) ? SMTP_PATH_RCPT : SMTP_PATH_MAIL;
	int utf8 = (data[0] & 2) != 0;
	struct smtp_path p;
	const char *status = NULL;
	int r = smtp_path_parse(kind, (const char *)data + 1, size - 1, utf8, &p, &status);
	if (r == SMTP_PATH_OK) {
		if (!address_ok(&p, kind) || !printable(p.envid, sizeof(p.envid)) ||
		    !printable(p.orcpt, sizeof(p.orcpt)) || !printable(p.auth, sizeof(p.auth)))
			abort();
		if (p.has_utf8 && (!utf8 || (kind == SMTP_PATH_MAIL && !p.smtputf8)))
			abort();
		if (p.smtputf8 && (!utf8 || kind != SMTP_PATH_MAIL))
			abort();
		return 0;
	}
	if (r != SMTP_PATH_BAD && r != SMTP_PATH_UNSUPPORTED)
		abort();
	/* a complete reply: "5xy 5.a.b text", nothing a client could misread */
	if (status == NULL || strlen(status) < 11 || status[0] != '5' || status[3] != ' ' ||
	    status[4] != '5' || status[5] != '.' || !printable(status, 200))
		abort();
	return 0;
}
