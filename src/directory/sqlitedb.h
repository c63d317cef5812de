/* sqlitedb.h: opening the small SQLite databases of redoubt (directory.db,
 * accounts.db) the same careful way, and applying versioned migrations.
 *
 * One place decides the file modes (directory 0700, file 0600, so the WAL
 * and SHM files SQLite derives from it are 0600 too), the pragmas (WAL,
 * synchronous=FULL, foreign keys, defensive mode, no extension loading, no
 * trusted schema) and the migration bookkeeping (table schema_migrations,
 * one row per applied version, all in one IMMEDIATE transaction). SQL is
 * only ever run through prepared statements over constant strings; values
 * are bound, never pasted.
 *
 * Return convention: 0 success, -1 failure with *error_r set to a static
 * string or to sqlite3_errmsg() of the connection (valid until its next
 * call). */
#ifndef RD_SQLITEDB_H
#define RD_SQLITEDB_H
#include <stddef.h>
#include <sqlite3.h>

struct sqlitedb_migration {
	int version;      /* 1, 2, 3 ... in order */
	const char *sql;  /* constant DDL, may hold several statements */
};

struct sqlitedb_options {
	const char *file_name;  /* inside dir_path, e.g. "directory.db" */
	int create;             /* create the directory and file if missing */
	int secure_delete;      /* overwrite deleted content (credentials) */
	const struct sqlitedb_migration *migrations;
	size_t migration_count;
	/* Constant statements to prepare once the schema is current, into
	 * stmts_out[0..statement_count-1]; free with sqlitedb_finalize_all. */
	const char *const *statements;
	size_t statement_count;
	sqlite3_stmt **stmts_out;
};

int sqlitedb_open(const char *dir_path, const struct sqlitedb_options *opt,
		  sqlite3 **db_r, const char **error_r);
/* Closes and sets *db to NULL; NULL-safe. */
void sqlitedb_close(sqlite3 **db);

/* Run constant SQL (several statements allowed), stepping each to the end. */
int sqlitedb_exec(sqlite3 *db, const char *sql, const char **error_r);

/* Prepare n constant statements into stmts (persistent); on failure none
 * stays prepared. */
int sqlitedb_prepare_all(sqlite3 *db, const char *const *sql, size_t n,
			 sqlite3_stmt **stmts, const char **error_r);
void sqlitedb_finalize_all(sqlite3_stmt **stmts, size_t n);

int sqlitedb_begin(sqlite3 *db, const char **error_r);  /* IMMEDIATE */
int sqlitedb_commit(sqlite3 *db, const char **error_r);
void sqlitedb_rollback(sqlite3 *db);

/* Step a statement whose result is "no row": -1 with the error if it
 * fails. The statement is reset and its bindings cleared either way. */
int sqlitedb_step_done(sqlite3 *db, sqlite3_stmt *st, const char **error_r);
/* Bind text (SQLITE_STATIC: the caller keeps it alive until the step). */
int sqlitedb_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* Reset and clear bindings, so no statement holds a read lock or a pointer
 * into caller memory between uses. */
void sqlitedb_reset(sqlite3_stmt *st);

#endif
