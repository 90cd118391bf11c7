/*
 * acp-prompt.c: session/prompt and session/cancel of the ACP face.
 *
 * A prompt's text blocks, joined, are the message; each "resource" block
 * with text, and each "resource_link" to a readable local text file, is
 * a context item (SPEC section 7) named by its path, and its name stands
 * in the text where the block was.  The message goes to the session's
 * target through the core:
 *  - an AI: aish/send with "fresh": false on the session's own socket for
 *    that AI (made on the first prompt, like the AI's socket: acp.h), so
 *    the conversation goes on; its deltas stream as agent_message_chunk;
 *  - "group:NAME": aish/teamChat, one-shot; each member's reply is one
 *    agent_message_chunk under its name, as it ends;
 *  - "pipeline:TITLE": that configured line through aish/pipeline (or
 *    aish/teamChat for a team chat line), one-shot; the stages before the
 *    last stream as agent_thought_chunk, the last as agent_message_chunk.
 * The answer is {"stopReason":"end_turn"}; after session/cancel it is
 * "cancelled" (the AI's work is cancelled on the server); an AI that
 * fails, an unknown AI and the server out of reach are JSON-RPC errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acp.h"
#include <aish/protocol.h>
#include "lsp.h"
#include "names.h"
#include "parse.h"
#include "xalloc.h"

/* What a prompt's target is. */
enum target_kind {
	TARGET_AI,
	TARGET_GROUP,
	TARGET_PIPELINE
};

/* One session/prompt at work (the request's face_state). */
struct prompt {
	struct acp_session	*s;
	enum target_kind	 kind;
	int			 team;		/* runs aish/teamChat */
	size_t			 stages;	/* a pipeline's */
	char			*target;	/* as the prompt began */
	char			*text;		/* the message */
	cJSON			*context;	/* [{name, text}] */
	cJSON			*core;		/* the core method's params */
	size_t			 streamed;	/* bytes of the current stage */
};

/* ---- answers ---- */

/* The prompt is over for its session (answered or about to be). */
static void
prompt_end(struct req *r)
{
	struct prompt	*pr = r->face_state;

	if (pr != NULL && pr->s->prompt == r)
		pr->s->prompt = NULL;
}

/* Answers r with {"stopReason": reason}. */
static void
answer_stop(struct req *r, const char *reason)
{
	cJSON	*res = cJSON_CreateObject();

	prompt_end(r);
	cJSON_AddStringToObject(res, "stopReason", reason);
	req_answer(r, res);
}

/* The core's answer: the turn ended (a team's silent members said). */
static void
prompt_result(struct req *r, cJSON *result)
{
	struct prompt	*pr = r->face_state;
	const cJSON	*late = cJSON_GetObjectItem(result, "timed_out"), *v;
	char		*text = NULL, *more;

	cJSON_ArrayForEach(v, late) {
		more = xasprintf("%s %s", text ? text : "no reply in time "
		    "from:", cJSON_GetStringValue(v) ? v->valuestring : "?");
		free(text);
		text = more;
	}
	if (text != NULL)
		acp_update(pr->s, "agent_message_chunk", text);
	free(text);
	cJSON_Delete(result);
	answer_stop(r, "end_turn");
}

/* The core's error: a cancel is a turn that ended "cancelled"; anything
 * else is the JSON-RPC error. */
static void
prompt_error(struct req *r, int code, const char *message, cJSON *data)
{
	if (code == RPC_CANCELLED) {
		cJSON_Delete(data);
		answer_stop(r, "cancelled");
		return;
	}
	prompt_end(r);
	req_answer_error(r, code, message, data);
}

/* The string v, or "". */
static const char *
str_or(const cJSON *v)
{
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* The core's error names the session's socket ("acp-…-1: …"): the user
 * knows the AI by the target's name, which the error gets instead.  A
 * session socket deleted on the server is forgotten, so that the next
 * prompt makes a new one. */
static void
prompt_error_named(struct req *r, int code, const char *message,
    cJSON *data)
{
	struct prompt	*pr = r->face_state;
	const char	*sock = cJSON_GetStringValue(cJSON_GetObjectItem(
			    pr->s->sockets, pr->target));
	size_t		 n = sock ? strlen(sock) : 0;
	char		*text;

	if (code == RPC_INVALID_PARAMS && n > 0 && strcmp(str_or(
	    cJSON_GetObjectItem(data, "ai")), sock) == 0) {
		/* Deleted on the server: the next prompt starts anew. */
		text = xasprintf("the session's conversation with %s was "
		    "deleted from aish-rhetor (%s): the next prompt starts a "
		    "new one", pr->target, sock);
		cJSON_DeleteItemFromObject(pr->s->sockets, pr->target);
		(void)acp_store_save(pr->s);
		cJSON_Delete(data);
		prompt_error(r, code, text, NULL);
		free(text);
		return;
	}
	if (code == RPC_CANCELLED || pr->kind != TARGET_AI || n == 0 ||
	    strncmp(message, sock, n) != 0 || message[n] != ':') {
		prompt_error(r, code, message, data);
		return;
	}
	if (cJSON_IsString(cJSON_GetObjectItem(data, "ai")))
		cJSON_ReplaceItemInObject(data, "ai",
		    cJSON_CreateString(pr->target));
	text = xasprintf("%s%s", pr->target, message + n);
	prompt_error(r, code, text, data);
	free(text);
}

/* Sends the piece of len bytes at text as an update of kind. */
static void
update_piece(struct prompt *pr, const char *kind, const char *text,
    size_t len)
{
	char	*piece = xstrndup(text, len);

	acp_update(pr->s, kind, piece);
	free(piece);
}

/* A team member's reply, whole, under its name. */
static void
team_piece(struct prompt *pr, const struct progress *p)
{
	char	*text;

	if (strcmp(p->kind, "end") != 0 || p->content == NULL)
		return;
	text = xasprintf("%s%s:\n%s\n\n", p->stage > 0 ? "synthesis by " : "",
	    p->ai ? p->ai : "?", p->content);
	acp_update(pr->s, "agent_message_chunk", text);
	free(text);
}

/*
 * A stage's progress: each delta is a chunk (a thought for the stages
 * before a pipeline's last); a provider's last piece may come only with
 * the whole text (the end), and what the deltas did not carry goes out
 * then.
 */
static void
prompt_progress(struct req *r, const struct progress *p)
{
	struct prompt	*pr = r->face_state;
	const char	*kind = "agent_message_chunk";
	size_t		 len;

	if (pr->team) {
		team_piece(pr, p);
		return;
	}
	if ((size_t)p->stage + 1 < pr->stages)
		kind = "agent_thought_chunk";
	len = p->content ? strlen(p->content) : 0;
	if (strcmp(p->kind, "begin") == 0)
		pr->streamed = 0;
	else if (strcmp(p->kind, "delta") == 0 && len > 0) {
		update_piece(pr, kind, p->content, len);
		pr->streamed += len;
	} else if (strcmp(p->kind, "end") == 0) {
		if (len > pr->streamed)
			update_piece(pr, kind, p->content + pr->streamed,
			    len - pr->streamed);
		if ((size_t)p->stage + 1 < pr->stages)
			acp_update(pr->s, kind, "\n\n");
		pr->streamed = 0;
	}
}

/* Frees a prompt's state. */
static void
prompt_free(struct req *r)
{
	struct prompt	*pr = r->face_state;

	if (pr == NULL)
		return;
	prompt_end(r);
	free(pr->target);
	free(pr->text);
	cJSON_Delete(pr->context);
	cJSON_Delete(pr->core);
	free(pr);
}

static const struct xlat prompt_xlat = {
	.result = prompt_result,
	.error = prompt_error_named,
	.progress = prompt_progress,
	.free_state = prompt_free,
};

/* ---- the prompt's blocks ---- */

/* The name a context item of uri goes by: a file URI's path. */
static const char *
uri_name(const char *uri)
{
	return strncmp(uri, "file://", 7) == 0 && uri[7] == '/' ? uri + 7 :
	    uri;
}

/* The text of the local file a file:// uri names (at most the content
 * limit, UTF-8), or NULL. */
static char *
file_text(const char *uri)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	if (strncmp(uri, "file:///", 8) != 0 || strchr(uri, '%') != NULL ||
	    (f = fopen(uri + 7, "re")) == NULL)
		return NULL;
	buf = xmalloc(AISH_MAX_CONTENT + 1);
	n = fread(buf, 1, AISH_MAX_CONTENT + 1, f);
	fclose(f);
	if (n > AISH_MAX_CONTENT || !ac_utf8_valid(buf, n)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Adds the context item {name, text} to pr. */
static void
add_context(struct prompt *pr, const char *name, const char *text)
{
	cJSON	*it = cJSON_CreateObject();

	if (pr->context == NULL)
		pr->context = cJSON_CreateArray();
	cJSON_AddStringToObject(it, "name", name);
	cJSON_AddStringToObject(it, "text", text);
	cJSON_AddItemToArray(pr->context, it);
}

/* Appends s to the message. */
static void
add_text(struct prompt *pr, const char *s)
{
	char	*both = xasprintf("%s%s", pr->text ? pr->text : "", s);

	free(pr->text);
	pr->text = both;
}

/* Answers -32602 about block i (0-based) of the prompt; returns 0. */
static int
block_error(struct req *r, int i, const char *what)
{
	char	text[200];

	snprintf(text, sizeof text, "prompt block %d: %s", i + 1, what);
	req_error(r, RPC_INVALID_PARAMS, text, NULL);
	return 0;
}

/* Reads one block of the prompt into pr; 0 after answering -32602. */
static int
read_block(struct req *r, struct prompt *pr, int i, const cJSON *b)
{
	const char	*type = cJSON_GetStringValue(cJSON_GetObjectItem(b,
			    "type"));
	const cJSON	*res = cJSON_GetObjectItem(b, "resource");
	const char	*text, *uri;
	char		*file;

	if (type == NULL)
		return block_error(r, i, "a block is an object with a "
		    "\"type\"");
	if (strcmp(type, "text") == 0) {
		if ((text = cJSON_GetStringValue(cJSON_GetObjectItem(b,
		    "text"))) == NULL)
			return block_error(r, i, "a text block needs \"text\"");
		add_text(pr, text);
		return 1;
	}
	if (strcmp(type, "resource") == 0) {
		uri = cJSON_GetStringValue(cJSON_GetObjectItem(res, "uri"));
		text = cJSON_GetStringValue(cJSON_GetObjectItem(res, "text"));
		if (uri == NULL || text == NULL)
			return block_error(r, i, "aish takes resources with "
			    "\"uri\" and \"text\" (no binary ones)");
		add_context(pr, uri_name(uri), text);
		add_text(pr, uri_name(uri));
		return 1;
	}
	if (strcmp(type, "resource_link") == 0) {
		if ((uri = cJSON_GetStringValue(cJSON_GetObjectItem(b,
		    "uri"))) == NULL)
			return block_error(r, i, "a resource link needs "
			    "\"uri\"");
		if ((file = file_text(uri)) != NULL)
			add_context(pr, uri_name(uri), file);
		free(file);
		add_text(pr, uri_name(uri));
		return 1;
	}
	return block_error(r, i, "aish takes text, resource and "
	    "resource_link blocks only");
}

/* Reads the prompt's blocks into pr; 0 after answering -32602. */
static int
read_blocks(struct req *r, struct prompt *pr, const cJSON *p)
{
	const cJSON	*blocks = cJSON_GetObjectItem(p, "prompt"), *b;
	int		 i = 0;

	if (!cJSON_IsArray(blocks) || cJSON_GetArraySize(blocks) == 0) {
		req_error(r, RPC_INVALID_PARAMS, "\"prompt\" must be an array "
		    "of content blocks", NULL);
		return 0;
	}
	cJSON_ArrayForEach(b, blocks) {
		if (!read_block(r, pr, i++, b))
			return 0;
	}
	if ((pr->text == NULL || pr->text[0] == '\0') && pr->context == NULL) {
		req_error(r, RPC_INVALID_PARAMS, "the prompt has no text",
		    NULL);
		return 0;
	}
	if (pr->text == NULL)
		pr->text = xstrdup("");
	return 1;
}

/* ---- running it ---- */

/* Starts the core method with pr->core, context added. */
static void
run_core(struct req *r, const char *method)
{
	struct prompt	*pr = r->face_state;

	if (pr->context != NULL)
		cJSON_AddItemToObject(pr->core, "context",
		    cJSON_Duplicate(pr->context, 1));
	(void)core_start(r, method, pr->core, &prompt_xlat);
}

/* Sends the message on the session's socket for its AI. */
static void
run_send(struct req *r, const char *socket_id)
{
	struct prompt	*pr = r->face_state;

	pr->stages = 1;
	pr->core = cJSON_CreateObject();
	cJSON_AddStringToObject(pr->core, "socket_id", socket_id);
	cJSON_AddStringToObject(pr->core, "content", pr->text);
	cJSON_AddBoolToObject(pr->core, "fresh", 0);
	run_core(r, "aish/send");
}

/* Making a session's socket for an AI: the prompt and the AI. */
struct making {
	struct req		*r;
	struct acp_session	*s;
	char			 ai[AISH_NAME_MAX + 1];	/* the target */
	char			 socket_id[AISH_NAME_MAX + 1];
};

/* The socket is made: the session keeps it, and the prompt goes on. */
static void
made(aish_t *h, const aish_result_t *res, void *user)
{
	struct making	*mk = user;
	cJSON		*body;

	if (res->err == AISH_OK) {
		cJSON_AddStringToObject(mk->s->sockets, mk->ai, mk->socket_id);
		(void)acp_store_save(mk->s);
		logmsg("acp: session %s: socket %s for %s", mk->s->id,
		    mk->socket_id, mk->ai);
		body = cJSON_ParseWithLength(res->body ? res->body : "",
		    res->body_len);
		ainame_learn(body);
		cJSON_Delete(body);
	}
	if (req_release(mk->r)) {
		if (res->err != AISH_OK)
			req_error_aish(mk->r, res->err, res->code,
			    res->message);
		else
			run_send(mk->r, mk->socket_id);
	}
	free(mk);
}

/* The AI's socket came: a socket like it for the session. */
static void
got_ai(aish_t *h, const aish_result_t *res, void *user)
{
	struct making		*mk = user;
	aish_create_opts_t	 o;
	cJSON			*body = NULL;
	const cJSON		*ctx;
	char			*ctx_json = NULL;
	aish_error_t		 err;

	if (!req_release(mk->r))
		goto end;
	if (res->err == AISH_E_NOT_FOUND) {
		fail_unknown_ai(mk->r, mk->ai);
		goto end;
	}
	if (res->err != AISH_OK) {
		req_error_aish(mk->r, res->err, res->code, res->message);
		goto end;
	}
	body = cJSON_ParseWithLength(res->body ? res->body : "", res->body_len);
	memset(&o, 0, sizeof o);
	o.ai_name = cJSON_GetStringValue(cJSON_GetObjectItem(body, "ai_name"));
	o.model = cJSON_GetStringValue(cJSON_GetObjectItem(body, "model"));
	o.provider = cJSON_GetStringValue(cJSON_GetObjectItem(body,
	    "provider"));
	o.prompt = cJSON_GetStringValue(cJSON_GetObjectItem(body, "prompt"));
	ctx = cJSON_GetObjectItem(body, "context");
	if (cJSON_IsObject(ctx) && ctx->child != NULL)
		o.context_json = ctx_json = cJSON_PrintUnformatted(ctx);
	if (o.ai_name == NULL) {
		req_error(mk->r, RPC_INTERNAL_ERROR, "aish-rhetor's socket "
		    "has no ai_name", NULL);
		goto end;
	}
	snprintf(mk->socket_id, sizeof mk->socket_id, "%s-%ld", mk->s->id,
	    mk->s->next_socket++);
	o.socket_id = mk->socket_id;
	o.private_socket = 1;	/* the session's conversation, no team's */
	/* The number is taken before the socket exists: never used twice. */
	(void)acp_store_save(mk->s);
	req_hold(mk->r);
	if ((err = aish_create(br.aish, &o, made, mk)) != AISH_OK) {
		req_release(mk->r);
		req_error_aish(mk->r, err, NULL, NULL);
		goto end;
	}
	mk = NULL;
end:
	cJSON_free(ctx_json);
	cJSON_Delete(body);
	free(mk);
}

/* Runs the prompt on an AI: on the session's socket for it, made first
 * when there is none yet. */
static void
run_ai(struct req *r)
{
	struct prompt	*pr = r->face_state;
	const char	*sock = cJSON_GetStringValue(cJSON_GetObjectItem(
			    pr->s->sockets, pr->target));
	struct making	*mk;
	aish_error_t	 err;

	if (sock != NULL) {
		run_send(r, sock);
		return;
	}
	if (!ac_name_valid(pr->target)) {
		fail_unknown_ai(r, pr->target);
		return;
	}
	mk = xcalloc(1, sizeof *mk);
	mk->r = r;
	mk->s = pr->s;
	snprintf(mk->ai, sizeof mk->ai, "%s", pr->target);
	req_hold(r);
	if ((err = aish_get(br.aish, pr->target, got_ai, mk)) != AISH_OK) {
		req_release(r);
		free(mk);
		req_error_aish(r, err, NULL, NULL);
	}
}

/* Runs the prompt through a configured pipeline (or team chat line). */
static void
run_pipeline(struct req *r)
{
	struct prompt	*pr = r->face_state;
	const char	*title = pr->target + strlen(ACP_PIPELINE_PREFIX);
	const char	*t, *line = NULL;
	struct ac_cmd	 cmd;
	size_t		 i;
	char		 text[200];

	for (i = 0; lsp_action_get(i, &t, &line); i++) {
		if (strcmp(t, title) == 0)
			break;
		line = NULL;
	}
	if (line == NULL ||
	    (pr->core = command_params(line, pr->text, strlen(pr->text),
	    &pr->team)) == NULL) {
		snprintf(text, sizeof text, "no pipeline \"%.64s\" is "
		    "configured (aish-bridge --actions FILE)", title);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
		return;
	}
	if (!pr->team && ac_cmd_parse(line, &cmd, NULL) == 0) {
		pr->stages = cmd.nstages;
		ac_cmd_free(&cmd);
	}
	run_core(r, pr->team ? "aish/teamChat" : "aish/pipeline");
}

/* session/prompt {"sessionId","prompt":[content blocks]} */
static void
m_prompt(struct req *r, const cJSON *p)
{
	struct acp_session	*s;
	struct prompt		*pr;
	const char		*id;
	char			 text[160];

	if (!param_str(r, p, "sessionId", 1, &id))
		return;
	if ((s = acp_session_find(id)) == NULL) {
		snprintf(text, sizeof text, "unknown session \"%.64s\"", id);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
		return;
	}
	if (s->prompt != NULL) {
		req_error(r, RPC_INVALID_REQUEST, "a prompt is already at work "
		    "in this session (session/cancel stops it)", NULL);
		return;
	}
	if (s->target == NULL) {
		req_error(r, RPC_INVALID_PARAMS, "the session has no target: "
		    "choose one with session/set_mode", NULL);
		return;
	}
	pr = xcalloc(1, sizeof *pr);
	pr->s = s;
	pr->target = xstrdup(s->target);
	r->face_state = pr;
	r->xlat = &prompt_xlat;
	if (!read_blocks(r, pr, p))
		return;
	s->prompt = r;
	logmsg("acp: session %s: a prompt for %s", s->id, pr->target);
	if (strncmp(pr->target, ACP_GROUP_PREFIX,
	    strlen(ACP_GROUP_PREFIX)) == 0) {
		pr->kind = TARGET_GROUP;
		pr->team = 1;
		pr->core = cJSON_CreateObject();
		cJSON_AddStringToObject(pr->core, "message", pr->text);
		cJSON_AddStringToObject(pr->core, "group",
		    pr->target + strlen(ACP_GROUP_PREFIX));
		run_core(r, "aish/teamChat");
	} else if (strncmp(pr->target, ACP_PIPELINE_PREFIX,
	    strlen(ACP_PIPELINE_PREFIX)) == 0) {
		pr->kind = TARGET_PIPELINE;
		run_pipeline(r);
	} else
		run_ai(r);
}

/* session/cancel {"sessionId"}: the session's prompt ends "cancelled"
 * and its AI's work stops on the server. */
static void
m_cancel(struct req *r, const cJSON *p)
{
	const char		*id = cJSON_GetStringValue(
				    cJSON_GetObjectItem(p, "sessionId"));
	struct acp_session	*s = id ? acp_session_find(id) : NULL;

	if (s != NULL && s->prompt != NULL && s->prompt->id != NULL)
		cJSON_Delete(req_cancel_matching(s->prompt->id));
	req_result(r, NULL);
}

const struct method methods_acp_prompt[] = {
	{ "session/prompt", m_prompt, 0 },
	{ "session/cancel", m_cancel, 1 },
	{ NULL, NULL, 0 }
};
