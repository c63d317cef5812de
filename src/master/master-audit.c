#include "master/master-audit.h"
#include "audit/audit-event.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "limits.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

struct master_audit {
	char dir[4096];
	char pending[4096];
	struct audit_writer *w;
	struct event *tick;
	int dirty;                   /* appended since the last flush */
	int warned;
};

static void try_open(struct master_audit *ma)
{
	const char *err;
	if (ma->w != NULL)
		return;
	if (audit_open(ma->dir, &ma->w, &err) < 0) {
		ma->w = NULL;
		if (!ma->warned)
			log_error("audit_unavailable", "reason", err,
				  "effect", "logins are refused with a temporary error");
		ma->warned = 1;
		return;
	}
	if (ma->warned)
		log_info("audit_available");
	ma->warned = 0;
}

/* File one pending CLI event: the IPC field encoding, nothing else. */
static void ingest_file(struct master_audit *ma, int dfd, const char *name)
{
	uint8_t buf[8192];
	const char *err;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	struct audit_event *ev = malloc(sizeof(*ev));
	struct ipc_reader r = { .p = buf, .len = n > 0 ? (size_t)n : 0, .off = 0 };
	if (ev != NULL && n > 0 && audit_event_get(&r, ev, &err) == 0 &&
	    ev->n < RD_AUDIT_MAX_FIELDS) {
		ev->kv[ev->n].key = "role";
		ev->kv[ev->n].value = "cli";
		if (audit_append(ma->w, ev->kind, ev->kv, ev->n + 1, &err) < 0) {
			free(ev);
			return;   /* keep the file; try again next tick */
		}
		ma->dirty = 1;
	} else {
		log_error("audit_pending_bad", "file", name);
	}
	free(ev);
	unlinkat(dfd, name, 0);
}

static void ingest_pending(struct master_audit *ma)
{
	int dfd = open(ma->pending, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	/* sorted order is not needed: each event carries its own time */
	while (d && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".evt") != 0)
			continue;
		ingest_file(ma, dirfd(d), e->d_name);
	}
	if (d)
		closedir(d);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master_audit *ma = arg;
	const char *err;
	(void)fd;
	(void)what;
	try_open(ma);
	if (ma->w == NULL)
		return;
	ingest_pending(ma);
	if (ma->dirty && audit_flush(ma->w, &err) == 0)
		ma->dirty = 0;
}

struct master_audit *master_audit_new(const char *data_dir, struct event_base *base)
{
	struct master_audit *ma = calloc(1, sizeof(*ma));
	if (ma == NULL)
		return NULL;
	snprintf(ma->dir, sizeof(ma->dir), "%s/audit", data_dir);
	snprintf(ma->pending, sizeof(ma->pending), "%s/audit/pending", data_dir);
	/* pending/ belongs to the data owner: the CLI drops to that user
	 * before it leaves events there */
	struct stat st;
	if (mkdir(ma->pending, 0700) == 0 && stat(ma->dir, &st) == 0 && geteuid() == 0 &&
	    chown(ma->pending, st.st_uid, st.st_gid) < 0)
		log_warn("audit_pending_chown_failed", "reason", strerror(errno));
	try_open(ma);
	ma->tick = event_new(base, -1, EV_PERSIST, tick_cb, ma);
	struct timeval tv = { .tv_sec = 1 };
	if (ma->tick)
		event_add(ma->tick, &tv);
	if (ma->w)
		ingest_pending(ma);
	return ma;
}

int master_audit_ok(const struct master_audit *ma)
{
	return ma != NULL && ma->w != NULL;
}

int master_audit_write(struct master_audit *ma, const char *kind,
		       const struct audit_kv *kv, size_t n, int sync)
{
	const char *err;
	if (ma == NULL)
		return -1;
	try_open(ma);
	if (ma->w == NULL)
		return -1;
	int r = sync ? audit_append_sync(ma->w, kind, kv, n, &err) :
		       audit_append(ma->w, kind, kv, n, &err);
	if (r < 0) {
		log_error("audit_write_failed", "kind", kind, "reason", err);
		/* reopen next time: the writer may refuse after a failed write */
		audit_abort(&ma->w);
		return -1;
	}
	if (sync)
		ma->dirty = 0;
	else
		ma->dirty = 1;
	return 0;
}

int master_audit_flush(struct master_audit *ma)
{
	const char *err;
	if (ma == NULL || ma->w == NULL)
		return -1;
	if (audit_flush(ma->w, &err) < 0) {
		log_error("audit_write_failed", "kind", "flush", "reason", err);
		audit_abort(&ma->w);
		return -1;
	}
	ma->dirty = 0;
	return 0;
}

void master_audit_free(struct master_audit **map, const char *reason)
{
	struct master_audit *ma = *map;
	const char *err;
	if (ma == NULL)
		return;
	if (ma->w) {
		ingest_pending(ma);
		struct audit_kv kv[] = { { "reason", reason } };
		audit_append(ma->w, "server_stop", kv, 1, &err);
		if (audit_close(&ma->w, &err) < 0)
			log_error("audit_close_failed", "reason", err);
	}
	if (ma->tick)
		event_free(ma->tick);
	free(ma);
	*map = NULL;
}

int audit_admin_event(const char *data_dir, const char *kind,
		      const struct audit_kv *kv, size_t n, const char **error_r)
{
	char dir[4096], tmp[4200], dst[4200];
	struct audit_writer *w;
	snprintf(dir, sizeof(dir), "%s/audit", data_dir);
	/* no server running: write the chain directly */
	if (audit_open(dir, &w, error_r) == 0) {
		struct audit_kv all[RD_AUDIT_MAX_FIELDS];
		size_t k = n < RD_AUDIT_MAX_FIELDS - 1 ? n : RD_AUDIT_MAX_FIELDS - 1;
		memcpy(all, kv, k * sizeof(*kv));
		all[k].key = "role";
		all[k].value = "cli";
		int r = audit_append_sync(w, kind, all, k + 1, error_r);
		const char *cerr;
		audit_close(&w, &cerr);
		return r;
	}
	/* a server holds the log: leave the event for master */
	struct ipc_msg m;
	ipc_msg_init(&m, IPC_NONE, 0);
	if (audit_event_put(&m, kind, kv, n, error_r) < 0) {
		ipc_msg_free(&m);
		return -1;
	}
	unsigned char rnd[8];
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(dir, sizeof(dir), "%s/audit/pending", data_dir);
	mkdir(dir, 0700);
	snprintf(tmp, sizeof(tmp), "%s/.%ld-%02x%02x%02x%02x.tmp", dir, (long)time(NULL),
		 rnd[0], rnd[1], rnd[2], rnd[3]);
	snprintf(dst, sizeof(dst), "%s/%ld-%02x%02x%02x%02x.evt", dir, (long)time(NULL),
		 rnd[0], rnd[1], rnd[2], rnd[3]);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r = fd >= 0 && write(fd, m.payload.data, m.payload.len) == (ssize_t)m.payload.len &&
		fsync(fd) == 0 ? 0 : -1;
	if (fd >= 0)
		close(fd);
	ipc_msg_free(&m);
	if (r == 0 && rename(tmp, dst) < 0)
		r = -1;
	if (r < 0) {
		unlink(tmp);
		*error_r = "cannot record the admin event";
	}
	return r;
}
