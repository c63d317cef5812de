/* accounts.c: see accounts.h. */
#include "auth/accounts.h"
#include "directory/address.h"
#include "directory/sqlitedb.h"
#include "lib/log.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct sqlitedb_migration accounts_migrations[] = {
	{ 1,
	  "CREATE TABLE credentials("
	  " address TEXT PRIMARY KEY NOT NULL,"
	  " hash TEXT NOT NULL,"
	  " created INTEGER NOT NULL,"
	  " updated INTEGER NOT NULL) WITHOUT ROWID;" },
};

enum stmt { ST_GET, ST_SET, ST_DEL, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {
	[ST_GET] = "SELECT hash FROM credentials WHERE address = ?1",
	[ST_SET] = "INSERT INTO credentials(address, hash, created, updated) "
		   "VALUES (?1, ?2, ?3, ?3) ON CONFLICT(address) DO UPDATE "
		   "SET hash = excluded.hash, updated = excluded.updated",
	[ST_DEL] = "DELETE FROM credentials WHERE address = ?1",
};

struct accounts {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	struct password_dummy dummy;
};

static int fail(const char **error_r, const char *msg)
{
	*error_r = msg;
	return -1;
}

int accounts_open(const char *dir_path, int create, struct accounts **acc_r,
		  const char **error_r)
{
	*acc_r = NULL;
	if (sodium_init() < 0)
		return fail(error_r, "libsodium failed to initialise");
	struct accounts *acc = calloc(1, sizeof(*acc));
	if (acc == NULL)
		return fail(error_r, "out of memory");
	password_dummy_init(&acc->dummy);
	const struct sqlitedb_options opt = {
		.file_name = "accounts.db",
		.create = create,
		.secure_delete = 1,
		.migrations = accounts_migrations,
		.migration_count = sizeof(accounts_migrations) /
				   sizeof(accounts_migrations[0]),
		.statements = stmt_sql,
		.statement_count = ST_COUNT,
		.stmts_out = acc->st,
	};
	if (sqlitedb_open(dir_path, &opt, &acc->db, error_r) < 0) {
		free(acc);
		return -1;
	}
	*acc_r = acc;
	return 0;
}

void accounts_close(struct accounts **acc)
{
	if (acc == NULL || *acc == NULL)
		return;
	sqlitedb_finalize_all((*acc)->st, ST_COUNT);
	sqlitedb_close(&(*acc)->db);
	sodium_memzero(&(*acc)->dummy, sizeof((*acc)->dummy));
	free(*acc);
	*acc = NULL;
}

static int store_hash(struct accounts *acc, const char *addr,
		      const char *hash, const char **error_r)
{
	sqlite3_stmt *st = acc->st[ST_SET];
	if (sqlitedb_bind_text(st, 1, addr) < 0 ||
	    sqlitedb_bind_text(st, 2, hash) < 0 ||
	    sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL)) !=
	    SQLITE_OK) {
		sqlitedb_reset(st);
		return fail(error_r, sqlite3_errmsg(acc->db));
	}
	return sqlitedb_step_done(acc->db, st, error_r);
}

int accounts_set_password(struct accounts *acc, const char *address,
			  const char *password,
			  const struct password_params *p,
			  const char **error_r)
{
	char addr[ADDRESS_BUF_SIZE], hash[PASSWORD_HASH_BUF];
	if (address_canon_err(address, addr, sizeof(addr), error_r) < 0 ||
	    password_hash(p, password, hash, sizeof(hash), error_r) < 0)
		return -1;
	return store_hash(acc, addr, hash, error_r);
}

int accounts_remove(struct accounts *acc, const char *address,
		    const char **error_r)
{
	char addr[ADDRESS_BUF_SIZE];
	if (address_canon_err(address, addr, sizeof(addr), error_r) < 0)
		return -1;
	sqlite3_stmt *st = acc->st[ST_DEL];
	if (sqlitedb_bind_text(st, 1, addr) < 0) {
		sqlitedb_reset(st);
		return fail(error_r, sqlite3_errmsg(acc->db));
	}
	if (sqlitedb_step_done(acc->db, st, error_r) < 0)
		return -1;
	return sqlite3_changes(acc->db) > 0 ? 0 :
		fail(error_r, "no such account");
}

/* 1 found (hash copied), 0 unknown, -1 database failure. */
static int load_hash(struct accounts *acc, const char *addr, char *hash,
		     size_t hashlen)
{
	sqlite3_stmt *st = acc->st[ST_GET];
	int ret = -1;
	if (sqlitedb_bind_text(st, 1, addr) == 0) {
		int rc = sqlite3_step(st);
		const char *h = rc == SQLITE_ROW ?
			(const char *)sqlite3_column_text(st, 0) : NULL;
		if (h != NULL && strlen(h) < hashlen) {
			memcpy(hash, h, strlen(h) + 1);
			ret = 1;
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		}
	}
	if (ret < 0)
		log_error("accounts_read_failed", "error",
			  sqlite3_errmsg(acc->db));
	sqlitedb_reset(st);
	return ret;
}

int accounts_verify(struct accounts *acc, const char *address,
		    const char *password, const struct password_params *p)
{
	char addr[ADDRESS_BUF_SIZE], hash[PASSWORD_HASH_BUF];
	/* Every refusal below goes through the dummy, so the caller (and a
	 * timing observer) cannot tell which condition it was. */
	if (address_canon(address, addr, sizeof(addr)) < 0 ||
	    load_hash(acc, addr, hash, sizeof(hash)) != 1)
		return password_verify_dummy(&acc->dummy, p, password);
	if (!password_verify(hash, password))
		return 0;
	if (password_needs_rehash(hash, p)) {
		const char *error = NULL;
		if (accounts_set_password(acc, addr, password, p, &error) < 0)
			log_warn("accounts_rehash_failed", "error", error);
	}
	return 1;
}
