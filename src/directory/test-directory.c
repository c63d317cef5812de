/* test-directory.c: address validation table, then domains, users, aliases
 * and resolution against a directory.db in a fresh temporary directory. */
#include "directory/address.h"
#include "directory/directory.h"
#include "lib/test.h"
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_address_table(void)
{
	static const char *const good[] = {
		"alice@example.com", "a@x.test", "first.last@x.test",
		"user+tag@sub.example.org", "a_b-c=d@x-y.test", "x@localhost",
		"0@0x.test",
		("a234567890123456789012345678901234567890123456789012345678901234"
		 "@x.test"),  /* 64-octet local part */
	};
	static const char *const bad[] = {
		"", "@x.test", "a@", "a", "a@@x.test", "a@b@x.test",
		"a;rm -rf /@x.test", "$(id)@x", "`id`@x.test", "a b@x.test",
		"a|b@x.test", "a&b@x.test", "a/b@x.test", "a\\b@x.test",
		"\"a\"@x.test", "a\n@x.test", "a\r@x.test", "a\x7f@x.test",
		"\xc3\xa9@x.test", ".a@x.test", "a.@x.test", "a..b@x.test",
		"a@x..test", "a@.x.test", "a@x.test.", "a@-x.test",
		"a@x-.test", "a@x_y.test", "a@1.2.3.4", "a@x.123",
		"a@[1.2.3.4]", "a'b@x.test", "a*@x.test", "a%b@x.test",
		"a<b@x.test", "a>b@x.test", "a:b@x.test", "a,b@x.test",
		"a@x.test/..", "a@x;.test", "a\tb@x.test", "a@x\x01.test",
		("a2345678901234567890123456789012345678901234567890123456789012345"
		 "@x.test"),  /* 65-octet local part */
	};
	const char *error = NULL;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		error = NULL;
		CHECK(address_valid(good[i], &error) == 0,
		      "good address \"%s\" accepted (%s)", good[i],
		      error != NULL ? error : "-");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		CHECK(address_valid(bad[i], &error) < 0 && error != NULL,
		      "bad address #%zu refused: %s", i,
		      error != NULL ? error : "(accepted!)");
	}
	CHECK(address_valid(NULL, &error) < 0, "NULL refused");

	/* A NUL inside input that came with a length is not an early end. */
	CHECK(address_valid_n("a\0b@x.test", 10, &error) < 0 &&
	      strstr(error, "NUL") != NULL, "embedded NUL refused: %s", error);
	CHECK(address_valid_n("a@x.test\0", 9, &error) < 0,
	      "trailing NUL refused");
	CHECK(address_valid_n("ab@x.test", 9, &error) == 0,
	      "same bytes without NUL accepted");

	/* Specific messages for the dangerous cases. */
	address_valid("a;rm -rf /@x.test", &error);
	CHECK(strstr(error, "shell") != NULL,
	      "shell injection attempt gets a clear message: %s", error);
	address_valid("a/b@x.test", &error);
	CHECK(strstr(error, "'/' is not allowed") != NULL, "slash named: %s",
	      error);

	/* Length caps. */
	char longdom[300];
	memset(longdom, 'a', sizeof(longdom));
	memcpy(longdom, "a@", 2);
	for (size_t i = 2 + 63; i < 254; i += 64)
		longdom[i] = '.';
	longdom[254] = '\0';  /* 252-octet domain: fine */
	CHECK(address_valid(longdom, &error) == 0,
	      "254-octet address accepted (%s)", error);
	longdom[254] = 'a';
	longdom[255] = '\0';
	CHECK(address_valid(longdom, &error) < 0, "255-octet address refused");
	char label[80] = "a@";
	memset(label + 2, 'b', 64);
	memcpy(label + 66, ".test", 6);
	CHECK(address_valid(label, &error) < 0 && strstr(error, "63") != NULL,
	      "64-octet label refused: %s", error);

	/* Canonical form. */
	char out[ADDRESS_BUF_SIZE];
	CHECK(address_canon("Alice.Smith@Example.COM", out, sizeof(out)) == 0,
	      "canon ok");
	CHECK_STR(out, "alice.smith@example.com", "lower-cased");
	CHECK(address_canon("$(id)@x", out, sizeof(out)) < 0 && out[0] == '\0',
	      "canon refuses invalid input and leaves an empty string");
	char small[5];
	CHECK(address_canon("a@x.test", small, sizeof(small)) < 0,
	      "canon refuses a too small buffer");
	char dom[DOMAIN_BUF_SIZE];
	CHECK(domain_canon("Mail.Example.ORG", dom, sizeof(dom), &error) == 0,
	      "domain canon");
	CHECK_STR(dom, "mail.example.org", "domain lower-cased");
	CHECK(domain_valid("a b.test", &error) < 0, "domain with space refused");
	CHECK_STR(address_domain("u@d.test"), "d.test", "address_domain");
}

/* Collects callback output into one comma-separated string. */
struct collect {
	char buf[4096];
	int calls;
	int stop_after;
	struct directory *d;
};

static void add(struct collect *c, const char *a, const char *b)
{
	size_t len = strlen(c->buf);
	snprintf(c->buf + len, sizeof(c->buf) - len, "%s%s%s%s",
		 len > 0 ? "," : "", a, b != NULL ? "=" : "",
		 b != NULL ? b : "");
	c->calls++;
}

static int collect1(void *ctx, const char *a)
{
	struct collect *c = ctx;
	add(c, a, NULL);
	return c->stop_after > 0 && c->calls >= c->stop_after;
}

static int collect_name(void *ctx, const char *a, const char *b)
{
	(void)b;
	add(ctx, a, NULL);
	return 0;
}

static int collect2(void *ctx, const char *a, const char *b)
{
	add(ctx, a, b);
	return 0;
}

/* Resolve results as "addr" for users and "addr=ext" for forwarding. */
static int collect_resolve(void *ctx, const char *a, const char *sid)
{
	add(ctx, a, sid == NULL ? "ext" : NULL);
	return 0;
}

static int reenter(void *ctx, const char *a)
{
	struct collect *c = ctx;
	const char *error = NULL;
	struct collect inner = { .buf = "" };
	c->calls++;
	/* Same walk again: must fail cleanly, not corrupt the outer one. */
	if (directory_domain_list(c->d, collect1, &inner, &error) == 0)
		return 1;
	/* A different statement is fine. */
	return directory_domain_exists(c->d, a) == 1 ? 0 : 1;
}

/* Writes from inside a walk: the CLI's natural "for each domain, add ...". */
static int add_postmaster(void *ctx, const char *domain)
{
	struct collect *c = ctx;
	char addr[ADDRESS_BUF_SIZE], sid[DIRECTORY_STORE_ID_BUF];
	const char *error = NULL;
	snprintf(addr, sizeof(addr), "pm@%s", domain);
	c->calls++;
	return directory_user_add(c->d, addr, sid, sizeof(sid), &error);
}

static struct collect resolve(struct directory *d, const char *addr,
			      int *ret_r)
{
	struct collect c = { .buf = "" };
	const char *error = NULL;
	*ret_r = directory_resolve(d, addr, collect_resolve, &c, &error);
	if (*ret_r < 0)
		snprintf(c.buf, sizeof(c.buf), "error: %s", error);
	return c;
}

static void test_domains(struct directory *d)
{
	const char *error = NULL;
	CHECK(directory_domain_add(d, "X.Test", &error) == 0, "add x.test");
	CHECK(directory_domain_add(d, "y.test", &error) == 0, "add y.test");
	CHECK(directory_domain_add(d, "x.TEST", &error) < 0 &&
	      strstr(error, "exists") != NULL,
	      "duplicate domain refused: %s", error);
	CHECK(directory_domain_add(d, "bad domain", &error) < 0,
	      "invalid domain refused: %s", error);
	CHECK(directory_domain_exists(d, "x.test") == 1, "x.test exists");
	CHECK(directory_domain_exists(d, "X.TEST") == 1, "X.TEST exists");
	CHECK(directory_domain_exists(d, "z.test") == 0, "z.test does not");
	CHECK(directory_domain_exists(d, "$(id)") == 0, "junk does not");
	struct collect c = { .buf = "" };
	CHECK(directory_domain_list(d, collect1, &c, &error) == 0, "list");
	CHECK_STR(c.buf, "x.test,y.test", "domain list in order");

	struct collect stop = { .buf = "", .stop_after = 1 };
	CHECK(directory_domain_list(d, collect1, &stop, &error) < 0 &&
	      stop.calls == 1, "callback stops the walk: %s", error);
	struct collect re = { .buf = "", .d = d };
	CHECK(directory_domain_list(d, reenter, &re, &error) == 0 &&
	      re.calls == 2, "re-entry refused, other calls fine");
	struct collect w = { .buf = "", .d = d };
	error = NULL;
	CHECK(directory_domain_list(d, add_postmaster, &w, &error) == 0 &&
	      w.calls == 2, "writes from a walk callback work (%s)",
	      error != NULL ? error : "-");
	CHECK(directory_user_remove(d, "pm@x.test", &error) == 0 &&
	      directory_user_remove(d, "pm@y.test", &error) == 0,
	      "written users are there");
	CHECK(directory_domain_remove(d, "nope.test", &error) < 0,
	      "removing an unknown domain refused: %s", error);
}

static int store_id_ok(const char *s)
{
	size_t len = strlen(s);
	if (len < 1 || len > RD_MAX_STORE_ID)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

static void test_users(struct directory *d)
{
	const char *error = NULL;
	char sid[DIRECTORY_STORE_ID_BUF], sid2[DIRECTORY_STORE_ID_BUF];
	char got[DIRECTORY_STORE_ID_BUF];
	CHECK(directory_user_add(d, "Alice@X.test", sid, sizeof(sid),
				 &error) == 0, "add alice (%s)", error);
	CHECK(store_id_ok(sid) && strlen(sid) == 16,
	      "store id \"%s\" is 16 chars of [a-z0-9-]", sid);
	CHECK(directory_user_add(d, "bob@x.test", sid2, sizeof(sid2),
				 &error) == 0, "add bob");
	CHECK(strcmp(sid, sid2) != 0, "store ids differ");
	CHECK(directory_user_add(d, "carol@y.test", got, sizeof(got),
				 &error) == 0, "add carol");
	CHECK(directory_user_add(d, "ALICE@x.test", got, sizeof(got),
				 &error) < 0 && strstr(error, "exists") != NULL,
	      "duplicate user (other case) refused: %s", error);
	CHECK(directory_user_add(d, "dave@nowhere.test", got, sizeof(got),
				 &error) < 0, "user in unknown domain refused: "
	      "%s", error);
	CHECK(directory_user_add(d, "a;rm -rf /@x.test", got, sizeof(got),
				 &error) < 0, "bad user address refused: %s",
	      error);
	char tiny[4];
	CHECK(directory_user_add(d, "eve@x.test", tiny, sizeof(tiny),
				 &error) < 0, "too small id buffer refused");
	CHECK(directory_user_lookup(d, "alice@x.test", got, sizeof(got)) == 0
	      && strcmp(got, sid) == 0, "lookup alice");
	CHECK(directory_user_lookup(d, "ALICE@X.TEST", got, sizeof(got)) == 0,
	      "lookup is case-insensitive");
	CHECK(directory_user_lookup(d, "nobody@x.test", got, sizeof(got)) < 0
	      && got[0] == '\0', "lookup unknown fails");
	CHECK(directory_user_lookup(d, "$(id)@x", got, sizeof(got)) < 0,
	      "lookup invalid fails");

	struct collect c = { .buf = "" };
	CHECK(directory_user_list(d, NULL, collect_name, &c, &error) == 0,
	      "list all users");
	CHECK_STR(c.buf, "alice@x.test,bob@x.test,carol@y.test", "all users");
	struct collect cy = { .buf = "" };
	CHECK(directory_user_list(d, "Y.test", collect_name, &cy, &error) == 0,
	      "list y.test users");
	CHECK_STR(cy.buf, "carol@y.test", "y.test users");
	CHECK(directory_user_list(d, "bad/dom", collect_name, &cy, &error) < 0,
	      "bad filter refused");
}

static void test_aliases(struct directory *d)
{
	const char *error = NULL;
	CHECK(directory_alias_add(d, "Postmaster@x.test", "alice@x.test",
				  &error) == 0, "postmaster -> alice");
	CHECK(directory_alias_add(d, "postmaster@x.test", "ALICE@x.test",
				  &error) < 0, "duplicate alias target refused:"
	      " %s", error);
	CHECK(directory_alias_add(d, "team@x.test", "postmaster@x.test",
				  &error) == 0, "team -> postmaster (alias)");
	CHECK(directory_alias_add(d, "team@x.test", "bob@x.test", &error) == 0,
	      "team -> bob");
	CHECK(directory_alias_add(d, "team@x.test", "friend@elsewhere.test",
				  &error) == 0, "team -> external");
	CHECK(directory_alias_add(d, "alice@x.test", "bob@x.test", &error) < 0,
	      "alias that is a user refused: %s", error);
	CHECK(directory_alias_add(d, "a@nohost.test", "bob@x.test", &error) < 0,
	      "alias in unknown domain refused: %s", error);
	CHECK(directory_alias_add(d, "c@x.test", "ghost@y.test", &error) < 0,
	      "local target that does not exist refused: %s", error);
	CHECK(directory_alias_add(d, "c@x.test", "c@x.test", &error) < 0,
	      "self alias refused");
	CHECK(directory_alias_add(d, "c@x.test", "$(id)@x", &error) < 0,
	      "invalid target refused");
	char sid[DIRECTORY_STORE_ID_BUF];
	CHECK(directory_user_add(d, "team@x.test", sid, sizeof(sid),
				 &error) < 0, "user that is an alias refused: "
	      "%s", error);

	/* Cycle: loop1 -> loop2 -> loop1, and loop2 -> carol. */
	CHECK(directory_alias_add(d, "loop1@x.test", "carol@y.test",
				  &error) == 0, "loop1 -> carol");
	CHECK(directory_alias_add(d, "loop2@y.test", "loop1@x.test",
				  &error) == 0, "loop2 -> loop1");
	CHECK(directory_alias_add(d, "loop1@x.test", "loop2@y.test",
				  &error) == 0, "loop1 -> loop2 (cycle)");

	struct collect c = { .buf = "" };
	CHECK(directory_alias_list(d, "x.test", collect2, &c, &error) == 0,
	      "list x.test aliases");
	CHECK_STR(c.buf, "loop1@x.test=carol@y.test,loop1@x.test=loop2@y.test,"
		  "postmaster@x.test=alice@x.test,team@x.test=bob@x.test,"
		  "team@x.test=friend@elsewhere.test,"
		  "team@x.test=postmaster@x.test", "x.test aliases");
	struct collect all = { .buf = "" };
	CHECK(directory_alias_list(d, NULL, collect2, &all, &error) == 0 &&
	      all.calls == 7, "7 alias pairs in all");

	int ret;
	struct collect r = resolve(d, "alice@x.test", &ret);
	CHECK(ret == 1, "user resolves to itself");
	CHECK_STR(r.buf, "alice@x.test", "alice");
	r = resolve(d, "TEAM@x.test", &ret);
	CHECK(ret == 3, "team resolves to 3 recipients (%d)", ret);
	CHECK_STR(r.buf, "bob@x.test,friend@elsewhere.test=ext,alice@x.test",
		  "team via chain");
	r = resolve(d, "loop1@x.test", &ret);
	CHECK(ret == 1, "cycle ends, one recipient");
	CHECK_STR(r.buf, "carol@y.test", "cycle resolves to carol");
	r = resolve(d, "loop2@y.test", &ret);
	CHECK(ret == 1 && strcmp(r.buf, "carol@y.test") == 0,
	      "cycle from the other side: %s", r.buf);
	CHECK(directory_resolve(d, "team@x.test", NULL, NULL, &error) == 3,
	      "resolve with no callback counts");
	CHECK(directory_domain_list(d, NULL, NULL, &error) < 0,
	      "list with no callback refused: %s", error);
	r = resolve(d, "nobody@x.test", &ret);
	CHECK(ret == 0 && r.calls == 0, "unknown local address: 0");
	r = resolve(d, "someone@elsewhere.test", &ret);
	CHECK(ret == 0 && r.calls == 0, "external address asked directly: 0");
	r = resolve(d, "a;b@x.test", &ret);
	CHECK(ret < 0, "invalid address: %s", r.buf);

	/* A chain deeper than the cap is an error, not a silent drop. */
	char a[64], b[64];
	int ok = 1;
	/* Built from the bottom so each target exists when added. */
	for (int i = (int)RD_DIRECTORY_MAX_ALIAS_DEPTH + 1; i >= 0; i--) {
		snprintf(a, sizeof(a), "deep%d@x.test", i);
		if (i == (int)RD_DIRECTORY_MAX_ALIAS_DEPTH + 1)
			snprintf(b, sizeof(b), "bob@x.test");
		else
			snprintf(b, sizeof(b), "deep%d@x.test", i + 1);
		ok &= directory_alias_add(d, a, b, &error) == 0;
	}
	CHECK(ok, "deep chain built");
	r = resolve(d, "deep0@x.test", &ret);
	CHECK(ret < 0 && strstr(r.buf, "deep") != NULL,
	      "too deep chain refused: %s", r.buf);
	r = resolve(d, "deep2@x.test", &ret);
	CHECK(ret == 1, "chain at the cap resolves: %s", r.buf);
	CHECK(directory_alias_remove(d, "deep0@x.test", NULL, &error) == 0,
	      "remove deep0");
	for (int i = 1; i <= (int)RD_DIRECTORY_MAX_ALIAS_DEPTH + 1; i++) {
		snprintf(a, sizeof(a), "deep%d@x.test", i);
		directory_alias_remove(d, a, NULL, &error);
	}
}

struct grant_seen {
	unsigned n;
	char last[256];
};

static int grant_cb(void *ctx, const struct directory_grant *g)
{
	struct grant_seen *gs = ctx;
	gs->n++;
	snprintf(gs->last, sizeof(gs->last), "%s %s %s %s %d", g->owner, g->mailbox,
		 g->grantee, g->rights, g->owner_store[0] != '\0');
	return 0;
}

/* Grants: canonical rights, both parties users, replace, list, remove,
 * and gone with the user. */
static void test_grants(struct directory *d)
{
	const char *error = NULL;
	char r[RD_RIGHTS_BUF];
	CHECK(directory_rights_canon("arl", r, sizeof(r), &error) == 0 &&
	      strcmp(r, "lra") == 0, "rights canonical: %s", r);
	CHECK(directory_rights_canon("cd", r, sizeof(r), &error) == 0 &&
	      strcmp(r, "kxte") == 0, "obsolete c d mapped: %s", r);
	CHECK(directory_rights_canon("lrz", r, sizeof(r), &error) < 0,
	      "unknown right refused: %s", error);
	CHECK(directory_grant_set(d, "alice@x.test", "INBOX", "nobody@x.test", "lr",
				  &error) < 0, "grantee must be a user: %s", error);
	CHECK(directory_grant_set(d, "alice@x.test", "INBOX", "alice@x.test", "lr",
				  &error) < 0, "no grant to oneself: %s", error);
	CHECK(directory_grant_set(d, "alice@x.test", "IN\nBOX", "bob@x.test", "lr",
				  &error) < 0, "control character refused: %s", error);
	CHECK(directory_grant_set(d, "Alice@x.test", "INBOX", "bob@x.test", "rl",
				  &error) == 0, "grant set (%s)", error ? error : "-");
	CHECK(directory_grant_set(d, "alice@x.test", "INBOX", "bob@x.test", "lrsw",
				  &error) == 0, "grant replaced (%s)", error ? error : "-");
	struct grant_seen gs = { 0 };
	CHECK(directory_grant_list(d, NULL, "bob@x.test", grant_cb, &gs, &error) == 0 &&
	      gs.n == 1 && strcmp(gs.last, "alice@x.test INBOX bob@x.test lrsw 1") == 0,
	      "listed once: %s", gs.last);
	CHECK(directory_grant_rights(d, "alice@x.test", "INBOX", "bob@x.test", r,
				     sizeof(r), &error) == 0 && strcmp(r, "lrsw") == 0,
	      "rights looked up: %s", r);
	CHECK(directory_grant_rights(d, "alice@x.test", "Sent", "bob@x.test", r,
				     sizeof(r), &error) == 0 && r[0] == '\0',
	      "no rights on another mailbox");
	CHECK(directory_grant_set(d, "alice@x.test", "Sent", "bob@x.test", "",
				  &error) == 0, "empty rights on no grant: fine");
	CHECK(directory_grant_remove(d, "alice@x.test", "Sent", "bob@x.test", &error) < 0,
	      "removing a missing grant: %s", error);
	CHECK(directory_grant_set(d, "bob@x.test", "Shared", "alice@x.test", "lr",
				  &error) == 0, "second grant");
}

static void test_removal(struct directory *d, const char *alice_sid)
{
	const char *error = NULL;
	CHECK(directory_user_remove(d, "alice@x.test", &error) < 0 &&
	      strstr(error, "alias") != NULL,
	      "user with aliases pointing at it kept: %s", error);
	CHECK(directory_domain_remove(d, "x.test", &error) < 0,
	      "domain with users kept: %s", error);
	CHECK(directory_alias_remove(d, "postmaster@x.test", "bob@x.test",
				     &error) < 0, "unknown target: %s", error);
	CHECK(directory_alias_remove(d, "postmaster@x.test", "alice@x.test",
				     &error) == 0, "postmaster -> alice gone");
	CHECK(directory_alias_remove(d, "postmaster@x.test", NULL, &error) < 0,
	      "postmaster has no targets left: %s", error);
	int ret;
	struct collect r = resolve(d, "team@x.test", &ret);
	CHECK(ret == 2, "dangling alias target yields nothing: %s", r.buf);
	CHECK(directory_user_remove(d, "Alice@x.test", &error) == 0,
	      "alice removed (%s)", error);
	CHECK(directory_user_remove(d, "alice@x.test", &error) < 0,
	      "removing twice refused: %s", error);
	char sid[DIRECTORY_STORE_ID_BUF];
	CHECK(directory_user_lookup(d, "alice@x.test", sid, sizeof(sid)) < 0,
	      "alice gone");
	CHECK(directory_user_add(d, "alice@x.test", sid, sizeof(sid),
				 &error) == 0 && strcmp(sid, alice_sid) != 0,
	      "re-added alice gets a new store id");

	const char *const aliases[] = { "team@x.test", "loop1@x.test",
					"loop2@y.test" };
	for (size_t i = 0; i < 3; i++)
		CHECK(directory_alias_remove(d, aliases[i], NULL, &error) == 0,
		      "remove alias %s", aliases[i]);
	const char *const users[] = { "alice@x.test", "bob@x.test",
				      "carol@y.test" };
	for (size_t i = 0; i < 3; i++)
		CHECK(directory_user_remove(d, users[i], &error) == 0,
		      "remove user %s", users[i]);
	CHECK(directory_domain_remove(d, "x.test", &error) == 0,
	      "empty domain removed");
	CHECK(directory_domain_exists(d, "x.test") == 0, "x.test gone");
}

int main(void)
{
	test_address_table();

	char tmpl[] = "/tmp/test-directory.XXXXXX";
	char *base = mkdtemp(tmpl);
	CHECK(base != NULL, "temp dir");
	if (base == NULL)
		return TEST_DONE();
	char path[256], file[300];
	snprintf(path, sizeof(path), "%s/directory", base);

	struct directory *d = NULL;
	const char *error = NULL;
	CHECK(directory_open(path, 0, &d, &error) < 0 && d == NULL,
	      "open without create fails on a missing dir: %s", error);
	CHECK(directory_open(path, 1, &d, &error) == 0 && d != NULL,
	      "create (%s)", error != NULL ? error : "-");
	if (d == NULL)
		return TEST_DONE();
	struct stat st;
	snprintf(file, sizeof(file), "%s/directory.db", path);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700,
	      "directory is 0700");
	CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600,
	      "directory.db is 0600");

	test_domains(d);
	test_users(d);
	char alice_sid[DIRECTORY_STORE_ID_BUF];
	CHECK(directory_user_lookup(d, "alice@x.test", alice_sid,
				    sizeof(alice_sid)) == 0, "alice sid");
	test_aliases(d);

	/* Reopen: data survives, migrations are not run twice. */
	directory_close(&d);
	CHECK(d == NULL, "close sets NULL");
	directory_close(&d);
	CHECK(directory_open(path, 0, &d, &error) == 0, "reopen (%s)",
	      error != NULL ? error : "-");
	if (d == NULL)
		return TEST_DONE();
	CHECK(directory_domain_exists(d, "y.test") == 1, "data survives");
	test_grants(d);
	test_removal(d, alice_sid);
	{
		struct grant_seen gs = { 0 };
		CHECK(directory_grant_list(d, NULL, NULL, grant_cb, &gs, &error) == 0 &&
		      gs.n == 0, "removing alice took her grants both ways (%u left)", gs.n);
	}
	directory_close(&d);

	/* A database from a newer redoubt is refused, not half-understood. */
	sqlite3 *raw = NULL;
	snprintf(file, sizeof(file), "%s/directory.db", path);
	CHECK(sqlite3_open(file, &raw) == SQLITE_OK &&
	      sqlite3_exec(raw, "INSERT INTO schema_migrations VALUES "
			   "(99, 0)", NULL, NULL, NULL) == SQLITE_OK,
	      "fake a future schema");
	sqlite3_close(raw);
	CHECK(directory_open(path, 0, &d, &error) < 0 && d == NULL &&
	      strstr(error, "newer") != NULL, "future schema refused: %s",
	      error);

	const char *const suffix[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s/directory.db%s", path,
			 suffix[i]);
		unlink(file);
	}
	CHECK(rmdir(path) == 0 && rmdir(base) == 0, "cleanup");
	return TEST_DONE();
}
