#include "smtp/smtp-cmd.h"
#include <string.h>
#include <strings.h>

static const struct { const char *name; enum smtp_verb verb; } verbs[] = {
	{ "EHLO", SMTP_EHLO }, { "HELO", SMTP_HELO }, { "MAIL", SMTP_MAIL },
	{ "RCPT", SMTP_RCPT }, { "DATA", SMTP_DATA }, { "BDAT", SMTP_BDAT },
	{ "RSET", SMTP_RSET }, { "NOOP", SMTP_NOOP }, { "QUIT", SMTP_QUIT },
	{ "VRFY", SMTP_VRFY }, { "HELP", SMTP_HELP }, { "STARTTLS", SMTP_STARTTLS },
	{ "AUTH", SMTP_AUTH },
};

int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd,
		   const char **error_r)
{
	cmd->verb = SMTP_UNKNOWN;
	cmd->arg = "";
	/* A command line is printable US-ASCII plus SP (and UTF-8 for
	 * SMTPUTF8 arguments); NUL, bare CR and other controls mean a broken
	 * or hostile client. */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		if (ch == '\0' || ch == '\r' || ch == '\n' || (ch < 0x20 && ch != '\t') ||
		    ch == 0x7f) {
			*error_r = "Control characters are not allowed in commands";
			return -1;
		}
	}
	size_t vl = 0;
	while (vl < len && line[vl] != ' ')
		vl++;
	if (vl == 0) {
		*error_r = "Empty command";
		return -1;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strlen(verbs[i].name) == vl && strncasecmp(line, verbs[i].name, vl) == 0) {
			cmd->verb = verbs[i].verb;
			break;
		}
	}
	if (cmd->verb == SMTP_UNKNOWN) {
		*error_r = "Command unrecognized";
		return -1;
	}
	if (vl < len)
		cmd->arg = line + vl + 1;
	return 0;
}
