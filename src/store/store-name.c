/* store-name.c: pure checks on the names a store accepts (store ids,
 * mailbox names, keywords). No I/O, no allocation, so they are unit-tested
 * and fuzzable on their own. */
#include "store/store.h"
#include "limits.h"

#include <string.h>

bool store_id_valid(const char *id)
{
	size_t i;

	if (id == NULL || id[0] == '\0')
		return false;
	for (i = 0; id[i] != '\0'; i++) {
		char c = id[i];
		if (i >= RD_MAX_STORE_ID)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	return true;
}

/* Decodes one UTF-8 sequence at p (avail octets). Returns its length, or 0
 * if it is invalid: truncated, over-long, a surrogate or above U+10FFFF.
 * Over-long forms matter because "%c0%af" style tricks spell '/' twice. */
static size_t utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp_r)
{
	uint32_t cp, min;
	size_t n, i;

	if (p[0] < 0x80) {
		*cp_r = p[0];
		return 1;
	} else if ((p[0] & 0xe0) == 0xc0) {
		n = 2; cp = p[0] & 0x1f; min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3; cp = p[0] & 0x0f; min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4; cp = p[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

bool store_mailbox_name_valid_n(const char *name, size_t len,
				const char **error_r)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t i = 0, level_start = 0, depth = 1;

	if (name == NULL || len == 0) {
		*error_r = "empty mailbox name";
		return false;
	}
	if (len > RD_STORE_MAX_MAILBOX_NAME) {
		*error_r = "mailbox name too long";
		return false;
	}
	while (i <= len) {
		uint32_t cp;
		size_t n;

		if (i == len || p[i] == '/') {
			size_t level_len = i - level_start;
			if (level_len == 0) {
				*error_r = i == 0 ? "mailbox name starts with '/'" :
					i == len ? "mailbox name ends with '/'" :
					"empty level in mailbox name";
				return false;
			}
			/* Names never become paths here, but a "." or ".."
			 * level means nothing sensible and would bite any
			 * tool that maps names to directories. */
			if ((level_len == 1 && p[level_start] == '.') ||
			    (level_len == 2 && p[level_start] == '.' &&
			     p[level_start + 1] == '.')) {
				*error_r = "'.' or '..' level in mailbox name";
				return false;
			}
			if (i == len)
				break;
			if (++depth > RD_STORE_MAX_MAILBOX_DEPTH) {
				*error_r = "mailbox name too deep";
				return false;
			}
			level_start = ++i;
			continue;
		}
		n = utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			*error_r = "mailbox name is not valid UTF-8";
			return false;
		}
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
			*error_r = "control character in mailbox name";
			return false;
		}
		/* LIST wildcards: a name holding them could never be listed
		 * unambiguously. */
		if (cp == '%' || cp == '*') {
			*error_r = "wildcard in mailbox name";
			return false;
		}
		i += n;
	}
	return true;
}

bool store_mailbox_name_valid(const char *name, const char **error_r)
{
	if (name == NULL) {
		*error_r = "empty mailbox name";
		return false;
	}
	/* strnlen: a name far past the cap is refused without scanning it. */
	return store_mailbox_name_valid_n(name,
		strnlen(name, RD_STORE_MAX_MAILBOX_NAME + 1), error_r);
}

bool store_keyword_valid(const char *kw, const char **error_r)
{
	size_t i;

	if (kw == NULL || kw[0] == '\0') {
		*error_r = "empty keyword";
		return false;
	}
	if (kw[0] == '\\') {
		*error_r = "keyword may not start with '\\'";
		return false;
	}
	for (i = 0; kw[i] != '\0'; i++) {
		unsigned char c = (unsigned char)kw[i];
		if (i >= RD_STORE_MAX_KEYWORD_LEN) {
			*error_r = "keyword too long";
			return false;
		}
		/* IMAP atom-specials and list-wildcards, plus ']' which
		 * RFC 9051 excludes from flag keywords. */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL) {
			*error_r = "invalid character in keyword";
			return false;
		}
	}
	return true;
}

const char *store_special_use_name(enum store_special_use su)
{
	switch (su) {
	case STORE_SPECIAL_SENT: return "\\Sent";
	case STORE_SPECIAL_DRAFTS: return "\\Drafts";
	case STORE_SPECIAL_TRASH: return "\\Trash";
	case STORE_SPECIAL_JUNK: return "\\Junk";
	case STORE_SPECIAL_ARCHIVE: return "\\Archive";
	case STORE_SPECIAL_NONE: break;
	}
	return NULL;
}
