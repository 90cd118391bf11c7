/*
 * names.c: name and UTF-8 checks shared by the server and the clients.
 */
#include <string.h>

#include "aish-protocol.h"
#include "names.h"

/* True for the characters a name may hold. */
static int
name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* True when s is a valid name (see names.h). */
int
aish_name_valid(const char *s)
{
	size_t	i;

	if (s == NULL || *s == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= AISH_MAX_NAME || !name_char((unsigned char)s[i]))
			return 0;
	}
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* Length of a well-formed UTF-8 sequence at s, or 0 when it is not one. */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t	len, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* True when the n bytes at s are well-formed UTF-8 without NUL bytes. */
int
aish_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	i = 0, len;

	while (i < n) {
		if (p[i] == '\0')
			return 0;
		len = utf8_seq_len(p + i, n - i);
		if (len == 0)
			return 0;
		i += len;
	}
	return 1;
}

/* Length of the character at s (1 for a stray byte). */
size_t
aish_utf8_char_len(const char *s, size_t n)
{
	size_t	len;

	if (n == 0)
		return 0;
	len = utf8_seq_len((const unsigned char *)s, n);
	return len ? len : 1;
}

/* Number of characters in the n bytes at s. */
size_t
aish_utf8_count(const char *s, size_t n)
{
	size_t	i = 0, count = 0;

	while (i < n) {
		i += aish_utf8_char_len(s + i, n - i);
		count++;
	}
	return count;
}
