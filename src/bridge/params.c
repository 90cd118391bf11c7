/*
 * params.c: reading and checking method params, and the -32602 answer
 * for an unknown AI, which lists the names the server knows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "names.h"
#include "xalloc.h"

/* Reads the string param name into *out (NULL when absent and not
 * required); answers -32602 and returns 0 when it is missing or wrong. */
int
param_str(struct req *r, const cJSON *p, const char *name, int required,
    const char **out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(p, name);
	char		 text[128];

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		if (!required)
			return 1;
		snprintf(text, sizeof text, "missing param \"%s\"", name);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
		return 0;
	}
	if (!cJSON_IsString(v)) {
		snprintf(text, sizeof text, "param \"%s\" must be a string",
		    name);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
		return 0;
	}
	*out = v->valuestring;
	return 1;
}

/* Reads timeout_ms (dflt when absent) into *out; 0 after answering
 * -32602 when it is no positive integer within the limit. */
int
param_timeout(struct req *r, const cJSON *p, long dflt, long *out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(p, "timeout_ms");

	*out = dflt;
	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > BRIDGE_MAX_TIMEOUT_MS ||
	    v->valuedouble != (double)(long)v->valuedouble) {
		req_error(r, RPC_INVALID_PARAMS, "timeout_ms must be an "
		    "integer from 0 to 3600000", NULL);
		return 0;
	}
	*out = (long)v->valuedouble;
	return 1;
}

/* Reads the socket a method works on: "socket_id" or "ai" (a socket id
 * or a roster AI, which has its name as socket id). */
int
param_target(struct req *r, const cJSON *p, const char **out)
{
	const char	*sid, *ai;
	char		 text[160];

	if (!param_str(r, p, "socket_id", 0, &sid) ||
	    !param_str(r, p, "ai", 0, &ai))
		return 0;
	*out = sid ? sid : ai;
	if (*out == NULL) {
		req_error(r, RPC_INVALID_PARAMS,
		    "missing param \"socket_id\" or \"ai\"", NULL);
		return 0;
	}
	if (!aish_name_valid(*out)) {
		snprintf(text, sizeof text, "not a valid AI or socket name: "
		    "\"%.64s\" (names are [A-Za-z0-9._-], 1 to 64)", *out);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
		return 0;
	}
	return 1;
}

/* The name being reported unknown, kept while the list is fetched. */
struct unknown {
	struct req	*r;
	char		 name[AISH_NAME_MAX + 1];
};

/* The list came: answers -32602 with the known names. */
static void
unknown_listed(aish_t *h, const aish_result_t *res, void *user)
{
	struct unknown	*u = user;
	cJSON		*root = NULL, *s, *data, *known;
	const cJSON	*socks, *v;
	char		*text;
	size_t		 len, cap = 256;

	if (!req_release(u->r))
		goto end;
	text = xmalloc(cap);
	len = (size_t)snprintf(text, cap, "unknown AI \"%s\"; known: ",
	    u->name);
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "ai", u->name);
	known = cJSON_AddArrayToObject(data, "known");
	if (res->err == AISH_OK && res->body != NULL)
		root = cJSON_ParseWithLength(res->body, res->body_len);
	socks = cJSON_GetObjectItemCaseSensitive(root, "sockets");
	cJSON_ArrayForEach(s, socks) {
		v = cJSON_GetObjectItemCaseSensitive(s, "socket_id");
		if (!cJSON_IsString(v))
			continue;
		cJSON_AddItemToArray(known, cJSON_CreateString(v->valuestring));
		while (len + strlen(v->valuestring) + 3 > cap)
			text = xrealloc(text, cap *= 2);
		len += (size_t)sprintf(text + len, "%s%s",
		    cJSON_GetArraySize(known) > 1 ? ", " : "", v->valuestring);
	}
	if (cJSON_GetArraySize(known) == 0)
		snprintf(text + len, cap - len, "(the list is not available)");
	req_error(u->r, RPC_INVALID_PARAMS, text, data);
	free(text);
	cJSON_Delete(root);
end:
	free(u);
}

/* Answers -32602 for an unknown AI or socket, listing the known ones. */
void
fail_unknown_ai(struct req *r, const char *name)
{
	struct unknown	*u = xcalloc(1, sizeof *u);

	u->r = r;
	snprintf(u->name, sizeof u->name, "%s", name);
	req_hold(r);
	if (aish_list(br.aish, unknown_listed, u) != AISH_OK) {
		req_release(r);
		free(u);
		req_error(r, RPC_INVALID_PARAMS, "unknown AI", NULL);
	}
}
