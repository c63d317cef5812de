/* test-config.c: the config parser, its validators, the loader and the
 * default file `redoubt init` writes. */
#include "config/config.h"
#include "config/dnsname.h"
#include "lib/test.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define LABEL "redoubt.conf"

static char err[1024];

static int parse(struct config *c, const char *text)
{
	return config_parse(c, LABEL, text, strlen(text), err, sizeof(err));
}

/* Parse text and compare the whole error message. */
static void expect_error(const char *text, const char *want)
{
	struct config c;
	int r = parse(&c, text);
	CHECK(r == -1, "refused: %s", want);
	CHECK_STR(err, want, "message: %s", want);
}

/* Parse text and check only that it fails with file:line: key: in front. */
static void expect_fail_prefix(const char *text, const char *prefix)
{
	struct config c;
	int r = parse(&c, text);
	CHECK(r == -1 && strncmp(err, prefix, strlen(prefix)) == 0,
	      "refused with \"%s...\" (got \"%s\")", prefix, err);
}

static void test_defaults(void)
{
	struct config d, c;
	config_defaults(&d);
	CHECK(parse(&c, "") == 0 && config_equal(&c, &d), "empty file gives defaults");
	CHECK_STR(c.file, LABEL, "file label recorded");
	CHECK(parse(&c, "# only a comment\n\n   \n\t# indented comment\n") == 0 &&
	      config_equal(&c, &d), "comments and blank lines only");
	CHECK_STR(d.hostname, "mail.example.test", "default hostname");
	CHECK(d.sandbox == 1 && d.log_level == LOG_INFO, "default sandbox on, info");
	CHECK(d.smtp.enabled && strcmp(d.smtp.host, "127.0.0.1") == 0 &&
	      d.smtp.port == 2525, "default smtp listen");
	CHECK(d.https.port == 2443 && d.imaps.port == 2993, "default https, imaps");
	CHECK(d.argon2_opslimit == 3 && d.argon2_memlimit_kib == 65536 &&
	      d.fail_delay_ms == 500, "default auth");
	CHECK(d.max_message_size == 52428800u && d.max_recipients == 100,
	      "default limits");
}

static void test_format_roundtrip(void)
{
	struct config d, c;
	struct buffer b;
	const char *e = NULL;
	config_defaults(&d);
	buffer_init(&b, 1u << 20);
	CHECK(config_format(&d, &b, &e) == 0, "format defaults");
	CHECK(config_parse(&c, "x", (const char *)b.data, b.len, err, sizeof(err)) == 0 &&
	      config_equal(&c, &d), "formatted defaults parse back (%s)", err);
	buffer_free(&b);

	/* a non-default config survives format + parse too */
	config_defaults(&d);
	d.sandbox = 0;
	d.log_level = LOG_DEBUG;
	d.imap.enabled = 0;
	d.imap.host[0] = '\0';
	d.imap.port = 0;
	snprintf(d.https.host, sizeof(d.https.host), "::1");
	d.argon2_opslimit = 7;
	buffer_init(&b, 1u << 20);
	CHECK(config_format(&d, &b, &e) == 0, "format changed config");
	CHECK(config_parse(&c, "x", (const char *)b.data, b.len, err, sizeof(err)) == 0 &&
	      config_equal(&c, &d), "changed config parses back (%s)", err);
	buffer_free(&b);

	buffer_init(&b, 100);
	e = NULL;
	CHECK(config_format(&d, &b, &e) == -1 && e != NULL, "format respects buffer cap");
	buffer_free(&b);
}

static char *read_whole(int dirfd, const char *name, size_t *len_r)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	static char buf[65536];
	if (fd < 0)
		return NULL;
	ssize_t r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r < 0)
		return NULL;
	buf[r] = '\0';
	*len_r = (size_t)r;
	return buf;
}

/* Every prefix of a valid file parses or fails with a message; under
 * ASan this also proves no prefix reads past its end. */
static void test_prefixes(const char *text, size_t len)
{
	int bad = 0, ok = 0;
	for (size_t n = 0; n <= len; n++) {
		/* copy so ASan sees exactly n bytes */
		char *copy = malloc(n ? n : 1);
		struct config c;
		memcpy(copy, text, n);
		err[0] = '\0';
		int r = config_parse(&c, LABEL, copy, n, err, sizeof(err));
		if (r == 0)
			ok++;
		else if (r != -1 || strncmp(err, LABEL ":", strlen(LABEL) + 1) != 0)
			bad++;
		free(copy);
	}
	CHECK(bad == 0 && ok > 0, "every prefix of %zu bytes parses or fails cleanly "
	      "(%d parsed)", len, ok);
}

static void test_write_default(void)
{
	char dir[] = "/tmp/test-config-XXXXXX";
	const char *e = NULL;
	struct config d, c;
	size_t len = 0;

	CHECK(mkdtemp(dir) != NULL, "temp dir");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(config_write_default(dfd, "redoubt.conf", "mx.example.org", &e) == 0,
	      "write default file");
	char *text = read_whole(dfd, "redoubt.conf", &len);
	CHECK(text != NULL && len > 1000, "default file is there (%zu bytes)", len);
	config_defaults(&d);
	snprintf(d.hostname, sizeof(d.hostname), "mx.example.org");
	CHECK(text != NULL && parse(&c, text) == 0 && config_equal(&c, &d),
	      "default file parses to defaults with hostname (%s)", err);
	CHECK(text != NULL && strstr(text, "hostname = mx.example.org\n") != NULL,
	      "hostname substituted");
	CHECK(text != NULL && strstr(text, "# Default: 127.0.0.1:2143\nimap = 127.0.0.1:2143\n")
	      != NULL, "each key documented with its default");
	CHECK(text != NULL && strstr(text, "# Range: 1..4294967295.\n# Default: 3\nargon2_opslimit = 3\n")
	      != NULL, "integer keys documented with their range");

	/* every line of the file is a comment, blank, a section or a key */
	int lines_ok = 1, comments = 0;
	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > 0 && p[0] == '#')
			comments++;
		else if (n > 0 && p[0] != '[' && memchr(p, '=', n) == NULL)
			lines_ok = 0;
		p += n + (nl ? 1 : 0);
	}
	CHECK(lines_ok && comments > 40, "default file is well commented (%d comment lines)",
	      comments);

	char path[300];
	snprintf(path, sizeof(path), "%s/redoubt.conf", dir);
	CHECK(config_load(&c, path, err, sizeof(err)) == 0 && config_equal(&c, &d),
	      "config_load reads it back (%s)", err);
	CHECK_STR(c.file, path, "loaded config records its path");
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 022) == 0,
	      "default file not writable by group or others");

	if (text != NULL)
		test_prefixes(text, len);

	e = NULL;
	CHECK(config_write_default(dfd, "redoubt.conf", "other.example.org", &e) == -1 &&
	      errno == EEXIST && e != NULL, "existing file is never replaced");
	CHECK_STR(e, "config file already exists", "existing-file message");
	text = read_whole(dfd, "redoubt.conf", &len);
	CHECK(text != NULL && strstr(text, "mx.example.org") != NULL, "old file intact");
	CHECK(faccessat(dfd, "redoubt.conf.tmp", F_OK, 0) < 0, "no temporary left over");
	e = NULL;
	CHECK(config_write_default(dfd, "new.conf", "bad_host", &e) == -1 && e != NULL,
	      "invalid hostname refused");
	CHECK(config_write_default(dfd, "../x.conf", "mx.example.org", &e) == -1,
	      "name with a slash refused");

	/* loader refusals */
	char p2[300], p3[300], p4[300];
	snprintf(p2, sizeof(p2), "%s/link.conf", dir);
	CHECK(symlink("redoubt.conf", p2) == 0, "make symlink");
	CHECK(config_load(&c, p2, err, sizeof(err)) == -1 && strstr(err, "symbolic link"),
	      "symlink refused (%s)", err);
	snprintf(p3, sizeof(p3), "%s/ww.conf", dir);
	int fd = open(p3, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, "", 0) == 0 && fchmod(fd, 0666) == 0, "world-writable file");
	close(fd);
	CHECK(config_load(&c, p3, err, sizeof(err)) == -1 && strstr(err, "writable by others"),
	      "world-writable file refused (%s)", err);
	snprintf(p4, sizeof(p4), "%s/big.conf", dir);
	fd = open(p4, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && ftruncate(fd, RD_CONFIG_MAX_SIZE + 1) == 0, "big file");
	close(fd);
	CHECK(config_load(&c, p4, err, sizeof(err)) == -1 && strstr(err, "larger than"),
	      "oversized file refused (%s)", err);
	CHECK(config_load(&c, dir, err, sizeof(err)) == -1 && strstr(err, "regular file"),
	      "directory refused (%s)", err);
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	CHECK(config_load(&c, path, err, sizeof(err)) == -1 && strstr(err, "cannot open"),
	      "missing file reported (%s)", err);

	unlinkat(dfd, "redoubt.conf", 0);
	unlinkat(dfd, "link.conf", 0);
	unlinkat(dfd, "ww.conf", 0);
	unlinkat(dfd, "big.conf", 0);
	close(dfd);
	rmdir(dir);
}

static void test_error_messages(void)
{
	expect_error("# 1\n# 2\n# 3\n# 4\n# 5\n# 6\n# 7\n# 8\n# 9\n# 10\n[listen]\n"
		     "imap = 127.0.0.1:99999\n",
		     "redoubt.conf:12: listen.imap: \"127.0.0.1:99999\" is not a valid port");
	expect_error("[server]\nfoo = 1\n", "redoubt.conf:2: server.foo: unknown key");
	expect_error("[server]\nimap = 127.0.0.1:143\n",
		     "redoubt.conf:2: server.imap: unknown key (did you mean listen.imap?)");
	expect_error("\n[foo]\n", "redoubt.conf:2: [foo]: unknown section");
	expect_error("[Server]\n", "redoubt.conf:1: [Server]: unknown section");
	expect_error("[server\n", "redoubt.conf:1: expected \"[section]\"");
	expect_error("[listen]\nimap = 127.0.0.1:143\nimap = 127.0.0.1:144\n",
		     "redoubt.conf:3: listen.imap: set twice (first on line 2)");
	expect_error("[tls]\n[auth]\n[tls]\n",
		     "redoubt.conf:3: [tls]: section repeated (first on line 1)");
	expect_error("hostname = a.example\n",
		     "redoubt.conf:1: hostname: setting before any [section]");
	expect_error("[server]\nhostname\n", "redoubt.conf:2: expected \"key = value\"");
	expect_error("[server]\n= x\n", "redoubt.conf:2: expected \"key = value\"");
	expect_error("[server]\nhostname =\n", "redoubt.conf:2: server.hostname: empty value");
	expect_error("[server]\nhostname = -bad.example\n",
		     "redoubt.conf:2: server.hostname: \"-bad.example\" is not a valid DNS host name");
	expect_error("[server]\nhostname = m\xc3\xa9.example\n",
		     "redoubt.conf:2: server.hostname: \"m\\xc3\\xa9.example\" is not a valid DNS host name");
	expect_error("[server]\nsandbox = yes\n",
		     "redoubt.conf:2: server.sandbox: \"yes\" is neither on nor off");
	expect_error("[server]\nlog_level = verbose\n",
		     "redoubt.conf:2: server.log_level: \"verbose\" is not one of debug, info, warn, error");
	expect_error("[server]\nuser = root\n",
		     "redoubt.conf:2: server.user: \"root\" is refused: roles must not run as root");
	expect_error("[server]\nuser = Bad User\n",
		     "redoubt.conf:2: server.user: \"Bad User\" is not a valid user name");
	expect_error("[server]\nuser = mail\n\nfront_user = mail\n",
		     "redoubt.conf:4: server.front_user: \"mail\" must differ from server.user");
	expect_error("[server]\nfront_user = redoubt\n",
		     "redoubt.conf:2: server.front_user: \"redoubt\" must differ from server.user");
	expect_error("[listen]\nsmtp = 127.0.0.1:2143\n",
		     "redoubt.conf:2: listen.smtp: 127.0.0.1:2143 is already used by listen.imap");
	expect_error("[listen]\nimap = [::1]:25\nimaps = [::1]:25\n",
		     "redoubt.conf:3: listen.imaps: [::1]:25 is already used by listen.imap");
	expect_error("[listen]\nsmtp = 127.0.0.1:25 # MX\n",
		     "redoubt.conf:2: listen.smtp: comments must be on their own line");
	expect_error("[tls]\nkey = ../../etc/shadow\n",
		     "redoubt.conf:2: tls.key: \"../../etc/shadow\" contains a \"..\" component");
	expect_error("[tls]\ncertificate = /etc/letsencrypt/live/x/..\n",
		     "redoubt.conf:2: tls.certificate: \"/etc/letsencrypt/live/x/..\" contains a \"..\" component");
	expect_error("[tls]\nkey = tls/\n",
		     "redoubt.conf:2: tls.key: \"tls/\" names a directory, not a file");
	expect_error("[auth]\nargon2_opslimit = 0\n",
		     "redoubt.conf:2: auth.argon2_opslimit: \"0\" is out of range (1..4294967295)");
	expect_error("[auth]\nargon2_opslimit = 4294967296\n",
		     "redoubt.conf:2: auth.argon2_opslimit: \"4294967296\" is out of range (1..4294967295)");
	expect_error("[auth]\nargon2_memlimit_kib = 7\n",
		     "redoubt.conf:2: auth.argon2_memlimit_kib: \"7\" is out of range (8..4294967295)");
	expect_error("[auth]\nfail_delay_ms = 99999999999999999999999\n",
		     "redoubt.conf:2: auth.fail_delay_ms: \"99999999999999999999999\" is not a whole number");
	expect_error("[auth]\nfail_delay_ms = -1\n",
		     "redoubt.conf:2: auth.fail_delay_ms: \"-1\" is not a whole number");
	expect_error("[limits]\nmax_message_size = 50M\n",
		     "redoubt.conf:2: limits.max_message_size: \"50M\" is not a whole number");
	expect_error("[limits]\nmax_recipients = 99\n",
		     "redoubt.conf:2: limits.max_recipients: \"99\" is out of range (100..1000)");
	expect_error("[server]\nhostname = a\x01.example\n",
		     "redoubt.conf:2: control character 0x01 in line");

	/* a long bad value is cut in the message, and quotes are escaped */
	char text[600];
	snprintf(text, sizeof(text), "[server]\nhostname = \"%0300d\n", 0);
	struct config c;
	CHECK(parse(&c, text) == -1 && strstr(err, "\"\\\"000") != NULL &&
	      strstr(err, "...\" is not a valid DNS host name") != NULL &&
	      strlen(err) < 200, "long value shortened, quote escaped: %s", err);

	/* small and zero-size error buffers are safe */
	char tiny[8];
	CHECK(config_parse(&c, LABEL, "[x]\n", 4, tiny, sizeof(tiny)) == -1 &&
	      strcmp(tiny, "redoubt") == 0, "error truncated to buffer");
	CHECK(config_parse(&c, LABEL, "[x]\n", 4, NULL, 0) == -1, "errlen 0 is safe");
}

static void test_failure_leaves_config(void)
{
	struct config c, d;
	config_defaults(&d);
	CHECK(parse(&c, "[server]\nlog_level = debug\n") == 0 && c.log_level == LOG_DEBUG,
	      "log_level debug");
	CHECK(parse(&c, "[server]\nsandbox = off\nlog_level = nope\n") == -1 &&
	      c.log_level == LOG_DEBUG && c.sandbox == 1,
	      "a failed parse leaves the previous config untouched");
}

static void test_lines(void)
{
	struct config c;
	CHECK(parse(&c, "[server]\r\nsandbox = off\r\nhostname = a.example\r\n") == 0 &&
	      c.sandbox == 0 && strcmp(c.hostname, "a.example") == 0, "CRLF accepted (%s)", err);
	CHECK(parse(&c, "[server]\nsandbox = off") == 0 && c.sandbox == 0,
	      "last line without newline");
	CHECK(parse(&c, "  [server]  \n\t sandbox\t=\toff  \n") == 0 && c.sandbox == 0,
	      "spaces and tabs around tokens");
	expect_error("[server]\nhostname = a\rb.example\n",
		     "redoubt.conf:2: control character 0x0d in line");

	/* line length: exactly the cap is fine, one more is not */
	static char big[12 * 1024];
	memset(big, 0, sizeof(big));
	big[0] = '#';
	memset(big + 1, 'x', RD_CONFIG_MAX_LINE - 1);
	strcat(big, "\n[server]\n");
	CHECK(parse(&c, big) == 0, "comment line of exactly %u bytes", RD_CONFIG_MAX_LINE);
	big[RD_CONFIG_MAX_LINE] = '\0';
	strcat(big, "\r\n[server]\r\n");
	CHECK(parse(&c, big) == 0, "same line with CRLF still fits");
	big[RD_CONFIG_MAX_LINE] = 'x';
	expect_error(big, "redoubt.conf:1: line longer than 1024 bytes");

	memset(big, 0, sizeof(big));
	strcpy(big, "[server]\nhostname = ");
	memset(big + strlen(big), 'a', 10 * 1024);
	strcat(big, "\n");
	expect_error(big, "redoubt.conf:2: line longer than 1024 bytes");

	/* NUL in the middle of a line and on a line of its own */
	static const char nul1[] = "[server]\nhost\0name = a.example\n";
	CHECK(config_parse(&c, LABEL, nul1, sizeof(nul1) - 1, err, sizeof(err)) == -1,
	      "NUL in a key refused");
	CHECK_STR(err, "redoubt.conf:2: NUL byte in line", "NUL message");
	static const char nul2[] = "[server]\n# fine\n\0\n";
	CHECK(config_parse(&c, LABEL, nul2, sizeof(nul2) - 1, err, sizeof(err)) == -1,
	      "NUL line refused");
	CHECK_STR(err, "redoubt.conf:3: NUL byte in line", "NUL line message");

	/* whole file over the cap, without reading it */
	CHECK(config_parse(&c, LABEL, "", RD_CONFIG_MAX_SIZE + 1u, err, sizeof(err)) == -1,
	      "oversized text refused before reading");
	CHECK_STR(err, "redoubt.conf: file larger than 262144 bytes", "size message");
}

static void test_listen(void)
{
	struct config c;
	CHECK(parse(&c, "[listen]\nimap = [::1]:143\nhttps = [2001:db8::1]:443\n"
		  "smtp = 0.0.0.0:25\nimaps = [::]:993\n") == 0, "IPv6 listen (%s)", err);
	CHECK(strcmp(c.imap.host, "::1") == 0 && c.imap.port == 143 && c.imap.enabled,
	      "[::1]:143 stored without brackets");
	CHECK(strcmp(c.https.host, "2001:db8::1") == 0 && c.https.port == 443, "[2001:db8::1]:443");
	CHECK(strcmp(c.imaps.host, "::") == 0, "[::]:993");
	CHECK(parse(&c, "[listen]\nsubmission = off\nsmtp = localhost:25\n") == 0 &&
	      !c.submission.enabled && c.submission.port == 0 &&
	      strcmp(c.smtp.host, "localhost") == 0, "off and a host name");

	static const char *const bad_ports[] = { "0", "65536", "-1", "abc", "", "99999", "+25",
						 "025x", "1000000" };
	for (size_t i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++) {
		char text[128], want[160];
		snprintf(text, sizeof(text), "[listen]\nimap = 127.0.0.1:%s\n", bad_ports[i]);
		snprintf(want, sizeof(want),
			 "redoubt.conf:2: listen.imap: \"127.0.0.1:%s\" is not a valid port",
			 bad_ports[i]);
		expect_error(text, want);
	}
	CHECK(parse(&c, "[listen]\nimap = 127.0.0.1:65535\nsmtp = 127.0.0.1:1\n") == 0 &&
	      c.imap.port == 65535 && c.smtp.port == 1, "ports 1 and 65535");

	expect_error("[listen]\nimap = ::1:143\n", "redoubt.conf:2: listen.imap: \"::1:143\" "
		     "needs brackets around an IPv6 address, as in [::1]:port");
	expect_error("[listen]\nimap = [::1]\n", "redoubt.conf:2: listen.imap: \"[::1]\" "
		     "has no \":port\" after the IPv6 address");
	expect_error("[listen]\nimap = [::1:143\n", "redoubt.conf:2: listen.imap: \"[::1:143\" "
		     "has no closing \"]\"");
	expect_error("[listen]\nimap = [1.2.3.4]:143\n", "redoubt.conf:2: listen.imap: "
		     "\"[1.2.3.4]:143\" is not a valid IPv6 address");
	expect_error("[listen]\nimap = 127.0.0.1\n", "redoubt.conf:2: listen.imap: "
		     "\"127.0.0.1\" has no \":port\" (or write \"off\")");
	expect_error("[listen]\nimap = 256.1.1.1:143\n", "redoubt.conf:2: listen.imap: "
		     "\"256.1.1.1:143\" is not a valid address");
	expect_error("[listen]\nimap = 1.2.3:143\n", "redoubt.conf:2: listen.imap: "
		     "\"1.2.3:143\" is not a valid address");
	expect_error("[listen]\nimap = :143\n", "redoubt.conf:2: listen.imap: "
		     "\":143\" is not a valid address");
	expect_fail_prefix("[listen]\nimap = [fe80::1%eth0]:143\n", "redoubt.conf:2: listen.imap: ");
	expect_fail_prefix("[listen]\nimap = OFF\n", "redoubt.conf:2: listen.imap: ");

	/* a name that is valid DNS but longer than the host field */
	char text[400], name[100];
	memset(name, 'a', 71);
	name[35] = '.';
	name[71] = '\0';
	snprintf(text, sizeof(text), "[listen]\nimap = %s.example:143\n", name);
	expect_fail_prefix(text, "redoubt.conf:2: listen.imap: ");
	CHECK(strstr(err, "too long") != NULL, "long listen host: %s", err);

	/* the validator on its own */
	char host[64];
	unsigned short port = 1;
	const char *e = NULL;
	CHECK(config_parse_hostport("off", host, sizeof(host), &port, &e) == 0 &&
	      host[0] == '\0' && port == 0, "hostport off");
	CHECK(config_parse_hostport("[::1]:8080", host, sizeof(host), &port, &e) == 1 &&
	      strcmp(host, "::1") == 0 && port == 8080, "hostport v6");
	CHECK(config_parse_hostport("10.0.0.1:80", host, 4, &port, &e) == -1 && port == 0,
	      "hostport small host buffer");
}

static void test_values(void)
{
	struct config c;
	CHECK(parse(&c, "[server]\nsandbox = off\n") == 0 && c.sandbox == 0, "sandbox = off parses");
	CHECK(parse(&c, "[tls]\ncertificate = /etc/letsencrypt/live/mail.example.org/fullchain.pem\n"
		  "key = ./tls/..key\n") == 0 &&
	      strcmp(c.tls_certificate, "/etc/letsencrypt/live/mail.example.org/fullchain.pem") == 0 &&
	      strcmp(c.tls_key, "./tls/..key") == 0, "absolute path, \"..key\" is not \"..\"");
	CHECK(parse(&c, "[auth]\nargon2_opslimit = 1\nargon2_memlimit_kib = 8\nfail_delay_ms = 0\n"
		  "[limits]\nmax_message_size = 65536\nmax_recipients = 1000\n") == 0 &&
	      c.argon2_opslimit == 1 && c.argon2_memlimit_kib == 8 && c.fail_delay_ms == 0 &&
	      c.max_message_size == 65536 && c.max_recipients == 1000, "range edges accepted");
	CHECK(parse(&c, "[server]\nuser = _mail\nfront_user = mail-front9\n") == 0 &&
	      strcmp(c.user, "_mail") == 0, "user names");
	CHECK(parse(&c, "[server]\nhostname = MX1.Example.ORG\nlog_level = error\n") == 0 &&
	      strcmp(c.hostname, "MX1.Example.ORG") == 0 && c.log_level == LOG_ERROR,
	      "hostname case kept, log_level error");
	expect_fail_prefix("[limits]\nmax_message_size = 52428801\n",
			   "redoubt.conf:2: limits.max_message_size: ");
}

static void test_dns_name(void)
{
	static const char *const good[] = {
		"a", "example.org", "mail.example.test", "x-y.example", "1.example",
		"a1", "xn--bcher-kva.example", "123.example.com4",
	};
	static const char *const bad[] = {
		"", ".", "example.org.", ".example", "a..b", "-a.example", "a-.example",
		"a_b.example", "a b", "1.2.3.4", "example.123", "ex\xc3\xa4mple.org",
		"a.-b", "a.b-",
	};
	int ok = 1;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!dns_name_valid(good[i])) {
			printf("# wrongly refused: %s\n", good[i]);
			ok = 0;
		}
	CHECK(ok, "valid DNS names accepted");
	ok = 1;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dns_name_valid(bad[i])) {
			printf("# wrongly accepted: %s\n", bad[i]);
			ok = 0;
		}
	CHECK(ok, "invalid DNS names refused");
	CHECK(!dns_name_valid(NULL), "NULL refused");

	char name[300];
	memset(name, 'a', 63);
	strcpy(name + 63, ".example");
	CHECK(dns_name_valid(name), "63-character label");
	memset(name, 'a', 64);
	strcpy(name + 64, ".example");
	CHECK(!dns_name_valid(name), "64-character label refused");
	/* 4 labels of 63 + 3 dots = 255 > 253; trim to exactly 253 */
	for (int i = 0; i < 4; i++) {
		memset(name + i * 64, 'a', 63);
		name[i * 64 + 63] = '.';
	}
	name[253] = '\0';
	CHECK(strlen(name) == 253 && dns_name_valid(name), "253-character name");
	name[253] = 'a';
	name[254] = '\0';
	CHECK(!dns_name_valid(name), "254-character name refused");
}

int main(void)
{
	test_defaults();
	test_format_roundtrip();
	test_write_default();
	test_error_messages();
	test_failure_leaves_config();
	test_lines();
	test_listen();
	test_values();
	test_dns_name();
	return TEST_DONE();
}
