/*
 * params.c: reading and checking method params (strings, time-outs,
 * booleans, context items), composing the text an AI receives within the
 * content limit, and the -32602 answer for an unknown AI or group: one
 * short line with the nearest known name, the full list in data.known.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aish/protocol.h>
#include "bridge.h"
#include "names.h"
#include "parse.h"
#include "suggest.h"
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
	if (!ac_name_valid(*out)) {
		snprintf(text, sizeof text, "not a valid AI or socket name: "
		    "\"%.64s\" (names are [A-Za-z0-9._-], 1 to 64)", *out);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
		return 0;
	}
	return 1;
}

/* Reads the boolean param name (dflt when absent) into *out; 0 after
 * answering -32602 when it is no boolean. */
int
param_bool(struct req *r, const cJSON *p, const char *name, int dflt,
    int *out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(p, name);
	char		 text[128];

	*out = dflt;
	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsBool(v)) {
		snprintf(text, sizeof text, "param \"%s\" must be true or "
		    "false", name);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
		return 0;
	}
	*out = cJSON_IsTrue(v);
	return 1;
}

/* Reads the integer param name (dflt when absent) into *out; 0 after
 * answering -32602 when it is no integer from min to max. */
int
param_int(struct req *r, const cJSON *p, const char *name, long min,
    long max, long dflt, long *out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(p, name);
	char		 text[128];

	*out = dflt;
	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsNumber(v) || v->valuedouble < (double)min ||
	    v->valuedouble > (double)max ||
	    v->valuedouble != (double)(long)v->valuedouble) {
		snprintf(text, sizeof text, "param \"%s\" must be an integer "
		    "from %ld to %ld", name, min, max);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
		return 0;
	}
	*out = (long)v->valuedouble;
	return 1;
}

/* True when s may be a fence's info string: no blank, backtick or control
 * character, at most 64 bytes. */
static int
language_valid(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 64 || (unsigned char)s[i] <= ' ' || s[i] == '`' ||
		    s[i] == 0x7f)
			return 0;
	}
	return i > 0;
}

/* Answers -32602 about context item i. */
static int
context_error(struct req *r, int i, const char *what)
{
	char	text[160];

	snprintf(text, sizeof text, "context item %d: %s (an item is "
	    "{\"name\",\"text\",\"language\"?})", i + 1, what);
	req_error(r, RPC_INVALID_PARAMS, text, NULL);
	return 0;
}

/* Reads one context item into it; 0 after answering -32602. */
static int
context_item(struct req *r, int i, const cJSON *v,
    struct ac_context_item *it)
{
	const cJSON	*name, *text, *lang, *k;

	if (!cJSON_IsObject(v))
		return context_error(r, i, "not an object");
	cJSON_ArrayForEach(k, v) {
		if (strcmp(k->string, "name") != 0 &&
		    strcmp(k->string, "text") != 0 &&
		    strcmp(k->string, "language") != 0)
			return context_error(r, i, "unknown key");
	}
	name = cJSON_GetObjectItemCaseSensitive(v, "name");
	text = cJSON_GetObjectItemCaseSensitive(v, "text");
	lang = cJSON_GetObjectItemCaseSensitive(v, "language");
	if (!cJSON_IsString(name) || name->valuestring[0] == '\0' ||
	    strpbrk(name->valuestring, "\r\n") != NULL ||
	    strlen(name->valuestring) > 4096)
		return context_error(r, i, "\"name\" must be one line of "
		    "text, 1 to 4096 bytes");
	if (!cJSON_IsString(text))
		return context_error(r, i, "\"text\" must be a string");
	if (lang != NULL && !cJSON_IsNull(lang) && (!cJSON_IsString(lang) ||
	    !language_valid(lang->valuestring)))
		return context_error(r, i, "\"language\" must be a word "
		    "without blanks or backticks, up to 64 bytes");
	it->name = name->valuestring;
	it->text = text->valuestring;
	it->text_len = strlen(text->valuestring);
	it->language = cJSON_IsString(lang) ? lang->valuestring : NULL;
	return 1;
}

/* Reads "context":[{name,text,language?}] into *items (caller frees; the
 * strings are borrowed from p) and *n; 0 after answering -32602. */
int
param_context(struct req *r, const cJSON *p, struct ac_context_item **items,
    size_t *n)
{
	const cJSON	*arr = cJSON_GetObjectItemCaseSensitive(p, "context");
	const cJSON	*v;
	int		 i = 0;

	*items = NULL;
	*n = 0;
	if (arr == NULL || cJSON_IsNull(arr))
		return 1;
	if (!cJSON_IsArray(arr)) {
		req_error(r, RPC_INVALID_PARAMS, "param \"context\" must be an "
		    "array of {\"name\",\"text\",\"language\"?}", NULL);
		return 0;
	}
	*items = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof **items);
	cJSON_ArrayForEach(v, arr) {
		if (!context_item(r, i, v, &(*items)[i])) {
			free(*items);
			*items = NULL;
			return 0;
		}
		i++;
	}
	*n = (size_t)i;
	return 1;
}

/* The text an AI receives (see compose.h) in *out (caller frees) and
 * *len; 0 after answering -32602 when it is over the content limit. */
int
compose_text(struct req *r, const struct ac_context_item *items, size_t n,
    const char *instruction, const char *input, char **out, size_t *len)
{
	char	text[200];

	*out = ac_compose(items, n, instruction, input, strlen(input), len);
	if (*len <= AISH_MAX_CONTENT)
		return 1;
	snprintf(text, sizeof text, "the text with its %s is %zu bytes, over "
	    "the content limit of %u bytes (4 MiB)", n > 0 ? "context" :
	    "instruction", *len, AISH_MAX_CONTENT);
	free(*out);
	*out = NULL;
	req_error(r, RPC_INVALID_PARAMS, text, NULL);
	return 0;
}

/* ---- a configured command line ---- */

/* The params of the core method that runs the command line `line` (an
 * action's or a target's pipeline, checked to parse) on the len bytes of
 * text: aish/teamChat {"message","group"?,"moderation"?} for a team chat
 * (its words come before the text), else aish/pipeline {"input",
 * "pipeline"}; *team says which.  NULL when the line does not parse. */
cJSON *
command_params(const char *line, const char *text, size_t len, int *team)
{
	struct ac_cmd	 cmd;
	char		*msg;
	size_t		 n;
	cJSON		*p;

	if (ac_cmd_parse(line, &cmd, NULL) != 0)
		return NULL;
	p = cJSON_CreateObject();
	*team = cmd.kind == AC_CMD_TEAM_CHAT;
	if (*team) {
		msg = ac_compose(NULL, 0, cmd.input_text, text, len, &n);
		cJSON_AddStringToObject(p, "message", msg);
		free(msg);
		if (cmd.group != NULL)
			cJSON_AddStringToObject(p, "group", cmd.group);
		if (cmd.synthesize)
			cJSON_AddStringToObject(p, "moderation", "synthesis");
	} else {
		msg = xstrndup(text, len);
		cJSON_AddStringToObject(p, "input", msg);
		free(msg);
		cJSON_AddStringToObject(p, "pipeline", line);
	}
	ac_cmd_free(&cmd);
	return p;
}

/* ---- unknown AIs and groups ---- */

/* The name being reported unknown, kept while the list is fetched. */
struct unknown {
	struct req	*r;
	int		 group;
	char		 name[AISH_NAME_MAX + 1];
};

/* True for team-chat-all and team-chat-<group>. */
static int
team_socket(const char *id)
{
	return strncmp(id, AISH_TEAM_CHAT_PREFIX,
	    strlen(AISH_TEAM_CHAT_PREFIX)) == 0;
}

/* The known names of one kind in a {"sockets":[...]} answer: the AI
 * sockets, or the groups (from their team-chat-<group> sockets). */
static cJSON *
known_names(const cJSON *list, int group)
{
	cJSON		*known = cJSON_CreateArray();
	const cJSON	*s, *v;
	const char	*id;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(list,
	    "sockets")) {
		v = cJSON_GetObjectItemCaseSensitive(s, "socket_id");
		if (!cJSON_IsString(v))
			continue;
		id = v->valuestring;
		if (!group && !team_socket(id))
			cJSON_AddItemToArray(known, cJSON_CreateString(id));
		else if (group && team_socket(id) &&
		    strcmp(id, AISH_TEAM_CHAT_ALL) != 0)
			cJSON_AddItemToArray(known, cJSON_CreateString(id +
			    strlen(AISH_TEAM_CHAT_PREFIX)));
	}
	return known;
}

/* Answers -32602 for the unknown AI (or group) name, given the server's
 * socket list (NULL when it is not available): one short line naming it
 * with the nearest known name, and every known name in data.known and in
 * the log. */
void
answer_unknown(struct req *r, int group, const char *name, const cJSON *list)
{
	cJSON		 *data = cJSON_CreateObject(), *known;
	const char	**names, *kind = group ? "group" : "AI";
	const cJSON	 *v;
	char		  text[AC_UNKNOWN_MESSAGE_MAX + 1], other[64];
	char		 *all;
	size_t		  n = 0;

	cJSON_AddStringToObject(data, group ? "group" : "ai", name);
	known = known_names(list, group);
	cJSON_AddItemToObject(data, "known", known);
	names = xcalloc((size_t)cJSON_GetArraySize(known) + 1, sizeof *names);
	cJSON_ArrayForEach(v, known)
		names[n++] = v->valuestring;
	if (list == NULL)
		other[0] = '\0';
	else if (n == 0)
		snprintf(other, sizeof other, "there is no %s", kind);
	else
		snprintf(other, sizeof other, "none of the %zu known %ss is "
		    "close", n, kind);
	ac_unknown_message(text, sizeof text, kind, name,
	    ac_nearest_name(name, names, n), other[0] ? other : NULL);
	free(names);
	all = cJSON_PrintUnformatted(known);
	logmsg("known %ss: %s", kind, all ? all : "?");
	cJSON_free(all);
	req_error(r, RPC_INVALID_PARAMS, text, data);
}

/* The list came: answers about the unknown name. */
static void
unknown_listed(aish_t *h, const aish_result_t *res, void *user)
{
	struct unknown	*u = user;
	cJSON		*root = NULL;

	if (!req_release(u->r))
		goto end;
	if (res->err == AISH_OK && res->body != NULL)
		root = cJSON_ParseWithLength(res->body, res->body_len);
	answer_unknown(u->r, u->group, u->name, root);
	cJSON_Delete(root);
end:
	free(u);
}

/* Fetches the socket list, then answers about the unknown name. */
static void
fail_unknown(struct req *r, int group, const char *name)
{
	struct unknown	*u = xcalloc(1, sizeof *u);

	u->r = r;
	u->group = group;
	snprintf(u->name, sizeof u->name, "%s", name);
	req_hold(r);
	if (aish_list(br.aish, unknown_listed, u) != AISH_OK) {
		req_release(r);
		free(u);
		answer_unknown(r, group, name, NULL);
	}
}

/* Answers -32602 for an unknown AI or socket (see answer_unknown). */
void
fail_unknown_ai(struct req *r, const char *name)
{
	if (team_socket(name) && strcmp(name, AISH_TEAM_CHAT_ALL) != 0)
		fail_unknown(r, 1, name + strlen(AISH_TEAM_CHAT_PREFIX));
	else
		fail_unknown(r, 0, name);
}
