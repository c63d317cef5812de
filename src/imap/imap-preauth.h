/* imap-preauth.h: pure parser for the commands IMAP accepts before login.
 *
 * One line without CRLF in; out: the tag, the command name and up to two
 * arguments, each an atom or a quoted string (RFC 9051 astring) decoded
 * into caller-provided fixed buffers. Literals are refused before login
 * (IMAP_PRE_LITERAL) so that nothing is allocated from a size the client
 * claims. Returns 0, or -1 with *error_r; *tag is filled whenever a valid
 * tag was seen so the reply can be tagged. No I/O, no allocation. */
#ifndef RD_IMAP_PREAUTH_H
#define RD_IMAP_PREAUTH_H
#include <stddef.h>
#include "limits.h"

#define IMAP_TAG_MAX 64
#define IMAP_ARG_MAX (RD_MAX_PASSWORD + 1)

enum imap_pre_cmd {
	IMAP_PRE_UNKNOWN, IMAP_PRE_CAPABILITY, IMAP_PRE_NOOP, IMAP_PRE_LOGOUT,
	IMAP_PRE_STARTTLS, IMAP_PRE_LOGIN, IMAP_PRE_AUTHENTICATE, IMAP_PRE_ID,
	IMAP_PRE_ENABLE, IMAP_PRE_OTHER,
};

struct imap_pre {
	char tag[IMAP_TAG_MAX + 1];
	enum imap_pre_cmd cmd;
	int nargs;
	char arg[2][IMAP_ARG_MAX + 1];
	int literal;      /* the line ended in a literal announcement */
};

int imap_pre_parse(const char *line, size_t len, struct imap_pre *out,
		   const char **error_r);
#endif
