/* cli-audit.c: `redoubt audit verify | query | report`.
 *
 * All three only read DATA/audit; run as root they read as root (the
 * files belong to the roles' user) and never write. Every value printed
 * for a person goes through audit_escape, so a hostile user name cannot
 * drive the operator's terminal. */
#include "cli/cli-common.h"
#include "audit/audit-log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Exit statuses of `audit verify` beyond CLI_OK / CLI_FAIL / CLI_USAGE. */
#define CLI_AUDIT_TORN 3
#define CLI_AUDIT_UNREADABLE 4

static const char audit_usage[] =
	"usage: redoubt audit verify --data DIR [--pubkey FILE]\n"
	"       redoubt audit query --data DIR [--user U] [--address A] [--kind K]\n"
	"                           [--since T] [--until T] [--json]\n"
	"       redoubt audit report --data DIR --user U\n"
	"\n"
	"Read the hash-chained audit log in DIR/audit. Each verb takes --help.\n";

static const char verify_usage[] =
	"usage: redoubt audit verify --data DIR [--pubkey FILE]\n"
	"\n"
	"Check every record's hash, the chain of prev hashes, the sequence numbers,\n"
	"the segment numbering and every checkpoint signature, and name the first\n"
	"record that was edited, removed, reordered or cut off (segment, line, seq).\n"
	"Checkpoints are checked against DIR/audit/signing.pub, or against FILE:\n"
	"keep a copy of the printed public key off this machine and pass it here,\n"
	"since whoever can replace the log can replace signing.pub too.\n"
	"\n"
	"Exit status: 0 intact (crash-torn records the server already recorded are\n"
	"noted, not failures); 1 tampered; 3 the last record is torn (a crash, or\n"
	"a cut file; the server records it and starts a new segment at its next\n"
	"start); 4 the log or key cannot be read; 2 usage.\n";

static const char query_usage[] =
	"usage: redoubt audit query --data DIR [--user U] [--address A] [--kind K]\n"
	"                           [--since T] [--until T] [--json]\n"
	"\n"
	"Print the audit records that match every option given, oldest first, as\n"
	"stored (one key=value line each) or with --json as one JSON object per\n"
	"line. --user matches principal, user (failed logins) or owner (whose mail\n"
	"was accessed); --address the client address. T is a UTC time:\n"
	"2026-11-28, 2026-11-28T04:00Z or 2026-11-28T04:00:00Z; both bounds are\n"
	"inclusive, and --until 2026-11-28 takes in that whole day. Query does not\n"
	"check the chain: run verify for that.\n";

static const char report_usage[] =
	"usage: redoubt audit report --data DIR --user U\n"
	"\n"
	"One page on who accessed U's mail, when, from where and how much, newest\n"
	"first: logins and failed logins to U, U's sessions, and every opening of\n"
	"U's mailboxes by another principal (shared mailboxes, delegation).\n";

static int audit_dir_of(const char *data, char *out, size_t outlen)
{
	char dir[2048];
	struct stat st;
	if (cli_abs_data(data, dir, sizeof(dir)) < 0)
		return -1;
	snprintf(out, outlen, "%s/audit", dir);
	if (stat(out, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "redoubt: %s: no audit directory\n", out);
		return -1;
	}
	return 0;
}

static void note_cb(void *ctx, const struct audit_place *p)
{
	if (p->segment[0])
		printf("note: %s line %lu (offset %llu): %s\n", p->segment, p->line,
		       (unsigned long long)p->offset, p->what);
	else
		printf("note: %s\n", p->what);
}

static int audit_verify_cmd(int argc, char **argv)
{
	const char *data = NULL, *pubfile = NULL;
	struct cli_opt opts[] = { { "--data", 1, &data }, { "--pubkey", 1, &pubfile },
				  { NULL, 0, NULL } };
	struct cli_args args;
	int r = cli_parse(argc, argv, 3, opts, &args, 0, verify_usage);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	char dir[2200];
	uint8_t pk[32];
	const char *err;
	if (data == NULL) {
		fprintf(stderr, "redoubt: --data DIR is required\n\n%s", verify_usage);
		return CLI_USAGE;
	}
	if (audit_dir_of(data, dir, sizeof(dir)) < 0)
		return CLI_AUDIT_UNREADABLE;
	if (pubfile != NULL && audit_read_pubkey(pubfile, pk, &err) < 0) {
		fprintf(stderr, "redoubt: %s: %s\n", pubfile, err);
		return CLI_AUDIT_UNREADABLE;
	}
	struct audit_verify_result res;
	enum audit_status st = audit_verify(dir, pubfile ? pk : NULL, note_cb, NULL, &res);
	if (st == AUDIT_ERROR) {
		fprintf(stderr, "redoubt: audit verify: %s%s%s\n", res.first_bad.segment,
			res.first_bad.segment[0] ? ": " : "", res.first_bad.what);
		return CLI_AUDIT_UNREADABLE;
	}
	printf("public key: %s (%s)\n", res.pubkey_hex,
	       pubfile ? pubfile : "signing.pub; keep a copy off this machine");
	printf("checked: %llu records in %u segment%s, %llu checkpoints, last signed seq %llu\n",
	       (unsigned long long)res.records, res.segments, res.segments == 1 ? "" : "s",
	       (unsigned long long)res.checkpoints, (unsigned long long)res.last_signed_seq);
	if (st == AUDIT_INTACT) {
		printf("intact: chain head %s at seq %llu\n", res.head_hex,
		       (unsigned long long)res.last_seq);
		return CLI_OK;
	}
	const struct audit_place *p = &res.first_bad;
	printf("%s: %s line %lu (offset %llu", st == AUDIT_TORN_TAIL ? "TORN TAIL" : "TAMPERED",
	       p->segment, p->line, (unsigned long long)p->offset);
	if (p->seq)
		printf(", seq %llu", (unsigned long long)p->seq);
	printf("): %s\n", p->what);
	if (st == AUDIT_TORN_TAIL)
		printf("everything before it is intact (%llu records)\n",
		       (unsigned long long)res.records);
	return st == AUDIT_TORN_TAIL ? CLI_AUDIT_TORN : CLI_FAIL;
}

/* JSON string: UTF-8 passes, other octets above 0x7f become \u00XX (read
 * as Latin-1), so the output is always valid JSON. */
static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	putchar('"');
	while (*p) {
		unsigned c = *p;
		size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 1;
		if (c >= 0x80 && n > 1 && c < 0xf5) {
			size_t i = 1;
			while (i < n && (p[i] & 0xc0) == 0x80)
				i++;
			if (i == n) {
				fwrite(p, 1, n, stdout);
				p += n;
				continue;
			}
		}
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar((int)c);
		p++;
	}
	putchar('"');
}

static int query_cb(void *ctx, const struct audit_record *rec, const char *line, size_t len,
		    const char *segment, unsigned long lineno)
{
	const int *json = ctx;
	if (!*json) {
		fwrite(line, 1, len, stdout);
		putchar('\n');
		return 0;
	}
	printf("{\"seq\":%llu,\"ts\":", (unsigned long long)rec->seq);
	json_str(rec->ts);
	printf(",\"kind\":");
	json_str(rec->kind);
	printf(",\"fields\":{");
	for (size_t i = 0; i < rec->nfields; i++) {
		if (i)
			putchar(',');
		json_str(rec->fields[i].key);
		putchar(':');
		json_str(rec->fields[i].value);
	}
	printf("},\"prev\":\"%s\",\"hash\":\"%s\",\"segment\":\"%s\",\"line\":%lu}\n",
	       rec->prev, rec->hash, segment, lineno);
	return 0;
}

static int parse_bound(const char *opt, const char *v, int upper, int64_t *ms)
{
	const char *err;
	if (v == NULL)
		return 0;
	if (audit_parse_user_time(v, upper, ms, &err) < 0) {
		fprintf(stderr, "redoubt: %s %s: %s\n", opt, v, err);
		return -1;
	}
	return 0;
}

static int audit_query_cmd(int argc, char **argv)
{
	const char *data = NULL, *user = NULL, *addr = NULL, *kind = NULL, *since = NULL,
		   *until = NULL, *json = NULL;
	struct cli_opt opts[] = { { "--data", 1, &data }, { "--user", 1, &user },
				  { "--address", 1, &addr }, { "--kind", 1, &kind },
				  { "--since", 1, &since }, { "--until", 1, &until },
				  { "--json", 0, &json }, { NULL, 0, NULL } };
	struct cli_args args;
	int r = cli_parse(argc, argv, 3, opts, &args, 0, query_usage);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	struct audit_filter f = { .user = user, .address = addr, .kind = kind };
	if (data == NULL) {
		fprintf(stderr, "redoubt: --data DIR is required\n\n%s", query_usage);
		return CLI_USAGE;
	}
	if (parse_bound("--since", since, 0, &f.since_ms) < 0 ||
	    parse_bound("--until", until, 1, &f.until_ms) < 0)
		return CLI_USAGE;
	char dir[2200];
	if (audit_dir_of(data, dir, sizeof(dir)) < 0)
		return CLI_FAIL;
	int as_json = json != NULL;
	uint64_t skipped;
	const char *err;
	if (audit_query(dir, &f, query_cb, &as_json, &skipped, &err) < 0) {
		fprintf(stderr, "redoubt: audit query: %s\n", err);
		return CLI_FAIL;
	}
	if (skipped)
		fprintf(stderr, "redoubt: %llu unreadable lines skipped; run redoubt audit verify\n",
			(unsigned long long)skipped);
	return CLI_OK;
}

/* ---- report ---- */

struct report {
	const char *user;
	char **lines;       /* ring of the newest RD_AUDIT_REPORT_MAX */
	size_t n, head;
	uint64_t older;
	uint64_t logins, failed, sessions, others;
};

/* A record field escaped for the terminal; "-" when absent. */
static const char *disp(const struct audit_record *rec, const char *key, char *buf, size_t len)
{
	const char *v = audit_record_get(rec, key);
	int printable = v != NULL && *v != '\0';
	for (const char *p = v; printable && *p; p++)
		printable = *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
	if (printable)
		return v;   /* nothing a terminal would act on: show it as is */
	if (v == NULL || audit_escape(buf, len, v, strlen(v)) < 0)
		return "-";
	return buf;
}

static int report_cb(void *ctx, const struct audit_record *rec, const char *line, size_t len,
		     const char *segment, unsigned long lineno)
{
	struct report *rp = ctx;
	char who[1100], from[1100], a[1100], b[1100], c[1100], d[1100], what[6000], out[8400];
	const char *k = rec->kind;
	const char *principal = audit_record_get(rec, AUDIT_F_PRINCIPAL);
	const char *whos = disp(rec, principal ? AUDIT_F_PRINCIPAL : AUDIT_F_USER, who, sizeof(who));
	const char *froms = disp(rec, AUDIT_F_ADDRESS, from, sizeof(from));
	if (strcmp(k, "login") == 0) {
		rp->logins++;
		snprintf(what, sizeof(what), "logged in (%s, %s, tls %s)",
			 disp(rec, AUDIT_F_PROTOCOL, a, sizeof(a)), disp(rec, AUDIT_F_MECH, b, sizeof(b)),
			 disp(rec, AUDIT_F_TLS, c, sizeof(c)));
	} else if (strcmp(k, "login_failed") == 0) {
		rp->failed++;
		snprintf(what, sizeof(what), "FAILED login (%s): %s",
			 disp(rec, AUDIT_F_PROTOCOL, a, sizeof(a)), disp(rec, AUDIT_F_REASON, b, sizeof(b)));
	} else if (strcmp(k, "lockout") == 0) {
		snprintf(what, sizeof(what), "locked out: %s", disp(rec, AUDIT_F_REASON, a, sizeof(a)));
	} else if (strcmp(k, "session_start") == 0) {
		rp->sessions++;
		snprintf(what, sizeof(what), "session started (%s)",
			 disp(rec, AUDIT_F_PROTOCOL, a, sizeof(a)));
	} else if (strcmp(k, "session_end") == 0 && audit_record_get(rec, "sent") != NULL) {
		snprintf(what, sizeof(what), "session ended (%s): %s messages sent, %s bytes",
			 disp(rec, AUDIT_F_PROTOCOL, c, sizeof(c)), disp(rec, "sent", a, sizeof(a)),
			 disp(rec, "sent_bytes", b, sizeof(b)));
	} else if (strcmp(k, "session_end") == 0) {
		snprintf(what, sizeof(what), "session ended: %s messages, %s bytes read",
			 disp(rec, AUDIT_F_MESSAGES, a, sizeof(a)), disp(rec, AUDIT_F_BYTES, b, sizeof(b)));
	} else if (strcmp(k, "store_access") == 0) {
		const char *owner = audit_record_get(rec, AUDIT_F_OWNER);
		int other = owner && principal && strcasecmp(owner, principal) != 0;
		const char *act = audit_record_get(rec, "action");
		char e[64];
		/* an opening is counted once, not again at its close */
		rp->others += other && (act == NULL || strcmp(act, "select") == 0 ||
					strcmp(act, "examine") == 0);
		if (act != NULL && (strcmp(act, "select") == 0 || strcmp(act, "examine") == 0))
			snprintf(what, sizeof(what), "%sopened %s of %s (%s, rights %s)",
				 other ? "OTHER PRINCIPAL " : "",
				 disp(rec, AUDIT_F_MAILBOX, a, sizeof(a)),
				 disp(rec, AUDIT_F_OWNER, b, sizeof(b)), act,
				 disp(rec, "rights", e, sizeof(e)));
		else if (act != NULL && (strcmp(act, "append") == 0 || strcmp(act, "copy") == 0 ||
					 strcmp(act, "move") == 0))
			snprintf(what, sizeof(what), "%sadded %s messages (%s bytes) to %s of %s",
				 other ? "OTHER PRINCIPAL " : "",
				 disp(rec, AUDIT_F_MESSAGES, c, sizeof(c)),
				 disp(rec, AUDIT_F_BYTES, d, sizeof(d)),
				 disp(rec, AUDIT_F_MAILBOX, a, sizeof(a)),
				 disp(rec, AUDIT_F_OWNER, b, sizeof(b)));
		else if (act != NULL && strcmp(act, "expunge") == 0)
			snprintf(what, sizeof(what), "%sremoved %s messages from %s of %s",
				 other ? "OTHER PRINCIPAL " : "",
				 disp(rec, AUDIT_F_MESSAGES, c, sizeof(c)),
				 disp(rec, AUDIT_F_MAILBOX, a, sizeof(a)),
				 disp(rec, AUDIT_F_OWNER, b, sizeof(b)));
		else if (act != NULL && strcmp(act, "status") == 0)
			snprintf(what, sizeof(what), "%sasked the counts of %s of %s (STATUS)",
				 other ? "OTHER PRINCIPAL " : "",
				 disp(rec, AUDIT_F_MAILBOX, a, sizeof(a)),
				 disp(rec, AUDIT_F_OWNER, b, sizeof(b)));
		else
			snprintf(what, sizeof(what), "%s%s %s of %s: %s messages, %s bytes read",
				 other ? "OTHER PRINCIPAL " : "",
				 act != NULL && strcmp(act, "close") == 0 ? "closed" : "opened",
				 disp(rec, AUDIT_F_MAILBOX, a, sizeof(a)),
				 disp(rec, AUDIT_F_OWNER, b, sizeof(b)),
				 disp(rec, AUDIT_F_MESSAGES, c, sizeof(c)),
				 disp(rec, AUDIT_F_BYTES, d, sizeof(d)));
	} else {
		return 0;
	}
	char when[32];
	snprintf(when, sizeof(when), "%.10s %.8sZ", rec->ts, rec->ts + 11);
	snprintf(out, sizeof(out), "%s  %-24s %-16s %s", when, whos, froms, what);
	char *s = strdup(out);
	if (s == NULL)
		return 1;
	if (rp->n < RD_AUDIT_REPORT_MAX) {
		rp->lines[rp->n++] = s;
	} else {
		free(rp->lines[rp->head]);
		rp->lines[rp->head] = s;
		rp->head = (rp->head + 1) % RD_AUDIT_REPORT_MAX;
		rp->older++;
	}
	return 0;
}

static int audit_report_cmd(int argc, char **argv)
{
	const char *data = NULL, *user = NULL;
	struct cli_opt opts[] = { { "--data", 1, &data }, { "--user", 1, &user }, { NULL, 0, NULL } };
	struct cli_args args;
	int r = cli_parse(argc, argv, 3, opts, &args, 0, report_usage);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	if (data == NULL || user == NULL) {
		fprintf(stderr, "redoubt: --data DIR and --user U are required\n\n%s", report_usage);
		return CLI_USAGE;
	}
	char dir[2200], u[1100];
	if (audit_dir_of(data, dir, sizeof(dir)) < 0)
		return CLI_FAIL;
	struct report rp = { .user = user };
	rp.lines = calloc(RD_AUDIT_REPORT_MAX, sizeof(*rp.lines));
	struct audit_filter f = { .user = user };
	uint64_t skipped;
	const char *err;
	if (rp.lines == NULL || audit_query(dir, &f, report_cb, &rp, &skipped, &err) < 0) {
		fprintf(stderr, "redoubt: audit report: %s\n", rp.lines ? err : "out of memory");
		free(rp.lines);
		return CLI_FAIL;
	}
	if (audit_escape(u, sizeof(u), user, strlen(user)) < 0)
		snprintf(u, sizeof(u), "(long name)");
	printf("Access to the mail of %s, newest first (%s)\n\n", u, dir);
	printf("%-21s  %-24s %-16s %s\n", "WHEN (UTC)", "WHO", "FROM", "WHAT");
	for (size_t i = rp.n; i-- > 0;) {
		size_t idx = (rp.head + i) % RD_AUDIT_REPORT_MAX;
		if (rp.n < RD_AUDIT_REPORT_MAX)
			idx = i;
		printf("%s\n", rp.lines[idx]);
		free(rp.lines[idx]);
	}
	free(rp.lines);
	if (rp.n == 0)
		printf("(no records)\n");
	if (rp.older)
		printf("... and %llu older records (use audit query --user)\n",
		       (unsigned long long)rp.older);
	printf("\n%llu logins, %llu failed logins, %llu sessions, %llu openings by other principals\n",
	       (unsigned long long)rp.logins, (unsigned long long)rp.failed,
	       (unsigned long long)rp.sessions, (unsigned long long)rp.others);
	if (skipped)
		printf("%llu unreadable lines skipped: run redoubt audit verify\n",
		       (unsigned long long)skipped);
	return CLI_OK;
}

int cli_audit(int argc, char **argv)
{
	const char *sub = argc > 2 ? argv[2] : NULL;
	if (sub == NULL) {
		fputs(audit_usage, stderr);
		return CLI_USAGE;
	}
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		fputs(audit_usage, stdout);
		return CLI_OK;
	}
	if (strcmp(sub, "verify") == 0)
		return audit_verify_cmd(argc, argv);
	if (strcmp(sub, "query") == 0)
		return audit_query_cmd(argc, argv);
	if (strcmp(sub, "report") == 0)
		return audit_report_cmd(argc, argv);
	fprintf(stderr, "redoubt: unknown audit command \"%s\"\n\n%s", sub, audit_usage);
	return CLI_USAGE;
}
