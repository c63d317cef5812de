/* imap-binary.c: RFC 3516 BINARY content decoding (see imap-binary.h). */
#include "imap/imap-binary.h"
#include <string.h>
#include <strings.h>

enum imap_cte imap_cte_parse(const uint8_t *v, size_t len)
{
	static const char *const identity[] = { "7bit", "8bit", "binary" };
	if (v == NULL || len == 0)
		return CTE_IDENTITY;   /* RFC 2045 6.1: the default is 7bit */
	for (size_t i = 0; i < 3; i++)
		if (len == strlen(identity[i]) && strncasecmp((const char *)v, identity[i], len) == 0)
			return CTE_IDENTITY;
	if (len == 6 && strncasecmp((const char *)v, "base64", 6) == 0)
		return CTE_BASE64;
	if (len == 16 && strncasecmp((const char *)v, "quoted-printable", 16) == 0)
		return CTE_QP;
	return CTE_UNKNOWN;
}

static int b64_value(uint8_t c)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != 0 ? memchr(alphabet, c, 64) : NULL;
	return p != NULL ? (int)(p - alphabet) : -1;
}

int imap_base64_decode(const uint8_t *in, size_t n, struct buffer *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '=')
			break;   /* padding: whatever follows is not data */
		int v = b64_value(in[i]);
		if (v < 0)
			continue;   /* line breaks and stray octets */
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (buffer_append_u8(out, (uint8_t)(acc >> bits)) < 0)
				return -1;
			acc &= (1u << bits) - 1;
		}
	}
	return 0;
}

int imap_hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int imap_qp_decode(const uint8_t *in, size_t n, struct buffer *out)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = in[i];
		if (c == ' ' || c == '\t') {
			/* RFC 2045 6.7 rule 3: white space ending a line was added
			 * in transport and goes */
			size_t j = i;
			while (j < n && (in[j] == ' ' || in[j] == '\t'))
				j++;
			if (j == n || in[j] == '\r' || in[j] == '\n') {
				i = j;
				continue;
			}
			if (buffer_append(out, in + i, j - i) < 0)
				return -1;
			i = j;
			continue;
		}
		if (c != '=') {
			if (buffer_append_u8(out, c) < 0)
				return -1;
			i++;
			continue;
		}
		/* soft line break: "=" then optional white space, then CRLF/LF */
		size_t j = i + 1;
		while (j < n && (in[j] == ' ' || in[j] == '\t'))
			j++;
		if (j < n && in[j] == '\r' && j + 1 < n && in[j + 1] == '\n') {
			i = j + 2;
			continue;
		}
		if (j < n && in[j] == '\n') {
			i = j + 1;
			continue;
		}
		if (j == n) {
			i = n;
			continue;
		}
		int hi = i + 1 < n ? imap_hex_digit(in[i + 1]) : -1;
		int lo = i + 2 < n ? imap_hex_digit(in[i + 2]) : -1;
		if (hi >= 0 && lo >= 0) {
			if (buffer_append_u8(out, (uint8_t)(hi << 4 | lo)) < 0)
				return -1;
			i += 3;
		} else {
			/* RFC 2045 6.7 note 1: a robust decoder keeps a bad "=" */
			if (buffer_append_u8(out, '=') < 0)
				return -1;
			i++;
		}
	}
	return 0;
}

int imap_binary_write(const struct imap_fetch_item *it, const struct imap_fetch_msg *m,
		      struct buffer *out, struct buffer *tmp, const char **error_r)
{
	const struct imap_fetch_part *p = NULL;
	*error_r = NULL;
	for (size_t i = 0; i < m->nparts && it->part[0] != '\0'; i++)
		if (strcmp(m->parts[i].section, it->part) == 0)
			p = &m->parts[i];
	const char *name = it->att == FA_BINARY_SIZE ? "BINARY.SIZE[" : "BINARY[";
	if (buffer_append_str(out, name) < 0 || buffer_append(out, it->spec, it->spec_len) < 0 ||
	    buffer_append_u8(out, ']') < 0)
		return -1;
	if (it->partial && buffer_printf(out, "<%u>", it->offset) < 0)
		return -1;
	if (m->raw == NULL || m->raw_off != 0) {
		*error_r = "Message octets not loaded";
		return -1;
	}
	const uint8_t *data;
	size_t len;
	if (it->part[0] == '\0') {
		/* the whole message is no encoded body: its octets as they are */
		data = m->raw;
		len = m->raw_len;
	} else {
		if (p == NULL || p->body_offset > m->raw_len ||
		    p->body_size > m->raw_len - p->body_offset ||
		    p->header_offset > m->raw_len || p->header_size > m->raw_len - p->header_offset) {
			/* no such part: NIL, as for BODY[] (RFC 3516 does not say) */
			return it->att == FA_BINARY_SIZE ? buffer_append_str(out, " 0") :
			       buffer_append_str(out, " NIL");
		}
		size_t vlen = 0;
		const uint8_t *v = imap_header_value(m->raw + p->header_offset, p->header_size,
						     "Content-Transfer-Encoding", tmp, &vlen);
		enum imap_cte cte = imap_cte_parse(v, vlen);
		const uint8_t *body = m->raw + p->body_offset;
		buffer_reset(tmp);
		data = body;
		len = p->body_size;
		if (cte == CTE_UNKNOWN) {
			*error_r = "[UNKNOWN-CTE] Unknown Content-Transfer-Encoding";
			return -1;
		}
		if (cte != CTE_IDENTITY) {
			int r = cte == CTE_BASE64 ? imap_base64_decode(body, p->body_size, tmp) :
				imap_qp_decode(body, p->body_size, tmp);
			if (r < 0)
				return -1;
			data = tmp->data != NULL ? tmp->data : (const uint8_t *)"";
			len = tmp->len;
		}
	}
	if (it->att == FA_BINARY_SIZE)
		return buffer_printf(out, " %zu", len);
	imap_fetch_clip(it, &data, &len);
	bool nul = len > 0 && memchr(data, '\0', len) != NULL;
	if (buffer_printf(out, " %s{%zu}\r\n", nul ? "~" : "", len) < 0 ||
	    buffer_append(out, data, len) < 0)
		return -1;
	return 0;
}
