/* smtp-cmd.h: pure parser for one SMTP command line (RFC 5321 4.1).
 *
 * Input is one line without its CRLF. Returns 0 with the verb and the
 * argument (everything after the single space, unmodified), or -1 with a
 * human sentence in *error_r. No I/O, no allocation. */
#ifndef RD_SMTP_CMD_H
#define RD_SMTP_CMD_H
#include <stddef.h>

enum smtp_verb {
	SMTP_UNKNOWN, SMTP_EHLO, SMTP_HELO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA,
	SMTP_BDAT, SMTP_RSET, SMTP_NOOP, SMTP_QUIT, SMTP_VRFY, SMTP_HELP,
	SMTP_STARTTLS, SMTP_AUTH,
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg;    /* points into the line; "" when none */
};

int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd,
		   const char **error_r);
#endif
