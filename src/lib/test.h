/* test.h: a tiny TAP harness for the test-*.c programs beside each module.
 *
 * Each check prints "ok N - what" or "not ok N - what (file:line)"; the
 * program ends with TEST_DONE(), which prints the plan and returns non-zero
 * if anything failed. Meson runs these with protocol 'tap'. Header-only so a
 * test links against nothing but the module it tests. */
#ifndef RD_TEST_H
#define RD_TEST_H
#include <stdio.h>
#include <string.h>

struct test_state { int n; int failed; };
static struct test_state test_st;

#define CHECK(cond, ...) do { \
	test_st.n++; \
	if (cond) { printf("ok %d - ", test_st.n); printf(__VA_ARGS__); printf("\n"); } \
	else { test_st.failed++; printf("not ok %d - ", test_st.n); printf(__VA_ARGS__); \
	       printf(" (%s:%d: %s)\n", __FILE__, __LINE__, #cond); } \
	fflush(stdout); \
} while (0)

#define CHECK_STR(a, b, ...) do { const char *ca_ = (a), *cb_ = (b); \
	CHECK(ca_ != NULL && cb_ != NULL && strcmp(ca_, cb_) == 0, __VA_ARGS__); \
	if (!(ca_ != NULL && cb_ != NULL && strcmp(ca_, cb_) == 0)) \
		printf("#   got \"%s\", want \"%s\"\n", ca_ ? ca_ : "(null)", cb_ ? cb_ : "(null)"); \
} while (0)

#define TEST_DONE() (printf("1..%d\n", test_st.n), test_st.failed ? 1 : 0)

#endif
