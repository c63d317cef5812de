/* cli-check.c: `redoubt check`: is this data directory sound?
 *
 * Each finding is one line "PATH: what is wrong (why it matters)". Exit 0
 * when there is none, 1 otherwise. Config errors carry file, line and key. */
#include "cli/cli-common.h"
#include "config/config.h"
#include "sandbox/sandbox.h"
#include "audit/audit-log.h"
#include <dirent.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static const char check_usage[] =
	"usage: redoubt check --data DIR\n"
	"\n"
	"Validate the configuration, the permissions and contents of the data\n"
	"directory, the TLS certificate and the kernel's sandbox support. Each\n"
	"problem is printed as PATH: PROBLEM. Exit status 0 when all is well.\n";

struct findings {
	unsigned n;
	size_t root_len;            /* length of DATA in paths */
};

static void finding(struct findings *f, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void finding(struct findings *f, const char *path, const char *fmt, ...)
{
	va_list ap;
	printf("%s: ", path);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	f->n++;
}

static void check_dir(struct findings *f, const char *path, mode_t max_mode)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		finding(f, path, "missing (%s)", strerror(errno));
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		finding(f, path, "is a symlink%s (the data directory must not point elsewhere)", "");
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		finding(f, path, "is not a directory%s", "");
		return;
	}
	if ((st.st_mode & 07777 & ~max_mode) != 0) {
		char m[16];
		snprintf(m, sizeof(m), "%04o", st.st_mode & 07777);
		finding(f, path, "permissions %s are wider than needed", m);
	}
}

/* Every file a role or the CLI writes, relative to DATA. Anything else
 * (a web shell, a script, an archive) was put there by someone else. */
static const char *const known_files[] = {
	"redoubt.conf",
	"tls/*.pem",
	"auth/accounts.db", "auth/accounts.db-wal", "auth/accounts.db-shm",
	"auth/accounts.db-journal",
	"directory/directory.db", "directory/directory.db-wal", "directory/directory.db-shm",
	"directory/directory.db-journal",
	"stores/*/index.db", "stores/*/index.db-wal", "stores/*/index.db-shm",
	"stores/*/index.db-journal", "stores/*/lock",
	"stores/*/blobs/[0-9a-f][0-9a-f]/*", "stores/*/tmp/*",
	"stores/*/packs/[0-9a-f]*",
	"spool/tmp/*.msg", "spool/tmp/*.env", "spool/q/*.msg", "spool/q/*.env",
	"spool/spare/s[0-9]*",
	"audit/*", "audit/pending/*.evt", "audit/pending/.*.tmp",
	NULL,
};

static int known_file(const char *rel)
{
	for (size_t i = 0; known_files[i] != NULL; i++)
		if (fnmatch(known_files[i], rel, FNM_PATHNAME) == 0) {
			/* names are ours: no shell or web extension sneaks in */
			const char *dot = strrchr(rel, '.');
			static const char *const bad[] = { ".sh", ".php", ".aspx", ".asp", ".jsp",
							   ".py", ".pl", ".cgi", ".exe", ".so", NULL };
			for (size_t k = 0; dot && bad[k]; k++)
				if (strcmp(dot, bad[k]) == 0)
					return 0;
			return 1;
		}
	return 0;
}

/* Walk the data directory for what no role ever writes there. */
static void walk(struct findings *f, const char *path, int depth)
{
	DIR *d = opendir(path);
	if (d == NULL || depth > 8) {
		if (d)
			closedir(d);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[4096];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (lstat(p, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode))
			finding(f, p, "symlink in the data directory%s (redoubt never creates one)", "");
		else if (S_ISDIR(st.st_mode))
			walk(f, p, depth + 1);
		else if (!S_ISREG(st.st_mode))
			finding(f, p, "unexpected file type%s (no role creates fifos, sockets or devices)", "");
		else if (st.st_mode & 0111)
			finding(f, p, "executable file%s (nothing in the data directory is ever executed; "
				"this may have been planted)", "");
		else if (st.st_mode & 0002)
			finding(f, p, "world-writable file%s", "");
		else if ((st.st_mode & 0077) && strcmp(p + f->root_len + 1, "redoubt.conf") != 0 &&
			 strcmp(p + f->root_len + 1, "tls/cert.pem") != 0 &&
			 strcmp(p + f->root_len + 1, "audit/signing.pub") != 0)
			finding(f, p, "open to group or others (mode %04o); roles need it private",
				(unsigned)(st.st_mode & 07777));
		else if (!known_file(p + f->root_len + 1))
			finding(f, p, "a file of a kind no role writes%s (check where it came from)", "");
	}
	closedir(d);
}

static void check_tls(struct findings *f, const char *dir, const struct config *cfg)
{
	char cp[4096], kp[4096];
	if (cfg->tls_certificate[0] == '/')
		snprintf(cp, sizeof(cp), "%s", cfg->tls_certificate);
	else
		snprintf(cp, sizeof(cp), "%s/%s", dir, cfg->tls_certificate);
	if (cfg->tls_key[0] == '/')
		snprintf(kp, sizeof(kp), "%s", cfg->tls_key);
	else
		snprintf(kp, sizeof(kp), "%s/%s", dir, cfg->tls_key);
	FILE *cf = fopen(cp, "r");
	FILE *kf = fopen(kp, "r");
	X509 *x = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
	if (cf == NULL)
		finding(f, cp, "cannot read certificate (%s)", strerror(errno));
	else if (x == NULL)
		finding(f, cp, "not a PEM certificate%s", "");
	if (kf == NULL)
		finding(f, kp, "cannot read key (%s)", strerror(errno));
	else if (k == NULL)
		finding(f, kp, "not a PEM private key%s", "");
	if (x && k && X509_check_private_key(x, k) != 1)
		finding(f, kp, "does not match the certificate %s", cp);
	if (x) {
		time_t soon = time(NULL) + 30 * 24 * 3600;
		if (X509_cmp_time(X509_get0_notAfter(x), NULL) < 0)
			finding(f, cp, "certificate has expired%s", "");
		else if (X509_cmp_time(X509_get0_notAfter(x), &soon) < 0)
			finding(f, cp, "certificate expires within 30 days%s", "");
	}
	struct stat st;
	if (kf && fstat(fileno(kf), &st) == 0 && (st.st_mode & 0077))
		finding(f, kp, "private key is readable by others than its owner%s", "");
	X509_free(x);
	EVP_PKEY_free(k);
	if (cf)
		fclose(cf);
	if (kf)
		fclose(kf);
}

int cli_check(int argc, char **argv)
{
	const char *data = NULL;
	struct cli_opt opts[] = { { "--data", 1, &data }, { NULL, 0, NULL } };
	struct cli_args args;
	int r = cli_parse(argc, argv, 2, opts, &args, 0, check_usage);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	char dir[2048], path[4096], err[512];
	if (cli_abs_data(data, dir, sizeof(dir)) < 0)
		return CLI_USAGE;
	struct findings f = { 0, strlen(dir) };
	struct config cfg;
	check_dir(&f, dir, 0755);
	snprintf(path, sizeof(path), "%s/redoubt.conf", dir);
	if (config_load(&cfg, path, err, sizeof(err)) < 0) {
		printf("%s\n", err);
		f.n++;
	} else {
		if (!cfg.sandbox)
			finding(&f, path, "sandbox = off%s: a bug in any role can read every mailbox", "");
		check_tls(&f, dir, &cfg);
		if (geteuid() == 0) {
			struct passwd *pw = getpwnam(cfg.user);
			char bad[4096];
			if (pw == NULL)
				finding(&f, path, "user \"%s\" does not exist (roles run as it when started as root)",
					cfg.user);
			else if (cli_path_reachable(dir, pw->pw_uid, pw->pw_gid, bad, sizeof(bad)) < 0)
				finding(&f, bad, "user \"%s\" cannot enter this directory, so the roles cannot reach the data",
					cfg.user);
			if (getpwnam(cfg.front_user) == NULL)
				finding(&f, path, "front_user \"%s\" does not exist", cfg.front_user);
		}
	}
	static const char *const subdirs[] = { "tls", "auth", "directory", "stores", "spool", "audit" };
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		check_dir(&f, path, 0700);
	}
	walk(&f, dir, 0);
	/* the audit chain: edited, removed or reordered records */
	snprintf(path, sizeof(path), "%s/audit", dir);
	struct audit_verify_result vr;
	enum audit_status as = audit_verify(path, NULL, NULL, NULL, &vr);
	if (as == AUDIT_TAMPERED || as == AUDIT_TORN_TAIL)
		finding(&f, path, "audit log %s at %s line %u (run: redoubt audit verify --data %s)",
			as == AUDIT_TAMPERED ? "tampered with" : "cut off",
			vr.first_bad.segment, (unsigned)vr.first_bad.line, dir);
	const char *why;
	if (sandbox_probe(&why) < 0)
		finding(&f, "kernel", "%s: serve will refuse to start unless sandbox = off", why);
	if (f.n == 0) {
		printf("check: %s is in order\n", dir);
		return CLI_OK;
	}
	printf("check: %u problem%s found\n", f.n, f.n == 1 ? "" : "s");
	return CLI_FAIL;
}
