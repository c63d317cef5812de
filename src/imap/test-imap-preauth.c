#include "imap/imap-preauth.h"
#include "lib/test.h"
#include <stdlib.h>

static int parse(const char *s, struct imap_pre *p, const char **err)
{
	return imap_pre_parse(s, strlen(s), p, err);
}

int main(void)
{
	struct imap_pre p;
	const char *err;
	CHECK(parse("a1 LOGIN alice \"pa ss\\\"w\"", &p, &err) == 0, "LOGIN with quoted password");
	CHECK(p.cmd == IMAP_PRE_LOGIN && p.nargs == 2, "two args");
	CHECK_STR(p.arg[0], "alice", "user");
	CHECK_STR(p.arg[1], "pa ss\"w", "password unescaped");
	CHECK_STR(p.tag, "a1", "tag");
	CHECK(parse("x capability", &p, &err) == 0 && p.cmd == IMAP_PRE_CAPABILITY, "lower case");
	CHECK(parse("x LOGIN alice", &p, &err) == -1, "one arg refused");
	CHECK(parse("x LOGIN a b c", &p, &err) == -1, "three args refused");
	CHECK(parse("x LOGIN {5}", &p, &err) == -1 && p.literal, "literal refused");
	CHECK(parse("x LOGIN a {4294967296+}", &p, &err) == -1 && p.literal, "huge literal refused");
	CHECK(parse("+x NOOP", &p, &err) == -1, "tag with + refused");
	CHECK(parse("NOOP", &p, &err) == -1, "missing tag");
	CHECK(parse("x LOGIN \"unterminated", &p, &err) == -1, "unterminated quote");
	CHECK(parse("x AUTHENTICATE PLAIN", &p, &err) == 0 && p.nargs == 1, "AUTHENTICATE");
	CHECK(parse("x AUTHENTICATE PLAIN AGFsaWNlAHB3", &p, &err) == 0 && p.nargs == 2, "SASL-IR");
	CHECK(parse("x SELECT INBOX", &p, &err) == 0 && p.cmd == IMAP_PRE_OTHER, "other command");
	char *big = malloc(3000);
	memset(big, 'a', 2999);
	memcpy(big, "x LOGIN ", 8);
	big[2999] = '\0';
	CHECK(parse(big, &p, &err) == -1, "over-long argument refused");
	free(big);
	/* byte at a time: every prefix of a valid command parses or fails cleanly */
	const char *full = "a001 LOGIN \"alice@example.test\" \"secret\"";
	int ok = 1;
	for (size_t i = 0; i <= strlen(full); i++) {
		int r = imap_pre_parse(full, i, &p, &err);
		if (r != 0 && r != -1)
			ok = 0;
		if (i < strlen(full) && r == 0 && p.cmd == IMAP_PRE_LOGIN)
			ok = 0;
	}
	CHECK(ok, "no strict prefix of LOGIN parses as complete");
	return TEST_DONE();
}
