/*
 * json-parse.c: strict JSON parsing of a whole buffer.
 */
#include <string.h>

#include "json-parse.h"

/* True for the white space JSON allows between tokens. */
static int
json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* True when the text holds a NUL byte (but for a terminator at its very
 * end) or the escape \u0000: cJSON would silently cut the string there,
 * so "a\u0000b" would be taken for "a". */
static int
has_nul(const char *buf, size_t len)
{
	const char	*p = buf, *q, *stop = buf + len;

	if (len > 1 && memchr(buf, '\0', len - 1) != NULL)
		return 1;
	/* Only an odd run of backslashes before "u0000" escapes a NUL;
	 * memchr skips the text between runs without a look at each byte. */
	while ((p = memchr(p, '\\', (size_t)(stop - p))) != NULL) {
		for (q = p; q < stop && *q == '\\'; q++)
			;
		if ((q - p) % 2 == 1 && stop - q > 4 &&
		    memcmp(q, "u0000", 5) == 0)
			return 1;
		p = q;
	}
	return 0;
}

/* Parses one JSON value that fills the whole buffer; a NUL in it, raw or
 * escaped, makes it invalid, as no aish field may hold one. */
cJSON *
ac_json_parse(const char *buf, size_t len)
{
	const char	*end = NULL;
	const char	*stop = buf + len;
	cJSON		*v;

	if (has_nul(buf, len))
		return NULL;
	v = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (v == NULL)
		return NULL;
	while (end < stop && json_space(*end))
		end++;
	/* A NUL right at the end is the caller's terminator, not data. */
	if (end < stop && !(*end == '\0' && end + 1 == stop)) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}
