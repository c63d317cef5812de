/* front.h: connection handling shared by the pre-authentication roles
 * (smtp-in, imap-login, http-front).
 *
 * A front accepts on the listening sockets master handed it, wraps each
 * connection in a libevent bufferevent (TLS from the first octet on
 * implicit-TLS ports), cuts input into lines no longer than the protocol's
 * cap, enforces connection caps and idle timeouts, and upgrades to TLS on
 * STARTTLS after discarding whatever plaintext the client sent behind the
 * STARTTLS command. The protocol module supplies callbacks; it never touches
 * sockets. Nothing here opens a file. */
#ifndef RD_FRONT_H
#define RD_FRONT_H
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <event2/bufferevent.h>
#include <openssl/ssl.h>

struct front;
struct conn;

struct front_proto {
	const char *name;            /* "smtp", "imap", "http" */
	/* A new connection (after the TLS handshake on implicit-TLS ports).
	 * Return 0 to keep it, -1 to close. */
	int (*on_open)(struct conn *c);
	/* One line without its line ending (CRLF or LF), len <= max_line. */
	void (*on_line)(struct conn *c, const char *line, size_t len);
	/* The line cap was exceeded: the protocol answers, the front closes. */
	void (*on_line_too_long)(struct conn *c);
	/* Idle timeout. */
	void (*on_timeout)(struct conn *c);
	void (*on_close)(struct conn *c);
	/* The server is stopping: say goodbye (SMTP 421, IMAP BYE). */
	void (*on_shutdown)(struct conn *c);
	/* Raw mode (conn_set_raw): the next bytes of input; return how many
	 * were consumed (the rest stays buffered). May be NULL if unused. */
	size_t (*on_raw)(struct conn *c, const unsigned char *p, size_t len);
	/* Role-wide state: made once after the front exists, freed at the
	 * end; frames from master other than login results go to
	 * on_master_frame. All optional. */
	void *(*role_init)(struct front *f, struct event_base *base);
	void (*role_free)(void *role);
	void (*on_master_frame)(void *role, int type, unsigned id, void *reader, int fd);
	/* Master answered a login this connection asked for (see
	 * front_login). fd is the channel to the principal's worker, or -1. */
	void (*on_login)(struct conn *c, int result, const char *principal, int fd);
};

struct front_listener_spec {
	int fd;
	const char *kind;            /* "mx", "submission", "imap", ... */
	int implicit_tls;
};

/* Operator limits the front enforces (from redoubt.conf via master). */
struct front_limits {
	uint64_t max_message_size;
	unsigned max_recipients;
};

struct front_config {
	struct event_base *base;
	SSL_CTX *tls;                /* NULL if no certificate */
	int ipc_fd;                  /* to master */
	const char *hostname;
	const struct front_proto *proto;
	size_t max_line;
	unsigned idle_timeout_s;
	/* If non-zero, every connection ends this many seconds after it was
	 * accepted, however it trickles (HTTP: the request-head deadline). */
	unsigned conn_deadline_s;
	struct front_limits limits;
};

int front_create(const struct front_config *cfg, const struct front_listener_spec *ls,
		 size_t nls, struct front **front_r, const char **error_r);
void front_free(struct front **f);
/* Stop accepting; close connections after their current reply is sent.
 * Returns the number still open. */
size_t front_shutdown(struct front *f);
/* Stop or resume taking new connections (they wait in the kernel's
 * backlog meanwhile); ignored once shutting down. */
void front_set_accepting(struct front *f, int on);
size_t front_conn_count(const struct front *f);

void front_set_role(struct front *f, void *role);
struct conn *front_conn_by_id(struct front *f, unsigned id);

/* Per-connection. */
void *conn_role(struct conn *c);
unsigned conn_id(const struct conn *c);
/* Report an audit event about this connection (client address added). */
struct audit_kv;
void conn_audit(struct conn *c, const char *kind, const struct audit_kv *kv, size_t n);
const struct front_limits *conn_limits(const struct conn *c);
/* Raw mode delivers bytes through on_raw instead of lines (SMTP DATA). */
void conn_set_raw(struct conn *c, int raw);
void *conn_proto_data(struct conn *c);
void conn_set_proto_data(struct conn *c, void *data);
const char *conn_listener_kind(const struct conn *c);
const char *conn_peer(const struct conn *c);     /* "127.0.0.1" */
const char *conn_hostname(const struct conn *c);
int conn_is_tls(const struct conn *c);
int conn_tls_available(const struct conn *c);
/* Describe the TLS session ("TLSv1.3/TLS_AES_...") or "none". */
void conn_tls_describe(struct conn *c, char *out, size_t outlen);
int conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int conn_write(struct conn *c, const void *p, size_t len);
/* Send what is queued, then start the TLS handshake; input already read
 * behind the STARTTLS line is discarded (RFC 3207 section 4.2). */
int conn_starttls(struct conn *c);
/* Close after the output queue drains. */
void conn_close_after_flush(struct conn *c);
/* Stop delivering lines (while waiting for master), and resume. */
void conn_pause(struct conn *c);
void conn_resume(struct conn *c);
/* Ask master to verify a login. The answer arrives through on_login. */
int conn_login(struct conn *c, const char *protocol, const char *mechanism,
	       const char *user, const char *password);
/* What the client said it is (IMAP ID "name"), for the login record. */
void conn_set_client_id(struct conn *c, const char *id);
/* After a successful login: relay plaintext between the client and the
 * worker channel until either side closes. Lines are no longer delivered. */
int conn_proxy(struct conn *c, int worker_fd);
/* Handle one frame from master (called by the role's IPC reader). */
void front_ipc_frame(struct front *f, int type, unsigned id, void *reader, int fd);

#endif
