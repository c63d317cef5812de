/* test-store-name.c: the pure name checks of store-name.c. */
#include "store/store.h"
#include "limits.h"
#include "lib/test.h"

#include <stdlib.h>

static bool name_ok(const char *name)
{
	const char *err = NULL;
	bool ok = store_mailbox_name_valid(name, &err);

	return ok && err == NULL;
}

static bool name_bad(const char *name)
{
	const char *err = NULL;
	bool ok = store_mailbox_name_valid(name, &err);

	return !ok && err != NULL;
}

static void test_good_names(void)
{
	static const char *const good[] = {
		"INBOX", "Sent", "a/b/c", "Work/Projects 2024",
		"Entw\xc3\xbcrfe",                 /* "Entwürfe" */
		"\xe6\x97\xa5\xe6\x9c\xac",        /* Japanese */
		"\xf0\x9f\x93\xa7 mail",           /* U+1F4E7 */
		"...", "2e2e", ".hidden", "a/.b/c..", "a b", "#news",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(name_ok(good[i]), "good mailbox name %zu accepted", i);
}

static void test_bad_names(void)
{
	static const char *const bad[] = {
		"", "/", "/a", "a/", "a//b", ".", "..", "../x", "a/../b",
		"a/./b", "a/..", "x/.", "a%", "*", "a/*/b", "tab\there",
		"nl\nx", "del\x7f", "c1\xc2\x85", "\xc0\xaf", "\xe0\x80\xaf",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "trunc\xe2\x82",
		"\x80lead",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(name_bad(bad[i]), "bad mailbox name %zu refused", i);
}

static void test_limits(void)
{
	char *big = malloc(10 * 1024 + 1);
	char deep[RD_STORE_MAX_MAILBOX_DEPTH * 2 + 2];
	const char *err = NULL;
	size_t i;

	memset(big, 'a', 10 * 1024);
	big[10 * 1024] = '\0';
	CHECK(!store_mailbox_name_valid(big, &err), "10 kB name refused");
	big[RD_STORE_MAX_MAILBOX_NAME] = '\0';
	CHECK(name_ok(big), "name of exactly the cap accepted");
	big[RD_STORE_MAX_MAILBOX_NAME] = 'a';
	big[RD_STORE_MAX_MAILBOX_NAME + 1] = '\0';
	CHECK(name_bad(big), "name one over the cap refused");
	free(big);

	for (i = 0; i < RD_STORE_MAX_MAILBOX_DEPTH; i++) {
		deep[2 * i] = 'x';
		deep[2 * i + 1] = '/';
	}
	deep[2 * RD_STORE_MAX_MAILBOX_DEPTH - 1] = '\0';
	CHECK(name_ok(deep), "%u levels accepted", RD_STORE_MAX_MAILBOX_DEPTH);
	deep[2 * RD_STORE_MAX_MAILBOX_DEPTH - 1] = '/';
	deep[2 * RD_STORE_MAX_MAILBOX_DEPTH] = 'y';
	deep[2 * RD_STORE_MAX_MAILBOX_DEPTH + 1] = '\0';
	CHECK(name_bad(deep), "one level more refused");

	/* Nothing is URL-decoded: "%2e%2e" is refused only for its '%'. */
	err = NULL;
	CHECK(!store_mailbox_name_valid("%2e%2e", &err) && err != NULL &&
	      strcmp(err, "wildcard in mailbox name") == 0,
	      "%%2e%%2e refused as a wildcard, not decoded");
	err = NULL;
	CHECK(!store_mailbox_name_valid_n("ab\0cd", 5, &err) && err != NULL,
	      "embedded NUL refused");
	CHECK(store_mailbox_name_valid_n("abcd", 4, &err), "(bytes, len) form");
	CHECK(!store_mailbox_name_valid(NULL, &err), "NULL refused");
}

static void test_store_ids(void)
{
	char id[RD_MAX_STORE_ID + 2];

	CHECK(store_id_valid("alice"), "plain id");
	CHECK(store_id_valid("u-0042"), "id with digits and dash");
	CHECK(!store_id_valid(""), "empty id");
	CHECK(!store_id_valid(NULL), "NULL id");
	CHECK(!store_id_valid("a/b"), "id with '/'");
	CHECK(!store_id_valid(".."), "id '..'");
	CHECK(!store_id_valid("../etc"), "id with '../'");
	CHECK(!store_id_valid("Alice"), "upper case refused");
	CHECK(!store_id_valid("a.b"), "dot refused");
	CHECK(!store_id_valid("a\nb"), "newline refused");
	memset(id, 'a', RD_MAX_STORE_ID);
	id[RD_MAX_STORE_ID] = '\0';
	CHECK(store_id_valid(id), "id of the maximum length");
	id[RD_MAX_STORE_ID] = 'a';
	id[RD_MAX_STORE_ID + 1] = '\0';
	CHECK(!store_id_valid(id), "id one over the maximum");
}

static void test_keywords(void)
{
	const char *err;

	CHECK(store_keyword_valid("$Forwarded", &err), "$Forwarded");
	CHECK(store_keyword_valid("Junk", &err), "Junk");
	CHECK(!store_keyword_valid("\\Seen", &err), "system flag refused");
	CHECK(!store_keyword_valid("a b", &err), "space refused");
	CHECK(!store_keyword_valid("a]", &err), "']' refused");
	CHECK(!store_keyword_valid("", &err), "empty refused");
	CHECK(!store_keyword_valid("caf\xc3\xa9", &err), "non-ASCII refused");
	CHECK(!store_keyword_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		&err), "65-octet keyword refused");
	CHECK_STR(store_special_use_name(STORE_SPECIAL_JUNK), "\\Junk",
		  "special-use name");
	CHECK(store_special_use_name(STORE_SPECIAL_NONE) == NULL,
	      "no special-use");
}

int main(void)
{
	test_good_names();
	test_bad_names();
	test_limits();
	test_store_ids();
	test_keywords();
	return TEST_DONE();
}
