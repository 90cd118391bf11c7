/*
 * json-parse.c: strict JSON parsing of a whole buffer.
 */
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
	size_t	i, slashes = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\0' && i + 1 < len)
			return 1;
		if (buf[i] == '\\') {
			slashes++;
			continue;
		}
		if (buf[i] == 'u' && slashes % 2 == 1 && i + 4 < len &&
		    buf[i + 1] == '0' && buf[i + 2] == '0' &&
		    buf[i + 3] == '0' && buf[i + 4] == '0')
			return 1;
		slashes = 0;
	}
	return 0;
}

/* Parses one JSON value that fills the whole buffer; a NUL in it, raw or
 * escaped, makes it invalid, as no aish field may hold one. */
cJSON *
aish_json_parse(const char *buf, size_t len)
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
