/* imap-binary.h: the BINARY extension (RFC 3516): a part's content with
 * its Content-Transfer-Encoding undone, for FETCH BINARY[part]<partial>
 * and BINARY.SIZE[part].
 *
 * Pure: works on the message octets and part offsets imap-fetch already
 * has; the decoders take any input (bytes outside the encoding's alphabet
 * are skipped, as RFC 2045 6.8 asks of base64) and fail only when the
 * output buffer is full. Functions return 0 or -1 with *error_r where one
 * is taken; an encoding the server does not know is answered NO
 * [UNKNOWN-CTE] (RFC 3516 4.3), so *error_r then starts with that code. */
#ifndef RD_IMAP_BINARY_H
#define RD_IMAP_BINARY_H
#include "imap/imap-fetch.h"
#include "lib/buffer.h"
#include <stddef.h>
#include <stdint.h>

enum imap_cte { CTE_IDENTITY, CTE_BASE64, CTE_QP, CTE_UNKNOWN };

/* The encoding named by a Content-Transfer-Encoding value (absent: NULL). */
enum imap_cte imap_cte_parse(const uint8_t *v, size_t len);
/* Appends the decoded form of in[0..n) to out; -1 if out is full. */
int imap_base64_decode(const uint8_t *in, size_t n, struct buffer *out);
int imap_qp_decode(const uint8_t *in, size_t n, struct buffer *out);
/* A hex digit's value, either case; -1 if c is none. */
int imap_hex_digit(uint8_t c);

/* Writes "BINARY[part]<o> {n}\r\n..." (~{n} when the content holds NUL)
 * or "BINARY.SIZE[part] n" for an FA_BINARY / FA_BINARY_SIZE item. tmp is
 * scratch space. */
int imap_binary_write(const struct imap_fetch_item *it, const struct imap_fetch_msg *m,
		      struct buffer *out, struct buffer *tmp, const char **error_r);

#endif
