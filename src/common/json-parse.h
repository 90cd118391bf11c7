/*
 * json-parse.h: strict JSON parsing of a whole buffer.
 */
#ifndef AISH_JSON_PARSE_H
#define AISH_JSON_PARSE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Parses the len bytes at buf as one JSON value followed by nothing but
 * white space; cJSON alone accepts trailing garbage.  NULL when invalid. */
cJSON	*aish_json_parse(const char *buf, size_t len);

#endif
