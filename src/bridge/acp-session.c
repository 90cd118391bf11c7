/*
 * acp-session.c: the ACP face's table, initialize, and the sessions:
 * session/new, session/load (the history replayed as session/update
 * notifications before the answer), session/set_mode and
 * session/set_config_option, which choose the session's target.
 *
 * The targets are the server's AI sockets (by id; the sockets sessions
 * made are left out), "group:NAME" for each group, and
 * "pipeline:TITLE" for each pipeline of `--actions FILE`; they are
 * offered as the session's modes and as the "target" config option (a
 * select), kept in step.  A new session's target is the first AI socket
 * other than rhetor.  See acp.h for how a session keeps its
 * conversation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acp.h"
#include <aish/protocol.h>
#include "json-build.h"
#include "lsp.h"
#include "names.h"
#include "suggest.h"
#include "xalloc.h"

/* Every session of this process (loaded or made), kept until it exits. */
static struct acp_session	*sessions;

/* The session of id, from memory or from its file; NULL when none. */
struct acp_session *
acp_session_find(const char *id)
{
	struct acp_session	*s;

	for (s = sessions; s != NULL; s = s->next) {
		if (strcmp(s->id, id) == 0)
			return s;
	}
	if ((s = acp_store_load(id)) != NULL) {
		s->next = sessions;
		sessions = s;
	}
	return s;
}

/* Sends session/update {sessionId, update: {sessionUpdate: kind,
 * content: {type: "text", text}}}. */
void
acp_update(const struct acp_session *s, const char *kind, const char *text)
{
	cJSON	*p = cJSON_CreateObject(), *u, *c;

	ac_json_add_ref(p, "sessionId", s->id);
	u = cJSON_CreateObject();
	ac_json_add_ref(u, "sessionUpdate", kind);
	c = cJSON_CreateObject();
	ac_json_add_ref(c, "type", "text");
	ac_json_add_ref(c, "text", text);
	ac_json_add_item(u, "content", c);
	ac_json_add_item(p, "update", u);
	client_notify("session/update", p);
}

/* The offered target of s called id, or NULL. */
const cJSON *
acp_target(const struct acp_session *s, const char *id)
{
	const cJSON	*t;

	cJSON_ArrayForEach(t, s->targets) {
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "id")),
		    id) == 0)
			return t;
	}
	return NULL;
}

/* ---- targets ---- */

/* Adds a target {id, name, description} to a. */
static void
add_target(cJSON *a, const char *id, const char *name, const char *desc)
{
	cJSON	*t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "id", id);
	cJSON_AddStringToObject(t, "name", name);
	cJSON_AddStringToObject(t, "description", desc);
	cJSON_AddItemToArray(a, t);
}

/* The string member key of o, or "". */
static const char *
str_of(const cJSON *o, const char *key)
{
	const char	*v = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));

	return v != NULL ? v : "";
}

/* The targets a socket list offers: the AIs, then the groups, then the
 * configured pipelines. */
static cJSON *
targets_from(const cJSON *list)
{
	cJSON		*a = cJSON_CreateArray();
	const cJSON	*s;
	const char	*id, *title, *pipeline;
	char		*tid, *desc;
	size_t		 prefix = strlen(AISH_TEAM_CHAT_PREFIX), i;

	cJSON_ArrayForEach(s, cJSON_GetObjectItem(list, "sockets")) {
		id = str_of(s, "socket_id");
		if (*id == '\0' || strncmp(id, AISH_TEAM_CHAT_PREFIX,
		    prefix) == 0 || acp_socket_of_session(id))
			continue;
		desc = xasprintf("%s (%s %s)", str_of(s, "ai_name"),
		    str_of(s, "provider"), str_of(s, "model"));
		add_target(a, id, id, desc);
		free(desc);
	}
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(list, "sockets")) {
		id = str_of(s, "socket_id");
		if (strncmp(id, AISH_TEAM_CHAT_PREFIX, prefix) != 0 ||
		    strcmp(id, AISH_TEAM_CHAT_ALL) == 0)
			continue;
		tid = xasprintf(ACP_GROUP_PREFIX "%s", id + prefix);
		desc = xasprintf("team chat with the group %s (one-shot)",
		    id + prefix);
		add_target(a, tid, tid, desc);
		free(tid);
		free(desc);
	}
	for (i = 0; lsp_action_get(i, &title, &pipeline); i++) {
		tid = xasprintf(ACP_PIPELINE_PREFIX "%s", title);
		desc = xasprintf("%s (one-shot)", pipeline);
		add_target(a, tid, title, desc);
		free(tid);
		free(desc);
	}
	return a;
}

/* The target a new session starts with: the first AI but rhetor. */
static const char *
default_target(const cJSON *targets)
{
	const cJSON	*t;
	const char	*id;

	cJSON_ArrayForEach(t, targets) {
		id = str_of(t, "id");
		if (strcmp(id, AISH_RHETOR_SOCKET) != 0 &&
		    strncmp(id, ACP_GROUP_PREFIX, strlen(ACP_GROUP_PREFIX)) != 0 &&
		    strncmp(id, ACP_PIPELINE_PREFIX,
		    strlen(ACP_PIPELINE_PREFIX)) != 0)
			return id;
	}
	return str_of(cJSON_GetArrayItem(targets, 0), "id");
}

/* Takes the socket list's targets for s; its target stays when it is
 * still offered (or not yet known), else becomes the default. */
static void
targets_take(struct acp_session *s, const cJSON *list)
{
	cJSON_Delete(s->targets);
	s->targets = targets_from(list);
	if (s->target == NULL || acp_target(s, s->target) == NULL) {
		if (s->target != NULL)
			logmsg("acp: session %s: target %s is gone", s->id,
			    s->target);
		free(s->target);
		s->target = xstrdup(default_target(s->targets));
	}
}

/* The session's modes: {currentModeId, availableModes}. */
static cJSON *
modes_json(const struct acp_session *s)
{
	cJSON		*m = cJSON_CreateObject(), *a;
	const cJSON	*t;

	cJSON_AddStringToObject(m, "currentModeId", s->target);
	a = cJSON_AddArrayToObject(m, "availableModes");
	cJSON_ArrayForEach(t, s->targets)
		cJSON_AddItemToArray(a, cJSON_Duplicate(t, 1));
	return m;
}

/* The session's config options: the "target" select. */
static cJSON *
config_json(const struct acp_session *s)
{
	cJSON		*a = cJSON_CreateArray(), *o, *opts, *v;
	const cJSON	*t;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", ACP_CONFIG_TARGET);
	cJSON_AddStringToObject(o, "name", "Target");
	cJSON_AddStringToObject(o, "description", "The AI, group or "
	    "pipeline that answers this session's prompts");
	cJSON_AddStringToObject(o, "category", "mode");
	cJSON_AddStringToObject(o, "type", "select");
	cJSON_AddStringToObject(o, "currentValue", s->target);
	opts = cJSON_AddArrayToObject(o, "options");
	cJSON_ArrayForEach(t, s->targets) {
		v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "value", str_of(t, "id"));
		cJSON_AddStringToObject(v, "name", str_of(t, "name"));
		cJSON_AddStringToObject(v, "description",
		    str_of(t, "description"));
		cJSON_AddItemToArray(opts, v);
	}
	cJSON_AddItemToArray(a, o);
	return a;
}

/* Adds s's modes and configOptions to res. */
static void
add_choices(cJSON *res, const struct acp_session *s)
{
	cJSON_AddItemToObject(res, "modes", modes_json(s));
	cJSON_AddItemToObject(res, "configOptions", config_json(s));
}

/* Answers -32602 for a target s does not offer, with the nearest one. */
static void
unknown_target(struct req *r, const struct acp_session *s, const char *id)
{
	const char	**names;
	const cJSON	*t;
	char		  text[AC_UNKNOWN_MESSAGE_MAX + 1];
	size_t		  n = 0;

	names = xcalloc((size_t)cJSON_GetArraySize(s->targets) + 1,
	    sizeof *names);
	cJSON_ArrayForEach(t, s->targets)
		names[n++] = str_of(t, "id");
	ac_unknown_message(text, sizeof text, "target", id,
	    ac_nearest_name(id, names, n), n == 0 ? "there is no target" :
	    NULL);
	free(names);
	req_error(r, RPC_INVALID_PARAMS, text, NULL);
}

/* Reads params' sessionId into its session; NULL after answering
 * -32602. */
static struct acp_session *
param_session(struct req *r, const cJSON *p)
{
	const char		*id;
	struct acp_session	*s;
	char			 text[160];

	if (!param_str(r, p, "sessionId", 1, &id))
		return NULL;
	if ((s = acp_session_find(id)) == NULL) {
		snprintf(text, sizeof text, "unknown session \"%.64s\"", id);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
	}
	return s;
}

/* Checks "cwd" (an absolute path) and "mcpServers" (an array, taken and
 * not used: aish's AIs call no tools); 0 after answering -32602. */
static int
param_workspace(struct req *r, const cJSON *p, const char **cwd)
{
	const cJSON	*mcp = cJSON_GetObjectItemCaseSensitive(p, "mcpServers");

	if (!param_str(r, p, "cwd", 1, cwd))
		return 0;
	if ((*cwd)[0] != '/') {
		req_error(r, RPC_INVALID_PARAMS, "cwd must be an absolute "
		    "path", NULL);
		return 0;
	}
	if (mcp != NULL && !cJSON_IsNull(mcp) && !cJSON_IsArray(mcp)) {
		req_error(r, RPC_INVALID_PARAMS, "mcpServers must be an array",
		    NULL);
		return 0;
	}
	return 1;
}

/* ---- initialize ---- */

/* initialize {"protocolVersion","clientCapabilities"?,"clientInfo"?} */
static void
m_initialize(struct req *r, const cJSON *p)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(p,
			    "protocolVersion");
	cJSON		*res, *caps, *o;

	if (!cJSON_IsNumber(v)) {
		req_error(r, RPC_INVALID_PARAMS, "protocolVersion must be a "
		    "number (ACP's version is 1)", NULL);
		return;
	}
	logmsg("ACP client asks for version %g: 1", v->valuedouble);
	br.initialized = 1;
	res = cJSON_CreateObject();
	cJSON_AddNumberToObject(res, "protocolVersion", ACP_PROTOCOL_VERSION);
	caps = cJSON_AddObjectToObject(res, "agentCapabilities");
	cJSON_AddBoolToObject(caps, "loadSession", 1);
	o = cJSON_AddObjectToObject(caps, "promptCapabilities");
	cJSON_AddBoolToObject(o, "image", 0);
	cJSON_AddBoolToObject(o, "audio", 0);
	cJSON_AddBoolToObject(o, "embeddedContext", 1);
	o = cJSON_AddObjectToObject(caps, "mcpCapabilities");
	cJSON_AddBoolToObject(o, "http", 0);
	cJSON_AddBoolToObject(o, "sse", 0);
	cJSON_AddArrayToObject(res, "authMethods");
	o = cJSON_AddObjectToObject(res, "agentInfo");
	cJSON_AddStringToObject(o, "name", "aish-bridge");
	cJSON_AddStringToObject(o, "title", "aish");
	cJSON_AddStringToObject(o, "version", AISH_VERSION);
	req_result(r, res);
}

/* ---- session/new ---- */

/* The socket list came: the new session, with its targets. */
static void
new_listed(struct req *r, cJSON *list)
{
	struct acp_session	*s = xcalloc(1, sizeof *s);
	cJSON			*res;

	acp_new_id(s->id);
	s->cwd = r->face_state;
	r->face_state = NULL;
	s->sockets = cJSON_CreateObject();
	s->next_socket = 1;
	targets_take(s, list);
	cJSON_Delete(list);
	s->next = sessions;
	sessions = s;
	(void)acp_store_save(s);
	logmsg("acp: session %s in %s, target %s", s->id, s->cwd, s->target);
	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "sessionId", s->id);
	add_choices(res, s);
	req_answer(r, res);
}

/* The core's error, as it is. */
static void
core_failed(struct req *r, int code, const char *message, cJSON *data)
{
	req_answer_error(r, code, message, data);
}

/* Frees the cwd a session/new holds until the list comes. */
static void
new_free(struct req *r)
{
	free(r->face_state);
}

static const struct xlat new_xlat = {
	.result = new_listed,
	.error = core_failed,
	.free_state = new_free,
};

/* session/new {"cwd","mcpServers"} */
static void
m_session_new(struct req *r, const cJSON *p)
{
	const char	*cwd;

	if (!param_workspace(r, p, &cwd))
		return;
	r->face_state = xstrdup(cwd);
	(void)core_start(r, "aish/list", NULL, &new_xlat);
}

/* ---- session/load ---- */

/* A session/load at work: the session and the histories gathered. */
struct load {
	struct acp_session	*s;
	cJSON			*turns;		/* [{seq, n, role, content}] */
	int			 pending;	/* histories still coming */
	int			 failed;
	long			 order;
};

/* One socket's history, read a page at a time from the newest back. */
struct page_ctx {
	struct req	*r;
	char		 socket_id[AISH_NAME_MAX + 1];
	cJSON		*turns;		/* this socket's, oldest first */
};

static void	history_fetch(struct req *r, struct page_ctx *c,
		    int64_t before);

/* The number member key of o, or 0. */
static double
num_of(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItem(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Orders turns as the server took them: by seq, which one counter for
 * the whole server gives every turn of every socket (a time has only
 * seconds), then as they came. */
static int
turn_cmp(const void *a, const void *b)
{
	const cJSON	*x = *(const cJSON *const *)a;
	const cJSON	*y = *(const cJSON *const *)b;

	if (num_of(x, "seq") != num_of(y, "seq"))
		return num_of(x, "seq") < num_of(y, "seq") ? -1 : 1;
	return num_of(x, "n") < num_of(y, "n") ? -1 : 1;
}

/* Every history is in: replays the turns in order, then answers. */
static void
load_replay(struct req *r)
{
	struct load	*l = r->face_state;
	cJSON		**v, *res, *t;
	size_t		 n = (size_t)cJSON_GetArraySize(l->turns), i = 0;

	v = xcalloc(n + 1, sizeof *v);
	cJSON_ArrayForEach(t, l->turns)
		v[i++] = t;
	qsort(v, n, sizeof *v, turn_cmp);
	for (i = 0; i < n; i++)
		acp_update(l->s, strcmp(str_of(v[i], "role"), "user") == 0 ?
		    "user_message_chunk" : "agent_message_chunk",
		    str_of(v[i], "content"));
	free(v);
	logmsg("acp: session %s loaded: %zu turns", l->s->id, n);
	res = cJSON_CreateObject();
	add_choices(res, l->s);
	req_answer(r, res);
}

/* A page of one socket's history came. */
static void
history_page(aish_t *h, const aish_result_t *res, void *user)
{
	struct page_ctx	*c = user;
	struct req	*r = c->r;
	struct load	*l;
	cJSON		*body = NULL, *turns, *t;
	int64_t		 first = 0;

	if (!req_release_answer(r))
		goto end;
	l = r->face_state;
	if (res->err == AISH_OK)
		body = cJSON_ParseWithLength(res->body ? res->body : "",
		    res->body_len);
	turns = cJSON_GetObjectItem(body, "turns");
	if (res->err != AISH_OK && res->err != AISH_E_NOT_FOUND)
		l->failed = 1;
	else if (res->err == AISH_E_NOT_FOUND)
		logmsg("acp: session socket %s is gone", c->socket_id);
	if (cJSON_GetArraySize(turns) > 0 && !l->failed) {
		/* This page is older than what came before it. */
		first = (int64_t)cJSON_GetObjectItem(cJSON_GetArrayItem(turns,
		    0), "seq")->valuedouble;
		while ((t = cJSON_DetachItemFromArray(turns,
		    cJSON_GetArraySize(turns) - 1)) != NULL)
			cJSON_InsertItemInArray(c->turns, 0, t);
		cJSON_Delete(body);
		if (first > 1) {
			history_fetch(r, c, first);
			return;
		}
	} else
		cJSON_Delete(body);
	cJSON_ArrayForEach(t, c->turns)
		cJSON_AddNumberToObject(t, "n", (double)l->order++);
	while ((t = cJSON_DetachItemFromArray(c->turns, 0)) != NULL)
		cJSON_AddItemToArray(l->turns, t);
	if (--l->pending == 0) {
		if (l->failed)
			req_answer_error(r, RPC_UNREACHABLE, "the session's "
			    "history could not be read from aish-rhetor", NULL);
		else
			load_replay(r);
	}
end:
	cJSON_Delete(c->turns);
	free(c);
}

/* Asks for the page of c's socket before seq before (0: the newest). */
static void
history_fetch(struct req *r, struct page_ctx *c, int64_t before)
{
	struct load	*l = r->face_state;
	aish_result_t	 res = { .err = AISH_E_UNREACHABLE };

	req_hold(r);
	if (aish_history(br.aish, c->socket_id, 1000, before, history_page, c)
	    != AISH_OK) {
		l->failed = 1;
		history_page(br.aish, &res, c);
	}
}

/* The socket list came: the targets, then every socket's history. */
static void
load_listed(struct req *r, cJSON *list)
{
	struct load	*l = r->face_state;
	struct page_ctx	*c;
	const cJSON	*v;

	targets_take(l->s, list);
	cJSON_Delete(list);
	l->turns = cJSON_CreateArray();
	if (cJSON_GetArraySize(l->s->sockets) == 0) {
		load_replay(r);
		return;
	}
	l->pending = cJSON_GetArraySize(l->s->sockets);
	cJSON_ArrayForEach(v, l->s->sockets) {
		c = xcalloc(1, sizeof *c);
		c->r = r;
		c->turns = cJSON_CreateArray();
		snprintf(c->socket_id, sizeof c->socket_id, "%s",
		    v->valuestring);
		history_fetch(r, c, 0);	/* may answer r on its last */
	}
}

/* Frees a session/load's state. */
static void
load_free(struct req *r)
{
	struct load	*l = r->face_state;

	if (l == NULL)
		return;
	cJSON_Delete(l->turns);
	free(l);
}

static const struct xlat load_xlat = {
	.result = load_listed,
	.error = core_failed,
	.free_state = load_free,
};

/* session/load {"sessionId","cwd","mcpServers"}: the session's turns as
 * session/update notifications, then its modes and config options. */
static void
m_session_load(struct req *r, const cJSON *p)
{
	struct acp_session	*s;
	struct load		*l;
	const char		*cwd;

	if (!param_workspace(r, p, &cwd) || (s = param_session(r, p)) == NULL)
		return;
	if (strcmp(s->cwd, cwd) != 0) {
		free(s->cwd);
		s->cwd = xstrdup(cwd);
		(void)acp_store_save(s);
	}
	l = xcalloc(1, sizeof *l);
	l->s = s;
	r->face_state = l;
	(void)core_start(r, "aish/list", NULL, &load_xlat);
}

/* ---- the target ---- */

/* Makes id s's target; 0 after answering -32602 when s does not offer
 * it. */
static int
target_set(struct req *r, struct acp_session *s, const char *id)
{
	if (s->targets != NULL && acp_target(s, id) == NULL) {
		unknown_target(r, s, id);
		return 0;
	}
	if (s->targets == NULL && !ac_name_valid(id) &&
	    strncmp(id, ACP_GROUP_PREFIX, strlen(ACP_GROUP_PREFIX)) != 0 &&
	    strncmp(id, ACP_PIPELINE_PREFIX, strlen(ACP_PIPELINE_PREFIX)) != 0) {
		unknown_target(r, s, id);
		return 0;
	}
	free(s->target);
	s->target = xstrdup(id);
	(void)acp_store_save(s);
	logmsg("acp: session %s: target %s", s->id, id);
	return 1;
}

/* session/set_mode {"sessionId","modeId"}; the config option follows. */
static void
m_set_mode(struct req *r, const cJSON *p)
{
	struct acp_session	*s;
	const char		*mode;
	cJSON			*n, *u;

	if ((s = param_session(r, p)) == NULL ||
	    !param_str(r, p, "modeId", 1, &mode) || !target_set(r, s, mode))
		return;
	if (s->targets != NULL) {
		n = cJSON_CreateObject();
		ac_json_add_ref(n, "sessionId", s->id);
		u = cJSON_AddObjectToObject(n, "update");
		cJSON_AddStringToObject(u, "sessionUpdate",
		    "config_option_update");
		cJSON_AddItemToObject(u, "configOptions", config_json(s));
		client_notify("session/update", n);
	}
	req_result(r, cJSON_CreateObject());
}

/* session/set_config_option {"sessionId","configId":"target","value"};
 * the mode follows. */
static void
m_set_config(struct req *r, const cJSON *p)
{
	struct acp_session	*s;
	const char		*id, *value;
	cJSON			*n, *u, *res;

	if ((s = param_session(r, p)) == NULL ||
	    !param_str(r, p, "configId", 1, &id))
		return;
	if (strcmp(id, ACP_CONFIG_TARGET) != 0) {
		req_error(r, RPC_INVALID_PARAMS, "the only config option is "
		    "\"target\"", NULL);
		return;
	}
	if (!param_str(r, p, "value", 1, &value) || !target_set(r, s, value))
		return;
	n = cJSON_CreateObject();
	ac_json_add_ref(n, "sessionId", s->id);
	u = cJSON_AddObjectToObject(n, "update");
	cJSON_AddStringToObject(u, "sessionUpdate", "current_mode_update");
	cJSON_AddStringToObject(u, "currentModeId", s->target);
	client_notify("session/update", n);
	res = cJSON_CreateObject();
	cJSON_AddItemToObject(res, "configOptions", s->targets ?
	    config_json(s) : cJSON_CreateArray());
	req_result(r, res);
}

static const struct method methods_acp_session[] = {
	{ "initialize", m_initialize, 1 },
	{ "session/new", m_session_new, 0 },
	{ "session/load", m_session_load, 0 },
	{ "session/set_mode", m_set_mode, 0 },
	{ "session/set_config_option", m_set_config, 0 },
	{ NULL, NULL, 0 }
};

static const struct method *const acp_tables[] = {
	methods_acp_session, methods_acp_prompt, NULL
};

/* The ACP face: its own methods only, no aish notifications, no requests
 * to the client. */
const struct face face_acp = {
	.name = "acp",
	.tables = acp_tables,
	.aish_notifications = 0,
	.client_requests = 0,
};
