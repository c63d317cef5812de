#include "queue/spool.h"
#include "lib/ipc.h"
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t magic[4] = { 'R', 'D', 'Q', '2' };
static const uint8_t magic_v1[4] = { 'R', 'D', 'Q', '1' };

int spool_env_encode(const struct spool_env *env, uint8_t **out, size_t *len,
		     const char **error_r)
{
	struct ipc_msg m;
	ipc_msg_init(&m, IPC_NONE, 0);
	m.payload.max = RD_QUEUE_MAX_ENVELOPE;
	int r = ipc_put_str(&m, env->qid) | ipc_put_u64(&m, env->arrived) |
		ipc_put_u64(&m, env->size) |
		ipc_put_str(&m, env->from) | ipc_put_str(&m, env->helo) |
		ipc_put_str(&m, env->peer) | ipc_put_str(&m, env->auth) |
		ipc_put_str(&m, env->params) | ipc_put_u32(&m, env->nrcpt);
	for (uint32_t i = 0; i < env->nrcpt && r == 0; i++)
		r = ipc_put_str(&m, env->rcpt[i].address) |
		    ipc_put_str(&m, env->rcpt[i].store_id) |
		    ipc_put_u32(&m, env->rcpt[i].state) |
		    ipc_put_u32(&m, env->rcpt[i].attempts) |
		    ipc_put_u32(&m, env->rcpt[i].notify) |
		    ipc_put_str(&m, env->rcpt[i].orcpt);
	if (r != 0) {
		ipc_msg_free(&m);
		*error_r = "envelope too large";
		return -1;
	}
	*len = 8 + m.payload.len;
	*out = malloc(*len);
	if (*out == NULL) {
		ipc_msg_free(&m);
		*error_r = "out of memory";
		return -1;
	}
	memcpy(*out, magic, 4);
	uint32_t pl = (uint32_t)m.payload.len;
	for (int i = 0; i < 4; i++)
		(*out)[4 + i] = (uint8_t)(pl >> (8 * i));
	memcpy(*out + 8, m.payload.data, m.payload.len);
	ipc_msg_free(&m);
	return 0;
}

void spool_env_free(struct spool_env *env)
{
	free(env->rcpt);
	env->rcpt = NULL;
	env->nrcpt = 0;
}

int spool_env_decode(const uint8_t *rec, size_t len, struct spool_env *env,
		     const char **error_r)
{
	memset(env, 0, sizeof(*env));
	if (len < 8 || (memcmp(rec, magic, 4) != 0 && memcmp(rec, magic_v1, 4) != 0)) {
		*error_r = "not an envelope record";
		return -1;
	}
	bool v2 = memcmp(rec, magic, 4) == 0;
	uint32_t pl = (uint32_t)rec[4] | (uint32_t)rec[5] << 8 | (uint32_t)rec[6] << 16 |
		      (uint32_t)rec[7] << 24;
	if (pl != len - 8) {
		*error_r = "envelope record truncated";
		return -1;
	}
	struct ipc_reader r = { .p = rec + 8, .len = pl, .off = 0 };
	if (ipc_get_str(&r, env->qid, sizeof(env->qid), error_r) < 0 ||
	    ipc_get_u64(&r, &env->arrived, error_r) < 0 ||
	    ipc_get_u64(&r, &env->size, error_r) < 0 ||
	    ipc_get_str(&r, env->from, sizeof(env->from), error_r) < 0 ||
	    ipc_get_str(&r, env->helo, sizeof(env->helo), error_r) < 0 ||
	    ipc_get_str(&r, env->peer, sizeof(env->peer), error_r) < 0 ||
	    ipc_get_str(&r, env->auth, sizeof(env->auth), error_r) < 0 ||
	    ipc_get_str(&r, env->params, sizeof(env->params), error_r) < 0 ||
	    ipc_get_u32(&r, &env->nrcpt, error_r) < 0)
		return -1;
	if (env->nrcpt == 0 || env->nrcpt > SPOOL_MAX_RCPT) {
		*error_r = "recipient count out of range";
		env->nrcpt = 0;
		return -1;
	}
	env->rcpt = calloc(env->nrcpt, sizeof(*env->rcpt));
	if (env->rcpt == NULL) {
		*error_r = "out of memory";
		env->nrcpt = 0;
		return -1;
	}
	for (uint32_t i = 0; i < env->nrcpt; i++) {
		struct spool_rcpt *rc = &env->rcpt[i];
		if (ipc_get_str(&r, rc->address, sizeof(rc->address), error_r) < 0 ||
		    ipc_get_str(&r, rc->store_id, sizeof(rc->store_id), error_r) < 0 ||
		    ipc_get_u32(&r, &rc->state, error_r) < 0 ||
		    ipc_get_u32(&r, &rc->attempts, error_r) < 0 || rc->state > SPOOL_FAILED ||
		    (v2 && (ipc_get_u32(&r, &rc->notify, error_r) < 0 ||
			    ipc_get_str(&r, rc->orcpt, sizeof(rc->orcpt), error_r) < 0))) {
			if (*error_r == NULL)
				*error_r = "bad recipient state";
			spool_env_free(env);
			return -1;
		}
	}
	if (ipc_end(&r, error_r) < 0) {
		spool_env_free(env);
		return -1;
	}
	return 0;
}

int spool_sync_dir(int spool_fd, const char *sub)
{
	int fd = openat(spool_fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

int spool_prepare(int spool_fd, const char **error_r)
{
	if ((mkdirat(spool_fd, "tmp", 0700) < 0 && errno != EEXIST) ||
	    (mkdirat(spool_fd, "q", 0700) < 0 && errno != EEXIST) ||
	    (mkdirat(spool_fd, "spare", 0700) < 0 && errno != EEXIST)) {
		*error_r = "cannot create spool/tmp, spool/q or spool/spare";
		return -1;
	}
	return spool_sync_dir(spool_fd, ".") < 0 ? (*error_r = "fsync spool", -1) : 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int spool_env_write(int spool_fd, const struct spool_env *env, const char **error_r)
{
	return spool_env_write_sync(spool_fd, env, 1, error_r);
}

int spool_spare_open(int spool_fd, struct spool_spares *sp, char *name, size_t namelen)
{
	while (sp->n > 0) {
		snprintf(name, namelen, "spare/s%u", sp->id[--sp->n]);
		/* O_TRUNC, not writing over the old octets: on a journalled
		 * ext4 a crash then never leaves a file with another
		 * message's octets under a new name */
		int fd = openat(spool_fd, name, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		unlinkat(spool_fd, name, 0);   /* not what it should be: drop it */
	}
	/* a fresh name; one left over (it should not be) is skipped */
	for (int tries = 0; tries < 8; tries++) {
		snprintf(name, namelen, "spare/s%u", sp->next++);
		int fd = openat(spool_fd, name,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* The n of "spare/s<n>", or -1. */
static long spare_id(const char *name)
{
	if (strncmp(name, "spare/s", 7) != 0 || name[7] == '\0')
		return -1;
	char *end;
	unsigned long v = strtoul(name + 7, &end, 10);
	return *end == '\0' && v <= UINT32_MAX ? (long)v : -1;
}

void spool_spare_put(int spool_fd, struct spool_spares *sp, const char *name)
{
	long id = spare_id(name);
	if (id >= 0 && sp->n < RD_QUEUE_SPARE_FILES)
		sp->id[sp->n++] = (uint32_t)id;
	else
		unlinkat(spool_fd, name, 0);
}

/* Rename q/ file `from` into the pool, or remove it. */
static int spare_keep(int spool_fd, struct spool_spares *sp, const char *from, int keep)
{
	char name[32];
	if (keep && sp->n < RD_QUEUE_SPARE_FILES) {
		uint32_t id = sp->next++;
		snprintf(name, sizeof(name), "spare/s%u", id);
		/* fresh names are never in use: spare/ is emptied at start
		 * and ids only grow */
		if (renameat(spool_fd, from, spool_fd, name) == 0) {
			sp->id[sp->n++] = id;
			return 0;
		}
	}
	return unlinkat(spool_fd, from, 0);
}

int spool_remove_spare(int spool_fd, struct spool_spares *sp, const char *qid, uint64_t size)
{
	char name[64];
	snprintf(name, sizeof(name), "q/%s.env", qid);
	int r = spare_keep(spool_fd, sp, name, 1);
	snprintf(name, sizeof(name), "q/%s.msg", qid);
	r |= spare_keep(spool_fd, sp, name, size <= RD_QUEUE_SPARE_MAX_SIZE);
	return r;
}

static int env_write(int spool_fd, struct spool_spares *sp, const struct spool_env *env,
		     int sync, const char **error_r)
{
	uint8_t *rec;
	size_t len;
	char tmp[64], dst[64];
	if (spool_env_encode(env, &rec, &len, error_r) < 0)
		return -1;
	snprintf(dst, sizeof(dst), "q/%s.env", env->qid);
	int fd;
	if (sp != NULL) {
		fd = spool_spare_open(spool_fd, sp, tmp, sizeof(tmp));
	} else {
		snprintf(tmp, sizeof(tmp), "tmp/%s.env", env->qid);
		fd = openat(spool_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	int r = fd < 0 || write_all(fd, rec, len) < 0 || (sync && fsync(fd) < 0) ? -1 : 0;
	int e = errno;
	if (fd >= 0)
		close(fd);
	free(rec);
	if (r == 0 && renameat(spool_fd, tmp, spool_fd, dst) < 0)
		r = -1, e = errno;
	if (r == 0 && sync && spool_sync_dir(spool_fd, "q") < 0)
		r = -1, e = errno;
	if (r < 0) {
		*error_r = e == ENOSPC ? "disk full" : strerror(e);
		if (fd >= 0 && sp != NULL)
			spool_spare_put(spool_fd, sp, tmp);
		else if (fd >= 0)
			unlinkat(spool_fd, tmp, 0);
		errno = e;
	}
	return r;
}

int spool_env_write_sync(int spool_fd, const struct spool_env *env, int sync,
			 const char **error_r)
{
	return env_write(spool_fd, NULL, env, sync, error_r);
}

int spool_env_write_spare(int spool_fd, struct spool_spares *sp, const struct spool_env *env,
			  const char **error_r)
{
	return env_write(spool_fd, sp, env, 0, error_r);
}

int spool_env_read(int spool_fd, const char *qid, struct spool_env *env,
		   const char **error_r)
{
	char name[64];
	snprintf(name, sizeof(name), "q/%s.env", qid);
	int fd = openat(spool_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (off_t)RD_QUEUE_MAX_ENVELOPE + 8) {
		close(fd);
		*error_r = "envelope size out of range";
		return -1;
	}
	uint8_t *buf = malloc((size_t)st.st_size);
	ssize_t n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	int r = n == st.st_size ? spool_env_decode(buf, (size_t)n, env, error_r) :
		(*error_r = "short read", -1);
	free(buf);
	return r;
}

int spool_remove(int spool_fd, const char *qid)
{
	char name[64];
	snprintf(name, sizeof(name), "q/%s.env", qid);
	int r = unlinkat(spool_fd, name, 0);
	snprintf(name, sizeof(name), "q/%s.msg", qid);
	r |= unlinkat(spool_fd, name, 0);
	return r;
}
