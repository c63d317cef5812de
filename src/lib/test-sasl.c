#include "lib/sasl.h"
#include "lib/test.h"

int main(void)
{
	struct sasl_plain p;
	const char *err;
	/* "\0alice@x.test\0secret" */
	CHECK(sasl_plain_decode("AGFsaWNlQHgudGVzdABzZWNyZXQ=", 28, &p, &err) == 0, "plain");
	CHECK_STR(p.user, "alice@x.test", "user");
	CHECK_STR(p.pass, "secret", "password");
	/* "alice@x.test\0alice@x.test\0pw" */
	CHECK(sasl_plain_decode("YWxpY2VAeC50ZXN0AGFsaWNlQHgudGVzdABwdw==", 40, &p, &err) == 0,
	      "matching authzid accepted");
	/* "bob@x.test\0alice@x.test\0pw" */
	CHECK(sasl_plain_decode("Ym9iQHgudGVzdABhbGljZUB4LnRlc3QAcHc=", 36, &p, &err) == -1,
	      "other authzid refused");
	CHECK(sasl_plain_decode("AGFsaWNl", 8, &p, &err) == -1, "missing second NUL");
	CHECK(sasl_plain_decode("AGFsaWNlAHB3AHg=", 16, &p, &err) == -1, "third NUL refused");
	CHECK(sasl_plain_decode("!!!!", 4, &p, &err) == -1, "bad base64");
	CHECK(sasl_plain_decode("AGFsaWNlAHB3", 11, &p, &err) == -1, "unpadded length");
	CHECK(sasl_plain_decode("AA=A", 4, &p, &err) == -1, "padding in the middle");
	CHECK(sasl_plain_decode("", 0, &p, &err) == -1, "empty");
	char line[32];
	CHECK(sasl_b64_line("VXNlcm5hbWU6", 12, line, sizeof(line), &err) == 0, "line");
	CHECK_STR(line, "Username:", "line text");
	CHECK(sasl_b64_line("AA==", 4, line, sizeof(line), &err) == -1, "NUL in line refused");
	CHECK(sasl_b64_line("VXNlcm5hbWU6", 12, line, 4, &err) == -1, "overflow refused");
	/* every prefix of a valid message: no crash; only whole base64
	 * quanta can decode */
	const char *full = "AGFsaWNlQHgudGVzdABzZWNyZXQ=";
	int ok = 1;
	for (size_t i = 0; i < strlen(full); i++)
		if (sasl_plain_decode(full, i, &p, &err) == 0 && i % 4 != 0)
			ok = 0;
	CHECK(ok, "no partial quantum decodes");
	return TEST_DONE();
}
