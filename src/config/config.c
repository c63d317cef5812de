/* config.c: the settings table and the pure parser for redoubt.conf.
 *
 * The parser walks the text once, line by line, never allocates, and
 * copies each value into a bounded stack buffer before a typed validator
 * looks at it. It fills a private copy of struct config and hands it to
 * the caller only when the whole file was accepted, so a half-applied
 * configuration cannot exist. */
#include "config/config.h"
#include "config/config-table.h"
#include "config/dnsname.h"
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#define FIELD(m) offsetof(struct config, m), sizeof(((struct config *)0)->m)

enum { SEC_SERVER, SEC_LISTEN, SEC_TLS, SEC_AUTH, SEC_LIMITS };

const struct config_section config_sections[CONFIG_SECTION_COUNT] = {
	{ "server", "The server itself: its name, its sandbox, its users." },
	{ "listen", "Where each protocol listens: host:port, [IPv6]:port, or \"off\".\n"
		    "The defaults are unprivileged ports on the loopback address, so a\n"
		    "fresh install reaches nothing outside this machine; use the\n"
		    "standard ports (25, 587, 465, 143, 993, 443) and a public\n"
		    "address to go live. Ports below 1024 need redoubt started as root." },
	{ "tls", "Certificate chain and private key, PEM. A relative path is taken\n"
		 "from the data directory; an absolute one (e.g. a certbot live\n"
		 "path) is used as written. \"..\" is refused. The master reads\n"
		 "both before dropping privileges; no network role reads them." },
	{ "auth", "Password checking. Hashes are Argon2id (libsodium)." },
	{ "limits", "Caps on what one client may send." },
};

const struct config_setting config_settings[CONFIG_SETTING_COUNT] = {
	{ SEC_SERVER, "hostname", CONFIG_DNSNAME, FIELD(hostname), 0, 0,
	  "Fully qualified name of this server, used in SMTP and IMAP greetings\n"
	  "and as the HELO name when relaying. Must be a DNS host name.\n"
	  "Built-in default: mail.example.test (set by redoubt init)." },
	{ SEC_SERVER, "sandbox", CONFIG_BOOL, FIELD(sandbox), 0, 0,
	  "on: every role is confined with Landlock and seccomp.\n"
	  "off: for debugging only; serve warns at every start." },
	{ SEC_SERVER, "log_level", CONFIG_LOGLEVEL, FIELD(log_level), 0, 0,
	  "Least severe events logged: debug, info, warn or error." },
	{ SEC_SERVER, "user", CONFIG_USER, FIELD(user), 0, 0,
	  "Unprivileged user the back-end roles (auth, workers, queue) run as\n"
	  "when redoubt is started as root. Must not be root." },
	{ SEC_SERVER, "front_user", CONFIG_USER, FIELD(front_user), 0, 0,
	  "User the pre-authentication roles (smtp-in, imap-login, http-front)\n"
	  "run as when started as root. Must differ from user, so a front\n"
	  "process can never signal or trace a back-end one." },
	{ SEC_LISTEN, "smtp", CONFIG_LISTEN, FIELD(smtp), 0, 0,
	  "SMTP for incoming mail (MX; the standard port is 25)." },
	{ SEC_LISTEN, "submission", CONFIG_LISTEN, FIELD(submission), 0, 0,
	  "Message submission with STARTTLS (standard port 587)." },
	{ SEC_LISTEN, "submissions", CONFIG_LISTEN, FIELD(submissions), 0, 0,
	  "Message submission over implicit TLS (standard port 465)." },
	{ SEC_LISTEN, "imap", CONFIG_LISTEN, FIELD(imap), 0, 0,
	  "IMAP with STARTTLS (standard port 143)." },
	{ SEC_LISTEN, "imaps", CONFIG_LISTEN, FIELD(imaps), 0, 0,
	  "IMAP over implicit TLS (standard port 993)." },
	{ SEC_LISTEN, "https", CONFIG_LISTEN, FIELD(https), 0, 0,
	  "HTTPS: CalDAV, CardDAV and the web interface (standard port 443)." },
	{ SEC_TLS, "certificate", CONFIG_PATH, FIELD(tls_certificate), 0, 0,
	  "Certificate chain, leaf first." },
	{ SEC_TLS, "key", CONFIG_PATH, FIELD(tls_key), 0, 0,
	  "Private key of the certificate. Keep it readable by root only." },
	{ SEC_AUTH, "argon2_opslimit", CONFIG_U32, FIELD(argon2_opslimit),
	  crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_OPSLIMIT_MAX,
	  "Argon2id passes over memory for new password hashes. Existing\n"
	  "hashes keep the cost they were made with." },
	{ SEC_AUTH, "argon2_memlimit_kib", CONFIG_U64, FIELD(argon2_memlimit_kib),
	  crypto_pwhash_argon2id_MEMLIMIT_MIN / 1024u,
	  crypto_pwhash_argon2id_MEMLIMIT_MAX / 1024u,
	  "Argon2id memory per new password hash, in KiB. Each login in\n"
	  "progress uses this much memory in the auth role." },
	{ SEC_AUTH, "fail_delay_ms", CONFIG_U32, FIELD(fail_delay_ms),
	  0, RD_CONFIG_MAX_FAIL_DELAY_MS,
	  "Milliseconds added to every failed login, so a wrong user name and\n"
	  "a wrong password look alike and guessing is slow." },
	{ SEC_LIMITS, "max_message_size", CONFIG_U64, FIELD(max_message_size),
	  RD_CONFIG_MIN_MESSAGE_SIZE, RD_STORE_MAX_MESSAGE,
	  "Largest message accepted, in bytes (announced as SMTP SIZE)." },
	{ SEC_LIMITS, "max_recipients", CONFIG_U32, FIELD(max_recipients),
	  RD_CONFIG_MIN_RECIPIENTS, RD_CONFIG_MAX_RECIPIENTS,
	  "Most recipients of one message (RFC 5321 asks for at least 100)." },
	{ SEC_LIMITS, "mailbox_quota_mib", CONFIG_U64, FIELD(mailbox_quota_mib),
	  0, RD_CONFIG_MAX_QUOTA_MIB,
	  "Storage each user may fill, in MiB; 0 means no quota. Mail for a\n"
	  "full mailbox is kept in the queue and retried, and new mail to it\n"
	  "is answered 452 4.2.2 until it has room." },
};

static const char *const log_level_names[] = {
	[LOG_DEBUG] = "debug", [LOG_INFO] = "info",
	[LOG_WARN] = "warn", [LOG_ERROR] = "error",
};

const char *config_log_level_name(enum log_level lvl)
{
	if ((unsigned)lvl >= sizeof(log_level_names) / sizeof(log_level_names[0]))
		return "?";
	return log_level_names[lvl];
}

static void set_listen(struct config_listen *l, const char *host,
		       unsigned short port)
{
	l->enabled = 1;
	snprintf(l->host, sizeof(l->host), "%s", host);
	l->port = port;
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->hostname, sizeof(c->hostname), "mail.example.test");
	c->sandbox = 1;
	c->log_level = LOG_INFO;
	snprintf(c->user, sizeof(c->user), "redoubt");
	snprintf(c->front_user, sizeof(c->front_user), "redoubt-front");
	set_listen(&c->smtp, "127.0.0.1", 2525);
	set_listen(&c->submission, "127.0.0.1", 2587);
	set_listen(&c->submissions, "127.0.0.1", 2465);
	set_listen(&c->imap, "127.0.0.1", 2143);
	set_listen(&c->imaps, "127.0.0.1", 2993);
	set_listen(&c->https, "127.0.0.1", 2443);
	snprintf(c->tls_certificate, sizeof(c->tls_certificate), "tls/cert.pem");
	snprintf(c->tls_key, sizeof(c->tls_key), "tls/key.pem");
	c->argon2_opslimit = 3;
	c->argon2_memlimit_kib = 65536;
	c->fail_delay_ms = RD_AUTH_FAIL_DELAY_MS;
	c->max_message_size = RD_STORE_MAX_MESSAGE;
	c->max_recipients = 100;
	c->mailbox_quota_mib = 0;
}

int config_equal(const struct config *a, const struct config *b)
{
	for (size_t i = 0; i < CONFIG_SETTING_COUNT; i++) {
		const struct config_setting *s = &config_settings[i];
		const char *pa = (const char *)a + s->offset;
		const char *pb = (const char *)b + s->offset;
		switch (s->type) {
		case CONFIG_DNSNAME:
		case CONFIG_USER:
		case CONFIG_PATH:
			if (strncmp(pa, pb, s->size) != 0)
				return 0;
			break;
		case CONFIG_BOOL:
			if (*(const int *)(const void *)pa != *(const int *)(const void *)pb)
				return 0;
			break;
		case CONFIG_LOGLEVEL:
			if (*(const enum log_level *)(const void *)pa !=
			    *(const enum log_level *)(const void *)pb)
				return 0;
			break;
		case CONFIG_LISTEN: {
			const struct config_listen *la = (const void *)pa;
			const struct config_listen *lb = (const void *)pb;
			if (la->enabled != lb->enabled || la->port != lb->port ||
			    strcmp(la->host, lb->host) != 0)
				return 0;
			break;
		}
		case CONFIG_U32:
			if (*(const uint32_t *)(const void *)pa != *(const uint32_t *)(const void *)pb)
				return 0;
			break;
		case CONFIG_U64:
			if (*(const uint64_t *)(const void *)pa != *(const uint64_t *)(const void *)pb)
				return 0;
			break;
		}
	}
	return 1;
}

/* ---- value validators: each takes a NUL-terminated value ---- */

static int parse_port(const char *s, unsigned short *port)
{
	unsigned long v = 0;
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 5)
			return -1;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || v == 0 || v > 65535)
		return -1;
	*port = (unsigned short)v;
	return 0;
}

int config_parse_hostport(const char *s, char *host, size_t hostlen,
			  unsigned short *port, const char **error_r)
{
	char tmp[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	const char *h, *colon;
	size_t hlen;

	if (hostlen > 0)
		host[0] = '\0';
	*port = 0;
	if (strcmp(s, "off") == 0)
		return 0;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL) {
			*error_r = "has no closing \"]\"";
			return -1;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		if (close[1] != ':') {
			*error_r = "has no \":port\" after the IPv6 address";
			return -1;
		}
		colon = close + 1;
		if (hlen == 0 || hlen >= sizeof(tmp)) {
			*error_r = "is not a valid IPv6 address";
			return -1;
		}
		memcpy(tmp, h, hlen);
		tmp[hlen] = '\0';
		if (inet_pton(AF_INET6, tmp, addr) != 1) {
			*error_r = "is not a valid IPv6 address";
			return -1;
		}
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			*error_r = "has no \":port\" (or write \"off\")";
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*error_r = "needs brackets around an IPv6 address, as in [::1]:port";
			return -1;
		}
		h = s;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen > RD_DNS_NAME_MAX) {
			*error_r = "is not a valid address";
			return -1;
		}
		char name[RD_DNS_NAME_MAX + 1];
		memcpy(name, h, hlen);
		name[hlen] = '\0';
		if (inet_pton(AF_INET, name, addr) != 1 && !dns_name_valid(name)) {
			*error_r = "is not a valid address";
			return -1;
		}
	}
	if (parse_port(colon + 1, port) < 0) {
		*error_r = "is not a valid port";
		return -1;
	}
	if (hlen >= hostlen) {
		*port = 0;
		*error_r = "has a host name that is too long";
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return 1;
}

static int parse_uint(const char *s, uint64_t *v_r)
{
	uint64_t v = 0;
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (__builtin_mul_overflow(v, 10u, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return -1;
	}
	*v_r = v;
	return 0;
}

static int user_name_valid(const char *s)
{
	/* the portable subset useradd accepts by default */
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		char ch = s[n];
		int ok = (ch >= 'a' && ch <= 'z') || ch == '_' ||
			 (n > 0 && ((ch >= '0' && ch <= '9') || ch == '-'));
		if (!ok)
			return 0;
	}
	return n >= 1 && n <= RD_CONFIG_MAX_USER;
}

/* Why: a path names a file the master opens as root before dropping
 * privileges; ".." would let a relative path leave the data directory. */
static const char *path_problem(const char *s, size_t cap)
{
	size_t n = strlen(s);
	if (n >= cap)
		return "is too long";
	if (s[n - 1] == '/')
		return "names a directory, not a file";
	for (const char *p = s; *p != '\0';) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return "contains a \"..\" component";
		if (end == NULL)
			break;
		p = end + 1;
	}
	return NULL;
}

/* ---- the parser ---- */

struct parse_ctx {
	const char *label;
	unsigned long line;
	char *err;
	size_t errlen;
	int section;                                   /* -1 before any */
	unsigned long section_line[CONFIG_SECTION_COUNT];
	unsigned long set_line[CONFIG_SETTING_COUNT];
	struct config c;
};

/* Write bytes into out as printable ASCII, so a hostile or mistyped value
 * echoed in an error can never forge a second log line or a terminal
 * escape. Long values are cut with "...". */
static void escape_value(char *out, size_t outlen, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const size_t show_max = 80;
	size_t o = 0;
	if (outlen == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char tmp[4];
		size_t tl;
		if (i >= show_max) {
			tmp[0] = tmp[1] = tmp[2] = '.';
			tl = 3;
		} else if (ch == '"' || ch == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)ch;
			tl = 2;
		} else if (ch < 0x20 || ch >= 0x7f) {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[ch >> 4];
			tmp[3] = hex[ch & 15];
			tl = 4;
		} else {
			tmp[0] = (char)ch;
			tl = 1;
		}
		if (o + tl >= outlen)
			break;
		memcpy(out + o, tmp, tl);
		o += tl;
		if (i >= show_max)
			break;
	}
	out[o] = '\0';
}

static int fail(struct parse_ctx *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Report "label:line: <message>"; always returns -1. */
static int fail(struct parse_ctx *p, const char *fmt, ...)
{
	if (p->errlen == 0)
		return -1;
	int n = snprintf(p->err, p->errlen, "%s:%lu: ", p->label, p->line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int fail_value(struct parse_ctx *p, const struct config_setting *s,
		      const char *value, const char *problem)
{
	char shown[512];
	escape_value(shown, sizeof(shown), value, strlen(value));
	return fail(p, "%s.%s: \"%s\" %s", config_sections[s->section].name,
		    s->key, shown, problem);
}

static int set_value(struct parse_ctx *p, const struct config_setting *s,
		     const char *v)
{
	void *field = (char *)&p->c + s->offset;
	const char *problem = NULL;
	uint64_t num;

	switch (s->type) {
	case CONFIG_DNSNAME:
		if (strlen(v) >= s->size || !dns_name_valid(v))
			return fail_value(p, s, v, "is not a valid DNS host name");
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case CONFIG_BOOL:
		if (strcmp(v, "on") == 0)
			*(int *)field = 1;
		else if (strcmp(v, "off") == 0)
			*(int *)field = 0;
		else
			return fail_value(p, s, v, "is neither on nor off");
		return 0;
	case CONFIG_LOGLEVEL:
		for (unsigned i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
			if (strcmp(v, log_level_names[i]) == 0) {
				*(enum log_level *)field = (enum log_level)i;
				return 0;
			}
		}
		return fail_value(p, s, v, "is not one of debug, info, warn, error");
	case CONFIG_USER:
		if (!user_name_valid(v) || strlen(v) >= s->size)
			return fail_value(p, s, v, "is not a valid user name");
		/* Why: a role running as root would undo privilege separation. */
		if (strcmp(v, "root") == 0)
			return fail_value(p, s, v, "is refused: roles must not run as root");
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case CONFIG_LISTEN: {
		struct config_listen *l = field;
		int r = config_parse_hostport(v, l->host, sizeof(l->host), &l->port,
					      &problem);
		if (r < 0)
			return fail_value(p, s, v, problem);
		l->enabled = r;
		return 0;
	}
	case CONFIG_PATH:
		problem = path_problem(v, s->size);
		if (problem != NULL)
			return fail_value(p, s, v, problem);
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case CONFIG_U32:
	case CONFIG_U64:
		if (parse_uint(v, &num) < 0)
			return fail_value(p, s, v, "is not a whole number");
		if (num < s->min || num > s->max) {
			char range[96];
			snprintf(range, sizeof(range), "is out of range (%llu..%llu)",
				 (unsigned long long)s->min, (unsigned long long)s->max);
			return fail_value(p, s, v, range);
		}
		if (s->type == CONFIG_U32)
			*(uint32_t *)field = (uint32_t)num;
		else
			*(uint64_t *)field = num;
		return 0;
	}
	return fail_value(p, s, v, "has an unknown type");
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
}

/* Names of sections and keys: lower-case letters, digits, '_'. */
static int ident_valid(const char *s, size_t n)
{
	if (n == 0 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
			return 0;
	}
	return 1;
}

static int ident_eq(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(s, name, n) == 0;
}

static int parse_section(struct parse_ctx *p, const char *l, size_t n)
{
	char shown[128];
	if (n < 2 || l[n - 1] != ']')
		return fail(p, "expected \"[section]\"");
	const char *name = l + 1;
	size_t nlen = n - 2;
	escape_value(shown, sizeof(shown), name, nlen);
	for (unsigned i = 0; ident_valid(name, nlen) && i < CONFIG_SECTION_COUNT; i++) {
		if (!ident_eq(name, nlen, config_sections[i].name))
			continue;
		if (p->section_line[i] != 0)
			return fail(p, "[%s]: section repeated (first on line %lu)",
				    shown, p->section_line[i]);
		p->section_line[i] = p->line;
		p->section = (int)i;
		return 0;
	}
	return fail(p, "[%s]: unknown section", shown);
}

static int has_inline_comment(const char *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i] == '#' && is_space(v[i - 1]))
			return 1;
	return 0;
}

static int parse_setting(struct parse_ctx *p, const char *l, size_t n)
{
	const char *eq = memchr(l, '=', n);
	char shown[128];
	if (eq == NULL)
		return fail(p, "expected \"key = value\"");
	const char *key = l, *val = eq + 1;
	size_t klen = (size_t)(eq - l), vlen = n - klen - 1;
	trim(&key, &klen);
	trim(&val, &vlen);
	if (klen == 0)
		return fail(p, "expected \"key = value\"");
	escape_value(shown, sizeof(shown), key, klen);
	if (p->section < 0)
		return fail(p, "%s: setting before any [section]", shown);
	const char *sec = config_sections[p->section].name;

	const struct config_setting *s = NULL;
	unsigned idx = 0;
	const struct config_setting *elsewhere = NULL;
	for (unsigned i = 0; ident_valid(key, klen) && i < CONFIG_SETTING_COUNT; i++) {
		if (!ident_eq(key, klen, config_settings[i].key))
			continue;
		if ((int)config_settings[i].section == p->section) {
			s = &config_settings[i];
			idx = i;
			break;
		}
		elsewhere = &config_settings[i];
	}
	if (s == NULL) {
		if (elsewhere != NULL)
			return fail(p, "%s.%s: unknown key (did you mean %s.%s?)", sec,
				    shown, config_sections[elsewhere->section].name,
				    elsewhere->key);
		return fail(p, "%s.%s: unknown key", sec, shown);
	}
	if (p->set_line[idx] != 0)
		return fail(p, "%s.%s: set twice (first on line %lu)", sec, s->key,
			    p->set_line[idx]);
	p->set_line[idx] = p->line;
	if (vlen == 0)
		return fail(p, "%s.%s: empty value", sec, s->key);
	/* Why: "port = 25 # comment" would otherwise be reported as a bad
	 * port, which hides the real mistake. */
	if (has_inline_comment(val, vlen))
		return fail(p, "%s.%s: comments must be on their own line", sec, s->key);
	char v[RD_CONFIG_MAX_LINE + 1];
	memcpy(v, val, vlen);   /* vlen < n <= RD_CONFIG_MAX_LINE */
	v[vlen] = '\0';
	return set_value(p, s, v);
}

static int parse_line(struct parse_ctx *p, const char *l, size_t n)
{
	if (n > 0 && l[n - 1] == '\r')
		n--;    /* CRLF files from Windows editors */
	if (n > RD_CONFIG_MAX_LINE)
		return fail(p, "line longer than %u bytes", RD_CONFIG_MAX_LINE);
	if (memchr(l, '\0', n) != NULL)
		return fail(p, "NUL byte in line");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)l[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return fail(p, "control character 0x%02x in line", ch);
	}
	trim(&l, &n);
	if (n == 0 || l[0] == '#')
		return 0;
	if (l[0] == '[')
		return parse_section(p, l, n);
	return parse_setting(p, l, n);
}

static const struct config_listen *listen_at(const struct config *c, unsigned i)
{
	return (const void *)((const char *)c + config_settings[i].offset);
}

static unsigned setting_at(size_t offset)
{
	unsigned i = 0;
	while (i + 1 < CONFIG_SETTING_COUNT && config_settings[i].offset != offset)
		i++;
	return i;
}

/* Checks that involve two settings; reported on the later of their lines. */
static int cross_check(struct parse_ctx *p)
{
	unsigned user_i = setting_at(offsetof(struct config, user));
	unsigned front_i = setting_at(offsetof(struct config, front_user));
	if (strcmp(p->c.user, p->c.front_user) == 0) {
		p->line = p->set_line[front_i] > p->set_line[user_i] ?
			  p->set_line[front_i] : p->set_line[user_i];
		return fail(p, "server.front_user: \"%s\" must differ from server.user",
			    p->c.front_user);
	}
	for (unsigned i = 0; i < CONFIG_SETTING_COUNT; i++) {
		if (config_settings[i].type != CONFIG_LISTEN)
			continue;
		const struct config_listen *a = listen_at(&p->c, i);
		for (unsigned j = i + 1; a->enabled && j < CONFIG_SETTING_COUNT; j++) {
			const struct config_listen *b = listen_at(&p->c, j);
			if (config_settings[j].type != CONFIG_LISTEN || !b->enabled ||
			    a->port != b->port || strcmp(a->host, b->host) != 0)
				continue;
			unsigned later = p->set_line[j] > p->set_line[i] ? j : i;
			unsigned other = later == j ? i : j;
			p->line = p->set_line[later];
			int v6 = strchr(a->host, ':') != NULL;
			return fail(p, "listen.%s: %s%s%s:%u is already used by listen.%s",
				    config_settings[later].key, v6 ? "[" : "", a->host,
				    v6 ? "]" : "", (unsigned)a->port,
				    config_settings[other].key);
		}
	}
	return 0;
}

int config_parse(struct config *c, const char *file_label,
		 const char *text, size_t len, char *err, size_t errlen)
{
	struct parse_ctx p;
	memset(&p, 0, sizeof(p));
	p.label = file_label;
	p.err = err;
	p.errlen = errlen;
	p.section = -1;
	if (errlen > 0)
		err[0] = '\0';
	config_defaults(&p.c);
	snprintf(p.c.file, sizeof(p.c.file), "%s", file_label);

	if (len > RD_CONFIG_MAX_SIZE) {
		if (errlen > 0)
			snprintf(err, errlen, "%s: file larger than %u bytes",
				 file_label, RD_CONFIG_MAX_SIZE);
		return -1;
	}
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		p.line++;
		if (parse_line(&p, text + pos, n) < 0)
			return -1;
		pos += n + (nl ? 1 : 0);
	}
	if (cross_check(&p) < 0)
		return -1;
	*c = p.c;
	return 0;
}
