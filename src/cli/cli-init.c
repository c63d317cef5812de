/* cli-init.c: `redoubt init`: a new data directory.
 *
 *   DATA/redoubt.conf         commented configuration (root-owned if root)
 *   DATA/tls/cert.pem key.pem self-signed unless --cert/--key are given
 *   DATA/auth/accounts.db     credentials (auth role only)
 *   DATA/directory/           domains, users, aliases
 *   DATA/stores/ spool/ audit/
 * It refuses to touch a directory that already exists. */
#include "cli/cli-common.h"
#include "config/config.h"
#include "config/dnsname.h"
#include "directory/directory.h"
#include "auth/accounts.h"
#include "auth/password.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static const char init_usage[] =
	"usage: redoubt init --data DIR --domain DOMAIN [--hostname NAME]\n"
	"                    [--cert FILE --key FILE]\n"
	"\n"
	"Create the data directory DIR: a commented redoubt.conf, a TLS\n"
	"certificate (self-signed for NAME unless --cert/--key are given),\n"
	"empty databases and the first mail domain. DIR must not exist.\n"
	"NAME defaults to mail.DOMAIN.\n";

static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, len);
	int r = (n == (ssize_t)len && fsync(fd) == 0) ? 0 : -1;
	close(fd);
	return r;
}

static int bio_to_file(BIO *b, const char *path, mode_t mode)
{
	char *p;
	long len = BIO_get_mem_data(b, &p);
	return len < 0 ? -1 : write_file(path, p, (size_t)len, mode);
}

/* A self-signed ECDSA P-256 certificate for hostname, valid 825 days,
 * with localhost and 127.0.0.1 as extra names so a demo works locally. */
static int make_self_signed(const char *hostname, const char *cert_path, const char *key_path)
{
	int rc = -1;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	if (key == NULL || x == NULL || kb == NULL || cb == NULL)
		goto out;
	X509_set_version(x, 2);
	unsigned char serial[16];
	FILE *ur = fopen("/dev/urandom", "rb");
	if (ur == NULL || fread(serial, 1, sizeof(serial), ur) != sizeof(serial)) {
		if (ur)
			fclose(ur);
		goto out;
	}
	fclose(ur);
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 825L * 24 * 3600);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)hostname, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"redoubt self-signed", -1, -1, 0);
	X509_set_issuer_name(x, name);
	char san[600];
	snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", hostname);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	const char *exts[][2] = {
		{ "subjectAltName", san },
		{ "basicConstraints", "critical,CA:FALSE" },
		{ "keyUsage", "critical,digitalSignature" },
		{ "extendedKeyUsage", "serverAuth" },
	};
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		X509_EXTENSION *e = X509V3_EXT_conf(NULL, &v3, exts[i][0], exts[i][1]);
		if (e == NULL)
			goto out;
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (X509_sign(x, key, EVP_sha256()) == 0)
		goto out;
	if (PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cb, x) != 1)
		goto out;
	if (bio_to_file(kb, key_path, 0600) < 0 || bio_to_file(cb, cert_path, 0644) < 0)
		goto out;
	rc = 0;
out:
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	FILE *f = fopen(from, "rb");
	if (f == NULL)
		return -1;
	char *buf = malloc(256 * 1024);
	size_t n = buf ? fread(buf, 1, 256 * 1024, f) : 0;
	int r = ferror(f) || n == 256 * 1024 || n == 0 ? -1 : write_file(to, buf, n, mode);
	fclose(f);
	free(buf);
	return r;
}

static int chown_path(const char *path, const struct passwd *pw)
{
	return pw == NULL ? 0 : chown(path, pw->pw_uid, pw->pw_gid);
}

int cli_init(int argc, char **argv)
{
	const char *data = NULL, *domain = NULL, *hostname = NULL, *cert = NULL, *key = NULL;
	struct cli_opt opts[] = {
		{ "--data", 1, &data }, { "--domain", 1, &domain },
		{ "--hostname", 1, &hostname }, { "--cert", 1, &cert }, { "--key", 1, &key },
		{ NULL, 0, NULL },
	};
	struct cli_args args;
	int r = cli_parse(argc, argv, 2, opts, &args, 0, init_usage);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	if (data == NULL || domain == NULL) {
		fprintf(stderr, "redoubt init: --data and --domain are required\n\n%s", init_usage);
		return CLI_USAGE;
	}
	if ((cert == NULL) != (key == NULL)) {
		fprintf(stderr, "redoubt init: give both --cert and --key, or neither\n");
		return CLI_USAGE;
	}
	char dir[2048], host[300], path[4096];
	if (cli_abs_data(data, dir, sizeof(dir)) < 0)
		return CLI_FAIL;
	if (!dns_name_valid(domain)) {
		fprintf(stderr, "redoubt init: \"%s\" is not a valid domain name\n", domain);
		return CLI_FAIL;
	}
	snprintf(host, sizeof(host), "%s%s", hostname ? "" : "mail.", hostname ? hostname : domain);
	if (!dns_name_valid(host)) {
		fprintf(stderr, "redoubt init: \"%s\" is not a valid host name\n", host);
		return CLI_FAIL;
	}
	/* the roles' user, when run as root */
	struct passwd *pw = NULL, pwcopy;
	if (geteuid() == 0) {
		struct passwd *p = getpwnam("redoubt");
		if (p == NULL) {
			fprintf(stderr, "redoubt init: running as root needs the system user \"redoubt\"\n"
				"  (scripts/install-deps creates it: useradd --system redoubt)\n");
			return CLI_FAIL;
		}
		pwcopy = *p;
		pw = &pwcopy;
	}
	char bad[4096];
	if (pw && cli_path_reachable(dir, pw->pw_uid, pw->pw_gid, bad, sizeof(bad)) < 0) {
		fprintf(stderr, "redoubt init: user redoubt cannot enter %s, so the roles could not reach\n"
			"  %s; choose a data directory under a traversable path (e.g. /var/lib)\n",
			bad, dir);
		return CLI_FAIL;
	}
	umask(027);
	if (mkdir(dir, 0750) < 0) {
		fprintf(stderr, "redoubt init: cannot create %s: %s%s\n", dir, strerror(errno),
			errno == EEXIST ? " (init never overwrites an existing directory)" : "");
		return CLI_FAIL;
	}
	/* root owns DATA; the roles' group may enter it, nobody else */
	if (pw && (chown(dir, 0, pw->pw_gid) < 0 || chmod(dir, 0750) < 0)) {
		fprintf(stderr, "redoubt init: %s: %s\n", dir, strerror(errno));
		return CLI_FAIL;
	}
	static const char *const subdirs[] = { "tls", "auth", "directory", "stores", "spool", "audit",
					       "audit/pending" };
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		if (mkdir(path, 0700) < 0 || (i > 0 && chown_path(path, pw) < 0)) {
			fprintf(stderr, "redoubt init: %s: %s\n", path, strerror(errno));
			return CLI_FAIL;
		}
	}
	int dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	const char *err;
	/* Argon2id tuned to about 100 ms on this machine (issue 10): slow for
	 * a guesser, unnoticeable for a login */
	struct config cfg;
	struct password_params pp;
	config_defaults(&cfg);
	snprintf(cfg.hostname, sizeof(cfg.hostname), "%.253s", host);
	if (password_tune(100, &pp, &err) == 0) {
		cfg.argon2_opslimit = (uint32_t)pp.opslimit;
		cfg.argon2_memlimit_kib = pp.memlimit / 1024u;
		printf("Argon2id tuned: %llu passes over %zu MiB\n", pp.opslimit, pp.memlimit >> 20);
	}
	if (dfd < 0 || config_write_new(dfd, "redoubt.conf", &cfg, &err) < 0) {
		fprintf(stderr, "redoubt init: cannot write redoubt.conf: %s\n", dfd < 0 ? strerror(errno) : err);
		return CLI_FAIL;
	}
	close(dfd);
	char cpath[4096], kpath[4096];
	snprintf(cpath, sizeof(cpath), "%s/tls/cert.pem", dir);
	snprintf(kpath, sizeof(kpath), "%s/tls/key.pem", dir);
	if (cert ? (copy_file(cert, cpath, 0644) < 0 || copy_file(key, kpath, 0600) < 0)
		 : make_self_signed(host, cpath, kpath) < 0) {
		fprintf(stderr, "redoubt init: cannot %s the TLS certificate and key\n",
			cert ? "copy" : "create");
		return CLI_FAIL;
	}
	/* from here on, files belong to the roles' user */
	if (pw && (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
		   setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)) {
		fprintf(stderr, "redoubt init: cannot switch to user redoubt: %s\n", strerror(errno));
		return CLI_FAIL;
	}
	struct directory *d;
	struct accounts *acc;
	snprintf(path, sizeof(path), "%s/directory", dir);
	if (directory_open(path, 1, &d, &err) < 0) {
		fprintf(stderr, "redoubt init: directory: %s\n", err);
		return CLI_FAIL;
	}
	if (directory_domain_add(d, domain, &err) < 0) {
		fprintf(stderr, "redoubt init: domain %s: %s\n", domain, err);
		directory_close(&d);
		return CLI_FAIL;
	}
	directory_close(&d);
	snprintf(path, sizeof(path), "%s/auth", dir);
	if (accounts_open(path, 1, &acc, &err) < 0) {
		fprintf(stderr, "redoubt init: accounts: %s\n", err);
		return CLI_FAIL;
	}
	accounts_close(&acc);
	printf("Created %s\n  domain   %s\n  hostname %s\n  config   %s/redoubt.conf\n"
	       "  TLS      %s (%s)\n"
	       "Next: redoubt user add --data %s USER@%s\n",
	       dir, domain, host, dir, cpath, cert ? "copied" : "self-signed", dir, domain);
	return CLI_OK;
}
