/* smtp-path.h: pure parser for the argument of MAIL and RCPT.
 *
 * Parses "FROM:<reverse-path> [SP mail-parameters]" and "TO:<forward-path>
 * [SP rcpt-parameters]" (RFC 5321 4.1.1.2, 4.1.1.3, 4.1.2) plus the
 * parameters redoubt knows: SIZE (RFC 1870), BODY (RFC 6152, 3030),
 * SMTPUTF8 (RFC 6531), RET/ENVID/NOTIFY/ORCPT (RFC 3461), AUTH (RFC 4954 5).
 * Input is the argument smtp_cmd_parse() returned (bytes after "MAIL ");
 * no I/O, no allocation, linear in the input.
 *
 * Accepted language, and where it is narrower or wider than the RFCs:
 * - "FROM:"/"TO:" in any case. Any number of SP between the colon and '<'
 *   is tolerated (many clients send "FROM: <a@b>"), as are trailing SP and
 *   runs of SP between parameters. TAB and every other control octet are
 *   refused. A path without angle brackets is refused.
 * - "<>" is the null reverse-path (MAIL only). RCPT accepts "<Postmaster>"
 *   (any case, no domain; 4.1.1.3); the caller maps it to its postmaster.
 * - Source routes "<@a,@b:user@d>" are checked (each a domain) and dropped
 *   (4.1.1.3, appendix C); address holds only "user@d".
 * - Local part: a dot-string of atext, except '`' and '|' which RFC 5322
 *   allows but which nobody needs and shells read as syntax; or a non-empty
 *   quoted-string, kept exactly as given (quotes and backslashes included).
 *   Nothing here is ever interpreted; the directory applies its own,
 *   narrower rules to local recipients.
 * - Domain: LDH labels of 1..63 octets, no trailing dot; or an address
 *   literal "[1.2.3.4]" (no leading zeros) or "[IPv6:...]". General
 *   address literals ("[tag:...]") are refused: none are registered.
 *   Case is kept; canonicalising is the directory's job.
 * - Non-ASCII (RFC 6531) is allowed in local part and domain labels only as
 *   strict UTF-8 (no overlongs, surrogates, values above U+10FFFF, nor C1
 *   controls U+0080..U+009F) and only when SMTPUTF8 applies (see
 *   utf8_allowed below); otherwise "553 5.6.7". U-labels are not checked
 *   against IDNA2008 here. Parameters must be ASCII.
 * - Lengths: path with its brackets <= RD_MAX_ADDRESS octets (4.5.3.1.3),
 *   local part <= RD_MAX_LOCALPART, domain <= RD_MAX_DOMAIN.
 * - Parameters: at most RD_SMTP_MAX_PARAMS, values at most
 *   RD_SMTP_MAX_PARAM_VALUE octets, each keyword at most once. MAIL knows
 *   SIZE, BODY, SMTPUTF8, RET, ENVID, AUTH; RCPT knows NOTIFY, ORCPT. Any
 *   other keyword (or one for the other command) is "555 5.5.4".
 * - SIZE=1*20DIGIT; a value beyond uint64_t saturates to UINT64_MAX (it is
 *   syntactically valid and simply too big: the caller answers 552 5.3.4).
 * - xtext values (ENVID, ORCPT, AUTH) are decoded (RFC 3461 4: "+XX" with
 *   upper-case hex) and the decoded text must be printable ASCII
 *   (0x20..0x7e): an ORCPT hiding CR, LF or NUL is refused, so the decoded
 *   strings are safe to put in line-based records. They are stored decoded;
 *   whoever relays them re-encodes. ORCPT must use addr-type "rfc822" and is
 *   stored as "rfc822;<decoded>". AUTH is stored decoded ("<>" stays "<>");
 *   the caller must ignore it unless the client authenticated (RFC 4954 5).
 *
 * utf8_allowed: for MAIL, whether the server offers SMTPUTF8 in this
 * session (EHLO, extension on). A non-ASCII reverse-path then still needs
 * the SMTPUTF8 parameter in the same command; SMTPUTF8 with utf8_allowed 0
 * is "555". For RCPT, whether this transaction's MAIL carried SMTPUTF8.
 *
 * Returns SMTP_PATH_OK (0) with *out filled, or SMTP_PATH_BAD (-1: syntax
 * or bad value, 501/553) or SMTP_PATH_UNSUPPORTED (-2: unknown parameter,
 * 555) with *status_r set to the complete reply line without CRLF, e.g.
 * "501 5.1.7 Bad sender address syntax". *status_r is a static string or
 * points into out->reply, valid until *out is reused. Enhanced codes follow
 * RFC 3463: 5.5.2 command syntax, 5.1.7 sender syntax, 5.1.3 recipient
 * syntax, 5.5.4 parameters, 5.6.7 non-ASCII without SMTPUTF8. Whether a
 * SIZE is too big (552 5.3.4) is the caller's decision. */
#ifndef RD_SMTP_PATH_H
#define RD_SMTP_PATH_H
#include <stddef.h>
#include <stdint.h>
#include "limits.h"

enum smtp_path_kind { SMTP_PATH_MAIL, SMTP_PATH_RCPT };

enum smtp_path_result {
	SMTP_PATH_OK = 0,
	SMTP_PATH_BAD = -1,
	SMTP_PATH_UNSUPPORTED = -2,
};

enum smtp_body {
	SMTP_BODY_UNSET = 0, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME,
};

enum smtp_ret { SMTP_RET_UNSET = 0, SMTP_RET_FULL, SMTP_RET_HDRS };

/* NOTIFY bits; 0 means the parameter was not given. */
#define SMTP_NOTIFY_NEVER   0x1u
#define SMTP_NOTIFY_SUCCESS 0x2u
#define SMTP_NOTIFY_FAILURE 0x4u
#define SMTP_NOTIFY_DELAY   0x8u

struct smtp_path {
	char address[RD_MAX_ADDRESS + 1];  /* "" for <> */
	int null_path;                     /* MAIL FROM:<> */
	int postmaster;                    /* RCPT TO:<Postmaster>, no domain */
	int has_utf8;                      /* address holds non-ASCII */
	uint64_t size;
	int has_size;
	enum smtp_body body;
	int smtputf8;
	enum smtp_ret ret;
	char envid[RD_SMTP_MAX_ENVID + 1];  /* decoded; "" when absent */
	unsigned notify;
	char orcpt[RD_MAX_ADDRESS * 2];     /* "rfc822;<decoded>"; "" absent */
	char auth[RD_MAX_ADDRESS + 3];      /* decoded; "" when absent */
	char reply[96];                     /* backing store for *status_r */
};

int smtp_path_parse(enum smtp_path_kind kind, const char *arg, size_t len,
		    int utf8_allowed, struct smtp_path *out,
		    const char **status_r);

#endif
