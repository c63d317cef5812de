#include "smtp/smtp-cmd.h"
#include "lib/test.h"

int main(void)
{
	struct smtp_cmd c;
	const char *err;
	CHECK(smtp_cmd_parse("EHLO client.example", 19, &c, &err) == 0 && c.verb == SMTP_EHLO,
	      "EHLO");
	CHECK_STR(c.arg, "client.example", "EHLO argument");
	CHECK(smtp_cmd_parse("quit", 4, &c, &err) == 0 && c.verb == SMTP_QUIT, "case-insensitive");
	CHECK(smtp_cmd_parse("STARTTLS", 8, &c, &err) == 0 && c.verb == SMTP_STARTTLS &&
	      c.arg[0] == '\0', "no argument");
	CHECK(smtp_cmd_parse("", 0, &c, &err) == -1, "empty refused");
	CHECK(smtp_cmd_parse("XYZZY", 5, &c, &err) == -1, "unknown refused");
	CHECK(smtp_cmd_parse("MAIL\0FROM", 9, &c, &err) == -1, "NUL refused");
	CHECK(smtp_cmd_parse("MAIL FROM:<a@b>\rRSET", 20, &c, &err) == -1, "bare CR refused");
	CHECK(smtp_cmd_parse("EHLOX", 5, &c, &err) == -1, "verb prefix is not the verb");
	/* every prefix of a command either parses or fails cleanly */
	const char *full = "RCPT TO:<alice@example.test>";
	int ok = 1;
	for (size_t i = 0; i <= strlen(full); i++) {
		int r = smtp_cmd_parse(full, i, &c, &err);
		if (r != 0 && r != -1)
			ok = 0;
	}
	CHECK(ok, "every prefix handled");
	return TEST_DONE();
}
