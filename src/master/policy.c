#include "master/policy.h"
#include <stdio.h>
#include <string.h>

static int store_id_ok(const char *id)
{
	size_t n = 0;
	if (id == NULL)
		return 0;
	for (; id[n]; n++)
		if (!((id[n] >= 'a' && id[n] <= 'z') || (id[n] >= '0' && id[n] <= '9') ||
		      id[n] == '-'))
			return 0;
	return n >= 1 && n <= 64;
}

int role_policy_make(struct role_policy *rp, const char *role, const char *data_dir,
		     const char *store_id, const char *run_as_user)
{
	memset(rp, 0, sizeof(*rp));
	rp->p.role = role;
	rp->p.run_as_user = run_as_user;
	if (strcmp(role, "smtp-in") == 0 || strcmp(role, "imap-login") == 0 ||
	    strcmp(role, "http-front") == 0) {
		rp->p.fs = SANDBOX_FS_NONE;
		return 0;
	}
	if (data_dir == NULL)
		return -1;
	rp->p.fs = SANDBOX_FS_PATHS;
	if (strcmp(role, "auth") == 0) {
		snprintf(rp->rw[0], sizeof(rp->rw[0]), "%s/auth", data_dir);
	} else if (strcmp(role, "worker") == 0 || strcmp(role, "deliver") == 0) {
		if (!store_id_ok(store_id))
			return -1;
		snprintf(rp->rw[0], sizeof(rp->rw[0]), "%s/stores/%s", data_dir, store_id);
	} else if (strcmp(role, "queue") == 0) {
		/* the spool, and the directory to answer RCPT */
		snprintf(rp->rw[0], sizeof(rp->rw[0]), "%s/spool", data_dir);
		snprintf(rp->rw[1], sizeof(rp->rw[1]), "%s/directory", data_dir);
		rp->rw_list[1] = rp->rw[1];
	} else {
		return -1;
	}
	rp->rw_list[0] = rp->rw[0];
	if (rp->rw[1][0] == '\0')
		rp->rw_list[1] = NULL;
	rp->p.rw_dirs = rp->rw_list;
	/* SQLite seeds its randomness (temporary names, WAL salts) from here;
	 * without it it silently falls back to time and pid */
	rp->ro_list[0] = "/dev/urandom";
	rp->ro_list[1] = NULL;
	rp->p.ro_paths = rp->ro_list;
	return 0;
}

int role_policy_add_store(struct role_policy *rp, const char *data_dir, const char *store_id)
{
	size_t n = 0;
	while (rp->rw_list[n] != NULL)
		n++;
	if (!store_id_ok(store_id) || data_dir == NULL || n + 1 >= sizeof(rp->rw) / sizeof(rp->rw[0]))
		return -1;
	snprintf(rp->rw[n], sizeof(rp->rw[n]), "%s/stores/%s", data_dir, store_id);
	rp->rw_list[n] = rp->rw[n];
	rp->rw_list[n + 1] = NULL;
	return 0;
}
