/* log.h: one key=value line per event on stderr.
 *
 * Every line starts with ts=, level=, role= and event=; the caller adds
 * key/value pairs. Values are quoted and escaped when they hold anything
 * but [A-Za-z0-9._:@/+-], so a peer-supplied string (a user name with a
 * newline, say) can never forge a second line. The role name is set once
 * per process with log_set_role(); it is the only process-wide state here
 * because stderr itself is process-wide. */
#ifndef RD_LOG_H
#define RD_LOG_H
#include <stdarg.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_role(const char *role);
void log_set_min_level(enum log_level lvl);
/* kv is a NULL-terminated list of key, value pairs (const char *). */
void log_event(enum log_level lvl, const char *event, ...)
	__attribute__((sentinel));
/* Escape one value the way log_event does, into out (size outlen). */
void log_escape(char *out, unsigned long outlen, const char *value);

#define log_info(...)  log_event(LOG_INFO, __VA_ARGS__, (const char *)0)
#define log_warn(...)  log_event(LOG_WARN, __VA_ARGS__, (const char *)0)
#define log_error(...) log_event(LOG_ERROR, __VA_ARGS__, (const char *)0)
#define log_debug(...) log_event(LOG_DEBUG, __VA_ARGS__, (const char *)0)

#endif
