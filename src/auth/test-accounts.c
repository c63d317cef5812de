/* test-accounts.c: accounts.db in a fresh temporary directory: set, verify,
 * replace, remove, file modes, re-hash on login, and that an unknown user
 * costs what a wrong password costs. */
#include "auth/accounts.h"
#include "lib/test.h"
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct password_params fast = {
	crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN
};

/* The stored hash, read behind the module's back. */
static void stored_hash(const char *file, const char *addr, char *out,
			size_t outlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	out[0] = '\0';
	if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT hash FROM credentials WHERE "
			       "address = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(out, outlen, "%s", sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_basic(struct accounts *acc, const char *file)
{
	const char *error = NULL;
	CHECK(accounts_set_password(acc, "Alice@X.test", "hunter2", &fast,
				    &error) == 0, "set alice (%s)",
	      error ? error : "-");
	CHECK(accounts_verify(acc, "alice@x.test", "hunter2", &fast) == 1,
	      "alice logs in");
	CHECK(accounts_verify(acc, "ALICE@x.TEST", "hunter2", &fast) == 1,
	      "address is case-insensitive");
	CHECK(accounts_verify(acc, "alice@x.test", "Hunter2", &fast) == 0,
	      "wrong password refused");
	CHECK(accounts_verify(acc, "bob@x.test", "hunter2", &fast) == 0,
	      "unknown user refused");
	CHECK(accounts_verify(acc, "a;rm -rf /@x.test", "hunter2", &fast) == 0,
	      "invalid address refused");
	CHECK(accounts_verify(acc, NULL, "hunter2", &fast) == 0,
	      "NULL address refused");
	CHECK(accounts_verify(acc, "alice@x.test", "", &fast) == 0,
	      "empty password refused");
	CHECK(accounts_set_password(acc, "bob@x.test", "", &fast, &error) < 0,
	      "setting an empty password refused: %s", error);
	CHECK(accounts_set_password(acc, "$(id)@x", "pw", &fast, &error) < 0,
	      "setting for an invalid address refused: %s", error);

	char h[PASSWORD_HASH_BUF];
	stored_hash(file, "alice@x.test", h, sizeof(h));
	CHECK(strncmp(h, "$argon2id$", 10) == 0, "stored as argon2id");
	CHECK(strstr(h, "hunter2") == NULL, "no plaintext stored");

	CHECK(accounts_set_password(acc, "alice@x.test", "new pass", &fast,
				    &error) == 0, "replace alice's password");
	CHECK(accounts_verify(acc, "alice@x.test", "hunter2", &fast) == 0,
	      "old password no longer works");
	CHECK(accounts_verify(acc, "alice@x.test", "new pass", &fast) == 1,
	      "new password works");

	/* Re-hash on login when the cost changed. */
	const struct password_params more = { fast.opslimit + 1,
					      fast.memlimit };
	CHECK(accounts_verify(acc, "alice@x.test", "new pass", &more) == 1,
	      "login with re-tuned params");
	stored_hash(file, "alice@x.test", h, sizeof(h));
	CHECK(password_needs_rehash(h, &more) == 0,
	      "hash upgraded to new params: %.40s", h);
	CHECK(accounts_verify(acc, "alice@x.test", "new pass", &fast) == 1,
	      "upgraded hash still verifies");
}

static void test_timing(struct accounts *acc)
{
	/* 1 MiB: about a ms a verify, measurable above timer noise. */
	const struct password_params timed = { 2, 1024u * 1024u };
	const char *error = NULL;
	CHECK(accounts_set_password(acc, "timed@x.test", "right", &timed,
				    &error) == 0, "timed user");
	/* First unknown-user call builds the dummy; also one Argon2id run. */
	accounts_verify(acc, "nobody@x.test", "wrong", &timed);
	/* CPU time, not wall time: other jobs on the machine then do not
	 * count against either side. */
	clock_t known = 0, unknown = 0;
	for (int i = 0; i < 10; i++) {
		clock_t t0 = clock();
		int a = accounts_verify(acc, "timed@x.test", "wrong", &timed);
		clock_t t1 = clock();
		int b = accounts_verify(acc, "nobody@x.test", "wrong", &timed);
		known += t1 - t0;
		unknown += clock() - t1;
		if (a != 0 || b != 0)
			CHECK(0, "both refused");
	}
	printf("# 10 wrong-password %ld us, 10 unknown-user %ld us (CPU)\n",
	       (long)known, (long)unknown);
	CHECK(unknown < 2 * known && known < 2 * unknown,
	      "unknown user costs what a wrong password costs (within 2x)");
}

int main(void)
{
	char tmpl[] = "/tmp/test-accounts.XXXXXX";
	char *base = mkdtemp(tmpl);
	CHECK(base != NULL, "temp dir");
	if (base == NULL)
		return TEST_DONE();
	char path[256], file[300];
	snprintf(path, sizeof(path), "%s/auth", base);
	snprintf(file, sizeof(file), "%s/accounts.db", path);

	struct accounts *acc = NULL;
	const char *error = NULL;
	CHECK(accounts_open(path, 0, &acc, &error) < 0 && acc == NULL,
	      "open without create fails: %s", error);
	CHECK(accounts_open(path, 1, &acc, &error) == 0, "create (%s)",
	      error ? error : "-");
	if (acc == NULL)
		return TEST_DONE();
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700,
	      "auth dir is 0700");
	CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600,
	      "accounts.db is 0600");

	test_basic(acc, file);
	test_timing(acc);

	CHECK(accounts_remove(acc, "timed@x.test", &error) == 0, "remove");
	CHECK(accounts_remove(acc, "timed@x.test", &error) < 0,
	      "remove twice refused: %s", error);
	CHECK(accounts_verify(acc, "timed@x.test", "right", &fast) == 0,
	      "removed user refused");
	accounts_close(&acc);
	CHECK(acc == NULL, "close sets NULL");
	accounts_close(&acc);

	/* A loosened mode (restored backup) is tightened on open. */
	CHECK(chmod(file, 0644) == 0 && chmod(path, 0755) == 0, "loosen");
	CHECK(accounts_open(path, 0, &acc, &error) == 0, "reopen (%s)",
	      error ? error : "-");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700 &&
	      stat(file, &st) == 0 && (st.st_mode & 0777) == 0600,
	      "modes tightened again");
	if (acc != NULL)
		CHECK(accounts_verify(acc, "alice@x.test", "new pass",
				      &fast) == 1, "data survives reopen");
	accounts_close(&acc);

	const char *const suffix[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s/accounts.db%s", path,
			 suffix[i]);
		unlink(file);
	}
	CHECK(rmdir(path) == 0 && rmdir(base) == 0, "cleanup");
	return TEST_DONE();
}
