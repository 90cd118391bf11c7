/*
 * mcp.c: the MCP face of aish-bridge (`aish-bridge --mcp`, SPEC section
 * 10): the Model Context Protocol's stdio transport (one JSON message per
 * line) and lifecycle, and four tools that run the core's methods:
 * aish_pipeline (aish/pipeline), aish_team_chat (aish/teamChat),
 * aish_send (aish/send) and aish_list (aish/list).
 *
 * A tool's answer is text content with the core's result beside it as
 * structuredContent (each tool has an outputSchema).  Whatever goes wrong
 * inside a tool (bad arguments, an unknown AI, a failing AI, a time-out,
 * the server out of reach) is a result with "isError": true and one line
 * of text, which the model that called the tool can read and act on; an
 * unknown tool or params that are no object are JSON-RPC errors (-32602).
 * With a progressToken, each streamed piece goes out before the result
 * as notifications/progress, the piece in "message" and the characters
 * so far in "progress".  notifications/cancelled stops the AI's work on
 * the server and the call gets no answer at all, as MCP asks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "json-build.h"
#include "names.h"
#include "xalloc.h"

/* The protocol versions answered as asked; any other gets the first. */
static const char *const mcp_versions[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", NULL
};

/* One argument of a tool: its name, whether a string or a boolean, and
 * whether it must be given. */
struct arg {
	const char	*name;
	int		 boolean;
	int		 required;
};

/* What a tool's answer becomes as text. */
enum tool_kind {
	TOOL_PIPELINE,
	TOOL_TEAM_CHAT,
	TOOL_SEND,
	TOOL_LIST
};

/* A tool: its name, the core method it runs, its arguments. */
struct tool {
	const char	*name;
	const char	*method;
	enum tool_kind	 kind;
	struct arg	 args[4];	/* ends with a NULL name */
};

static const struct tool tools[] = {
	{ "aish_pipeline", "aish/pipeline", TOOL_PIPELINE,
	    { { "input", 0, 1 }, { "pipeline", 0, 1 }, { NULL, 0, 0 } } },
	{ "aish_team_chat", "aish/teamChat", TOOL_TEAM_CHAT,
	    { { "message", 0, 1 }, { "group", 0, 0 }, { "synthesize", 1, 0 },
	    { NULL, 0, 0 } } },
	{ "aish_send", "aish/send", TOOL_SEND,
	    { { "ai", 0, 1 }, { "content", 0, 1 }, { NULL, 0, 0 } } },
	{ "aish_list", "aish/list", TOOL_LIST, { { NULL, 0, 0 } } },
	{ NULL, NULL, 0, { { NULL, 0, 0 } } }
};

/* The tools as tools/list gives them (JSON Schema 2020-12). */
static const char tools_json[] =
"[{\"name\":\"aish_pipeline\",\"title\":\"aish pipeline\","
"\"description\":\"Runs text through a pipeline of AIs, like a shell "
"pipeline: each stage is an AI's name and an optional instruction, and "
"each stage's output is the next stage's input, e.g. \\\"athena review "
"this | apollo make it shorter\\\". Returns the last stage's output. "
"aish_list names the AIs.\","
"\"inputSchema\":{\"type\":\"object\",\"properties\":{"
"\"input\":{\"type\":\"string\",\"description\":\"The text the first stage "
"receives (after its instruction).\"},"
"\"pipeline\":{\"type\":\"string\",\"description\":\"Stages separated by "
"'|', each an AI's name and an optional instruction.\"}},"
"\"required\":[\"input\",\"pipeline\"],\"additionalProperties\":false},"
"\"outputSchema\":{\"type\":\"object\",\"properties\":{"
"\"output\":{\"type\":\"string\"},"
"\"stages\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
"\"properties\":{\"ai\":{\"type\":\"string\"},\"socket_id\":{\"type\":"
"\"string\"},\"output\":{\"type\":\"string\"},\"ms\":{\"type\":\"number\"}},"
"\"required\":[\"ai\",\"socket_id\",\"output\",\"ms\"]}}},"
"\"required\":[\"output\",\"stages\"]},"
"\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":false,"
"\"openWorldHint\":true}},"

"{\"name\":\"aish_team_chat\",\"title\":\"aish team chat\","
"\"description\":\"Sends one message to every AI of the team (or of one "
"group) at once and returns each AI's reply; with synthesize, the "
"server's own AI (rhetor) also sums the replies up.\","
"\"inputSchema\":{\"type\":\"object\",\"properties\":{"
"\"message\":{\"type\":\"string\",\"description\":\"What every AI "
"receives.\"},"
"\"group\":{\"type\":\"string\",\"description\":\"A group of AIs; the "
"whole team when absent.\"},"
"\"synthesize\":{\"type\":\"boolean\",\"description\":\"Add rhetor's "
"synthesis of the replies.\"}},"
"\"required\":[\"message\"],\"additionalProperties\":false},"
"\"outputSchema\":{\"type\":\"object\",\"$defs\":{\"reply\":{\"type\":"
"\"object\",\"properties\":{\"ai\":{\"type\":\"string\"},\"socket_id\":"
"{\"type\":\"string\"},\"content\":{\"type\":\"string\"},\"ms\":{\"type\":"
"\"number\"},\"error\":{\"type\":\"string\"}},"
"\"required\":[\"ai\",\"socket_id\",\"content\",\"ms\"]}},"
"\"properties\":{\"responses\":{\"type\":\"array\",\"items\":{\"$ref\":"
"\"#/$defs/reply\"}},\"synthesis\":{\"$ref\":\"#/$defs/reply\"},"
"\"timed_out\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
"\"required\":[\"responses\",\"timed_out\"]},"
"\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":false,"
"\"openWorldHint\":true}},"

"{\"name\":\"aish_send\",\"title\":\"aish send\","
"\"description\":\"Sends text to one AI (a socket id or an AI's name, "
"as aish_list shows them) and returns its reply.\","
"\"inputSchema\":{\"type\":\"object\",\"properties\":{"
"\"ai\":{\"type\":\"string\",\"description\":\"The AI's socket id or "
"name.\"},"
"\"content\":{\"type\":\"string\",\"description\":\"What the AI "
"receives.\"}},"
"\"required\":[\"ai\",\"content\"],\"additionalProperties\":false},"
"\"outputSchema\":{\"type\":\"object\",\"properties\":{"
"\"socket_id\":{\"type\":\"string\"},\"content\":{\"type\":\"string\"},"
"\"headers\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
"\"required\":[\"socket_id\",\"content\",\"headers\"]},"
"\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":false,"
"\"openWorldHint\":true}},"

"{\"name\":\"aish_list\",\"title\":\"aish list\","
"\"description\":\"Lists the AIs (sockets) of the aish server, with "
"their names, providers, models, states and groups; team-chat-NAME "
"sockets stand for the groups.\","
"\"inputSchema\":{\"type\":\"object\",\"properties\":{},"
"\"additionalProperties\":false},"
"\"outputSchema\":{\"type\":\"object\",\"properties\":{"
"\"sockets\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
"\"properties\":{\"socket_id\":{\"type\":\"string\"},\"ai_name\":"
"{\"type\":\"string\"}},\"required\":[\"socket_id\"]}}},"
"\"required\":[\"sockets\"]},"
"\"annotations\":{\"readOnlyHint\":true,\"openWorldHint\":false}}]";

/* One tools/call at work (the request's face_state). */
struct mcp_call {
	const struct tool	*tool;
	cJSON			*token;		/* the progressToken, or NULL */
	size_t			 chars;		/* streamed so far */
	cJSON			*streamed;	/* bytes streamed, by socket */
};

/* ---- answers ---- */

/* Answers r with a tool result: text, and structured (consumed, may be
 * NULL) beside it; is_error marks a failure. */
static void
tool_answer(struct req *r, const char *text, cJSON *structured, int is_error)
{
	cJSON	*res = cJSON_CreateObject(), *content, *item;

	content = cJSON_AddArrayToObject(res, "content");
	item = cJSON_CreateObject();
	cJSON_AddStringToObject(item, "type", "text");
	cJSON_AddStringToObject(item, "text", text);
	cJSON_AddItemToArray(content, item);
	if (structured != NULL)
		cJSON_AddItemToObject(res, "structuredContent", structured);
	cJSON_AddBoolToObject(res, "isError", is_error);
	req_answer(r, res);
}

/* Answers r with a failure of its tool (printf-like message). */
static void
tool_fail(struct req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tool_fail(struct req *r, const char *fmt, ...)
{
	va_list	 ap;
	char	 text[512];

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	logmsg("%s: %s", r->method, text);
	tool_answer(r, text, NULL, 1);
}

/* The string member key of o, or "". */
static const char *
str_of(const cJSON *o, const char *key)
{
	const char	*s = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(o, key));

	return s != NULL ? s : "";
}

/* Appends printf-like text to *s (a string, or NULL for none yet). */
static void
cat(char **s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
cat(char **s, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 have = *s != NULL ? strlen(*s) : 0;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*s = xrealloc(*s, have + (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(*s + have, (size_t)n + 1, fmt, ap);
	va_end(ap);
}

/* Appends one team member's reply to *s: "NAME:" and its text, or its
 * error. */
static void
add_reply(char **s, const cJSON *o, const char *label)
{
	const cJSON	*err = cJSON_GetObjectItemCaseSensitive(o, "error");

	cat(s, "%s%s%s:\n%s%s%s", *s != NULL ? "\n\n" : "", label,
	    str_of(o, "ai"), cJSON_IsString(err) ? "(error: " : "",
	    cJSON_IsString(err) ? err->valuestring : str_of(o, "content"),
	    cJSON_IsString(err) ? ")" : "");
}

/* A team chat's answer as text: each reply under its AI's name, the
 * synthesis last, and who stayed silent. */
static char *
team_text(const cJSON *res)
{
	char		*s = NULL;
	const cJSON	*o, *late = cJSON_GetObjectItemCaseSensitive(res,
			    "timed_out");

	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(res,
	    "responses"))
		add_reply(&s, o, "");
	if ((o = cJSON_GetObjectItemCaseSensitive(res, "synthesis")) != NULL)
		add_reply(&s, o, "synthesis by ");
	if (cJSON_GetArraySize(late) > 0) {
		cat(&s, "%sno reply in time from:", s != NULL ? "\n\n" : "");
		cJSON_ArrayForEach(o, late)
			cat(&s, " %s", cJSON_GetStringValue(o) ?
			    cJSON_GetStringValue(o) : "?");
	}
	return s != NULL ? s : xstrdup("(the team has no member)");
}

/* The socket list as text: one line per socket. */
static char *
list_text(const cJSON *res)
{
	char		*s = NULL;
	const cJSON	*o;

	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(res,
	    "sockets")) {
		cat(&s, "%s%s (AI %s, %s %s, %s)", s != NULL ? "\n" : "",
		    str_of(o, "socket_id"), str_of(o, "ai_name"),
		    str_of(o, "provider"), str_of(o, "model"),
		    str_of(o, "state"));
	}
	return s != NULL ? s : xstrdup("(no socket)");
}

/* The core's result: text for the model, the result itself beside it. */
static void
call_result(struct req *r, cJSON *result)
{
	struct mcp_call	*c = r->face_state;
	char		*text;

	switch (c->tool->kind) {
	case TOOL_PIPELINE:
		text = xstrdup(str_of(result, "output"));
		break;
	case TOOL_SEND:
		text = xstrdup(str_of(result, "content"));
		break;
	case TOOL_TEAM_CHAT:
		text = team_text(result);
		break;
	default:
		text = list_text(result);
		break;
	}
	tool_answer(r, text, result, 0);
	free(text);
}

/* The core's error: a cancel gets no answer, anything else is a tool
 * failure naming it. */
static void
call_error(struct req *r, int code, const char *message, cJSON *data)
{
	cJSON_Delete(data);
	if (code == RPC_CANCELLED) {
		req_drop(r);
		return;
	}
	tool_fail(r, "%s", message);
}

/* Sends notifications/progress with the piece of len bytes at text. */
static void
progress_send(struct mcp_call *c, const char *text, size_t len)
{
	cJSON	*n = cJSON_CreateObject();
	char	*piece = xstrndup(text, len);

	c->chars += ac_utf8_count(text, len);
	ac_json_add_item(n, "progressToken", cJSON_Duplicate(c->token, 1));
	ac_json_add_int(n, "progress", (int64_t)c->chars);
	cJSON_AddStringToObject(n, "message", piece);
	free(piece);
	client_notify("notifications/progress", n);
}

/*
 * A stage's (or team member's) progress, when the client asked for it:
 * each delta is a notification.  A provider's last piece may come only
 * with the whole text (the end): what the deltas did not carry goes out
 * then, so that the messages always make the whole text.
 */
static void
call_progress(struct req *r, const struct progress *p)
{
	struct mcp_call	*c = r->face_state;
	const char	*key = p->socket_id != NULL ? p->socket_id : p->ai;
	cJSON		*done;
	size_t		 len, sent;

	if (c->token == NULL || p->content == NULL || key == NULL)
		return;
	if (c->streamed == NULL)
		c->streamed = cJSON_CreateObject();
	done = cJSON_GetObjectItemCaseSensitive(c->streamed, key);
	if (done == NULL)
		done = cJSON_AddNumberToObject(c->streamed, key, 0);
	sent = (size_t)done->valuedouble;
	len = strlen(p->content);
	if (strcmp(p->kind, "delta") == 0 && len > 0) {
		progress_send(c, p->content, len);
		cJSON_SetNumberValue(done, (double)(sent + len));
	} else if (strcmp(p->kind, "end") == 0) {
		if (len > sent)
			progress_send(c, p->content + sent, len - sent);
		cJSON_DeleteItemFromObjectCaseSensitive(c->streamed, key);
	}
}

/* Frees a call's state. */
static void
call_free(struct req *r)
{
	struct mcp_call	*c = r->face_state;

	if (c == NULL)
		return;
	cJSON_Delete(c->token);
	cJSON_Delete(c->streamed);
	free(c);
}

static const struct xlat call_xlat = {
	.result = call_result,
	.error = call_error,
	.progress = call_progress,
	.free_state = call_free,
};

/* ---- the methods ---- */

/* initialize {"protocolVersion","capabilities","clientInfo"} */
static void
m_initialize(struct req *r, const cJSON *p)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(p,
			    "protocolVersion");
	const char	*version = mcp_versions[0];
	cJSON		*res, *o;
	size_t		 i;

	if (v != NULL && !cJSON_IsString(v)) {
		req_error(r, RPC_INVALID_PARAMS,
		    "protocolVersion must be a string", NULL);
		return;
	}
	for (i = 0; v != NULL && mcp_versions[i] != NULL; i++) {
		if (strcmp(v->valuestring, mcp_versions[i]) == 0)
			version = mcp_versions[i];
	}
	logmsg("MCP client asks for %s: %s", v ? v->valuestring : "nothing",
	    version);
	br.initialized = 1;
	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "protocolVersion", version);
	o = cJSON_AddObjectToObject(res, "capabilities");
	o = cJSON_AddObjectToObject(o, "tools");
	cJSON_AddBoolToObject(o, "listChanged", 0);
	o = cJSON_AddObjectToObject(res, "serverInfo");
	cJSON_AddStringToObject(o, "name", "aish-bridge");
	cJSON_AddStringToObject(o, "title", "aish");
	cJSON_AddStringToObject(o, "version", AISH_VERSION);
	cJSON_AddStringToObject(res, "instructions", "aish runs AIs like "
	    "Unix processes: aish_list names the AIs, aish_send asks one, "
	    "aish_pipeline runs text through several in turn, "
	    "aish_team_chat asks a whole team at once.");
	req_result(r, res);
}

/* notifications/initialized, and other notifications that need
 * nothing. */
static void
m_nothing(struct req *r, const cJSON *p)
{
	req_result(r, NULL);
}

/* ping: answers {}. */
static void
m_ping(struct req *r, const cJSON *p)
{
	req_result(r, cJSON_CreateObject());
}

/* tools/list {"cursor"?}: every tool, in one page. */
static void
m_tools_list(struct req *r, const cJSON *p)
{
	cJSON	*res = cJSON_CreateObject();

	cJSON_AddItemToObject(res, "tools", cJSON_Parse(tools_json));
	req_result(r, res);
}

/* The tool called name, or NULL. */
static const struct tool *
tool_find(const char *name)
{
	const struct tool	*t;

	for (t = tools; t->name != NULL; t++) {
		if (strcmp(t->name, name) == 0)
			return t;
	}
	return NULL;
}

/* The argument of t called name, or NULL. */
static const struct arg *
arg_find(const struct tool *t, const char *name)
{
	const struct arg	*a;

	for (a = t->args; a->name != NULL; a++) {
		if (strcmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}

/* Checks args against t's arguments; 0 after answering a tool failure
 * that names what is wrong. */
static int
args_check(struct req *r, const struct tool *t, const cJSON *args)
{
	const struct arg	*a;
	const cJSON		*v;

	cJSON_ArrayForEach(v, args) {
		if (arg_find(t, v->string) == NULL) {
			tool_fail(r, "%s: unknown argument \"%.64s\"", t->name,
			    v->string);
			return 0;
		}
	}
	for (a = t->args; a->name != NULL; a++) {
		v = cJSON_GetObjectItemCaseSensitive(args, a->name);
		if (v == NULL || cJSON_IsNull(v)) {
			if (!a->required)
				continue;
			tool_fail(r, "%s: missing argument \"%s\"", t->name,
			    a->name);
			return 0;
		}
		if (a->boolean ? !cJSON_IsBool(v) : !cJSON_IsString(v)) {
			tool_fail(r, "%s: argument \"%s\" must be %s", t->name,
			    a->name, a->boolean ? "true or false" : "a string");
			return 0;
		}
	}
	return 1;
}

/* The core method's params for a call of t with args (checked). */
static cJSON *
core_params(const struct tool *t, const cJSON *args)
{
	cJSON		*p = cJSON_CreateObject();
	const cJSON	*v;

	cJSON_ArrayForEach(v, args) {
		if (cJSON_IsNull(v))
			continue;
		if (strcmp(v->string, "synthesize") == 0) {
			if (cJSON_IsTrue(v))
				cJSON_AddStringToObject(p, "moderation",
				    "synthesis");
		} else
			cJSON_AddItemToObject(p, v->string,
			    cJSON_Duplicate(v, 1));
	}
	return p;
}

/* tools/call {"name","arguments"?,"_meta"?:{"progressToken"?}} */
static void
m_tools_call(struct req *r, const cJSON *p)
{
	const cJSON		*name = cJSON_GetObjectItemCaseSensitive(p, "name");
	const cJSON		*args = cJSON_GetObjectItemCaseSensitive(p,
				    "arguments");
	const cJSON		*meta = cJSON_GetObjectItemCaseSensitive(p, "_meta");
	const cJSON		*token;
	const struct tool	*t;
	struct mcp_call		*c;
	cJSON			*params, *empty = NULL;
	char			 text[200];

	if (!cJSON_IsString(name)) {
		req_error(r, RPC_INVALID_PARAMS, "missing param \"name\" (the "
		    "tool's)", NULL);
		return;
	}
	if ((t = tool_find(name->valuestring)) == NULL) {
		snprintf(text, sizeof text, "unknown tool \"%.64s\" (tools: "
		    "aish_pipeline, aish_team_chat, aish_send, aish_list)",
		    name->valuestring);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
		return;
	}
	if (args != NULL && !cJSON_IsNull(args) && !cJSON_IsObject(args)) {
		req_error(r, RPC_INVALID_PARAMS, "\"arguments\" must be an "
		    "object", NULL);
		return;
	}
	if (args == NULL || cJSON_IsNull(args))
		args = empty = cJSON_CreateObject();
	c = xcalloc(1, sizeof *c);
	c->tool = t;
	token = cJSON_GetObjectItemCaseSensitive(meta, "progressToken");
	if (cJSON_IsString(token) || cJSON_IsNumber(token))
		c->token = cJSON_Duplicate(token, 1);
	r->face_state = c;
	r->xlat = &call_xlat;
	if (args_check(r, t, args)) {
		params = core_params(t, args);
		(void)core_start(r, t->method, params, &call_xlat);
		cJSON_Delete(params);
	}
	cJSON_Delete(empty);
}

/* notifications/cancelled {"requestId","reason"?}: that call stops and
 * gets no answer. */
static void
m_cancelled(struct req *r, const cJSON *p)
{
	const cJSON	*id = cJSON_GetObjectItemCaseSensitive(p, "requestId");

	if (cJSON_IsString(id) || cJSON_IsNumber(id))
		cJSON_Delete(req_cancel_matching(id));
	req_result(r, NULL);
}

static const struct method methods_mcp[] = {
	{ "initialize", m_initialize, 1 },
	{ "notifications/initialized", m_nothing, 1 },
	{ "notifications/cancelled", m_cancelled, 1 },
	{ "notifications/roots/list_changed", m_nothing, 1 },
	{ "ping", m_ping, 1 },
	{ "tools/list", m_tools_list, 0 },
	{ "tools/call", m_tools_call, 0 },
	{ NULL, NULL, 0 }
};

static const struct method *const mcp_tables[] = { methods_mcp, NULL };

/* The MCP face: its own methods only, no aish notifications, no requests
 * to the client. */
const struct face face_mcp = {
	.name = "mcp",
	.tables = mcp_tables,
	.aish_notifications = 0,
	.client_requests = 0,
};
