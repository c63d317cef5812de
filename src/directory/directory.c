/* directory.c: see directory.h. Schema and statements are constants below;
 * every value is bound. Writes that check before they change (a user's
 * domain exists, an alias is not a user) run in one IMMEDIATE transaction so
 * two admin commands racing cannot both pass the check. */
#include "directory/directory.h"
#include "directory/directory-private.h"
#include "directory/address.h"
#include "directory/sqlitedb.h"
#include "lib/buffer.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct sqlitedb_migration directory_migrations[] = {
	{ 1,
	  "CREATE TABLE domains("
	  " name TEXT PRIMARY KEY NOT NULL,"
	  " created INTEGER NOT NULL) WITHOUT ROWID;"
	  "CREATE TABLE users("
	  " address TEXT PRIMARY KEY NOT NULL,"
	  " domain TEXT NOT NULL REFERENCES domains(name),"
	  " store_id TEXT NOT NULL UNIQUE,"
	  " created INTEGER NOT NULL);"
	  "CREATE INDEX users_domain ON users(domain);"
	  /* Ids of removed users, so one is never given out twice. */
	  "CREATE TABLE retired_store_ids("
	  " store_id TEXT PRIMARY KEY NOT NULL,"
	  " address TEXT NOT NULL,"
	  " retired INTEGER NOT NULL) WITHOUT ROWID;"
	  "CREATE TABLE aliases("
	  " alias TEXT NOT NULL,"
	  " domain TEXT NOT NULL REFERENCES domains(name),"
	  " target TEXT NOT NULL,"
	  " created INTEGER NOT NULL,"
	  " PRIMARY KEY (alias, target)) WITHOUT ROWID;"
	  "CREATE INDEX aliases_domain ON aliases(domain);"
	  "CREATE INDEX aliases_target ON aliases(target);" },
	/* 2: grants (IMAP ACL, RFC 4314): owner lets grantee use one of
	 * their mailboxes with the rights given; see grants.c. */
	{ 2,
	  "CREATE TABLE grants("
	  " owner TEXT NOT NULL REFERENCES users(address),"
	  " mailbox TEXT NOT NULL,"
	  " grantee TEXT NOT NULL REFERENCES users(address),"
	  " rights TEXT NOT NULL,"
	  " created INTEGER NOT NULL,"
	  " PRIMARY KEY (owner, mailbox, grantee)) WITHOUT ROWID;"
	  "CREATE INDEX grants_grantee ON grants(grantee);" },
};

enum stmt {
	ST_DOMAIN_ADD, ST_DOMAIN_DEL, ST_DOMAIN_LIST, ST_DOMAIN_GET,
	ST_DOMAIN_USED,
	ST_USER_ADD, ST_USER_DEL, ST_USER_GET, ST_USER_LIST_ALL,
	ST_USER_LIST_DOM, ST_STORE_ID_TAKEN, ST_STORE_ID_RETIRE,
	ST_ALIAS_ADD, ST_ALIAS_DEL_ONE, ST_ALIAS_DEL_ALL, ST_ALIAS_IS,
	ST_ALIAS_HAS, ST_ALIAS_COUNT, ST_ALIAS_TARGETS, ST_ALIAS_LIST_ALL,
	ST_ALIAS_LIST_DOM, ST_ALIAS_POINTING, ST_GRANTS_DEL_USER,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_DOMAIN_ADD] = "INSERT INTO domains(name, created) VALUES (?1, ?2)",
	[ST_DOMAIN_DEL] = "DELETE FROM domains WHERE name = ?1",
	[ST_DOMAIN_LIST] = "SELECT name FROM domains ORDER BY name",
	[ST_DOMAIN_GET] = "SELECT 1 FROM domains WHERE name = ?1",
	[ST_DOMAIN_USED] = "SELECT 1 FROM users WHERE domain = ?1 UNION ALL "
			   "SELECT 1 FROM aliases WHERE domain = ?1 LIMIT 1",
	[ST_USER_ADD] = "INSERT INTO users(address, domain, store_id, created)"
			" VALUES (?1, ?2, ?3, ?4)",
	[ST_USER_DEL] = "DELETE FROM users WHERE address = ?1",
	[ST_USER_GET] = "SELECT store_id FROM users WHERE address = ?1",
	[ST_USER_LIST_ALL] = "SELECT address, store_id FROM users "
			     "ORDER BY address",
	[ST_USER_LIST_DOM] = "SELECT address, store_id FROM users "
			     "WHERE domain = ?1 ORDER BY address",
	[ST_STORE_ID_TAKEN] = "SELECT 1 FROM users WHERE store_id = ?1 "
			      "UNION ALL SELECT 1 FROM retired_store_ids "
			      "WHERE store_id = ?1 LIMIT 1",
	[ST_STORE_ID_RETIRE] = "INSERT INTO retired_store_ids(store_id, "
			       "address, retired) SELECT store_id, address, "
			       "?2 FROM users WHERE address = ?1",
	[ST_ALIAS_ADD] = "INSERT INTO aliases(alias, domain, target, created)"
			 " VALUES (?1, ?2, ?3, ?4)",
	[ST_ALIAS_DEL_ONE] = "DELETE FROM aliases WHERE alias = ?1 "
			     "AND target = ?2",
	[ST_ALIAS_DEL_ALL] = "DELETE FROM aliases WHERE alias = ?1",
	[ST_ALIAS_IS] = "SELECT 1 FROM aliases WHERE alias = ?1 LIMIT 1",
	[ST_ALIAS_HAS] = "SELECT 1 FROM aliases WHERE alias = ?1 "
			 "AND target = ?2",
	[ST_ALIAS_COUNT] = "SELECT count(*) FROM aliases WHERE alias = ?1",
	[ST_ALIAS_TARGETS] = "SELECT target FROM aliases WHERE alias = ?1 "
			     "ORDER BY target",
	[ST_ALIAS_LIST_ALL] = "SELECT alias, target FROM aliases "
			      "ORDER BY alias, target",
	[ST_ALIAS_LIST_DOM] = "SELECT alias, target FROM aliases "
			      "WHERE domain = ?1 ORDER BY alias, target",
	[ST_ALIAS_POINTING] = "SELECT 1 FROM aliases WHERE target = ?1 "
			      "LIMIT 1",
	[ST_GRANTS_DEL_USER] = "DELETE FROM grants WHERE owner = ?1 "
			       "OR grantee = ?1",
};

/* Random bytes in a store id; two hex digits each. */
#define STORE_ID_RAW_BYTES 8u
_Static_assert(STORE_ID_RAW_BYTES * 2 <= RD_MAX_STORE_ID,
	       "store id must fit RD_MAX_STORE_ID");

struct directory {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
};

sqlite3 *directory_db(struct directory *d)
{
	return d->db;
}

static int fail(const char **error_r, const char *msg)
{
	*error_r = msg;
	return -1;
}

static int db_fail(struct directory *d, const char **error_r)
{
	return fail(error_r, sqlite3_errmsg(d->db));
}

/* Fetch a statement for use and bind up to two text values. A statement
 * that is mid-step belongs to a walk whose callback called us again:
 * resetting it would corrupt that walk, so refuse instead. */
static sqlite3_stmt *stmt_get(struct directory *d, enum stmt s,
			      const char *a1, const char *a2,
			      const char **error_r)
{
	sqlite3_stmt *st = d->st[s];
	if (sqlite3_stmt_busy(st)) {
		*error_r = "directory re-entered from its own walk callback";
		return NULL;
	}
	if ((a1 != NULL && sqlitedb_bind_text(st, 1, a1) < 0) ||
	    (a2 != NULL && sqlitedb_bind_text(st, 2, a2) < 0)) {
		*error_r = sqlite3_errmsg(d->db);
		sqlitedb_reset(st);
		return NULL;
	}
	return st;
}

/* 1 a row exists, 0 none, -1 error. */
static int row_exists(struct directory *d, enum stmt s, const char *a1,
		      const char *a2, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(d, s, a1, a2, error_r);
	if (st == NULL)
		return -1;
	int rc = sqlite3_step(st);
	int ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 :
		db_fail(d, error_r);
	sqlitedb_reset(st);
	return ret;
}

/* Run a write statement taking up to three texts as ?1..?3 and, when
 * time_idx > 0, the current time as ?time_idx. */
static int write_stmt(struct directory *d, enum stmt s, const char *a1,
		      const char *a2, const char *a3, int time_idx,
		      const char **error_r)
{
	sqlite3_stmt *st = stmt_get(d, s, a1, a2, error_r);
	if (st == NULL)
		return -1;
	if ((a3 != NULL && sqlitedb_bind_text(st, 3, a3) < 0) ||
	    (time_idx > 0 && sqlite3_bind_int64(st, time_idx,
			(sqlite3_int64)time(NULL)) != SQLITE_OK)) {
		sqlitedb_reset(st);
		return db_fail(d, error_r);
	}
	return sqlitedb_step_done(d->db, st, error_r);
}

/* What adding a user or an alias both require: the domain is hosted and the
 * address is not a user yet. */
static int check_new_local(struct directory *d, const char *addr,
			   const char *is_user, const char **error_r)
{
	int ret = row_exists(d, ST_DOMAIN_GET, address_domain(addr), NULL,
			     error_r);
	if (ret == 0)
		return fail(error_r, "domain is not hosted here");
	if (ret < 0)
		return -1;
	ret = row_exists(d, ST_USER_GET, addr, NULL, error_r);
	return ret > 0 ? fail(error_r, is_user) : ret;
}

int directory_open(const char *dir_path, int create, struct directory **dir_r,
		   const char **error_r)
{
	*dir_r = NULL;
	if (sodium_init() < 0)
		return fail(error_r, "libsodium failed to initialise");
	struct directory *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return fail(error_r, "out of memory");
	const struct sqlitedb_options opt = {
		.file_name = "directory.db",
		.create = create,
		.migrations = directory_migrations,
		.migration_count = sizeof(directory_migrations) /
				   sizeof(directory_migrations[0]),
		.statements = stmt_sql,
		.statement_count = ST_COUNT,
		.stmts_out = d->st,
	};
	if (sqlitedb_open(dir_path, &opt, &d->db, error_r) < 0) {
		free(d);
		return -1;
	}
	*dir_r = d;
	return 0;
}

void directory_close(struct directory **dir)
{
	if (dir == NULL || *dir == NULL)
		return;
	sqlitedb_finalize_all((*dir)->st, ST_COUNT);
	sqlitedb_close(&(*dir)->db);
	free(*dir);
	*dir = NULL;
}

/* Run a transaction body: commit if it returned 0, roll back otherwise. */
static int finish_tx(struct directory *d, int ret, const char **error_r)
{
	if (ret < 0) {
		sqlitedb_rollback(d->db);
		return -1;
	}
	return sqlitedb_commit(d->db, error_r);
}

/* A removal: key must exist (exists_st finds it), nothing may refer to it
 * (used_st finds nothing); then the writes run, all in one transaction. */
struct removal {
	enum stmt exists_st;
	const char *missing;
	enum stmt used_st;
	const char *in_use;
	struct { enum stmt st; int time_idx; } writes[3];  /* key is ?1 */
	size_t write_count;
};

static int remove_guarded(struct directory *d, const char *key,
			  const struct removal *rm, const char **error_r)
{
	if (sqlitedb_begin(d->db, error_r) < 0)
		return -1;
	int ret = row_exists(d, rm->exists_st, key, NULL, error_r);
	if (ret == 0)
		ret = fail(error_r, rm->missing);
	if (ret > 0)
		ret = row_exists(d, rm->used_st, key, NULL, error_r);
	if (ret > 0)
		ret = fail(error_r, rm->in_use);
	for (size_t i = 0; ret == 0 && i < rm->write_count; i++)
		ret = write_stmt(d, rm->writes[i].st, key, NULL, NULL,
				 rm->writes[i].time_idx, error_r);
	return finish_tx(d, ret, error_r);
}

/* ---- domains ---- */

int directory_domain_add(struct directory *d, const char *domain,
			 const char **error_r)
{
	char dom[DOMAIN_BUF_SIZE];
	if (domain_canon(domain, dom, sizeof(dom), error_r) < 0)
		return -1;
	if (sqlitedb_begin(d->db, error_r) < 0)
		return -1;
	int ret = row_exists(d, ST_DOMAIN_GET, dom, NULL, error_r);
	if (ret > 0)
		ret = fail(error_r, "domain already exists");
	else if (ret == 0)
		ret = write_stmt(d, ST_DOMAIN_ADD, dom, NULL, NULL, 2, error_r);
	return finish_tx(d, ret, error_r);
}

int directory_domain_remove(struct directory *d, const char *domain,
			    const char **error_r)
{
	static const struct removal rm = {
		ST_DOMAIN_GET, "no such domain",
		ST_DOMAIN_USED, "domain still has users or aliases; "
				"remove them first",
		{ { ST_DOMAIN_DEL, 0 } }, 1,
	};
	char dom[DOMAIN_BUF_SIZE];
	if (domain_canon(domain, dom, sizeof(dom), error_r) < 0)
		return -1;
	return remove_guarded(d, dom, &rm, error_r);
}

int directory_domain_exists(struct directory *d, const char *domain)
{
	char dom[DOMAIN_BUF_SIZE];
	const char *error;
	if (domain_canon(domain, dom, sizeof(dom), &error) < 0)
		return 0;
	return row_exists(d, ST_DOMAIN_GET, dom, NULL, &error) > 0;
}

/* One walk for every list: rows of one or two text columns. */
struct walk_cb {
	int (*one)(void *ctx, const char *a);
	int (*two)(void *ctx, const char *a, const char *b);
	void *ctx;
};

static int walk(struct directory *d, enum stmt s, const char *arg,
		const struct walk_cb *cb, const char **error_r)
{
	if (cb->one == NULL && cb->two == NULL)
		return fail(error_r, "no callback given");
	sqlite3_stmt *st = stmt_get(d, s, arg, NULL, error_r);
	if (st == NULL)
		return -1;
	int rc = SQLITE_DONE, ret = 0;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		const char *b = (const char *)sqlite3_column_text(st, 1);
		if (a == NULL || (cb->two != NULL && b == NULL))
			ret = fail(error_r, "NULL in a directory row");
		else if ((cb->one != NULL ? cb->one(cb->ctx, a) :
			  cb->two(cb->ctx, a, b)) != 0)
			ret = fail(error_r, "stopped by the callback");
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_fail(d, error_r);
	sqlitedb_reset(st);
	return ret;
}

int directory_domain_list(struct directory *d,
			  int (*cb)(void *ctx, const char *domain), void *ctx,
			  const char **error_r)
{
	const struct walk_cb w = { .one = cb, .ctx = ctx };
	return walk(d, ST_DOMAIN_LIST, NULL, &w, error_r);
}

/* Walk (a, b) pairs, all of them or, with a domain, through the filtered
 * statement: the user and alias lists. */
static int walk_filtered(struct directory *d, const char *domain_or_null,
			 enum stmt all, enum stmt one_domain,
			 int (*cb)(void *ctx, const char *a, const char *b),
			 void *ctx, const char **error_r)
{
	char dom[DOMAIN_BUF_SIZE];
	const struct walk_cb w = { .two = cb, .ctx = ctx };
	if (domain_or_null == NULL)
		return walk(d, all, NULL, &w, error_r);
	if (domain_canon(domain_or_null, dom, sizeof(dom), error_r) < 0)
		return -1;
	return walk(d, one_domain, dom, &w, error_r);
}

/* ---- users ---- */

/* 16 lower-case hex digits from 8 random bytes: unguessable, so a store id
 * seen somewhere (a log line, a path) tells nothing about the others. */
static int new_store_id(struct directory *d, char *out, size_t outlen,
			const char **error_r)
{
	unsigned char raw[STORE_ID_RAW_BYTES];
	if (outlen < sizeof(raw) * 2 + 1)
		return fail(error_r, "store id buffer too small");
	/* A collision is 2^-64 per try; a few tries make it impossible in
	 * practice while still bounding the loop. */
	for (int tries = 0; tries < 4; tries++) {
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(out, outlen, raw, sizeof(raw));
		int taken = row_exists(d, ST_STORE_ID_TAKEN, out, NULL,
				       error_r);
		if (taken <= 0)
			return taken;
	}
	return fail(error_r, "could not find an unused store id");
}

int directory_user_add(struct directory *d, const char *address,
		       char *store_id_out, size_t outlen, const char **error_r)
{
	char addr[ADDRESS_BUF_SIZE], sid[DIRECTORY_STORE_ID_BUF];
	if (outlen > 0)
		store_id_out[0] = '\0';
	if (address_canon_err(address, addr, sizeof(addr), error_r) < 0)
		return -1;
	if (outlen < STORE_ID_RAW_BYTES * 2 + 1)
		return fail(error_r, "store id buffer too small");
	const char *dom = address_domain(addr);
	if (sqlitedb_begin(d->db, error_r) < 0)
		return -1;
	int ret = check_new_local(d, addr, "user already exists", error_r);
	if (ret == 0)
		ret = row_exists(d, ST_ALIAS_IS, addr, NULL, error_r);
	if (ret > 0)
		ret = fail(error_r, "address is already an alias");
	if (ret == 0)
		ret = new_store_id(d, sid, sizeof(sid), error_r);
	if (ret == 0)
		ret = write_stmt(d, ST_USER_ADD, addr, dom, sid, 4, error_r);
	if (finish_tx(d, ret, error_r) < 0)
		return -1;
	(void)str_copy(store_id_out, outlen, sid);
	return 0;
}

int directory_user_remove(struct directory *d, const char *address,
			  const char **error_r)
{
	/* Retire the store id first: the user row is its source. Grants
	 * by and to the user go with it. */
	static const struct removal rm = {
		ST_USER_GET, "no such user",
		ST_ALIAS_POINTING, "aliases still point to this user; "
				   "remove them first",
		{ { ST_STORE_ID_RETIRE, 2 }, { ST_GRANTS_DEL_USER, 0 },
		  { ST_USER_DEL, 0 } }, 3,
	};
	char addr[ADDRESS_BUF_SIZE];
	if (address_canon_err(address, addr, sizeof(addr), error_r) < 0)
		return -1;
	return remove_guarded(d, addr, &rm, error_r);
}

int directory_user_list(struct directory *d, const char *domain_or_null,
			int (*cb)(void *ctx, const char *address,
				  const char *store_id),
			void *ctx, const char **error_r)
{
	return walk_filtered(d, domain_or_null, ST_USER_LIST_ALL,
			     ST_USER_LIST_DOM, cb, ctx, error_r);
}

/* 1 found (copied to out), 0 not a user, -1 error. addr is canonical. */
static int user_get(struct directory *d, const char *addr, char *out,
		    size_t outlen, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(d, ST_USER_GET, addr, NULL, error_r);
	if (st == NULL)
		return -1;
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW) {
		const char *sid = (const char *)sqlite3_column_text(st, 0);
		ret = sid != NULL && str_copy(out, outlen, sid) == 0 ? 1 :
			fail(error_r, "store id does not fit the buffer");
	} else {
		ret = rc == SQLITE_DONE ? 0 : db_fail(d, error_r);
	}
	sqlitedb_reset(st);
	return ret;
}

int directory_user_lookup(struct directory *d, const char *address,
			  char *store_id_out, size_t outlen)
{
	char addr[ADDRESS_BUF_SIZE];
	const char *error;
	if (outlen > 0)
		store_id_out[0] = '\0';
	if (address_canon(address, addr, sizeof(addr)) < 0)
		return -1;
	return user_get(d, addr, store_id_out, outlen, &error) == 1 ? 0 : -1;
}

/* ---- aliases ---- */

/* A target in a hosted domain must exist; elsewhere it is forwarding. */
static int check_target(struct directory *d, const char *target,
			const char **error_r)
{
	int ret = row_exists(d, ST_DOMAIN_GET, address_domain(target), NULL,
			     error_r);
	if (ret <= 0)
		return ret;
	ret = row_exists(d, ST_USER_GET, target, NULL, error_r);
	if (ret == 0)
		ret = row_exists(d, ST_ALIAS_IS, target, NULL, error_r);
	if (ret == 0)
		return fail(error_r, "target is in a hosted domain but is "
			    "neither a user nor an alias");
	return ret < 0 ? -1 : 0;
}

static int alias_target_count(struct directory *d, const char *alias,
			      long long *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(d, ST_ALIAS_COUNT, alias, NULL, error_r);
	if (st == NULL)
		return -1;
	int ret = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		*count_r = sqlite3_column_int64(st, 0);
	else
		ret = db_fail(d, error_r);
	sqlitedb_reset(st);
	return ret;
}

int directory_alias_add(struct directory *d, const char *alias,
			const char *target, const char **error_r)
{
	char al[ADDRESS_BUF_SIZE], tg[ADDRESS_BUF_SIZE];
	if (address_canon_err(alias, al, sizeof(al), error_r) < 0 ||
	    address_canon_err(target, tg, sizeof(tg), error_r) < 0)
		return -1;
	if (strcmp(al, tg) == 0)
		return fail(error_r, "an alias cannot point to itself");
	const char *dom = address_domain(al);
	if (sqlitedb_begin(d->db, error_r) < 0)
		return -1;
	long long count = 0;
	int ret = check_new_local(d, al, "alias is already a user", error_r);
	if (ret == 0)
		ret = row_exists(d, ST_ALIAS_HAS, al, tg, error_r);
	if (ret > 0)
		ret = fail(error_r, "alias already has this target");
	if (ret == 0)
		ret = check_target(d, tg, error_r);
	if (ret == 0)
		ret = alias_target_count(d, al, &count, error_r);
	if (ret == 0 && count >= (long long)RD_DIRECTORY_MAX_EXPANSION)
		ret = fail(error_r, "alias has too many targets");
	if (ret == 0)
		ret = write_stmt(d, ST_ALIAS_ADD, al, dom, tg, 4, error_r);
	return finish_tx(d, ret, error_r);
}

int directory_alias_remove(struct directory *d, const char *alias,
			   const char *target_or_null, const char **error_r)
{
	char al[ADDRESS_BUF_SIZE], tg[ADDRESS_BUF_SIZE];
	if (address_canon_err(alias, al, sizeof(al), error_r) < 0)
		return -1;
	if (target_or_null != NULL &&
	    address_canon_err(target_or_null, tg, sizeof(tg), error_r) < 0)
		return -1;
	int ret = target_or_null == NULL ?
		write_stmt(d, ST_ALIAS_DEL_ALL, al, NULL, NULL, 0, error_r) :
		write_stmt(d, ST_ALIAS_DEL_ONE, al, tg, NULL, 0, error_r);
	if (ret == 0 && sqlite3_changes(d->db) == 0)
		ret = fail(error_r, target_or_null == NULL ? "no such alias" :
			   "alias has no such target");
	return ret;
}

int directory_alias_list(struct directory *d, const char *domain_or_null,
			 int (*cb)(void *ctx, const char *alias,
				   const char *target),
			 void *ctx, const char **error_r)
{
	return walk_filtered(d, domain_or_null, ST_ALIAS_LIST_ALL,
			     ST_ALIAS_LIST_DOM, cb, ctx, error_r);
}

/* ---- resolve ---- */

struct resolve {
	struct directory *d;
	int (*cb)(void *ctx, const char *address, const char *store_id);
	void *ctx;
	/* Every address visited so far: ends cycles and emits each recipient
	 * once. Linear search is fine at RD_DIRECTORY_MAX_EXPANSION. */
	char **seen;
	size_t seen_count;
	int found;
	const char **error_r;
};

/* 1 already seen, 0 newly recorded, -1 cap hit or out of memory. */
static int mark_seen(struct resolve *r, const char *addr)
{
	for (size_t i = 0; i < r->seen_count; i++)
		if (strcmp(r->seen[i], addr) == 0)
			return 1;
	if (r->seen_count >= RD_DIRECTORY_MAX_EXPANSION)
		return fail(r->error_r, "alias expands to too many addresses");
	char *copy = strdup(addr);
	if (copy == NULL)
		return fail(r->error_r, "out of memory");
	r->seen[r->seen_count++] = copy;
	return 0;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Copy an alias's targets out, so the statement is reset before we recurse
 * (the recursion needs it again). At most RD_DIRECTORY_MAX_EXPANSION. */
static int alias_targets(struct resolve *r, const char *alias,
			 char ***targets_r, size_t *count_r)
{
	struct directory *d = r->d;
	*targets_r = NULL;
	*count_r = 0;
	sqlite3_stmt *st = stmt_get(d, ST_ALIAS_TARGETS, alias, NULL,
				    r->error_r);
	if (st == NULL)
		return -1;
	char **v = calloc(RD_DIRECTORY_MAX_EXPANSION, sizeof(*v));
	size_t n = 0;
	int rc = SQLITE_DONE;
	int ret = v == NULL ? fail(r->error_r, "out of memory") : 0;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (n >= RD_DIRECTORY_MAX_EXPANSION)
			ret = fail(r->error_r, "alias has too many targets");
		else if (t == NULL || (v[n] = strdup(t)) == NULL)
			ret = fail(r->error_r, "out of memory");
		else
			n++;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_fail(d, r->error_r);
	sqlitedb_reset(st);
	if (ret < 0) {
		free_strings(v, n);
		return -1;
	}
	*targets_r = v;
	*count_r = n;
	return 0;
}

static int emit(struct resolve *r, const char *addr, const char *store_id)
{
	r->found++;
	if (r->cb != NULL && r->cb(r->ctx, addr, store_id) != 0)
		return fail(r->error_r, "stopped by the callback");
	return 0;
}

static int resolve_one(struct resolve *r, const char *addr, unsigned depth)
{
	char sid[DIRECTORY_STORE_ID_BUF];
	int ret = mark_seen(r, addr);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	ret = user_get(r->d, addr, sid, sizeof(sid), r->error_r);
	if (ret != 0)
		return ret < 0 ? -1 : emit(r, addr, sid);

	char **targets;
	size_t n;
	if (alias_targets(r, addr, &targets, &n) < 0)
		return -1;
	if (n == 0) {
		free(targets);
		/* The address asked about must be ours; a target outside our
		 * domains is forwarding, one inside them is dangling. */
		if (depth == 0)
			return 0;
		ret = row_exists(r->d, ST_DOMAIN_GET, address_domain(addr),
				 NULL, r->error_r);
		return ret != 0 ? (ret < 0 ? -1 : 0) : emit(r, addr, NULL);
	}
	if (depth >= RD_DIRECTORY_MAX_ALIAS_DEPTH)
		ret = fail(r->error_r, "alias chain is nested too deeply");
	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = resolve_one(r, targets[i], depth + 1);
	free_strings(targets, n);
	return ret;
}

int directory_resolve(struct directory *d, const char *address,
		      int (*cb)(void *ctx, const char *address,
				const char *store_id),
		      void *ctx, const char **error_r)
{
	char addr[ADDRESS_BUF_SIZE];
	if (address_canon_err(address, addr, sizeof(addr), error_r) < 0)
		return -1;
	struct resolve r = {
		.d = d, .cb = cb, .ctx = ctx, .error_r = error_r,
		.seen = calloc(RD_DIRECTORY_MAX_EXPANSION, sizeof(char *)),
	};
	if (r.seen == NULL)
		return fail(error_r, "out of memory");
	int ret = resolve_one(&r, addr, 0);
	free_strings(r.seen, r.seen_count);
	return ret < 0 ? -1 : r.found;
}
