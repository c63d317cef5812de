#include "imap/imap-preauth.h"
#include <string.h>
#include <strings.h>

static int atom_char(unsigned char c)
{
	/* RFC 9051 ATOM-CHAR: any CHAR except atom-specials */
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

static int tag_char(unsigned char c)
{
	return atom_char(c) && c != '+';
}

/* Parse an astring at line[*pos]; returns 0, or -1 with error. */
static int parse_astring(const char *line, size_t len, size_t *pos, char *out,
			 struct imap_pre *pre, const char **error_r)
{
	size_t i = *pos, o = 0;
	if (i >= len) {
		*error_r = "Missing argument";
		return -1;
	}
	if (line[i] == '"') {
		i++;
		for (;;) {
			if (i >= len) {
				*error_r = "Unterminated quoted string";
				return -1;
			}
			unsigned char c = (unsigned char)line[i];
			if (c == '"')
				break;
			if (c == '\\') {
				if (i + 1 >= len || (line[i + 1] != '"' && line[i + 1] != '\\')) {
					*error_r = "Invalid escape in quoted string";
					return -1;
				}
				c = (unsigned char)line[++i];
			} else if (c < 0x20 || c == 0x7f) {
				*error_r = "Control character in quoted string";
				return -1;
			}
			if (o >= IMAP_ARG_MAX) {
				*error_r = "Argument too long";
				return -1;
			}
			out[o++] = (char)c;
			i++;
		}
		i++;
	} else if (line[i] == '{' || line[i] == '~') {
		pre->literal = 1;
		*error_r = "Literals are not accepted before login; use a quoted string";
		return -1;
	} else {
		while (i < len && (atom_char((unsigned char)line[i]) || line[i] == ']')) {
			if (o >= IMAP_ARG_MAX) {
				*error_r = "Argument too long";
				return -1;
			}
			out[o++] = line[i++];
		}
		if (o == 0) {
			*error_r = "Invalid characters in argument";
			return -1;
		}
	}
	out[o] = '\0';
	*pos = i;
	return 0;
}

static const struct { const char *name; enum imap_pre_cmd cmd; } cmds[] = {
	{ "CAPABILITY", IMAP_PRE_CAPABILITY }, { "NOOP", IMAP_PRE_NOOP },
	{ "LOGOUT", IMAP_PRE_LOGOUT }, { "STARTTLS", IMAP_PRE_STARTTLS },
	{ "LOGIN", IMAP_PRE_LOGIN }, { "AUTHENTICATE", IMAP_PRE_AUTHENTICATE },
	{ "ID", IMAP_PRE_ID }, { "ENABLE", IMAP_PRE_ENABLE },
};

int imap_pre_parse(const char *line, size_t len, struct imap_pre *pre,
		   const char **error_r)
{
	size_t i = 0;
	memset(pre, 0, sizeof(*pre));
	while (i < len && tag_char((unsigned char)line[i])) {
		if (i >= IMAP_TAG_MAX) {
			*error_r = "Tag too long";
			return -1;
		}
		pre->tag[i] = line[i];
		i++;
	}
	if (i == 0 || i >= len || line[i] != ' ') {
		pre->tag[0] = '\0';
		*error_r = "Missing or invalid tag";
		return -1;
	}
	pre->tag[i] = '\0';
	i++;
	size_t start = i;
	while (i < len && line[i] != ' ')
		i++;
	size_t cl = i - start;
	if (cl == 0) {
		*error_r = "Missing command";
		return -1;
	}
	pre->cmd = IMAP_PRE_OTHER;
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (strlen(cmds[k].name) == cl && strncasecmp(line + start, cmds[k].name, cl) == 0)
			pre->cmd = cmds[k].cmd;
	for (size_t k = start; k < i; k++)
		if (!atom_char((unsigned char)line[k])) {
			pre->cmd = IMAP_PRE_UNKNOWN;
			*error_r = "Invalid command name";
			return -1;
		}
	if (pre->cmd == IMAP_PRE_OTHER || pre->cmd == IMAP_PRE_ID ||
	    pre->cmd == IMAP_PRE_ENABLE)
		return 0;    /* arguments not interpreted before login */
	int want = pre->cmd == IMAP_PRE_LOGIN ? 2 : pre->cmd == IMAP_PRE_AUTHENTICATE ? -1 : 0;
	int max = want == -1 ? 2 : want;
	while (i < len && pre->nargs < max) {
		if (line[i] != ' ') {
			*error_r = "Expected a space between arguments";
			return -1;
		}
		i++;
		if (parse_astring(line, len, &i, pre->arg[pre->nargs], pre, error_r) < 0)
			return -1;
		pre->nargs++;
	}
	if (i != len) {
		*error_r = "Unexpected characters after the arguments";
		return -1;
	}
	if ((want >= 0 && pre->nargs != want) || (want == -1 && pre->nargs < 1)) {
		*error_r = "Wrong number of arguments";
		return -1;
	}
	return 0;
}
