/* cli-path.c: can the roles' user reach the data directory? A data
 * directory under /root (mode 0700) cannot be entered by "redoubt", and
 * every role would fail with a puzzling "permission denied"; say so first. */
#include "cli/cli-common.h"
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cli_path_reachable(const char *dir, unsigned uid, unsigned gid, char *bad, size_t badlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", dir);
	/* check every ancestor, from the parent up to "/" */
	for (;;) {
		char *slash = strrchr(path, '/');
		if (slash == NULL)
			return 0;
		if (slash == path)
			path[1] = '\0';
		else
			*slash = '\0';
		struct stat st;
		if (stat(path, &st) < 0)
			return 0;
		int ok = (st.st_mode & S_IXOTH) ||
			 (st.st_uid == uid && (st.st_mode & S_IXUSR)) ||
			 (st.st_gid == gid && (st.st_mode & S_IXGRP));
		if (!ok) {
			snprintf(bad, badlen, "%s", path);
			return -1;
		}
		if (strcmp(path, "/") == 0)
			return 0;
	}
}
