/*
 * names.c: name and UTF-8 checks shared by the server and the clients.
 */
#include <stdint.h>
#include <string.h>

#include <aish/protocol.h>
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
ac_name_valid(const char *s)
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

/* See names.h: the one UTF-8 decoder of aish.  Overlong forms,
 * surrogates and values past U+10FFFF are no characters. */
int
ac_utf8_char(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char	lo = 0x80, hi = 0xbf;
	int		need, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* no overlong form */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* no overlong form */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* nothing past U+10FFFF */
	} else
		return -1;
	for (i = 1; i < need; i++) {
		if ((size_t)i >= n)
			return 0;
		if (s[i] < lo || s[i] > hi)
			return -1;
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

/* True when none of the 8 bytes at s is NUL or past 0x7f: subtracting 1
 * from each byte borrows (sets its top bit) only from a NUL, and a byte
 * past 0x7f has its top bit set already. */
static int
ascii8(const char *s)
{
	const uint64_t	ones = 0x0101010101010101ULL;
	const uint64_t	tops = 0x8080808080808080ULL;
	uint64_t	w;

	memcpy(&w, s, sizeof w);
	return ((w | (w - ones)) & tops) == 0;
}

/* True when the n bytes at s are well-formed UTF-8 without NUL bytes:
 * eight bytes at a time while they are ASCII, else a character at a time
 * (ac_utf8_char, which the eight-byte step only skips ahead of). */
int
ac_utf8_valid(const char *s, size_t n)
{
	size_t	i = 0;
	int	len;

	while (i < n) {
		if (n - i >= 8 && ascii8(s + i)) {
			i += 8;
			continue;
		}
		if (s[i] == '\0')
			return 0;
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if ((len = ac_utf8_char(s + i, n - i)) <= 0)
			return 0;
		i += (size_t)len;
	}
	return 1;
}

/* Length of the character at s (1 for a stray byte). */
size_t
ac_utf8_char_len(const char *s, size_t n)
{
	int	len;

	if (n == 0)
		return 0;
	len = ac_utf8_char(s, n);
	return len > 0 ? (size_t)len : 1;
}

/* Number of characters in the n bytes at s. */
size_t
ac_utf8_count(const char *s, size_t n)
{
	size_t	i = 0, count = 0;

	while (i < n) {
		i += ac_utf8_char_len(s + i, n - i);
		count++;
	}
	return count;
}
