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

/* Parses one JSON value that fills the whole buffer. */
cJSON *
aish_json_parse(const char *buf, size_t len)
{
	const char	*end = NULL;
	const char	*stop = buf + len;
	cJSON		*v;

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
