/*
 * names.h: the checks every part of aish applies to names and text.
 */
#ifndef AC_NAMES_H
#define AC_NAMES_H

#include <stddef.h>

/* True when s is a valid ai_name, socket_id or group name:
 * [A-Za-z0-9._-]{1,64}, and not "." or "..". */
int	ac_name_valid(const char *s);
/* What the n bytes at s start with: the length of a whole well-formed
 * UTF-8 character (NUL is one), 0 when they are a valid start that runs
 * out before its end (or n is 0), -1 when the first byte cannot start a
 * character there. */
int	ac_utf8_char(const char *s, size_t n);
/* True when the n bytes at s are well-formed UTF-8 without NUL bytes. */
int	ac_utf8_valid(const char *s, size_t n);
/* Length in bytes of the UTF-8 character that starts at s (1 for a byte
 * that does not start a valid character). */
size_t	ac_utf8_char_len(const char *s, size_t n);
/* Number of UTF-8 characters in the n bytes at s. */
size_t	ac_utf8_count(const char *s, size_t n);

#endif
