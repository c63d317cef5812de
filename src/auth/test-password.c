/* test-password.c: Argon2id hash/verify, refusals, the dummy verify's cost
 * against a real one, and tuning. Uses libsodium's minimum costs except
 * where a measurable duration is the point. */
#include "auth/password.h"
#include "lib/test.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct password_params fast = {
	crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void test_hash_verify(void)
{
	char h1[PASSWORD_HASH_BUF], h2[PASSWORD_HASH_BUF];
	const char *error = NULL;
	CHECK(password_hash(&fast, "correct horse", h1, sizeof(h1),
			    &error) == 0, "hash (%s)", error ? error : "-");
	CHECK(strncmp(h1, "$argon2id$", 10) == 0, "argon2id string: %.20s",
	      h1);
	CHECK(password_verify(h1, "correct horse") == 1, "right password");
	CHECK(password_verify(h1, "correct horsE") == 0, "wrong password");
	CHECK(password_verify(h1, "correct horse ") == 0, "longer password");
	CHECK(password_verify(h1, "") == 0, "empty password never matches");
	CHECK(password_verify(h1, NULL) == 0, "NULL password never matches");
	CHECK(password_verify("$argon2id$garbage", "correct horse") == 0,
	      "malformed hash never matches");
	CHECK(password_verify(NULL, "x") == 0, "NULL hash never matches");
	CHECK(password_hash(&fast, "correct horse", h2, sizeof(h2),
			    &error) == 0 && strcmp(h1, h2) != 0,
	      "same password, different salt");

	CHECK(password_hash(&fast, "", h2, sizeof(h2), &error) < 0 &&
	      h2[0] == '\0', "empty password refused: %s", error);
	char *big = malloc(RD_MAX_PASSWORD + 2);
	memset(big, 'p', RD_MAX_PASSWORD + 1);
	big[RD_MAX_PASSWORD + 1] = '\0';
	CHECK(password_hash(&fast, big, h2, sizeof(h2), &error) < 0,
	      "over-long password refused: %s", error);
	big[RD_MAX_PASSWORD] = '\0';
	CHECK(password_hash(&fast, big, h2, sizeof(h2), &error) == 0 &&
	      password_verify(h2, big) == 1, "password at the cap works");
	big[RD_MAX_PASSWORD] = 'p';
	CHECK(password_verify(h2, big) == 0, "verify refuses over-long");
	free(big);
	char small[16];
	CHECK(password_hash(&fast, "x", small, sizeof(small), &error) < 0,
	      "small buffer refused");
	struct password_params bad = { 0, fast.memlimit };
	CHECK(password_hash(&bad, "x", h2, sizeof(h2), &error) < 0,
	      "opslimit 0 refused: %s", error);
	bad = (struct password_params){ fast.opslimit, 1 };
	CHECK(password_params_check(&bad, &error) < 0, "memlimit 1 refused");

	struct password_params more = { fast.opslimit + 1, fast.memlimit };
	CHECK(password_needs_rehash(h1, &fast) == 0, "no rehash, same params");
	CHECK(password_needs_rehash(h1, &more) == 1, "rehash, other params");
}

static void test_dummy(void)
{
	struct password_dummy dummy;
	const char *error = NULL;
	password_dummy_init(&dummy);
	CHECK(password_verify_dummy(&dummy, &fast, "anything") == 0 &&
	      dummy.ready, "first dummy call builds the hash, returns 0");
	CHECK(password_verify_dummy(&dummy, &fast, "anything") == 0,
	      "dummy verify returns 0");
	struct password_params more = { fast.opslimit + 1, fast.memlimit };
	password_verify_dummy(&dummy, &more, "x");
	CHECK(dummy.params.opslimit == more.opslimit,
	      "dummy follows changed params");
	CHECK(password_dummy_prepare(&dummy, &fast, &error) == 0 &&
	      dummy.params.opslimit == fast.opslimit, "prepare");
	CHECK(password_verify_dummy(&dummy, &fast, "") == 0,
	      "dummy with empty password returns 0");

	/* Cost: interleave real and dummy verifies so machine load hits both
	 * alike. 1 MiB makes one run a few ms, well above timer noise. */
	const struct password_params timed = { 2, 1024u * 1024u };
	char hash[PASSWORD_HASH_BUF];
	CHECK(password_hash(&timed, "secret", hash, sizeof(hash), &error) == 0
	      && password_dummy_prepare(&dummy, &timed, &error) == 0,
	      "timing setup");
	/* the fastest of ten runs of each: another process taking the CPU
	 * can only make a run slower, so the minimum is the cost itself */
	double real = 1e9, fake = 1e9;
	for (int i = 0; i < 10; i++) {
		double t0 = now_ms();
		password_verify(hash, "wrong");
		double t1 = now_ms();
		password_verify_dummy(&dummy, &timed, "wrong");
		double t2 = now_ms();
		real = t1 - t0 < real ? t1 - t0 : real;
		fake = t2 - t1 < fake ? t2 - t1 : fake;
	}
	printf("# fastest real verify %.2f ms, fastest dummy verify %.2f ms\n",
	       real, fake);
	CHECK(fake < 2 * real && real < 2 * fake,
	      "dummy verify costs what a real one costs (within 2x)");
}

static void test_tune(void)
{
	struct password_params p = { 0, 0 };
	const char *error = NULL;
	CHECK(password_tune(0, &p, &error) < 0, "target 0 refused");
	CHECK(password_tune(RD_PASSWORD_TUNE_MAX_MS + 1, &p, &error) < 0,
	      "target above the cap refused");
	double t0 = now_ms();
	CHECK(password_tune(20, &p, &error) == 0, "tune (%s)",
	      error ? error : "-");
	printf("# tune(20 ms) took %.0f ms: opslimit %llu memlimit %zu\n",
	       now_ms() - t0, p.opslimit, p.memlimit);
	CHECK(p.memlimit == PASSWORD_TUNE_MEMLIMIT, "memlimit is 64 MiB");
	CHECK(p.opslimit >= crypto_pwhash_OPSLIMIT_INTERACTIVE &&
	      p.opslimit <= RD_PASSWORD_MAX_OPSLIMIT, "opslimit in range");
	CHECK(password_params_check(&p, &error) == 0, "tuned params valid");
}

int main(void)
{
	if (sodium_init() < 0) {
		CHECK(0, "sodium_init");
		return TEST_DONE();
	}
	test_hash_verify();
	test_dummy();
	test_tune();
	return TEST_DONE();
}
