/* config-file.c: the I/O around the pure parser: loading redoubt.conf and
 * writing the commented default file. Kept apart from config.c so the
 * parser and its fuzz target link without any of this. */
#include "config/config.h"
#include "config/config-table.h"
#include "config/dnsname.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The rendered file is about 5 KiB; this leaves room for long docs. */
#define CONFIG_FORMAT_MAX (64u * 1024u)

static const char file_header[] =
	"# redoubt.conf: configuration of the redoubt mail server.\n"
	"#\n"
	"# Syntax: \"key = value\" lines under [section] headers. A comment starts\n"
	"# with \"#\" and must be on a line of its own. Every key is listed below\n"
	"# with what it does and its default; a key left out keeps its default.\n"
	"# An unknown key, a bad value or a key set twice is an error: redoubt\n"
	"# then refuses to start and names the file, line and key.\n"
	"# Check a change before restarting with: redoubt check\n";

static void format_value(const struct config *c, const struct config_setting *s,
			 char *out, size_t outlen)
{
	const void *field = (const char *)c + s->offset;
	switch (s->type) {
	case CONFIG_DNSNAME:
	case CONFIG_USER:
	case CONFIG_PATH:
		snprintf(out, outlen, "%.*s", (int)s->size, (const char *)field);
		return;
	case CONFIG_BOOL:
		snprintf(out, outlen, "%s", *(const int *)field ? "on" : "off");
		return;
	case CONFIG_LOGLEVEL:
		snprintf(out, outlen, "%s",
			 config_log_level_name(*(const enum log_level *)field));
		return;
	case CONFIG_LISTEN: {
		const struct config_listen *l = field;
		if (!l->enabled)
			snprintf(out, outlen, "off");
		else if (strchr(l->host, ':') != NULL)
			snprintf(out, outlen, "[%s]:%u", l->host, (unsigned)l->port);
		else
			snprintf(out, outlen, "%s:%u", l->host, (unsigned)l->port);
		return;
	}
	case CONFIG_U32:
		snprintf(out, outlen, "%lu", (unsigned long)*(const uint32_t *)field);
		return;
	case CONFIG_U64:
		snprintf(out, outlen, "%llu",
			 (unsigned long long)*(const uint64_t *)field);
		return;
	}
	snprintf(out, outlen, "?");
}

/* Each line of doc, prefixed with "# ". */
static int append_doc(struct buffer *out, const char *doc)
{
	while (*doc != '\0') {
		const char *nl = strchr(doc, '\n');
		size_t n = nl ? (size_t)(nl - doc) : strlen(doc);
		if (buffer_append_str(out, "# ") < 0 ||
		    buffer_append(out, doc, n) < 0 ||
		    buffer_append_u8(out, '\n') < 0)
			return -1;
		doc += n + (nl ? 1 : 0);
	}
	return 0;
}

int config_format(const struct config *c, struct buffer *out,
		  const char **error_r)
{
	struct config defaults;
	char value[RD_CONFIG_MAX_LINE], dflt[RD_CONFIG_MAX_LINE];

	config_defaults(&defaults);
	if (buffer_append_str(out, file_header) < 0)
		goto full;
	for (unsigned sec = 0; sec < CONFIG_SECTION_COUNT; sec++) {
		if (buffer_append_u8(out, '\n') < 0 ||
		    append_doc(out, config_sections[sec].doc) < 0 ||
		    buffer_printf(out, "[%s]\n", config_sections[sec].name) < 0)
			goto full;
		for (unsigned i = 0; i < CONFIG_SETTING_COUNT; i++) {
			const struct config_setting *s = &config_settings[i];
			if (s->section != sec)
				continue;
			format_value(c, s, value, sizeof(value));
			format_value(&defaults, s, dflt, sizeof(dflt));
			if (buffer_append_u8(out, '\n') < 0 ||
			    append_doc(out, s->doc) < 0)
				goto full;
			if ((s->type == CONFIG_U32 || s->type == CONFIG_U64) &&
			    buffer_printf(out, "# Range: %llu..%llu.\n",
					  (unsigned long long)s->min,
					  (unsigned long long)s->max) < 0)
				goto full;
			if (s->type != CONFIG_DNSNAME &&
			    buffer_printf(out, "# Default: %s\n", dflt) < 0)
				goto full;
			if (buffer_printf(out, "%s = %s\n", s->key, value) < 0)
				goto full;
		}
	}
	return 0;
full:
	*error_r = "configuration text too large";
	return -1;
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int ret = -1;

	/* O_NONBLOCK: a FIFO planted at the path must not hang the start;
	 * O_NOFOLLOW: a symlink could point the master (root) anywhere. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			snprintf(err, errlen, "%s: is a symbolic link; refusing it", path);
		else
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	/* Why: whoever can write the config chooses the users roles run as
	 * and the key files root reads. */
	if ((st.st_mode & S_IWOTH) != 0) {
		snprintf(err, errlen, "%s: writable by others; refusing it (chmod o-w)", path);
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > RD_CONFIG_MAX_SIZE) {
		snprintf(err, errlen, "%s: file larger than %u bytes", path,
			 RD_CONFIG_MAX_SIZE);
		goto out;
	}
	/* Read one byte more than the cap, so a file that grew after fstat
	 * is still caught. */
	text = malloc(RD_CONFIG_MAX_SIZE + 1u);
	if (text == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, text + len, RD_CONFIG_MAX_SIZE + 1u - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > RD_CONFIG_MAX_SIZE) {
			snprintf(err, errlen, "%s: file larger than %u bytes", path,
				 RD_CONFIG_MAX_SIZE);
			goto out;
		}
	}
	ret = config_parse(c, path, text, len, err, errlen);
out:
	free(text);
	close(fd);
	return ret;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int fsync_dir(int dirfd)
{
	int fd = dirfd;
	if (dirfd == AT_FDCWD) {
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -1;
	}
	int r = fsync(fd);
	if (fd != dirfd) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return r;
}

/* Create tmp, write text, fsync, link to name (which fails if name exists,
 * so an operator's file is never replaced), remove tmp. */
static int write_new_file(int dirfd, const char *tmp, const char *name,
			  const struct buffer *text, const char **error_r)
{
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT) {
		*error_r = "cannot remove a stale temporary config file";
		return -1;
	}
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0640);
	if (fd < 0) {
		*error_r = "cannot create the config file";
		return -1;
	}
	if (write_all(fd, text->data, text->len) < 0 || fsync(fd) < 0) {
		*error_r = "cannot write the config file";
		goto fail_fd;
	}
	if (close(fd) < 0) {
		fd = -1;
		*error_r = "cannot write the config file";
		goto fail_fd;
	}
	fd = -1;
	if (linkat(dirfd, tmp, dirfd, name, 0) < 0) {
		*error_r = errno == EEXIST ? "config file already exists" :
			   "cannot create the config file";
		goto fail_fd;
	}
	(void)unlinkat(dirfd, tmp, 0);
	if (fsync_dir(dirfd) < 0) {
		*error_r = "cannot sync the data directory";
		return -1;
	}
	return 0;
fail_fd: {
	int saved = errno;
	if (fd >= 0)
		close(fd);
	(void)unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}
}

int config_write_new(int dirfd, const char *name, const struct config *c,
		     const char **error_r)
{
	struct config back;
	struct buffer text;
	char tmp[256], err[512];
	int ret = -1;

	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp)) {
		*error_r = "invalid config file name";
		errno = EINVAL;
		return -1;
	}
	buffer_init(&text, CONFIG_FORMAT_MAX);
	if (config_format(c, &text, error_r) < 0) {
		errno = ENOMEM;
		goto out;
	}
	/* Why: init must never write a file that serve then refuses. */
	if (config_parse(&back, name, (const char *)text.data, text.len, err,
			 sizeof(err)) < 0 || !config_equal(c, &back)) {
		*error_r = "internal error: the config written does not parse back";
		errno = EINVAL;
		goto out;
	}
	ret = write_new_file(dirfd, tmp, name, &text, error_r);
out:
	buffer_free(&text);
	return ret;
}

int config_write_default(int dirfd, const char *name, const char *hostname,
			 const char **error_r)
{
	struct config c;
	if (strlen(hostname) > RD_DNS_NAME_MAX || !dns_name_valid(hostname)) {
		*error_r = "host name is not a valid DNS name";
		errno = EINVAL;
		return -1;
	}
	config_defaults(&c);
	snprintf(c.hostname, sizeof(c.hostname), "%s", hostname);
	return config_write_new(dirfd, name, &c, error_r);
}
