/*
 * json-parse.h: strict JSON parsing of a whole buffer.
 */
#ifndef AC_JSON_PARSE_H
#define AC_JSON_PARSE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Parses the len bytes at buf as one JSON value followed by nothing but
 * white space; cJSON alone accepts trailing garbage.  NULL when invalid. */
cJSON	*ac_json_parse(const char *buf, size_t len);

#endif
