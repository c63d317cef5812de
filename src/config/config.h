/* config.h: redoubt's typed configuration file, DATA/redoubt.conf.
 *
 * The file is INI-like: "key = value" lines grouped under "[section]"
 * headers, "#" comments on their own lines, blank lines. Every setting has
 * a type (DNS name, on/off, host:port, path, integer with a range) and a
 * default; an unknown section or key, a bad value, a repeated key, a line
 * over RD_CONFIG_MAX_LINE, a NUL or control byte are all errors, because a
 * typo that silently keeps a default is how a server ends up listening
 * where its operator did not mean it to.
 *
 * config_parse() is pure (no I/O, no allocation) and fuzzed; config_load()
 * is the small loader around it and config_write_default() writes the
 * commented file `redoubt init` creates.
 *
 * Return conventions: config_parse() and config_load() return 0, or -1 with
 * a complete message "file:line: section.key: problem" in err (always
 * NUL-terminated when errlen > 0). The other functions are documented
 * below. */
#ifndef RD_CONFIG_H
#define RD_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include "limits.h"
#include "lib/buffer.h"
#include "lib/log.h"

struct config_listen {
	int enabled;                 /* 0 when the value was "off" */
	char host[RD_CONFIG_MAX_LISTEN_HOST + 1]; /* IPv6 without brackets */
	unsigned short port;         /* 1..65535 when enabled, else 0 */
};

struct config {
	/* [server] */
	char hostname[RD_DNS_NAME_MAX + 1];
	int sandbox;                 /* 1 on, 0 off */
	enum log_level log_level;
	char user[RD_CONFIG_MAX_USER + 1];
	char front_user[RD_CONFIG_MAX_USER + 1];
	/* [listen] */
	struct config_listen smtp;
	struct config_listen submission;
	struct config_listen submissions;
	struct config_listen imap;
	struct config_listen imaps;
	struct config_listen https;
	/* [tls]: relative to the data directory, or absolute */
	char tls_certificate[RD_CONFIG_MAX_PATH + 1];
	char tls_key[RD_CONFIG_MAX_PATH + 1];
	/* [auth] */
	uint32_t argon2_opslimit;
	uint64_t argon2_memlimit_kib;
	uint32_t fail_delay_ms;
	/* [limits] */
	uint64_t max_message_size;
	uint32_t max_recipients;
	uint64_t mailbox_quota_mib;  /* 0: none */
	/* The label errors were reported against (the path given to
	 * config_load), so later messages can name the file too. */
	char file[256];
};

/* Fill c with the built-in defaults (the values documented in the file
 * config_write_default() produces). file is set to "". */
void config_defaults(struct config *c);

/* Parse len bytes of text (need not be NUL-terminated). Settings absent
 * from the text keep their defaults: c is reset with config_defaults()
 * first. On error c is left unchanged, err holds
 * "file_label:line: section.key: message" and -1 is returned. */
int config_parse(struct config *c, const char *file_label,
		 const char *text, size_t len, char *err, size_t errlen);

/* Read path (a regular file, not a symlink, not writable by others, at
 * most RD_CONFIG_MAX_SIZE bytes) and parse it with path as the label. */
int config_load(struct config *c, const char *path, char *err, size_t errlen);

/* 1 if every setting of a equals that of b (file is not compared), else 0.
 * Compares field by field, so struct padding never matters. */
int config_equal(const struct config *a, const struct config *b);

/* Append to out the whole configuration as a commented file: every section
 * and key with what it does, its default and c's value. Returns 0, or -1
 * with *error_r set if out's cap is reached. */
int config_format(const struct config *c, struct buffer *out,
		  const char **error_r);

/* Create the commented default file name in dirfd with hostname
 * substituted. Refuses to replace an existing file. The file is written
 * to a temporary name, fsynced and linked into place, so a crash never
 * leaves a half-written config. Returns 0, or -1 with *error_r set (a
 * static string) and errno set when a system call failed. */
int config_write_default(int dirfd, const char *name, const char *hostname,
			 const char **error_r);
/* The same for any settings c (init writes tuned Argon2 parameters). */
int config_write_new(int dirfd, const char *name, const struct config *c,
		     const char **error_r);

/* Validate a listen value: "off", "a.b.c.d:port", "[ipv6]:port" or
 * "dns.name:port", port 1..65535. On success host gets the address
 * without brackets (hostlen bytes at most, NUL included) and *port the
 * port. Returns 1 for an address, 0 for "off" (host "" and port 0), -1
 * with *error_r set to a static text meant to follow the quoted value,
 * e.g. "is not a valid port". */
int config_parse_hostport(const char *s, char *host, size_t hostlen,
			  unsigned short *port, const char **error_r);

#endif
