/* ipc.h: typed frames between redoubt's roles.
 *
 * Transport is a SOCK_SEQPACKET socketpair made by master: one frame per
 * datagram, at most one file descriptor attached (SCM_RIGHTS). There is no
 * object serialization: a frame is a fixed 16-octet header and a payload of
 * typed fields read back in a fixed order by the receiver's schema.
 *
 *   header (little endian): magic u16 = 0x4452 ("RD"), version u8 = 1,
 *   type u8, length u32 (payload octets), id u32 (request id), zero u32.
 *   field: kind u8 (1 = u32, 2 = u64, 3 = string, 4 = bytes), then
 *          u32: 4 octets | u64: 8 octets | string/bytes: u32 length + octets.
 *
 * Strings never contain NUL or exceed RD_IPC_MAX_STRING. A receiver treats
 * any malformed frame as a hostile peer: the decode functions return -1
 * with a reason ("frame too short", "unterminated string", ...), and the
 * caller drops that peer. Decoding is pure (no I/O) and fuzzed.
 * Functions return 0 on success, -1 on error with *error_r set, unless
 * documented otherwise. */
#ifndef RD_IPC_H
#define RD_IPC_H
#include <stddef.h>
#include <stdint.h>
#include "lib/buffer.h"

#define IPC_MAGIC 0x4452u
#define IPC_VERSION 1u
#define IPC_HEADER_SIZE 16u

enum ipc_type {
	IPC_NONE = 0,
	/* master -> role, once after start: str hostname, u32 login failure
	 * delay (ms), u64 Argon2 opslimit, u64 Argon2 memlimit (bytes),
	 * u64 max message size, u32 max recipients, u64 quota per store in
	 * bytes (0: none), bytes TLS certificate
	 * chain, bytes key (PEM; empty except for the TLS fronts). Roles
	 * never read key files themselves. */
	IPC_ROLE_CONFIG = 1,
	/* front -> master (header id = the front's session): str protocol,
	 * str user, str password, str client address, u32 tls, str SASL
	 * mechanism, str client id (IMAP ID). Master forwards protocol, user,
	 * password, address and tls to auth under its own request id. */
	IPC_AUTH_REQUEST = 2,
	/* auth -> master: u32 result (1 ok, 0 refused, 2 temporary failure),
	 * str canonical principal, u32 delay before answering a refusal (ms),
	 * u32 locked out, u32 failures recorded against the account. */
	IPC_AUTH_REPLY = 3,
	/* master -> front (header id = session): u32 result, str principal; on success
	 * one descriptor attached: the front's end of the channel to the
	 * principal's worker. The front never names the principal itself. */
	IPC_LOGIN_RESULT = 4,
	/* master -> worker: a new session; descriptor attached; str protocol,
	 * str client address. */
	IPC_WORKER_SESSION = 5,
	/* master -> role: stop accepting, finish sessions, exit. */
	IPC_SHUTDOWN = 6,
	/* role -> master: ready after confinement: str role. */
	IPC_READY = 7,
	/* worker -> master: no sessions for a while; master stops routing
	 * new sessions to it and answers IPC_SHUTDOWN. No fields. */
	IPC_WORKER_IDLE = 8,
	/* master -> smtp-in and queue: one end each of a fresh link between
	 * them (descriptor attached), sent whenever either (re)starts. The
	 * TXN frames below travel on that link, id = transaction. */
	IPC_QUEUE_LINK = 9,
	/* smtp-in -> queue: str recipient. May it be accepted? */
	IPC_TXN_RCPT = 10,
	/* queue -> smtp-in: u32 verdict (0 accept, 1 refuse, 2 try later),
	 * str the full SMTP reply for a refusal ("550 5.1.1 ..."). */
	IPC_TXN_RCPT_REPLY = 11,
	/* smtp-in -> queue: str mail-from, str helo, str peer, str tls,
	 * str auth principal ("" if none), str envid/ret/body parameters as
	 * one "k=v k=v" string, u32 n, then n x (str recipient, u32 NOTIFY
	 * bits, str ORCPT "rfc822;addr" or ""). */
	IPC_TXN_BEGIN = 12,
	/* smtp-in -> queue: bytes, the next chunk of the message as it will
	 * be stored (dot-unstuffed, CRLF, our Received header first). */
	IPC_TXN_DATA = 13,
	/* smtp-in -> queue: the message is complete; make it durable. */
	IPC_TXN_COMMIT = 14,
	/* smtp-in -> queue: forget the transaction. */
	IPC_TXN_ABORT = 15,
	/* queue -> smtp-in: u32 smtp code, str full reply. Sent for COMMIT
	 * only after the message and its envelope are on disk (fsynced,
	 * renamed, directory fsynced). */
	IPC_TXN_RESULT = 16,
	/* queue -> master: str queue id, str store id, str recipient,
	 * str return path; descriptor of the message file attached. */
	IPC_DELIVER = 17,
	/* master -> queue: u32 status (0 delivered, 1 try later, 2 failed
	 * for good, 3 over quota: try later) for delivery id. */
	IPC_DELIVER_DONE = 18,
	/* role -> master: an audit event (audit/audit-event.h payload:
	 * str kind, u32 n, n x (str key, str value)). Master adds who sent
	 * it from the channel, never from the payload. */
	IPC_AUDIT_EVENT = 19,
	/* master -> worker, right after IPC_ROLE_CONFIG: the grants the
	 * principal holds on others' mailboxes (master/grants-codec.h payload). */
	IPC_WORKER_GRANTS = 20,
	/* worker -> master: SETACL/DELETEACL (RFC 4314) by its principal:
	 * str owner, str mailbox (in the owner's store), str grantee, str
	 * rights, u32 mode (0 replace, 1 add, 2 remove; "" with 0 deletes).
	 * id: the worker's request number. */
	IPC_GRANT_SET = 21,
	/* master -> worker: u32 status (0 done, 1 refused), str text for
	 * the NO, for the request id. */
	IPC_GRANT_RESULT = 22,
	/* worker -> master: GETACL (RFC 4314) of another owner's mailbox by
	 * a principal holding "a" there: str owner, str mailbox. id: the
	 * worker's request number. */
	IPC_ACL_LIST = 23,
	/* master -> worker: u32 status (0 done, 1 refused), str text for the
	 * NO, then when done u32 n, n x (str grantee, str rights), for the
	 * request id. */
	IPC_ACL_LIST_RESULT = 24,
	IPC_TYPE_MAX = 24,
};

struct ipc_header {
	uint8_t type;
	uint32_t length;
	uint32_t id;
};

/* Building a frame. */
struct ipc_msg {
	uint8_t type;
	uint32_t id;
	struct buffer payload;
};

void ipc_msg_init(struct ipc_msg *m, enum ipc_type type, uint32_t id);
void ipc_msg_free(struct ipc_msg *m);
int ipc_put_u32(struct ipc_msg *m, uint32_t v);
int ipc_put_u64(struct ipc_msg *m, uint64_t v);
int ipc_put_str(struct ipc_msg *m, const char *s);
int ipc_put_bytes(struct ipc_msg *m, const void *p, size_t len);
/* Send on a SEQPACKET socket, attaching fd unless it is -1. Returns -2
 * (with *error_r) when a non-blocking socket is full. */
int ipc_send(int sock, const struct ipc_msg *m, int fd, const char **error_r);
/* The frame as bytes, for a sender that queues frames itself. */
size_t ipc_frame_size(const struct ipc_msg *m);
void ipc_frame_write(const struct ipc_msg *m, uint8_t *out);

/* A frame whose payload is one bytes field, sent from the caller's memory
 * without building an ipc_msg (no copy of p). Returns like ipc_send,
 * -2 when a non-blocking socket is full. The _size/_write pair gives the
 * same frame as bytes, for a sender that queues frames itself. */
int ipc_send_bytes(int sock, enum ipc_type type, uint32_t id, const void *p, size_t len,
		   const char **error_r);
size_t ipc_bytes_frame_size(size_t len);
void ipc_bytes_frame_write(enum ipc_type type, uint32_t id, const void *p, size_t len,
			   uint8_t *out);

/* Reading a frame (pure). */
struct ipc_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

int ipc_decode_header(const uint8_t *buf, size_t len, struct ipc_header *h,
		      struct ipc_reader *payload_r, const char **error_r);
int ipc_get_u32(struct ipc_reader *r, uint32_t *v, const char **error_r);
int ipc_get_u64(struct ipc_reader *r, uint64_t *v, const char **error_r);
/* Copies into out (NUL-terminated); fails if it does not fit. */
int ipc_get_str(struct ipc_reader *r, char *out, size_t outlen, const char **error_r);
/* Points into the frame; at most max octets. */
int ipc_get_bytes(struct ipc_reader *r, const uint8_t **p, size_t *len,
		  size_t max, const char **error_r);
/* The schema is fully read: trailing octets are an error. */
int ipc_end(const struct ipc_reader *r, const char **error_r);

/* Receive one frame into buf (size >= IPC_HEADER_SIZE + RD_IPC_MAX_PAYLOAD).
 * Returns 1 with a frame, 0 on orderly close, -2 when it would block, -1 on
 * error or a malformed frame. *fd_r is the attached descriptor or -1; extra
 * descriptors are closed and make the frame malformed. */
int ipc_recv(int sock, uint8_t *buf, size_t buflen, struct ipc_header *h,
	     struct ipc_reader *r, int *fd_r, const char **error_r);

#define IPC_RECV_BUFSIZE (IPC_HEADER_SIZE + RD_IPC_MAX_PAYLOAD)

#endif
