/* test-imap-syntax.h: a checker for the IMAP text mime_parse writes, shared
 * by test-mime.c and fuzz/fuzz-mime.c (header-only, tests only).
 *
 * imap_syntax_ok(s) is true when s is one parenthesised IMAP list whose
 * elements are NIL, numbers, quoted strings (no CR, LF or 8-bit; only \"
 * and \\ escapes), literals {n}CRLF<n octets> or nested lists, separated
 * by single spaces (lists may also follow each other directly). Nesting is
 * a counter, so any input is checked in linear time. */
#ifndef RD_TEST_IMAP_SYNTAX_H
#define RD_TEST_IMAP_SYNTAX_H
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool imap_syntax_ok(const char *s)
{
	size_t depth = 0;
	/* prev: 0 start / after '(' or ' ', 1 after ')', 2 after a value */
	int prev = 0;
	if (*s != '(')
		return false;
	while (*s != '\0') {
		char ch = *s;
		if (depth == 0 && prev != 0)
			return false;   /* text after the closing ')' */
		if (ch == '(') {
			if (prev == 2)
				return false;
			depth++;
			prev = 0;
			s++;
		} else if (ch == ')') {
			if (depth == 0 || (prev == 0 && s[-1] == ' '))
				return false;
			depth--;
			prev = 1;
			s++;
		} else if (ch == ' ') {
			if (prev == 0)
				return false;
			prev = 0;
			s++;
		} else if (prev != 0) {
			return false;
		} else if (ch == '"') {
			for (s++; *s != '"'; s++) {
				unsigned char c = (unsigned char)*s;
				if (c == '\0' || c == '\r' || c == '\n' || c >= 0x80)
					return false;
				if (c == '\\') {
					s++;
					if (*s != '"' && *s != '\\')
						return false;
				}
			}
			s++;
			prev = 2;
		} else if (ch == '{') {
			char *end;
			unsigned long long n = strtoull(s + 1, &end, 10);
			if (end == s + 1 || strncmp(end, "}\r\n", 3) != 0)
				return false;
			s = end + 3;
			if (strnlen(s, n) < n)
				return false;
			s += n;
			prev = 2;
		} else if (strncmp(s, "NIL", 3) == 0) {
			s += 3;
			prev = 2;
		} else if (ch >= '0' && ch <= '9') {
			while (*s >= '0' && *s <= '9')
				s++;
			prev = 2;
		} else {
			return false;
		}
	}
	return depth == 0 && prev == 1;
}

#endif
