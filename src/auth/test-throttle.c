#include "auth/throttle.h"
#include "lib/test.h"
#include "limits.h"
#include <stdio.h>

int main(void)
{
	struct throttle *t = throttle_new(500);
	struct throttle_verdict v;
	uint64_t now = 1000000;
	throttle_check(t, "alice@x.test", "10.0.0.1", now, &v);
	CHECK(!v.locked && v.delay_ms == 0, "nothing recorded yet");
	throttle_result(t, "alice@x.test", "10.0.0.1", 1, now, &v);   /* alice's phone */
	uint32_t last = 0;
	int growing = 1;
	for (int i = 1; i <= 6; i++) {
		throttle_result(t, "alice@x.test", "203.0.113.9", 0, now + (uint64_t)i, &v);
		if (v.delay_ms < last)
			growing = 0;
		last = v.delay_ms;
	}
	CHECK(growing && last == 500u * 32u, "delays double per failure (%u)", last);
	throttle_result(t, "alice@x.test", "10.0.0.1", 0, now + 7, &v);
	CHECK(v.delay_ms == 500 && !v.locked, "alice's own device mistyping gets the plain delay");
	for (int i = 8; i <= (int)RD_AUTH_LOCKOUT_FAILS; i++)
		throttle_result(t, "alice@x.test", "203.0.113.9", 0, now + (uint64_t)i, &v);
	CHECK(v.delay_ms == RD_AUTH_MAX_DELAY_MS, "delay capped");
	CHECK(v.locked, "account locked after %u failures", RD_AUTH_LOCKOUT_FAILS);
	throttle_check(t, "alice@x.test", "203.0.113.9", now + 100, &v);
	CHECK(v.locked, "the attacker's next try is refused unchecked");
	throttle_check(t, "alice@x.test", "198.51.100.7", now + 100, &v);
	CHECK(v.locked, "a new address is locked out too");
	throttle_check(t, "alice@x.test", "10.0.0.1", now + 100, &v);
	CHECK(!v.locked, "alice's known address keeps working");
	throttle_check(t, "alice@x.test", "203.0.113.9",
		       now + (uint64_t)RD_AUTH_LOCKOUT_S * 1000u + 1000u, &v);
	CHECK(!v.locked, "the lock is temporary");
	throttle_check(t, "alice@x.test", "203.0.113.9",
		       now + (uint64_t)RD_AUTH_FAIL_MEMORY_S * 1000u * 2u, &v);
	CHECK(v.account_fails == 0, "failure counts are forgotten");

	/* spraying: one address, many accounts */
	char acct[64];
	for (unsigned i = 0; i < RD_AUTH_SPRAY_FAILS; i++) {
		snprintf(acct, sizeof(acct), "user%u@x.test", i);
		throttle_result(t, acct, "192.0.2.66", 0, now, &v);
	}
	throttle_check(t, "someone-else@x.test", "192.0.2.66", now + 1, &v);
	CHECK(v.locked, "a spraying address is locked for every account");
	throttle_check(t, "someone-else@x.test", "192.0.2.67", now + 1, &v);
	CHECK(!v.locked, "other addresses are not");

	/* fixed memory: many distinct addresses never grow the tables */
	char addr[64];
	for (unsigned i = 0; i < RD_THROTTLE_SLOTS * 4; i++) {
		snprintf(addr, sizeof(addr), "172.16.%u.%u", i / 256, i % 256);
		throttle_result(t, "bob@x.test", addr, 0, now + 2000000 + i, &v);
	}
	CHECK(1, "a spray from many addresses stays in fixed memory");
	for (unsigned i = 0; i < RD_AUTH_SPRAY_FAILS * 2; i++) {
		snprintf(acct, sizeof(acct), "l%u@x.test", i);
		throttle_result(t, acct, "127.0.0.1", 0, now, &v);
	}
	throttle_check(t, "fresh@x.test", "127.0.0.1", now + 1, &v);
	CHECK(!v.locked, "loopback is not locked per address");
	throttle_free(&t);
	CHECK(t == NULL, "free clears the pointer");
	return TEST_DONE();
}
