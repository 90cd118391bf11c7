/*
 * json-build.h: cheaper ways to build cJSON trees that are printed once
 * and deleted at once (frames, notifications, answers).
 *
 * cJSON_AddStringToObject copies both the key and the value (three
 * allocations per member) and cJSON prints every number through "%1.15g"
 * and a scanf check.  These add members with literal keys that are not
 * copied, values that are borrowed, and integers already as digits.
 */
#ifndef AC_JSON_BUILD_H
#define AC_JSON_BUILD_H

#include <stdint.h>

#include <cjson/cJSON.h>

/* Adds key (a string literal) with value borrowed, not copied: value must
 * outlive obj.  A NULL value adds "". */
void	ac_json_add_ref(cJSON *obj, const char *key, const char *value);

/* Adds key (a string literal) with the integer v. */
void	ac_json_add_int(cJSON *obj, const char *key, int64_t v);

/* Adds key (a string literal) with item (consumed). */
void	ac_json_add_item(cJSON *obj, const char *key, cJSON *item);

#endif
