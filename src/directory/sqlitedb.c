/* sqlitedb.c: see sqlitedb.h. */
#include "directory/sqlitedb.h"
#include "limits.h"
#include "lib/log.h"
#include <errno.h>
#include <fcntl.h>
/* PATH_MAX: <limits.h> would find src/limits.h first (-Isrc). */
#include <linux/limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char **error_r, const char *msg)
{
	*error_r = msg;
	return -1;
}

int sqlitedb_exec(sqlite3 *db, const char *sql, const char **error_r)
{
	while (sql != NULL && *sql != '\0') {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK)
			return fail(error_r, sqlite3_errmsg(db));
		if (st == NULL)  /* only whitespace or comments left */
			break;
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return fail(error_r, sqlite3_errmsg(db));
		sql = tail;
	}
	return 0;
}

int sqlitedb_prepare_all(sqlite3 *db, const char *const *sql, size_t n,
			 sqlite3_stmt **stmts, const char **error_r)
{
	for (size_t i = 0; i < n; i++) {
		stmts[i] = NULL;
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &stmts[i], NULL) != SQLITE_OK) {
			*error_r = sqlite3_errmsg(db);
			sqlitedb_finalize_all(stmts, i);
			return -1;
		}
	}
	return 0;
}

void sqlitedb_finalize_all(sqlite3_stmt **stmts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
}

int sqlitedb_begin(sqlite3 *db, const char **error_r)
{
	return sqlitedb_exec(db, "BEGIN IMMEDIATE", error_r);
}

int sqlitedb_commit(sqlite3 *db, const char **error_r)
{
	if (sqlitedb_exec(db, "COMMIT", error_r) < 0) {
		sqlitedb_rollback(db);
		return -1;
	}
	return 0;
}

void sqlitedb_rollback(sqlite3 *db)
{
	const char *ignored;
	if (!sqlite3_get_autocommit(db))
		(void)sqlitedb_exec(db, "ROLLBACK", &ignored);
}

void sqlitedb_reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int sqlitedb_step_done(sqlite3 *db, sqlite3_stmt *st, const char **error_r)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		*error_r = sqlite3_errmsg(db);
	sqlitedb_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int sqlitedb_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	return sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC) == SQLITE_OK ?
		0 : -1;
}

/* Make sure dir_path is a directory only we can enter; create it when
 * asked. Existing looser modes are tightened rather than refused: a restored
 * backup with 0755 should not take logins down, and 0700 is always right. */
static int prepare_dir(const char *dir_path, int create, const char **error_r)
{
	if (create && mkdir(dir_path, 0700) < 0 && errno != EEXIST)
		return fail(error_r, "cannot create the database directory");
	struct stat st;
	if (stat(dir_path, &st) < 0)
		return fail(error_r, "database directory does not exist");
	if (!S_ISDIR(st.st_mode))
		return fail(error_r, "database directory is not a directory");
	if ((st.st_mode & 077) != 0 && chmod(dir_path, 0700) < 0)
		return fail(error_r, "cannot make the database directory 0700");
	return 0;
}

/* Create (or check) the file ourselves with 0600 before SQLite sees it:
 * SQLite would create it 0644 & ~umask, and the -wal / -shm files copy the
 * main file's mode. O_NOFOLLOW: a symlink planted here is refused. */
static int prepare_file(const char *path, int create, const char **error_r)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW |
		      (create ? O_CREAT : 0), 0600);
	if (fd < 0)
		return fail(error_r, errno == ENOENT ?
			    "database does not exist" :
			    "cannot open the database file");
	struct stat st;
	int ret = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		ret = fail(error_r, "database is not a regular file");
	else if ((st.st_mode & 077) != 0 && fchmod(fd, 0600) < 0)
		ret = fail(error_r, "cannot make the database file 0600");
	close(fd);
	return ret;
}

static int set_wal(sqlite3 *db, const char **error_r)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st,
			       NULL) != SQLITE_OK)
		return fail(error_r, sqlite3_errmsg(db));
	int ok = sqlite3_step(st) == SQLITE_ROW &&
		 sqlite3_column_text(st, 0) != NULL &&
		 strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	return ok ? 0 : fail(error_r, "cannot switch the database to WAL");
}

static int configure(sqlite3 *db, int secure_delete, const char **error_r)
{
	/* Defensive: no writes to the schema or shadow tables from SQL, no
	 * functions the schema could call on our behalf. */
	if (sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) !=
	    SQLITE_OK ||
	    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) !=
	    SQLITE_OK ||
	    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
			      NULL) != SQLITE_OK)
		return fail(error_r, "cannot configure SQLite defensively");
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, (int)RD_SQLITE_BUSY_TIMEOUT_MS);
	if (set_wal(db, error_r) < 0)
		return -1;
	/* FULL: an admin change (a new user, a password) is durable once the
	 * call returns. */
	if (sqlitedb_exec(db, "PRAGMA synchronous=FULL;"
			  "PRAGMA foreign_keys=ON;", error_r) < 0)
		return -1;
	if (secure_delete &&
	    sqlitedb_exec(db, "PRAGMA secure_delete=ON", error_r) < 0)
		return -1;
	return 0;
}

static int current_version(sqlite3 *db, int *version_r, const char **error_r)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) "
			       "FROM schema_migrations", -1, &st, NULL) !=
	    SQLITE_OK)
		return fail(error_r, sqlite3_errmsg(db));
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version_r = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : fail(error_r, sqlite3_errmsg(db));
}

static int record_version(sqlite3 *db, int version, const char **error_r)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO schema_migrations"
			       "(version, applied) VALUES (?1, "
			       "CAST(strftime('%s','now') AS INTEGER))", -1,
			       &st, NULL) != SQLITE_OK)
		return fail(error_r, sqlite3_errmsg(db));
	sqlite3_bind_int(st, 1, version);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(error_r, sqlite3_errmsg(db));
}

/* All missing migrations in one IMMEDIATE transaction: two processes
 * opening a fresh file at once serialise here, and a crash leaves the old
 * schema, never half of a new one. */
static int migrate(sqlite3 *db, const struct sqlitedb_options *opt,
		   const char **error_r)
{
	if (sqlitedb_begin(db, error_r) < 0)
		return -1;
	int version = 0;
	if (sqlitedb_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations("
			  "version INTEGER PRIMARY KEY, "
			  "applied INTEGER NOT NULL)", error_r) < 0 ||
	    current_version(db, &version, error_r) < 0)
		goto fail;
	int newest = opt->migration_count == 0 ? 0 :
		opt->migrations[opt->migration_count - 1].version;
	if (version > newest) {
		*error_r = "database schema is newer than this redoubt";
		goto fail;
	}
	for (size_t i = 0; i < opt->migration_count; i++) {
		const struct sqlitedb_migration *m = &opt->migrations[i];
		if (m->version <= version)
			continue;
		if (sqlitedb_exec(db, m->sql, error_r) < 0 ||
		    record_version(db, m->version, error_r) < 0)
			goto fail;
	}
	return sqlitedb_commit(db, error_r);
fail:
	sqlitedb_rollback(db);
	return -1;
}

static int join_path(char *out, size_t outlen, const char *dir,
		     const char *name)
{
	size_t dlen = strlen(dir), nlen = strlen(name), total;
	if (__builtin_add_overflow(dlen, nlen, &total) ||
	    __builtin_add_overflow(total, 2u, &total) || total > outlen)
		return -1;
	memcpy(out, dir, dlen);
	out[dlen] = '/';
	memcpy(out + dlen + 1, name, nlen + 1);
	return 0;
}

int sqlitedb_open(const char *dir_path, const struct sqlitedb_options *opt,
		  sqlite3 **db_r, const char **error_r)
{
	char path[PATH_MAX];
	*db_r = NULL;
	if (dir_path == NULL || *dir_path == '\0')
		return fail(error_r, "database directory not given");
	if (join_path(path, sizeof(path), dir_path, opt->file_name) < 0)
		return fail(error_r, "database path too long");
	if (prepare_dir(dir_path, opt->create, error_r) < 0 ||
	    prepare_file(path, opt->create, error_r) < 0)
		return -1;

	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
				 SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		/* The connection's message dies with it: use the static one. */
		*error_r = sqlite3_errstr(rc);
		sqlite3_close(db);
		return -1;
	}
	if (configure(db, opt->secure_delete, error_r) < 0 ||
	    migrate(db, opt, error_r) < 0 ||
	    sqlitedb_prepare_all(db, opt->statements, opt->statement_count,
				 opt->stmts_out, error_r) < 0) {
		/* SQLite's own message lives in db, which is about to go:
		 * log it, hand back a static one. Our static messages (a
		 * schema that is too new, say) pass through unchanged. */
		if (*error_r == sqlite3_errmsg(db)) {
			log_error("sqlite_open_failed", "path", path,
				  "error", *error_r);
			*error_r = "cannot initialise the database (the log "
				   "has SQLite's reason)";
		}
		sqlite3_close(db);
		return -1;
	}
	*db_r = db;
	return 0;
}

void sqlitedb_close(sqlite3 **db)
{
	if (db == NULL || *db == NULL)
		return;
	sqlite3_close(*db);
	*db = NULL;
}
