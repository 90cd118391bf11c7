/*
 * json-build.c: cheaper ways to build cJSON trees that are printed once.
 */
#include <inttypes.h>
#include <stdio.h>

#include "json-build.h"

/* Adds key (a literal, never freed by cJSON) with item (consumed). */
void
ac_json_add_item(cJSON *obj, const char *key, cJSON *item)
{
	if (item != NULL && !cJSON_AddItemToObjectCS(obj, key, item))
		cJSON_Delete(item);
}

/* Adds key with a string that points at value. */
void
ac_json_add_ref(cJSON *obj, const char *key, const char *value)
{
	ac_json_add_item(obj, key,
	    cJSON_CreateStringReference(value ? value : ""));
}

/* An integer item printed from its digits. */
static cJSON *
json_int(int64_t v)
{
	char	digits[24];

	snprintf(digits, sizeof digits, "%" PRId64, v);
	return cJSON_CreateRaw(digits);
}

/* Adds key with the integer v. */
void
ac_json_add_int(cJSON *obj, const char *key, int64_t v)
{
	ac_json_add_item(obj, key, json_int(v));
}
