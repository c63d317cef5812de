/* Tests for smtp-path: a table of good and bad MAIL/RCPT arguments, field
 * checks for each parameter, length caps at their edges, and every prefix
 * of every input parsed from an exact-size heap copy so ASan sees any read
 * past the end. */
#include "smtp/smtp-path.h"
#include "lib/test.h"
#include <stdlib.h>

#define M SMTP_PATH_MAIL
#define R SMTP_PATH_RCPT
#define OK SMTP_PATH_OK
#define BAD SMTP_PATH_BAD
#define UNS SMTP_PATH_UNSUPPORTED

struct pcase {
	enum smtp_path_kind kind;
	int utf8;
	const char *in;
	int ret;
	const char *want;   /* the address on OK, a reply prefix otherwise */
};

static const struct pcase cases[] = {
	/* paths */
	{ M, 0, "FROM:<alice@example.com>", OK, "alice@example.com" },
	{ M, 0, "from:<Alice@Example.COM>", OK, "Alice@Example.COM" },
	{ M, 0, "FROM: <alice@example.com>", OK, "alice@example.com" },
	{ M, 0, "FROM:   <alice@example.com>   ", OK, "alice@example.com" },
	{ M, 0, "FROM:<>", OK, "" },
	{ M, 0, "FROM:<> SIZE=1000", OK, "" },
	{ M, 0, "FROM:<@a.example,@b.example:joe@c.example>", OK, "joe@c.example" },
	{ M, 0, "FROM:<@a.example:joe@c.example>", OK, "joe@c.example" },
	{ M, 0, "FROM:<@[192.0.2.1]:joe@c.example>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<@a.example,joe@c.example>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<@a.example:>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<\"john doe\"@example.com>", OK, "\"john doe\"@example.com" },
	{ M, 0, "FROM:<\"a>b\"@example.com>", OK, "\"a>b\"@example.com" },
	{ M, 0, "FROM:<\"a\\\"b\"@example.com>", OK, "\"a\\\"b\"@example.com" },
	{ M, 0, "FROM:<\"a$(id)`|;\"@example.com>", OK, "\"a$(id)`|;\"@example.com" },
	{ M, 0, "FROM:<\"\"@example.com>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<\"abc@example.com>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<\"a\\", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a$b+tag=x@example.com>", OK, "a$b+tag=x@example.com" },
	{ M, 0, "FROM:<a`id`@example.com>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a|b@example.com>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a;b@example.com>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<$(id)@example.com>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a b@example.com>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<.a@b.example>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a.@b.example>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a..b@b.example>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a.b@b.example>", OK, "a.b@b.example" },
	{ M, 0, "FROM:<a@b..example>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@-b.example>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@b-.example>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@b-c.example>", OK, "a@b-c.example" },
	{ M, 0, "FROM:<a@b.example.>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@b_c.example>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<@b.example>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@b.example", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@b@c.example>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@[192.0.2.1]>", OK, "a@[192.0.2.1]" },
	{ M, 0, "FROM:<a@[0.0.0.0]>", OK, "a@[0.0.0.0]" },
	{ M, 0, "FROM:<a@[192.0.2.256]>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@[01.2.3.4]>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@[1.2.3]>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@[1.2.3.4.5]>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@[1.2.3.4>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@[]>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@[IPv6:2001:db8::1]>", OK, "a@[IPv6:2001:db8::1]" },
	{ M, 0, "FROM:<a@[ipv6:::ffff:192.0.2.1]>", OK, "a@[ipv6:::ffff:192.0.2.1]" },
	{ M, 0, "FROM:<a@[IPv6:2001:db8::g]>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@[IPv6:]>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@[IPv6:1:2:3:4:5:6:7:8:9]>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:<a@[x-tag:foo]>", BAD, "501 5.1.7 " },
	{ M, 0, "FROM:a@b.example", BAD, "501 5.5.2 " },
	{ M, 0, "FROM<a@b.example>", BAD, "501 5.5.2 " },
	{ M, 0, "FROM:", BAD, "501 5.5.2 " },
	{ M, 0, "", BAD, "501 5.5.2 " },
	{ M, 0, "TO:<a@b.example>", BAD, "501 5.5.2 " },
	{ M, 0, "FROM:<a@b.example>X", BAD, "501 5.5.2 " },
	{ M, 0, "FROM:<a@b.example>\tSIZE=1", BAD, "501 5.5.2 " },
	{ M, 0, "FROM:<a@b.example>\r\nRSET", BAD, "501 5.5.2 " },
	/* SMTPUTF8 and UTF-8 */
	{ M, 1, "FROM:<j\xc3\xb6" "e@b.example> SMTPUTF8", OK, "j\xc3\xb6" "e@b.example" },
	{ M, 1, "FROM:<j\xc3\xb6" "e@b.example>", BAD, "553 5.6.7 " },
	{ M, 0, "FROM:<j\xc3\xb6" "e@b.example>", BAD, "553 5.6.7 " },
	{ M, 0, "FROM:<j\xc3\xb6" "e@b.example> SMTPUTF8", UNS, "555 5.5.4 Unsupported parameter SMTPUTF8" },
	{ M, 1, "FROM:<a@b.example> SMTPUTF8", OK, "a@b.example" },
	{ M, 1, "FROM:<a@b.example> SMTPUTF8=yes", BAD, "501 5.5.4 No value allowed for parameter SMTPUTF8" },
	{ M, 1, "FROM:<a@b\xc3\xbc" "cher.example> SMTPUTF8", OK, "a@b\xc3\xbc" "cher.example" },
	{ M, 1, "FROM:<\"\xe2\x82\xac x\"@b.example> SMTPUTF8", OK, "\"\xe2\x82\xac x\"@b.example" },
	{ M, 1, "FROM:<\xf0\x9f\x93\xa7@b.example> SMTPUTF8", OK, "\xf0\x9f\x93\xa7@b.example" },
	{ M, 1, "FROM:<j\xc0\xaf" "e@b.example> SMTPUTF8", BAD, "501 5.1.7 " },
	{ M, 1, "FROM:<j\xe0\x80\xaf" "e@b.example> SMTPUTF8", BAD, "501 5.1.7 " },
	{ M, 1, "FROM:<j\xf0\x80\x80\xaf" "e@b.example> SMTPUTF8", BAD, "501 5.1.7 " },
	{ M, 1, "FROM:<j\xed\xa0\x80" "e@b.example> SMTPUTF8", BAD, "501 5.1.7 " },
	{ M, 1, "FROM:<j\xf4\x90\x80\x80" "e@b.example> SMTPUTF8", BAD, "501 5.1.7 " },
	{ M, 1, "FROM:<j\xc2\x85" "e@b.example> SMTPUTF8", BAD, "501 5.1.7 " },
	{ M, 1, "FROM:<j\xc3" "@b.example> SMTPUTF8", BAD, "501 5.1.7 " },
	{ M, 1, "FROM:<j\xbf" "e@b.example> SMTPUTF8", BAD, "501 5.1.7 " },
	{ M, 1, "FROM:<j\xff" "e@b.example> SMTPUTF8", BAD, "501 5.1.7 " },
	{ M, 1, "FROM:<a@b.example> ENVID=\xc3\xa9", BAD, "501 5.5.4 Bad parameter syntax" },
	/* MAIL parameters */
	{ M, 0, "FROM:<a@b.example> BODY=8BITMIME", OK, "a@b.example" },
	{ M, 0, "FROM:<a@b.example> body=binarymime", OK, "a@b.example" },
	{ M, 0, "FROM:<a@b.example> BODY=9BIT", BAD, "501 5.5.4 Bad value for parameter BODY" },
	{ M, 0, "FROM:<a@b.example> SIZE=", BAD, "501 5.5.4 Bad parameter syntax" },
	{ M, 0, "FROM:<a@b.example> SIZE", BAD, "501 5.5.4 Missing value for parameter SIZE" },
	{ M, 0, "FROM:<a@b.example> SIZE=12a", BAD, "501 5.5.4 Bad value for parameter SIZE" },
	{ M, 0, "FROM:<a@b.example> SIZE=-1", BAD, "501 5.5.4 Bad value for parameter SIZE" },
	{ M, 0, "FROM:<a@b.example> SIZE=123456789012345678901", BAD, "501 5.5.4 Bad value" },
	{ M, 0, "FROM:<a@b.example> SIZE=1 size=2", BAD, "501 5.5.4 Duplicate parameter SIZE" },
	{ M, 0, "FROM:<a@b.example>  SIZE=1   BODY=7BIT  ", OK, "a@b.example" },
	{ M, 0, "FROM:<a@b.example> XYZ=1", UNS, "555 5.5.4 Unsupported parameter XYZ" },
	{ M, 0, "FROM:<a@b.example> X-Y-Z", UNS, "555 5.5.4 Unsupported parameter X-Y-Z" },
	{ M, 0, "FROM:<a@b.example> NOTIFY=NEVER", UNS, "555 5.5.4 Unsupported parameter NOTIFY" },
	{ M, 0, "FROM:<a@b.example> -X=1", BAD, "501 5.5.4 Bad parameter syntax" },
	{ M, 0, "FROM:<a@b.example> X==1", BAD, "501 5.5.4 Bad parameter syntax" },
	{ M, 0, "FROM:<a@b.example> =1", BAD, "501 5.5.4 Bad parameter syntax" },
	{ M, 0, "FROM:<a@b.example> X_Y=1", BAD, "501 5.5.4 Bad parameter syntax" },
	{ M, 0, "FROM:<a@b.example> RET=FULL RET=HDRS", BAD, "501 5.5.4 Duplicate parameter RET" },
	{ M, 0, "FROM:<a@b.example> RET=ALL", BAD, "501 5.5.4 Bad value for parameter RET" },
	{ M, 0, "FROM:<a@b.example> ENVID=a+0D+0AX", BAD, "501 5.5.4 Bad value for parameter ENVID" },
	{ M, 0, "FROM:<a@b.example> ENVID=a+2b", BAD, "501 5.5.4 Bad value for parameter ENVID" },
	{ M, 0, "FROM:<a@b.example> ENVID=a+2", BAD, "501 5.5.4 Bad value for parameter ENVID" },
	{ M, 0, "FROM:<a@b.example> ENVID=a+00", BAD, "501 5.5.4 Bad value for parameter ENVID" },
	{ M, 0, "FROM:<a@b.example> AUTH=a+0Ab", BAD, "501 5.5.4 Bad value for parameter AUTH" },
	/* RCPT */
	{ R, 0, "TO:<bob@example.com>", OK, "bob@example.com" },
	{ R, 0, "to: <bob@example.com>", OK, "bob@example.com" },
	{ R, 0, "TO:<>", BAD, "501 5.1.3 " },
	{ R, 0, "TO:<Postmaster>", OK, "Postmaster" },
	{ R, 0, "TO:<postMASTER>", OK, "postMASTER" },
	{ R, 0, "TO:<Postmaster@example.com>", OK, "Postmaster@example.com" },
	{ R, 0, "TO:<Postmasterx>", BAD, "501 5.1.3 " },
	{ R, 0, "TO:<@a.example:Postmaster>", BAD, "501 5.1.3 " },
	{ R, 0, "TO:<bob>", BAD, "501 5.1.3 " },
	{ R, 0, "TO:bob@example.com", BAD, "501 5.5.2 Syntax: RCPT TO:" },
	{ R, 0, "FROM:<bob@example.com>", BAD, "501 5.5.2 " },
	{ R, 0, "TO:<`reboot`@example.com>", BAD, "501 5.1.3 " },
	{ R, 0, "TO:<bob|cat@example.com>", BAD, "501 5.1.3 " },
	{ R, 0, "TO:<bob;reboot@example.com>", BAD, "501 5.1.3 " },
	{ R, 0, "TO:<b\xc3\xb8" "b@example.com>", BAD, "553 5.6.7 " },
	{ R, 1, "TO:<b\xc3\xb8" "b@example.com>", OK, "b\xc3\xb8" "b@example.com" },
	{ R, 0, "TO:<bob@example.com> SIZE=10", UNS, "555 5.5.4 Unsupported parameter SIZE" },
	{ R, 1, "TO:<bob@example.com> SMTPUTF8", UNS, "555 5.5.4 Unsupported parameter SMTPUTF8" },
	{ R, 0, "TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE", OK, "bob@example.com" },
	{ R, 0, "TO:<bob@example.com> NOTIFY=never", OK, "bob@example.com" },
	{ R, 0, "TO:<bob@example.com> NOTIFY=NEVER,SUCCESS", BAD, "501 5.5.4 Bad value for parameter NOTIFY" },
	{ R, 0, "TO:<bob@example.com> NOTIFY=SUCCESS,SUCCESS", BAD, "501 5.5.4 Bad value" },
	{ R, 0, "TO:<bob@example.com> NOTIFY=SUCCESS,", BAD, "501 5.5.4 Bad value" },
	{ R, 0, "TO:<bob@example.com> NOTIFY=,DELAY", BAD, "501 5.5.4 Bad value" },
	{ R, 0, "TO:<bob@example.com> NOTIFY=SOMETIMES", BAD, "501 5.5.4 Bad value" },
	{ R, 0, "TO:<bob@example.com> ORCPT=rfc822;bob@example.com", OK, "bob@example.com" },
	{ R, 0, "TO:<bob@example.com> ORCPT=rfc822;x+0D+0AMAIL+20FROM:<>", BAD, "501 5.5.4 Bad value for parameter ORCPT" },
	{ R, 0, "TO:<bob@example.com> ORCPT=rfc822;a+0A", BAD, "501 5.5.4 Bad value" },
	{ R, 0, "TO:<bob@example.com> ORCPT=rfc822;a+00b", BAD, "501 5.5.4 Bad value" },
	{ R, 0, "TO:<bob@example.com> ORCPT=rfc822;a+7F", BAD, "501 5.5.4 Bad value" },
	{ R, 0, "TO:<bob@example.com> ORCPT=rfc822;a+C3+A9", BAD, "501 5.5.4 Bad value" },
	{ R, 0, "TO:<bob@example.com> ORCPT=rfc822;", BAD, "501 5.5.4 Bad value" },
	{ R, 0, "TO:<bob@example.com> ORCPT=x400;abc", BAD, "501 5.5.4 Bad value" },
	{ R, 0, "TO:<bob@example.com> ORCPT=bob@example.com", BAD, "501 5.5.4 Bad value" },
	{ R, 0, "TO:<bob@example.com> ORCPT=rfc822;a ORCPT=rfc822;b", BAD, "501 5.5.4 Duplicate parameter ORCPT" },
};

/* Parse from an exact-size heap copy, so a read past len is an ASan
 * report rather than a silent look at the string's NUL. */
static int parse_copy(enum smtp_path_kind kind, const char *in, size_t len,
		      int utf8, struct smtp_path *p, const char **status)
{
	char *copy = malloc(len ? len : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, in, len);
	*status = NULL;
	int r = smtp_path_parse(kind, copy, len, utf8, p, status);
	free(copy);
	return r;
}

/* The contract every call must keep, whatever the input. */
static int result_sane(int r, const struct smtp_path *p, const char *status)
{
	if (r == SMTP_PATH_OK)
		return strlen(p->address) <= RD_MAX_ADDRESS - 2 &&
			(p->null_path ? p->address[0] == '\0' : p->address[0] != '\0');
	if (r != SMTP_PATH_BAD && r != SMTP_PATH_UNSUPPORTED)
		return 0;
	if (status == NULL || strlen(status) < 10)
		return 0;
	if (r == SMTP_PATH_UNSUPPORTED)
		return strncmp(status, "555 5.5.4 ", 10) == 0;
	return status[0] == '5' && status[3] == ' ' && status[4] == '5';
}

static void run_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		struct smtp_path p;
		const char *status;
		size_t len = strlen(c->in);
		int r = parse_copy(c->kind, c->in, len, c->utf8, &p, &status);
		if (c->ret == SMTP_PATH_OK) {
			CHECK(r == SMTP_PATH_OK, "accept [%s]", c->in);
			if (r == SMTP_PATH_OK)
				CHECK_STR(p.address, c->want, "address of [%s]", c->in);
			else
				printf("#   refused: %s\n", status);
		} else {
			CHECK(r == c->ret && status != NULL &&
			      strncmp(status, c->want, strlen(c->want)) == 0,
			      "refuse [%s] with %s", c->in, c->want);
			if (r == SMTP_PATH_OK || status == NULL)
				printf("#   got %d\n", r);
			else if (strncmp(status, c->want, strlen(c->want)) != 0)
				printf("#   got %d \"%s\"\n", r, status);
		}
	}
}

/* Every prefix of every table input, each from an exact-size copy. */
static void run_prefixes(void)
{
	int ok = 1;
	size_t n = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		size_t len = strlen(c->in);
		for (size_t k = 0; k <= len; k++) {
			struct smtp_path p;
			const char *status;
			for (int u = 0; u < 2; u++) {
				int r = parse_copy(c->kind, c->in, k, u, &p, &status);
				n++;
				if (!result_sane(r, &p, status)) {
					ok = 0;
					printf("# prefix %zu of [%s]: %d\n", k, c->in, r);
				}
			}
		}
	}
	CHECK(ok, "every prefix of every input (%zu parses) keeps the contract", n);
}

static void test_fields(void)
{
	struct smtp_path p;
	const char *st;
	const char *in;

	in = "FROM:<> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=abc+2Bdef AUTH=<>";
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0, "all MAIL params");
	CHECK(p.null_path && p.address[0] == '\0', "null reverse-path");
	CHECK(p.has_size && p.size == 1000, "SIZE=1000");
	CHECK(p.body == SMTP_BODY_8BITMIME, "BODY=8BITMIME");
	CHECK(p.ret == SMTP_RET_HDRS, "RET=HDRS");
	CHECK_STR(p.envid, "abc+def", "ENVID decoded");
	CHECK_STR(p.auth, "<>", "AUTH=<>");
	CHECK(!p.smtputf8 && p.notify == 0 && p.orcpt[0] == '\0', "others unset");

	in = "FROM:<a@b.example>";
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0 && !p.has_size &&
	      p.body == SMTP_BODY_UNSET && p.ret == SMTP_RET_UNSET &&
	      p.envid[0] == '\0' && p.auth[0] == '\0' && !p.null_path, "no params: all unset");

	in = "FROM:<a@b.example> SIZE=18446744073709551615";
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0 &&
	      p.size == UINT64_MAX, "SIZE = UINT64_MAX");
	in = "FROM:<a@b.example> SIZE=18446744073709551616";
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0 &&
	      p.size == UINT64_MAX, "SIZE beyond uint64 saturates");
	in = "FROM:<a@b.example> SIZE=99999999999999999999";
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0 &&
	      p.size == UINT64_MAX, "20 nines saturate");
	in = "FROM:<a@b.example> SIZE=00000000000000000042";
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0 &&
	      p.size == 42, "leading zeros");

	in = "FROM:<a@b.example> AUTH=joe+40example.com";
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0, "AUTH xtext");
	CHECK_STR(p.auth, "joe@example.com", "AUTH decoded");

	in = "FROM:<j\xc3\xb6" "e@b.example> SMTPUTF8";
	CHECK(smtp_path_parse(M, in, strlen(in), 1, &p, &st) == 0 && p.smtputf8 &&
	      p.has_utf8, "SMTPUTF8 flag and has_utf8");
	in = "FROM:<joe@b.example> SMTPUTF8";
	CHECK(smtp_path_parse(M, in, strlen(in), 1, &p, &st) == 0 && p.smtputf8 &&
	      !p.has_utf8, "ASCII path with SMTPUTF8");

	in = "TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=RFC822;bob+40example.com";
	CHECK(smtp_path_parse(R, in, strlen(in), 0, &p, &st) == 0, "all RCPT params");
	CHECK(p.notify == (SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY),
	      "NOTIFY bits");
	CHECK_STR(p.orcpt, "rfc822;bob@example.com", "ORCPT decoded, type lower-cased");
	in = "TO:<bob@example.com> NOTIFY=NEVER";
	CHECK(smtp_path_parse(R, in, strlen(in), 0, &p, &st) == 0 &&
	      p.notify == SMTP_NOTIFY_NEVER, "NOTIFY=NEVER");
	in = "TO:<Postmaster>";
	CHECK(smtp_path_parse(R, in, strlen(in), 0, &p, &st) == 0 && p.postmaster,
	      "bare Postmaster flagged");
	in = "TO:<postmaster@example.com>";
	CHECK(smtp_path_parse(R, in, strlen(in), 0, &p, &st) == 0 && !p.postmaster,
	      "postmaster@domain is an ordinary address");

	/* NUL inside the length: "a\0@b" must not pass as anything */
	CHECK(smtp_path_parse(M, "FROM:<a\0@b.example>", 19, 0, &p, &st) == SMTP_PATH_BAD,
	      "NUL inside the path refused");
	CHECK(smtp_path_parse(M, "FROM:<a@b.example>\0", 19, 0, &p, &st) == SMTP_PATH_BAD,
	      "NUL after the path refused");
}

static void fill(char *dst, char ch, size_t n)
{
	memset(dst, ch, n);
	dst[n] = '\0';
}

static void test_lengths(void)
{
	struct smtp_path p;
	const char *st;
	char local[80], label[80], in[1200], big[700];

	fill(local, 'l', 64);
	snprintf(in, sizeof(in), "FROM:<%s@b.example>", local);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0, "local part of 64");
	fill(local, 'l', 65);
	snprintf(in, sizeof(in), "FROM:<%s@b.example>", local);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == SMTP_PATH_BAD &&
	      strcmp(st, "501 5.1.7 Sender local part too long") == 0, "local part of 65");
	snprintf(in, sizeof(in), "TO:<\"%s\"@b.example>", "0123456789012345678901234567890123456789012345678901234567890");
	CHECK(smtp_path_parse(R, in, strlen(in), 0, &p, &st) == 0, "quoted local part of 63 with quotes");
	snprintf(in, sizeof(in), "TO:<\"%s\"@b.example>", "01234567890123456789012345678901234567890123456789012345678901234");
	CHECK(smtp_path_parse(R, in, strlen(in), 0, &p, &st) == SMTP_PATH_BAD &&
	      strcmp(st, "501 5.1.3 Recipient local part too long") == 0,
	      "quoted local part counts its quotes");

	fill(label, 'd', 63);
	snprintf(in, sizeof(in), "FROM:<a@%s.example>", label);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0, "label of 63");
	fill(label, 'd', 64);
	snprintf(in, sizeof(in), "FROM:<a@%s.example>", label);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == SMTP_PATH_BAD, "label of 64");

	/* path of exactly 256 octets: "<" 64 "@" 189 ">" */
	char dom[400];
	fill(label, 'd', 63);
	snprintf(dom, sizeof(dom), "%s.%s.%.61s", label, label, label);
	fill(local, 'l', 64);
	snprintf(in, sizeof(in), "FROM:<%s@%s>", local, dom);
	CHECK(strlen(in) - 5 == 256 && smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0 &&
	      strlen(p.address) == 254, "path of 256 octets");
	snprintf(dom, sizeof(dom), "%s.%s.%.62s", label, label, label);
	snprintf(in, sizeof(in), "FROM:<%s@%s>", local, dom);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == SMTP_PATH_BAD &&
	      strcmp(st, "501 5.1.7 Sender path too long") == 0, "path of 257 octets");
	snprintf(in, sizeof(in), "FROM:<@%s,@%s:a@b.example>", dom, dom);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == SMTP_PATH_BAD &&
	      strcmp(st, "501 5.1.7 Sender path too long") == 0,
	      "a source route counts towards the path");
	/* a domain of 257 octets (labels fine): the domain cap speaks first */
	snprintf(in, sizeof(in), "TO:<a@%s.%s.%s.%s.x>", label, label, label, label);
	CHECK(smtp_path_parse(R, in, strlen(in), 0, &p, &st) == SMTP_PATH_BAD &&
	      strcmp(st, "501 5.1.3 Recipient domain too long") == 0, "domain of 255+");

	fill(big, 'A', RD_SMTP_MAX_PARAM_KEYWORD + 1);
	snprintf(in, sizeof(in), "FROM:<a@b.example> %s=1", big);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == SMTP_PATH_BAD &&
	      strcmp(st, "501 5.5.4 Parameter keyword too long") == 0, "keyword too long");
	fill(big, 'A', RD_SMTP_MAX_PARAM_KEYWORD);
	snprintf(in, sizeof(in), "FROM:<a@b.example> %s=1", big);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == SMTP_PATH_UNSUPPORTED &&
	      strlen(st) == strlen("555 5.5.4 Unsupported parameter ") +
	      RD_SMTP_MAX_PARAM_KEYWORD,
	      "longest keyword echoed whole");
	fill(big, 'x', RD_SMTP_MAX_PARAM_VALUE + 1);
	snprintf(in, sizeof(in), "FROM:<a@b.example> AUTH=%s", big);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == SMTP_PATH_BAD &&
	      strcmp(st, "501 5.5.4 Parameter value too long") == 0, "value too long");
	fill(big, 'x', RD_MAX_ADDRESS + 2);
	snprintf(in, sizeof(in), "FROM:<a@b.example> AUTH=%s", big);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0 &&
	      strlen(p.auth) == RD_MAX_ADDRESS + 2, "AUTH of 258 fits");
	fill(big, 'x', RD_MAX_ADDRESS + 3);
	snprintf(in, sizeof(in), "FROM:<a@b.example> AUTH=%s", big);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == SMTP_PATH_BAD,
	      "AUTH of 259 refused");
	fill(big, 'e', RD_SMTP_MAX_ENVID);
	snprintf(in, sizeof(in), "FROM:<a@b.example> ENVID=%s", big);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == 0 &&
	      strlen(p.envid) == RD_SMTP_MAX_ENVID, "ENVID of 100");
	fill(big, 'e', RD_SMTP_MAX_ENVID + 1);
	snprintf(in, sizeof(in), "FROM:<a@b.example> ENVID=%s", big);
	CHECK(smtp_path_parse(M, in, strlen(in), 0, &p, &st) == SMTP_PATH_BAD, "ENVID of 101");
	fill(big, 'o', RD_SMTP_MAX_PARAM_VALUE - 7);
	snprintf(in, sizeof(in), "TO:<a@b.example> ORCPT=rfc822;%s", big);
	CHECK(smtp_path_parse(R, in, strlen(in), 0, &p, &st) == 0 &&
	      strlen(p.orcpt) == RD_SMTP_MAX_PARAM_VALUE, "longest ORCPT fits");
}

int main(void)
{
	run_table();
	test_fields();
	test_lengths();
	run_prefixes();
	return TEST_DONE();
}
