#include "lib/log.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Process-wide by nature: there is one stderr per process. */
static char log_role[32] = "redoubt";
static enum log_level log_min = LOG_INFO;

void log_set_role(const char *role)
{
	snprintf(log_role, sizeof(log_role), "%s", role);
}

void log_set_min_level(enum log_level lvl)
{
	log_min = lvl;
}

static int plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("._:@/+-,[]", c) != NULL;
}

void log_escape(char *out, unsigned long outlen, const char *v)
{
	size_t o = 0;
	int plain = *v != '\0';
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (!plain_char(*p) || *p == ',')
			plain = 0;
	if (outlen == 0)
		return;
	if (plain) {
		snprintf(out, outlen, "%s", v);
		return;
	}
	if (o + 1 < outlen)
		out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		char tmp[5];
		if (*p == '"' || *p == '\\')
			snprintf(tmp, sizeof(tmp), "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
		else
			snprintf(tmp, sizeof(tmp), "%c", *p);
		size_t tl = strlen(tmp);
		if (o + tl + 2 >= outlen)
			break;
		memcpy(out + o, tmp, tl);
		o += tl;
	}
	out[o++] = '"';
	out[o] = '\0';
}

void log_event(enum log_level lvl, const char *event, ...)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	if (lvl < log_min)
		return;
	char line[4096];
	size_t o = 0;
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
		"ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s role=%s pid=%d event=%s",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, names[lvl],
		log_role, (int)getpid(), event);
	if (n < 0)
		return;
	o = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	va_list ap;
	va_start(ap, event);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (k == NULL)
			break;
		const char *v = va_arg(ap, const char *);
		char esc[1024];
		log_escape(esc, sizeof(esc), v ? v : "");
		n = snprintf(line + o, sizeof(line) - o, " %s=%s", k, esc);
		if (n < 0 || (size_t)n >= sizeof(line) - o)
			break;
		o += (size_t)n;
	}
	va_end(ap);
	if (o < sizeof(line) - 1)
		line[o++] = '\n';
	/* one write(2) per line, so lines of concurrent roles never interleave */
	ssize_t w = write(STDERR_FILENO, line, o);
	(void)w;
}
