/* audit-rate.c: how fast the audit writer (src/audit/audit-log.h) appends
 * records on this machine, checkpoints included. Built and run by
 * bench/audit; not part of the server.
 *
 *   audit-rate DIR N_APPEND N_SYNC N_CHECKPOINT
 *
 * In DIR (made empty by the caller) it opens three fresh logs and
 *   append   appends N_APPEND login-like records with audit_append (one
 *            write(2) each, no sync; a signed, fdatasynced checkpoint every
 *            RD_AUDIT_CHECKPOINT_EVERY records, as the server has them);
 *   sync     appends N_SYNC with audit_append_sync (fdatasync after each,
 *            what master does before a login may proceed);
 *   checkpoint  writes N_CHECKPOINT checkpoints with audit_checkpoint
 *            (an ed25519 signature and an fdatasync each), so their cost
 *            can be read on its own;
 * then closes each log (the closing checkpoint is outside the timing).
 * One line per mode on stdout, key=value, for the script to read:
 *   mode=M n=N wall_s=W cpu_s=C rec_per_s=R us_per_rec=U cpu_us_per_rec=V
 * cpu is this process's user+system time (getrusage), wall the monotonic
 * clock; the difference is mostly waiting for the disk.
 *
 * Returns exit status 0, or 1 with a message on stderr. */
#include "audit/audit-log.h"
#include "limits.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <sodium.h>

enum mode { M_APPEND, M_SYNC, M_CHECKPOINT };

struct sample {
	double wall_s;
	double cpu_s;
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* One record with the fields master puts in a successful IMAP login; the
 * user and the address change from record to record, as they would. */
static int append_one(struct audit_writer *w, unsigned long i, int sync,
		      const char **error_r)
{
	char user[64], addr[32];
	snprintf(user, sizeof(user), "user%05lu@example.test", i % 50000u);
	snprintf(addr, sizeof(addr), "192.0.2.%lu", 1u + i % 250u);
	const struct audit_kv kv[] = {
		{ AUDIT_F_USER, user }, { AUDIT_F_ADDRESS, addr },
		{ AUDIT_F_PROTOCOL, "imap" }, { AUDIT_F_TLS, "yes" },
		{ AUDIT_F_MECH, "PLAIN" }, { AUDIT_F_PRINCIPAL, user },
	};
	size_t n = sizeof(kv) / sizeof(kv[0]);
	return sync ? audit_append_sync(w, "login", kv, n, error_r) :
		      audit_append(w, "login", kv, n, error_r);
}

static int run_mode(const char *base, const char *name, enum mode mode,
		    unsigned long n, struct sample *out, const char **error_r)
{
	char dir[4096];
	struct audit_writer *w;
	const char *cerr;
	snprintf(dir, sizeof(dir), "%s/%s", base, name);
	if (audit_open(dir, &w, error_r) < 0)
		return -1;
	double c0 = cpu_s(), t0 = mono_s();
	int r = 0;
	for (unsigned long i = 0; i < n && r == 0; i++) {
		if (mode == M_CHECKPOINT)
			r = audit_checkpoint(w, error_r);
		else
			r = append_one(w, i, mode == M_SYNC, error_r);
	}
	out->wall_s = mono_s() - t0;
	out->cpu_s = cpu_s() - c0;
	if (r < 0) {
		audit_abort(&w);
		return -1;
	}
	return audit_close(&w, r == 0 ? error_r : &cerr);
}

static void print_sample(const char *name, unsigned long n, const struct sample *s)
{
	double dn = n > 0 ? (double)n : 1.0;
	printf("mode=%s n=%lu wall_s=%.6f cpu_s=%.6f rec_per_s=%.1f us_per_rec=%.3f "
	       "cpu_us_per_rec=%.3f\n", name, n, s->wall_s, s->cpu_s,
	       s->wall_s > 0 ? dn / s->wall_s : 0.0, 1e6 * s->wall_s / dn,
	       1e6 * s->cpu_s / dn);
}

static int parse_count(const char *s, unsigned long *n)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v > 100000000ul)
		return -1;
	*n = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		enum mode mode;
	} modes[] = { { "append", M_APPEND }, { "sync", M_SYNC },
		      { "checkpoint", M_CHECKPOINT } };
	unsigned long counts[3];
	const char *err = "";
	if (argc != 5 || parse_count(argv[2], &counts[0]) < 0 ||
	    parse_count(argv[3], &counts[1]) < 0 || parse_count(argv[4], &counts[2]) < 0) {
		fprintf(stderr, "usage: audit-rate DIR N_APPEND N_SYNC N_CHECKPOINT\n");
		return 1;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "audit-rate: sodium_init failed\n");
		return 1;
	}
	printf("checkpoint_every=%u\n", (unsigned)RD_AUDIT_CHECKPOINT_EVERY);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct sample s;
		if (run_mode(argv[1], modes[i].name, modes[i].mode, counts[i], &s, &err) < 0) {
			fprintf(stderr, "audit-rate: %s: %s\n", modes[i].name, err);
			return 1;
		}
		print_sample(modes[i].name, counts[i], &s);
		fflush(stdout);
	}
	return 0;
}
