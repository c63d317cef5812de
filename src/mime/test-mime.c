/* test-mime.c: mime_parse on real-shaped messages (exact ENVELOPE and
 * BODYSTRUCTURE by RFC 9051 7.5.2), the decoders, every prefix of every
 * message, and the hostile shapes of THREATS.md cases 7 and 8. */
#include "mime/mime-private.h"
#include "mime/test-imap-syntax.h"
#include "lib/test.h"
#include <stdlib.h>
#include <time.h>

static struct mime_result res;

static void parse(const char *m, size_t n)
{
	const char *err = NULL;
	mime_result_free(&res);
	if (mime_parse((const uint8_t *)m, n, &res, &err) < 0)
		printf("# mime_parse: %s\n", err);
}

static void parse_s(const char *m)
{
	parse(m, strlen(m));
}

static bool outputs_ok(void)
{
	return res.envelope.data != NULL && imap_syntax_ok((char *)res.envelope.data) &&
	       imap_syntax_ok((char *)res.bodystructure.data) &&
	       imap_syntax_ok((char *)res.body.data) && res.preview.data != NULL &&
	       res.fulltext.data != NULL && res.nparts >= 1;
}

static const struct mime_part *part(const char *section)
{
	for (size_t i = 0; i < res.nparts; i++)
		if (strcmp(res.parts[i].section, section) == 0)
			return &res.parts[i];
	return NULL;
}

#define ENV(s) CHECK_STR((char *)res.envelope.data, s, "envelope")
#define BS(s) CHECK_STR((char *)res.bodystructure.data, s, "bodystructure")
#define BODY(s) CHECK_STR((char *)res.body.data, s, "body")

static const char plain[] =
	"Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
	"From: Fred Foobar <foobar@Blurdybloop.example>\r\n"
	"Subject: afternoon meeting\r\n"
	"To: mooch@owatagu.siam.edu.example\r\n"
	"Message-Id: <B27397-0100000@Blurdybloop.example>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
	"\r\n"
	"Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";

#define PLAIN_ENV "(\"Mon, 7 Feb 1994 21:52:25 -0800 (PST)\" \"afternoon meeting\" " \
	"((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) " \
	"((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) " \
	"((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) " \
	"((NIL NIL \"mooch\" \"owatagu.siam.edu.example\")) NIL NIL NIL " \
	"\"<B27397-0100000@Blurdybloop.example>\")"

static void test_plain(void)
{
	parse_s(plain);
	ENV(PLAIN_ENV);
	BS("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 55 1 NIL NIL NIL NIL)");
	BODY("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 55 1)");
	CHECK_STR((char *)res.preview.data,
		  "Hello Joe, do you think we can meet at 3:30 tomorrow?", "preview");
	CHECK(strstr((char *)res.fulltext.data, "afternoon meeting\n") != NULL &&
	      strstr((char *)res.fulltext.data, "Fred Foobar <foobar@") != NULL,
	      "fulltext has headers");
	CHECK_STR((char *)res.fulltext.data,
		  "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\n"
		  "From: Fred Foobar <foobar@Blurdybloop.example>\n"
		  "Subject: afternoon meeting\n"
		  "To: mooch@owatagu.siam.edu.example\n"
		  "Message-Id: <B27397-0100000@Blurdybloop.example>\n"
		  "MIME-Version: 1.0\n"
		  "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n\n\x1e"
		  "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n\n",
		  "fulltext: every header field, separator, body text");
	CHECK(res.nparts == 2 && strcmp(res.parts[0].section, "") == 0 &&
	      strcmp(res.parts[1].section, "1") == 0, "parts \"\" and \"1\"");
	const struct mime_part *p = part("1");
	CHECK(p != NULL && p->body_size == 55 &&
	      memcmp(plain + p->body_offset, "Hello Joe", 9) == 0 &&
	      p->header_offset == 0 && plain[p->header_offset + p->header_size - 1] == '\n' &&
	      p->header_offset + p->header_size == p->body_offset, "part 1 offsets");
	CHECK(res.truncated == 0, "nothing truncated");

	/* The same message with bare LF line ends. */
	char lf[sizeof(plain)];
	size_t o = 0;
	for (size_t i = 0; plain[i] != '\0'; i++)
		if (plain[i] != '\r')
			lf[o++] = plain[i];
	parse(lf, o);
	ENV(PLAIN_ENV);
	BS("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 54 1 NIL NIL NIL NIL)");
}

static const char alternative[] =
	"From: \"Doe, Jane\" <jane@example.com>\r\n"
	"To: bob@example.org, \"Q. Public\" <q@example.org>\r\n"
	"Subject: =?UTF-8?B?SGVsbMO2?= world\r\n"
	"Date: Wed, 2 Jan 2019 10:00:00 +0100\r\n"
	"Message-ID: <1@x>\r\n"
	"In-Reply-To: <0@x>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/alternative;\r\n\tboundary=\"b1\"\r\n"
	"\r\n"
	"preamble\r\n"
	"--b1\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Hall=C3=B6 Welt\r\n"
	"--b1\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"\r\n"
	"<p>Hall&amp; <b>Welt</b></p>\r\n"
	"--b1--\r\n"
	"epilogue\r\n";

static void test_alternative(void)
{
	parse_s(alternative);
	ENV("(\"Wed, 2 Jan 2019 10:00:00 +0100\" \"=?UTF-8?B?SGVsbMO2?= world\" "
	    "((\"Doe, Jane\" NIL \"jane\" \"example.com\")) "
	    "((\"Doe, Jane\" NIL \"jane\" \"example.com\")) "
	    "((\"Doe, Jane\" NIL \"jane\" \"example.com\")) "
	    "((NIL NIL \"bob\" \"example.org\")(\"Q. Public\" NIL \"q\" \"example.org\")) "
	    "NIL NIL \"<0@x>\" \"<1@x>\")");
	BS("((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 15 1 NIL NIL NIL NIL)"
	   "(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 28 1 NIL NIL NIL NIL)"
	   " \"ALTERNATIVE\" (\"BOUNDARY\" \"b1\") NIL NIL NIL)");
	BODY("((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 15 1)"
	     "(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 28 1) \"ALTERNATIVE\")");
	CHECK_STR((char *)res.preview.data, "Hall\xc3\xb6 Welt", "preview decoded");
	const char *ft = (char *)res.fulltext.data;
	CHECK(strstr(ft, "Hell\xc3\xb6 world\n") != NULL, "fulltext subject decoded");
	CHECK(strstr(ft, "Content-Type: multipart/alternative;\tboundary=\"b1\"\n") != NULL,
	      "folded header field unfolded");
	CHECK(strchr(ft, MIME_FULLTEXT_SEPARATOR) != NULL &&
	      strstr(strchr(ft, MIME_FULLTEXT_SEPARATOR), "Hall\xc3\xb6 Welt") != NULL &&
	      strstr(strchr(ft, MIME_FULLTEXT_SEPARATOR), "Subject") == NULL,
	      "quoted-printable body decoded after the separator, no header there");
	CHECK(strstr(ft, "Hall& ") != NULL && strstr(ft, "<b>") == NULL, "html stripped");
	CHECK(res.nparts == 3 && part("1") != NULL && part("2") != NULL && part("3") == NULL,
	      "parts \"\", 1, 2");
	const struct mime_part *p1 = part("1"), *p2 = part("2");
	CHECK(p1 != NULL && memcmp(alternative + p1->body_offset, "Hall=C3", 7) == 0 &&
	      p1->body_size == 15 &&
	      memcmp(alternative + p1->header_offset, "Content-Type: text/plain", 24) == 0,
	      "part 1 offsets");
	CHECK(p2 != NULL && memcmp(alternative + p2->body_offset, "<p>", 3) == 0 &&
	      p2->body_size == 28, "part 2 offsets");
	CHECK(memcmp(alternative + res.parts[0].body_offset, "preamble", 8) == 0,
	      "TEXT starts after the header");
}

static const char mixed[] =
	"From: x@y\r\n"
	"Subject: report\r\n"
	"Content-Type: multipart/mixed; boundary=XYZ\r\n"
	"\r\n"
	"--XYZ\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"See attached.\r\n"
	"--XYZ\r\n"
	"Content-Type: application/pdf; name=\"a b.pdf\"\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Disposition: attachment; filename=\"a b.pdf\"\r\n"
	"Content-ID: <pdf1@x>\r\n"
	"Content-Description: The report\r\n"
	"Content-Language: en, de\r\n"
	"Content-Location: http://x/a.pdf\r\n"
	"\r\n"
	"JVBERi0xLjQK\r\n"
	"--XYZ--\r\n";

static void test_mixed(void)
{
	parse_s(mixed);
	BS("((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 13 1 NIL NIL NIL NIL)"
	   "(\"APPLICATION\" \"PDF\" (\"NAME\" \"a b.pdf\") \"<pdf1@x>\" \"The report\" "
	   "\"BASE64\" 12 NIL (\"ATTACHMENT\" (\"FILENAME\" \"a b.pdf\")) (\"en\" \"de\") "
	   "\"http://x/a.pdf\") \"MIXED\" (\"BOUNDARY\" \"XYZ\") NIL NIL NIL)");
	BODY("((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 13 1)"
	     "(\"APPLICATION\" \"PDF\" (\"NAME\" \"a b.pdf\") \"<pdf1@x>\" \"The report\" "
	     "\"BASE64\" 12) \"MIXED\")");
	ENV("(NIL \"report\" ((NIL NIL \"x\" \"y\")) ((NIL NIL \"x\" \"y\")) "
	    "((NIL NIL \"x\" \"y\")) NIL NIL NIL NIL NIL)");
	CHECK(strstr((char *)res.fulltext.data, "JVBER") == NULL, "attachment not in fulltext");
	CHECK_STR((char *)res.preview.data, "See attached.", "preview");
}

#define EMB "From: b@y\r\nSubject: orig\r\nDate: Tue, 1 Jan 2019 00:00:00 +0000\r\n\r\noriginal body"
static const char forward[] =
	"From: a@x\r\n"
	"Subject: Fwd\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=outer\r\n"
	"\r\n"
	"--outer\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"fyi\r\n"
	"--outer\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	EMB "\r\n"
	"--outer--\r\n";

#define EMB_ENV "(\"Tue, 1 Jan 2019 00:00:00 +0000\" \"orig\" ((NIL NIL \"b\" \"y\")) " \
	"((NIL NIL \"b\" \"y\")) ((NIL NIL \"b\" \"y\")) NIL NIL NIL NIL NIL)"

static void test_forward(void)
{
	parse_s(forward);
	BS("((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1 NIL NIL NIL NIL)"
	   "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 79 " EMB_ENV
	   " (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 13 1 NIL NIL NIL NIL)"
	   " 5 NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"outer\") NIL NIL NIL)");
	BODY("((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1)"
	     "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 79 " EMB_ENV
	     " (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 13 1) 5) \"MIXED\")");
	const struct mime_part *p2 = part("2"), *p21 = part("2.1");
	CHECK(res.nparts == 4 && part("1") != NULL && p2 != NULL && p21 != NULL,
	      "parts \"\", 1, 2, 2.1");
	CHECK(p2 != NULL && p2->has_message && p2->body_size == 79 &&
	      memcmp(forward + p2->body_offset, "From: b@y", 9) == 0 &&
	      memcmp(forward + p2->msg_header_offset, "From: b@y", 9) == 0 &&
	      memcmp(forward + p2->msg_body_offset, "original body", 13) == 0 &&
	      p2->msg_body_size == 13, "2.HEADER and 2.TEXT");
	CHECK(p21 != NULL && p21->body_size == 13 &&
	      memcmp(forward + p21->body_offset, "original body", 13) == 0, "2.1");
	CHECK(strstr((char *)res.fulltext.data, "orig\n") != NULL &&
	      strstr((char *)res.fulltext.data, "original body") != NULL,
	      "embedded message in fulltext");
}

static void test_addresses(void)
{
	parse_s("From: Joe <joe@x>\r\n"
		"To: undisclosed-recipients:;\r\n"
		"Cc: Friends: alice@a, \"Bob B\" <bob@b>;, carol@c (Carol C)\r\n"
		"Bcc: <@r1,@r2:joe@x>, \"Joe \\\"J\\\" Doe\" <j@x>, J\xc3\xb6rg <jo@x>\r\n"
		"Reply-To: \r\n"
		"Sender: Secretary <sec@x>\r\n"
		"\r\n");
	ENV("(NIL NIL ((\"Joe\" NIL \"joe\" \"x\")) ((\"Secretary\" NIL \"sec\" \"x\")) "
	    "((\"Joe\" NIL \"joe\" \"x\")) "
	    "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	    "((NIL NIL \"Friends\" NIL)(NIL NIL \"alice\" \"a\")(\"Bob B\" NIL \"bob\" \"b\")"
	    "(NIL NIL NIL NIL)(\"Carol C\" NIL \"carol\" \"c\")) "
	    "((NIL \"@r1,@r2\" \"joe\" \"x\")(\"Joe \\\"J\\\" Doe\" NIL \"j\" \"x\")"
	    "({5}\r\nJ\xc3\xb6rg NIL \"jo\" \"x\")) NIL NIL)");
	BS("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL)");

	parse_s("From: John Q. Public <\"john q\"@[1.2.3.4]>, bare, Unclosed: a@b\r\n\r\n");
	ENV("(NIL NIL ((\"John Q. Public\" NIL \"john q\" \"[1.2.3.4]\")"
	    "(NIL NIL \"bare\" \"MISSING_DOMAIN\")(NIL NIL \"Unclosed\" NIL)"
	    "(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) "
	    "((\"John Q. Public\" NIL \"john q\" \"[1.2.3.4]\")"
	    "(NIL NIL \"bare\" \"MISSING_DOMAIN\")(NIL NIL \"Unclosed\" NIL)"
	    "(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) "
	    "((\"John Q. Public\" NIL \"john q\" \"[1.2.3.4]\")"
	    "(NIL NIL \"bare\" \"MISSING_DOMAIN\")(NIL NIL \"Unclosed\" NIL)"
	    "(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL NIL)");

	parse_s("Subject: a \"b\" \\c\r\nFrom: =?utf-8?q?J=C3=B6rg?= <j@x>\r\n"
		"Date: Gr\xc3\xbc\xc3\x9f" "e\r\n\r\nx");
	ENV("({7}\r\nGr\xc3\xbc\xc3\x9f" "e \"a \\\"b\\\" \\\\c\" "
	    "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x\")) "
	    "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x\")) "
	    "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x\")) NIL NIL NIL NIL NIL)");
	CHECK(strstr((char *)res.fulltext.data, "J\xc3\xb6rg <j@x>") != NULL,
	      "From decoded in fulltext");
}

static void test_missing(void)
{
	parse_s("Subject: only\r\n\r\nx");
	ENV("(NIL \"only\" NIL NIL NIL NIL NIL NIL NIL NIL)");
	parse_s("just text without a colon");
	ENV("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	BS("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL)");
	parse("", 0);
	CHECK(outputs_ok() && res.nparts == 2, "empty message");
	/* A multipart without any part gets one empty text part. */
	parse_s("Content-Type: multipart/mixed; boundary=z\r\n\r\nno parts here\r\n");
	BS("((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL)"
	   " \"MIXED\" (\"BOUNDARY\" \"z\") NIL NIL NIL)");
	/* No boundary: opaque text. */
	parse_s("Content-Type: multipart/mixed\r\n\r\nabc\r\n");
	BS("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL NIL)");
	/* multipart/digest parts default to message/rfc822. */
	parse_s("Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\n"
		"Subject: s\r\n\r\nb\r\n--d--\r\n");
	BS("((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 15 (NIL \"s\" NIL NIL NIL NIL NIL NIL NIL NIL)"
	   " (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1 1 NIL NIL NIL NIL)"
	   " 3 NIL NIL NIL NIL) \"DIGEST\" (\"BOUNDARY\" \"d\") NIL NIL NIL)");
	/* A boundary cuts a part's header short; nested sections. */
	parse_s("Content-Type: multipart/mixed; boundary=o\r\n\r\n"
		"--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"
		"--i\r\nContent-Type: text/plain\r\n--i\r\n\r\nx\r\n--o\r\nContent-Type: text/plain\r\n");
	BS("(((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL)"
	   "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1 1 NIL NIL NIL NIL)"
	   " \"ALTERNATIVE\" (\"BOUNDARY\" \"i\") NIL NIL NIL)"
	   "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL)"
	   " \"MIXED\" (\"BOUNDARY\" \"o\") NIL NIL NIL)");
	CHECK(part("1") && part("1.1") && part("1.2") && part("2") && res.nparts == 5,
	      "sections 1, 1.1, 1.2, 2");
}

static const char *dec(int (*fn)(const uint8_t *, size_t, struct buffer *),
		       const char *in, struct buffer *b)
{
	const char *s;
	buffer_reset(b);
	fn((const uint8_t *)in, strlen(in), b);
	buffer_cstr(b, &s);
	return s;
}

static int qp(const uint8_t *in, size_t n, struct buffer *b)
{
	return mime_qp_decode(in, n, false, b);
}

static int h2047(const uint8_t *in, size_t n, struct buffer *b)
{
	struct buffer scratch;
	buffer_init(&scratch, 4096);
	int r = mime_2047_decode(in, n, b, &scratch);
	buffer_free(&scratch);
	return r;
}

static int latin1(const uint8_t *in, size_t n, struct buffer *b)
{
	return mime_to_utf8(CS_LATIN1, in, n, b);
}

static int cp1252(const uint8_t *in, size_t n, struct buffer *b)
{
	return mime_to_utf8(mime_charset_lookup((const uint8_t *)"Windows-1252", 12), in, n, b);
}

static int ascii(const uint8_t *in, size_t n, struct buffer *b)
{
	return mime_to_utf8(mime_charset_lookup((const uint8_t *)"us-ascii", 8), in, n, b);
}

static int utf8(const uint8_t *in, size_t n, struct buffer *b)
{
	return mime_to_utf8(CS_UTF8, in, n, b);
}

static void test_decoders(void)
{
	struct buffer b;
	buffer_init(&b, 4096);
	CHECK_STR(dec(qp, "a=3Db=\r\nc= \r\nd=zz=", &b), "a=bcd=zz", "qp");
	CHECK_STR(dec(mime_b64_decode, "SGVs\r\nbG8=", &b), "Hello", "base64");
	CHECK_STR(dec(mime_b64_decode, "SGVsbG8", &b), "Hello", "base64 unpadded");
	CHECK_STR(dec(h2047, "=?ISO-8859-1?Q?Andr=E9?= Pirard", &b), "Andr\xc3\xa9 Pirard",
		  "2047 Q latin-1");
	CHECK_STR(dec(h2047, "=?utf-8?b?SGVsbMO2?=\r\n =?utf-8?q?_W=C3=B6rld?=", &b),
		  "Hell\xc3\xb6 W\xc3\xb6rld", "2047 adjacent words, folded");
	CHECK_STR(dec(h2047, "(=?ISO-8859-1?Q?a?= b)", &b), "(a b)", "2047 word then text");
	CHECK_STR(dec(h2047, "(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", &b), "(ab)",
		  "2047 white space between words dropped");
	CHECK_STR(dec(h2047, "=?windows-1252?Q?=80uro?=", &b), "\xe2\x82\xac" "uro", "2047 cp1252");
	CHECK_STR(dec(h2047, "=?x-unknown*en?Q?abc?=", &b), "abc", "2047 unknown charset, language");
	CHECK_STR(dec(h2047, "=?utf-8?x?abc?= =?utf-8?q?a b?=", &b),
		  "=?utf-8?x?abc?= =?utf-8?q?a b?=", "2047 malformed kept");
	CHECK_STR(dec(h2047, "=?=?=?a?q?b?=", &b), "=?=?b", "2047 junk before a word");
	CHECK_STR(dec(latin1, "caf\xe9 \x93q\x94", &b), "caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d",
		  "latin-1 (read as cp1252)");
	CHECK_STR(dec(cp1252, "\x80\x81\x9f", &b), "\xe2\x82\xac\xef\xbf\xbd\xc5\xb8",
		  "cp1252 with an undefined octet");
	CHECK_STR(dec(ascii, "a\xe9z", &b), "a\xef\xbf\xbdz", "ascii 8-bit is U+FFFD");
	CHECK_STR(dec(utf8, "\xc3\x28\xe2\x82\xac\xed\xa0\x80\xc0\xaf", &b),
		  "\xef\xbf\xbd(\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		  "utf-8 invalid, surrogate and overlong");
	buffer_free(&b);

	/* A body in windows-1252 quoted-printable, and HTML entities. */
	parse_s("Content-Type: text/plain; charset=\"windows-1252\"\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		"=93Hi=94   there\r\n\r\n  you\r\n");
	CHECK_STR((char *)res.preview.data, "\xe2\x80\x9cHi\xe2\x80\x9d there you", "cp1252 QP preview");
	parse_s("Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		"PHN0eWxlPnAge308L3N0eWxlPjxwPkEmbHQ7QiAmIzIzMzsmI3hlOTs8IS0tIGMgLS0+PC9wPg==\r\n");
	CHECK_STR((char *)res.preview.data, "A<B \xc3\xa9\xc3\xa9", "html base64 preview");
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *repeat(const char *head, const char *unit, size_t times, const char *tail,
		    size_t *len_r)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	size_t n = hl + ul * times + tl;
	char *m = malloc(n + 1);
	memcpy(m, head, hl);
	for (size_t i = 0; i < times; i++)
		memcpy(m + hl + i * ul, unit, ul);
	memcpy(m + hl + ul * times, tail, tl + 1);
	*len_r = n;
	return m;
}

static void hostile(const char *what, char *m, size_t n, unsigned want_trunc)
{
	double t0 = now();
	parse(m, n);
	double dt = now() - t0;
	CHECK(outputs_ok() && (res.truncated & want_trunc) == want_trunc && dt < 3.0,
	      "%s: valid, truncated 0x%x, %.3f s", what, res.truncated, dt);
	free(m);
}

static void test_hostile(void)
{
	size_t n;
	char *m;

	m = repeat("Subject: x\r\n", " y\r\n", 1000000, "\r\nbody\r\n", &n);
	hostile("a million folded lines", m, n, MIME_TRUNC_HEADER);

	m = repeat("", "X-H: v\r\n", 100000, "Subject: late\r\n\r\nbody\r\n", &n);
	hostile("100,000 header fields", m, n, MIME_TRUNC_HEADER);
	CHECK(strncmp((char *)res.envelope.data, "(NIL NIL ", 9) == 0, "fields past the cap ignored");

	/* 10,000 levels of multipart, each with its own boundary. */
	size_t depth = 10000, cap = depth * 80 + 100, o = 0;
	m = malloc(cap);
	for (size_t i = 0; i < depth; i++)
		o += (size_t)snprintf(m + o, cap - o,
			"Content-Type: multipart/mixed; boundary=b%zu\r\n\r\n--b%zu\r\n", i, i);
	o += (size_t)snprintf(m + o, cap - o, "\r\ninner\r\n");
	for (size_t i = depth; i-- > 0;)
		o += (size_t)snprintf(m + o, cap - o, "--b%zu--\r\n", i);
	hostile("10,000-deep multipart", m, o, MIME_TRUNC_DEPTH);
	size_t maxd = 0, d = 0;
	for (const char *p = (char *)res.bodystructure.data; *p; p++) {
		d += *p == '(';
		d -= *p == ')';
		maxd = d > maxd ? d : maxd;
	}
	CHECK(maxd <= RD_MIME_MAX_DEPTH + 3, "bodystructure depth capped (%zu)", maxd);

	/* The same boundary at every level, and message/rfc822 nesting. */
	m = repeat("", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n", 10000, "x\r\n--b--\r\n", &n);
	hostile("10,000-deep, one boundary", m, n, 0);
	m = repeat("", "Content-Type: message/rfc822\r\n\r\n", 10000, "x\r\n", &n);
	hostile("10,000 nested message/rfc822", m, n, MIME_TRUNC_DEPTH);

	m = repeat("Content-Type: multipart/mixed; boundary=p\r\n\r\n", "--p\r\n\r\nx\r\n",
		   100000, "--p--\r\n", &n);
	hostile("100,000 parts", m, n, MIME_TRUNC_PARTS);
	CHECK(res.nparts <= RD_MIME_MAX_PARTS, "part map capped (%zu)", res.nparts);

	/* Many "--" lines against 32 open boundaries sharing a long prefix. */
	char head[8192];
	o = 0;
	for (int i = 0; i < 31; i++)
		o += (size_t)snprintf(head + o, sizeof(head) - o,
			"Content-Type: multipart/mixed; boundary=%.66s%02d\r\n\r\n--%.66s%02d\r\n",
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i,
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i);
	m = repeat(head, "--xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx99\r\n",
		   200000, "", &n);
	hostile("200,000 near-boundary lines", m, n, 0);

	m = repeat("To: ", "a@b, ", 200000, "\r\nSubject: ", &n);
	hostile("200,000 recipients", m, n, MIME_TRUNC_OUTPUT);
	char unit[400];
	memset(unit, 'a', 300);
	strcpy(unit + 300, "@b, ");
	m = repeat("To: ", unit, 3000, "\r\n\r\n", &n);
	hostile("envelope past its cap", m, n, MIME_TRUNC_OUTPUT);
	CHECK(res.envelope.len <= 120000, "compact envelope (%zu)", res.envelope.len);
	CHECK(res.envelope.len <= RD_MIME_MAX_ENVELOPE, "envelope within its cap");

	m = repeat("Subject: ", "=?", 400000, "\r\n\r\n", &n);
	hostile("400,000 encoded-word starts", m, n, 0);
	m = repeat("Subject: ", "=?utf-8?q?", 100000, "\r\n\r\n", &n);
	hostile("100,000 unterminated encoded-words", m, n, 0);

	m = repeat("Content-Type: text/plain\r\n\r\n", "word ", 400000, "", &n);
	hostile("2 MB of text", m, n, MIME_TRUNC_TEXT);
	CHECK(res.fulltext.len <= RD_MIME_MAX_FULLTEXT, "fulltext within its cap");
}

/* Every prefix of every message (every 7th past 2,000 octets). */
static void test_prefixes(void)
{
	const char *msgs[] = { plain, alternative, mixed, forward };
	for (size_t k = 0; k < sizeof(msgs) / sizeof(msgs[0]); k++) {
		size_t n = strlen(msgs[k]), bad = 0, step = n > 2000 ? 7 : 1;
		for (size_t l = 0; l <= n; l += step) {
			char *copy = malloc(l + 1);
			memcpy(copy, msgs[k], l);
			parse(copy, l);
			bad += !outputs_ok();
			free(copy);
		}
		CHECK(bad == 0, "message %zu: all %zu prefixes give valid output", k, n + 1);
	}
}

/* The header text never holds the separator, and a huge header leaves
 * the body its room (RD_MIME_MAX_FULLTEXT_HEAD). */
static void test_fulltext_head(void)
{
	parse_s("Subject: a\x1e b\r\nX-Sep: =?utf-8?q?c=1Ed?=\r\n\r\nbody \x1e text\r\n");
	const char *ft = (char *)res.fulltext.data;
	const char *sep = strchr(ft, MIME_FULLTEXT_SEPARATOR);
	CHECK(sep != NULL && strncmp(ft, "Subject: a  b\nX-Sep: c d\n", 25) == 0 &&
	      strstr(sep + 1, "body \x1e text") != NULL,
	      "separator octets in the header become spaces, body keeps them");

	size_t n = 200000;
	char *big = malloc(n + 64);
	if (big == NULL)
		return;
	size_t o = 0;
	while (o + 40 < n) {
		memcpy(big + o, "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 40);
		o += 40;
	}
	memcpy(big + o, "\r\nthe body\r\n", 12);
	parse(big, o + 12);
	ft = (char *)res.fulltext.data;
	sep = ft != NULL ? strchr(ft, MIME_FULLTEXT_SEPARATOR) : NULL;
	CHECK(sep != NULL && (size_t)(sep - ft) <= RD_MIME_MAX_FULLTEXT_HEAD &&
	      strstr(sep, "the body") != NULL, "header text capped, body kept");
	free(big);
}

/* mime_parse_no_text: everything mime_parse gives but the search text,
 * on every sample message (what `redoubt import` files, the text coming
 * later from mime_parse itself). */
static void test_no_text(void)
{
	const char *const msgs[] = { plain, alternative, mixed };
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct mime_result nt;
		const char *err = NULL;
		parse_s(msgs[i]);
		CHECK(mime_parse_no_text((const uint8_t *)msgs[i], strlen(msgs[i]), &nt, &err) == 0,
		      "no_text %zu: parsed", i);
		CHECK(strcmp((char *)nt.envelope.data, (char *)res.envelope.data) == 0 &&
		      strcmp((char *)nt.bodystructure.data, (char *)res.bodystructure.data) == 0 &&
		      strcmp((char *)nt.body.data, (char *)res.body.data) == 0 &&
		      strcmp((char *)nt.preview.data, (char *)res.preview.data) == 0 &&
		      nt.nparts == res.nparts, "no_text %zu: the same caches and preview", i);
		CHECK(nt.fulltext.data != NULL && ((char *)nt.fulltext.data)[0] == '\0' &&
		      res.fulltext.len > 0, "no_text %zu: no search text", i);
		mime_result_free(&nt);
	}
}

int main(void)
{
	test_plain();
	test_alternative();
	test_mixed();
	test_forward();
	test_addresses();
	test_missing();
	test_decoders();
	test_hostile();
	test_prefixes();
	test_fulltext_head();
	test_no_text();
	mime_result_free(&res);
	return TEST_DONE();
}
