/*
 * methods-send.c: the methods that wait for AI replies: aish/send (one
 * AI), aish/pipeline (each stage's output is the next one's input) and
 * aish/teamChat (every AI at once, over team-chat-all or a group).
 *
 * These are one-shot requests by default ("fresh": true): the AI answers
 * from its prompt and this text alone, and its history is left as it
 * was; "fresh": false makes them part of the socket's conversation.
 *
 * Each stage and each team member is reported with aish/progress:
 * "begin", a "delta" per streamed piece, "end" with the whole text.  A
 * cancel or a time-out cancels the AI's work on the server too.  A team
 * chat that runs out of time is no error: it answers with the replies it
 * has and lists the members still silent in "timed_out".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aish/protocol.h>
#include "bridge.h"
#include "names.h"
#include "parse.h"
#include "xalloc.h"

/* ---- shared ---- */

/* Milliseconds since usec (lws_now_usecs() time). */
static double
ms_since(int64_t usec)
{
	return (double)((lws_now_usecs() - usec) / LWS_US_PER_MS);
}


/* Answers the error an error frame about r's write stands for. */
static void
fail_from_frame(struct req *r, const aish_msg_t *m, const char *who)
{
	char	*text;
	cJSON	*data;

	r->write_id[0] = '\0';
	if (m->code != NULL && strcmp(m->code, AISH_ERR_UNKNOWN_SOCKET) == 0) {
		ainame_forget(who);	/* deleted by another client */
		fail_unknown_ai(r, who);
		return;
	}
	if (m->code != NULL && strcmp(m->code, AISH_ERR_CANCELLED) == 0) {
		req_error(r, RPC_CANCELLED, "cancelled", NULL);
		return;
	}
	text = xasprintf("%s: %s", who, m->message ? m->message :
	    "the AI failed");
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "ai", who);
	if (m->code != NULL)
		cJSON_AddStringToObject(data, "code", m->code);
	if (m->local && m->code != NULL &&
	    strcmp(m->code, AISH_ERR_UNAUTHORIZED) == 0)
		req_error(r, RPC_UNREACHABLE, text, data);
	else
		req_error(r, RPC_AI_ERROR, text, data);
	free(text);
}

/* ---- aish/send and aish/pipeline ---- */

struct pipe_state {
	struct ac_stage *stages;	/* each AI and its instruction */
	size_t		  n;
	size_t		  cur;
	char		 *input;	/* the current stage's whole text */
	size_t		  input_len;
	cJSON		 *done;		/* [{ai, socket_id, output, ms}] */
	int64_t		  stage_start;
	int		  begun;	/* the current stage's begin was sent */
	int		  is_send;
	unsigned	  flags;	/* AISH_WRITE_FRESH or 0 */
};

/* Frees a pipeline's state. */
static void
pipe_free(struct req *r)
{
	struct pipe_state	*s = r->state;
	size_t			 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->stages[i].ai);
		free(s->stages[i].instruction);
	}
	free(s->stages);
	free(s->input);
	cJSON_Delete(s->done);
	free(s);
}

/* Sends the current stage's begin, once: when the server has accepted
 * its write (the ack), or when the AI's first words come before the ack
 * (through team-chat-all).  An AI that answers at once has its begin,
 * end and answer go out in one write. */
static void
stage_begin(struct req *r)
{
	struct pipe_state	*s = r->state;
	const char		*sock = s->stages[s->cur].ai;

	if (s->begun)
		return;
	s->begun = 1;
	notify_progress(r, (int)s->cur, ainame_get(sock), sock, "begin",
	    NULL);
}

/* Writes the current stage's text to its AI, whose name is known. */
static void
stage_write(struct req *r)
{
	struct pipe_state	*s = r->state;
	const char		*sock = s->stages[s->cur].ai;
	aish_error_t		 err;

	snprintf(r->socket_id, sizeof r->socket_id, "%s", sock);
	s->stage_start = lws_now_usecs();
	s->begun = 0;
	/* libaish makes the id: unique across bridges and restarts. */
	err = aish_write_flags(br.aish, sock, s->input, s->input_len, s->flags,
	    NULL, r->write_id);
	if (err != AISH_OK) {
		r->write_id[0] = '\0';
		req_error_aish(r, err, NULL, NULL);
	}
}

/* The current stage's reply came: next stage, or the answer. */
static void
stage_done(struct req *r, const aish_msg_t *m)
{
	struct pipe_state	*s = r->state;
	const char		*sock = s->stages[s->cur].ai;
	const char		*ai = m->ai_name ? m->ai_name : ainame_get(sock);
	const char		*out = m->content ? m->content : "";
	cJSON			*st, *res;
	size_t			 i;

	r->write_id[0] = '\0';
	notify_progress(r, (int)s->cur, ai, sock, "end", out);
	st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "ai", ai ? ai : sock);
	cJSON_AddStringToObject(st, "socket_id", sock);
	cJSON_AddStringToObject(st, "output", out);
	cJSON_AddNumberToObject(st, "ms", ms_since(s->stage_start));
	cJSON_AddItemToArray(s->done, st);
	if (++s->cur < s->n) {
		free(s->input);
		/* Later stages get no context: it went to the first. */
		s->input = ac_compose(NULL, 0, s->stages[s->cur].instruction,
		    out, strlen(out), &s->input_len);
		stage_write(r);
		return;
	}
	res = cJSON_CreateObject();
	if (s->is_send) {
		cJSON_AddStringToObject(res, "socket_id", sock);
		cJSON_AddStringToObject(res, "content", out);
		st = cJSON_AddArrayToObject(res, "headers");
		for (i = 0; i < m->n_headers; i++)
			cJSON_AddItemToArray(st,
			    cJSON_CreateString(m->headers[i]));
	} else {
		cJSON_AddStringToObject(res, "output", out);
		cJSON_AddItemToObject(res, "stages", s->done);
		s->done = NULL;
	}
	req_result(r, res);
}

/* A message about the current stage's write. */
static void
stage_msg(struct req *r, const aish_msg_t *m)
{
	struct pipe_state	*s = r->state;
	const char		*sock = s->stages[s->cur].ai;

	switch (m->type) {
	case AISH_MSG_ACK:
		stage_begin(r);
		break;
	case AISH_MSG_DELTA:
		stage_begin(r);
		notify_progress(r, (int)s->cur, ainame_get(sock), sock,
		    "delta", m->content ? m->content : "");
		break;
	case AISH_MSG_READ:
		stage_begin(r);
		stage_done(r, m);
		break;
	case AISH_MSG_ERROR:
		fail_from_frame(r, m, sock);
		break;
	default:
		break;
	}
}

static const struct req_ops pipe_ops = {
	.on_msg = stage_msg,
	.on_stop = req_stop_write,
	.on_conn = req_fail_unsent,
	.free_state = pipe_free,
};

/* The name of the first stage that names no socket the bridge knows, or
 * NULL when every one is known. */
static const char *
first_unknown(const struct pipe_state *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		if (ainame_get(s->stages[i].ai) == NULL)
			return s->stages[i].ai;
	}
	return NULL;
}

/* The server's socket list came: every stage is known (the first one
 * runs), or the first unknown one is the answer. */
static void
stages_listed(aish_t *h, const aish_result_t *res, void *user)
{
	struct req	*r = user;
	const char	*unknown;
	cJSON		*root;

	if (!req_release(r))
		return;
	if (res->err != AISH_OK) {
		req_error_aish(r, res->err, res->code, res->message);
		return;
	}
	root = cJSON_ParseWithLength(res->body ? res->body : "", res->body_len);
	ainame_learn_list(root);
	if ((unknown = first_unknown(r->state)) != NULL)
		answer_unknown(r, 0, unknown, root);
	else
		stage_write(r);
	cJSON_Delete(root);
}

/*
 * Checks the whole pipeline before its first stage runs: every stage must
 * name a socket.  Names the bridge has met need no question; otherwise it
 * asks the server for its list once, which also lets progress name each
 * AI ("slow") rather than its socket ("slow-1").
 */
static void
pipe_check(struct req *r)
{
	aish_error_t	err;

	if (first_unknown(r->state) == NULL) {
		stage_write(r);
		return;
	}
	req_hold(r);
	if ((err = aish_list(br.aish, stages_listed, r)) != AISH_OK) {
		req_release(r);
		req_error_aish(r, err, NULL, NULL);
	}
}

/* Answers -32602 about stage i (1-based) of a pipeline; returns 0. */
static int
stage_error(struct req *r, size_t i, const char *what)
{
	char	*text = xasprintf("stage %zu: %s", i, what);

	req_error(r, RPC_INVALID_PARAMS, text, NULL);
	free(text);
	return 0;
}

/* Adds a stage to s (ai and instruction copied); 0 after answering
 * -32602 when ai names no stage. */
static int
add_stage(struct req *r, struct pipe_state *s, const char *ai,
    const char *instruction)
{
	struct ac_stage	*st;
	char			 text[160];

	if (!ac_name_valid(ai)) {
		snprintf(text, sizeof text, "not an AI name: \"%.64s\"", ai);
		return stage_error(r, s->n + 1, text);
	}
	if (strncmp(ai, AISH_TEAM_CHAT_PREFIX,
	    strlen(AISH_TEAM_CHAT_PREFIX)) == 0) {
		snprintf(text, sizeof text, "%s is a team, not a stage: use "
		    "aish/teamChat", ai);
		return stage_error(r, s->n + 1, text);
	}
	s->stages = xrealloc(s->stages, (s->n + 1) * sizeof *s->stages);
	st = &s->stages[s->n++];
	st->ai = xstrdup(ai);
	st->instruction = instruction && *instruction ? xstrdup(instruction) :
	    NULL;
	return 1;
}

/* Parses text (the command language, stages only) into s; 0 after
 * answering -32602.  one: the text must hold exactly one stage. */
static int
parse_stages(struct req *r, struct pipe_state *s, const char *text, int one)
{
	struct ac_cmd		cmd;
	struct ac_cmd_error	err;
	char			*msg;
	size_t			 i;
	int			 ok = 1;

	if (ac_stages_parse(text, &cmd, &err) == -1) {
		if (one)
			msg = xasprintf("stage %zu, column %zu: %s", s->n + 1,
			    err.column + 1, err.message);
		else
			msg = xasprintf("pipeline, column %zu: %s",
			    err.column + 1, err.message);
		req_error(r, RPC_INVALID_PARAMS, msg, NULL);
		free(msg);
		return 0;
	}
	if (one && cmd.nstages != 1)
		ok = stage_error(r, s->n + 1, "one AI and its instruction, "
		    "without '|' (give each stage its own string)");
	for (i = 0; ok && i < cmd.nstages; i++)
		ok = add_stage(r, s, cmd.stages[i].ai,
		    cmd.stages[i].instruction);
	ac_cmd_free(&cmd);
	return ok;
}

/* Reads a stage object {"ai","instruction"?} into s; 0 after -32602. */
static int
object_stage(struct req *r, struct pipe_state *s, const cJSON *v)
{
	const cJSON	*ai = cJSON_GetObjectItemCaseSensitive(v, "ai");
	const cJSON	*in = cJSON_GetObjectItemCaseSensitive(v, "instruction");
	const cJSON	*k;

	cJSON_ArrayForEach(k, v) {
		if (strcmp(k->string, "ai") != 0 &&
		    strcmp(k->string, "instruction") != 0)
			return stage_error(r, s->n + 1, "a stage object takes "
			    "\"ai\" and \"instruction\" only");
	}
	if (!cJSON_IsString(ai))
		return stage_error(r, s->n + 1, "\"ai\" must be a string");
	if (in != NULL && !cJSON_IsNull(in) && !cJSON_IsString(in))
		return stage_error(r, s->n + 1,
		    "\"instruction\" must be a string");
	return add_stage(r, s, ai->valuestring,
	    cJSON_IsString(in) ? in->valuestring : NULL);
}

/* Reads "pipeline":"a | b do this" or "stages":[...] into s, each stage
 * a string of the command language or an object {"ai","instruction"}. */
static int
read_stages(struct req *r, struct pipe_state *s, const cJSON *p)
{
	const cJSON	*arr = cJSON_GetObjectItemCaseSensitive(p, "stages");
	const cJSON	*v;
	const char	*str;

	if (!param_str(r, p, "pipeline", 0, &str))
		return 0;
	if (str != NULL)
		return parse_stages(r, s, str, 0);
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
		req_error(r, RPC_INVALID_PARAMS, "give \"pipeline\" (a string "
		    "like \"athena review this | apollo\") or \"stages\" (an "
		    "array)", NULL);
		return 0;
	}
	cJSON_ArrayForEach(v, arr) {
		if (cJSON_IsString(v)) {
			if (!parse_stages(r, s, v->valuestring, 1))
				return 0;
		} else if (cJSON_IsObject(v)) {
			if (!object_stage(r, s, v))
				return 0;
		} else
			return stage_error(r, s->n + 1, "a stage is a string "
			    "or an object {\"ai\",\"instruction\"?}");
	}
	return 1;
}

/* Starts a pipeline whose stages are in s: its first stage's text is the
 * context, the first instruction and the input. */
static void
pipe_run(struct req *r, struct pipe_state *s, const cJSON *p,
    const char *input)
{
	struct ac_context_item	*items;
	size_t				 n;
	long				 timeout;
	int				 ok, fresh;

	if (!param_timeout(r, p, BRIDGE_TIMEOUT_MS, &timeout) ||
	    !param_bool(r, p, "fresh", 1, &fresh) ||
	    !param_context(r, p, &items, &n))
		return;
	s->flags = fresh ? AISH_WRITE_FRESH : 0;
	ok = compose_text(r, items, n, s->stages[0].instruction, input,
	    &s->input, &s->input_len);
	free(items);
	if (!ok)
		return;
	s->done = cJSON_CreateArray();
	req_set_timeout(r, timeout);
	pipe_check(r);
}

/* Makes r's pipeline state. */
static struct pipe_state *
pipe_new(struct req *r)
{
	struct pipe_state	*s = xcalloc(1, sizeof *s);

	r->state = s;
	r->ops = &pipe_ops;
	return s;
}

/* aish/send {"ai" | "socket_id","content","instruction"?,"context"?,
 * "fresh"?,"timeout_ms"?} */
static void
m_send(struct req *r, const cJSON *p)
{
	struct pipe_state	*s;
	const char		*ai, *content, *instruction;

	if (!param_target(r, p, &ai) ||
	    !param_str(r, p, "content", 1, &content) ||
	    !param_str(r, p, "instruction", 0, &instruction))
		return;
	s = pipe_new(r);
	s->is_send = 1;
	if (add_stage(r, s, ai, instruction))
		pipe_run(r, s, p, content);
}

/* aish/pipeline {"input","pipeline" | "stages","context"?,"fresh"?,
 * "timeout_ms"?} */
static void
m_pipeline(struct req *r, const cJSON *p)
{
	struct pipe_state	*s;
	const char		*input;

	if (!param_str(r, p, "input", 1, &input))
		return;
	s = pipe_new(r);
	if (read_stages(r, s, p))
		pipe_run(r, s, p, input);
}

/* ---- aish/teamChat ---- */

struct team_state {
	cJSON		*members;	/* socket ids, from the ack */
	cJSON		*answered;	/* socket ids with a final frame */
	cJSON		*responses;
	cJSON		*early;		/* finals that came before the ack */
	cJSON		*synthesis;	/* rhetor's reply, when moderated */
	int		 moderated;	/* "moderation": "synthesis" */
	int		 acked;
};

/* Frees a team chat's state. */
static void
team_free(struct req *r)
{
	struct team_state	*t = r->state;

	if (t == NULL)
		return;
	cJSON_Delete(t->members);
	cJSON_Delete(t->answered);
	cJSON_Delete(t->responses);
	cJSON_Delete(t->early);
	cJSON_Delete(t->synthesis);
	free(t);
}

/* True when the string array a holds s. */
static int
holds_str(const cJSON *a, const char *s)
{
	const cJSON	*v;

	cJSON_ArrayForEach(v, a) {
		if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
			return 1;
	}
	return 0;
}

/* True when socket_id is the moderator of a moderated team chat. */
static int
is_moderator(struct req *r, const char *socket_id)
{
	struct team_state	*t = r->state;

	return t->moderated && strcmp(socket_id, AISH_RHETOR_SOCKET) == 0;
}

/* Sends aish/progress about one team member (its socket id beside). */
static void
team_progress(struct req *r, const char *socket_id, const char *ai,
    const char *kind, const char *content)
{
	if (ai == NULL)
		ai = ainame_get(socket_id);
	/* The moderator's synthesis is a second stage, after the team. */
	notify_progress(r, is_moderator(r, socket_id) ? 1 : 0,
	    ai ? ai : socket_id, socket_id, kind, content);
}

/* Answers with the replies so far; members still silent are timed_out. */
static void
team_answer(struct req *r)
{
	struct team_state	*t = r->state;
	cJSON			*res = cJSON_CreateObject(), *late;
	const cJSON		*v;

	r->write_id[0] = '\0';
	cJSON_AddItemToObject(res, "responses", t->responses);
	t->responses = NULL;
	if (t->synthesis != NULL) {
		cJSON_AddItemToObject(res, "synthesis", t->synthesis);
		t->synthesis = NULL;
	}
	late = cJSON_AddArrayToObject(res, "timed_out");
	cJSON_ArrayForEach(v, t->members) {
		if (!holds_str(t->answered, v->valuestring))
			cJSON_AddItemToArray(late,
			    cJSON_CreateString(v->valuestring));
	}
	req_result(r, res);
}

static void	team_record(struct req *, const char *, const char *,
		    const char *, const char *);

/* Replays the finals that came on a member's own connection before the
 * ack (they are not lost: the ack only names whom to wait for). */
static void
team_replay(struct req *r)
{
	struct team_state	*t = r->state;
	cJSON			*early = t->early, *e;

	t->early = NULL;
	cJSON_ArrayForEach(e, early) {
		if (r->done)
			break;
		team_record(r, cJSON_GetStringValue(cJSON_GetObjectItem(e,
		    "socket_id")), cJSON_GetStringValue(cJSON_GetObjectItem(e,
		    "ai")), cJSON_GetStringValue(cJSON_GetObjectItem(e,
		    "content")), cJSON_GetStringValue(cJSON_GetObjectItem(e,
		    "error")));
	}
	cJSON_Delete(early);
}

/* The ack: it names the members to wait for, and finishes the write when
 * there are none or all answered before it. */
static void
team_ack(struct req *r, const aish_msg_t *m)
{
	struct team_state	*t = r->state;
	size_t			 i;

	if (t->acked)
		return;
	t->acked = 1;
	for (i = 0; i < m->n_members; i++) {
		cJSON_AddItemToArray(t->members,
		    cJSON_CreateString(m->members[i]));
		team_progress(r, m->members[i], NULL, "begin", NULL);
	}
	if (m->n_members > 0)
		team_replay(r);
	if (m->finished || m->n_members == 0)
		team_answer(r);
}

/* Records a member's reply (or its error, when error is set). */
static void
team_record(struct req *r, const char *who, const char *ai,
    const char *content, const char *error)
{
	struct team_state	*t = r->state;
	cJSON			*o;

	if (who == NULL || !holds_str(t->members, who) ||
	    holds_str(t->answered, who))
		return;
	if (ai == NULL)
		ai = who;
	if (content == NULL)
		content = "";
	cJSON_AddItemToArray(t->answered, cJSON_CreateString(who));
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ai", ai);
	cJSON_AddStringToObject(o, "socket_id", who);
	cJSON_AddStringToObject(o, "content", content);
	cJSON_AddNumberToObject(o, "ms", ms_since(r->started_us));
	if (error != NULL)
		cJSON_AddStringToObject(o, "error", error);
	if (is_moderator(r, who))
		t->synthesis = o;
	else
		cJSON_AddItemToArray(t->responses, o);
	team_progress(r, who, ai, "end", content);
}

/* A final frame (read or error) about the team write. */
static void
team_final(struct req *r, const aish_msg_t *m)
{
	struct team_state	*t = r->state;
	const char		*error = NULL;
	cJSON			*e;

	if (m->type == AISH_MSG_ERROR) {
		/* An error about the write itself, not about one member. */
		if (m->socket_id == NULL || m->local ||
		    strcmp(m->socket_id, r->socket_id) == 0) {
			fail_from_frame(r, m, r->socket_id);
			return;
		}
		error = m->message ? m->message : "the AI failed";
	}
	if (m->socket_id == NULL)
		return;
	if (!t->acked) {
		if (t->early == NULL)
			t->early = cJSON_CreateArray();
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "socket_id", m->socket_id);
		if (m->ai_name != NULL)
			cJSON_AddStringToObject(e, "ai", m->ai_name);
		cJSON_AddStringToObject(e, "content", m->content ? m->content :
		    "");
		if (error != NULL)
			cJSON_AddStringToObject(e, "error", error);
		cJSON_AddItemToArray(t->early, e);
		return;
	}
	team_record(r, m->socket_id, m->ai_name, m->content, error);
	if (m->finished)	/* the last member of the ack answered */
		team_answer(r);
}

/* A message about the team-chat write. */
static void
team_msg(struct req *r, const aish_msg_t *m)
{
	switch (m->type) {
	case AISH_MSG_ACK:
		team_ack(r, m);
		break;
	case AISH_MSG_DELTA:
		if (m->socket_id != NULL)
			team_progress(r, m->socket_id, m->ai_name, "delta",
			    m->content ? m->content : "");
		break;
	case AISH_MSG_READ:
	case AISH_MSG_ERROR:
		team_final(r, m);
		break;
	default:
		break;
	}
}

/* Time is up: stop the AIs and answer with what came. */
static void
team_timeout(struct req *r)
{
	req_stop_write(r);		/* before the answer, which may free r */
	team_answer(r);
}

static const struct req_ops team_ops = {
	.on_msg = team_msg,
	.on_stop = req_stop_write,
	.on_conn = req_fail_unsent,
	.on_timeout = team_timeout,
	.free_state = team_free,
};

/* Starts the team chat of msg (the whole text the members receive). */
static void
team_start(struct req *r, const char *msg, const char *group,
    const char *moderation, int fresh, long timeout)
{
	struct team_state	*t;
	aish_error_t		 err;

	if (moderation != NULL && strcmp(moderation, "synthesis") != 0) {
		req_error(r, RPC_INVALID_PARAMS, "moderation must be "
		    "\"synthesis\"", NULL);
		return;
	}
	if (group != NULL && (!ac_name_valid(group) ||
	    strcmp(group, "all") == 0 ||
	    strlen(group) + strlen(AISH_TEAM_CHAT_PREFIX) > AISH_MAX_NAME)) {
		req_error(r, RPC_INVALID_PARAMS, "not a valid group name",
		    NULL);
		return;
	}
	snprintf(r->socket_id, sizeof r->socket_id, "team-chat-%s",
	    group ? group : "all");
	t = xcalloc(1, sizeof *t);
	t->members = cJSON_CreateArray();
	t->answered = cJSON_CreateArray();
	t->responses = cJSON_CreateArray();
	t->moderated = moderation != NULL;
	r->state = t;
	r->ops = &team_ops;
	if ((err = aish_team_chat_flags(br.aish, msg, group, (t->moderated ?
	    AISH_TEAM_SYNTHESIS : 0) | (fresh ? AISH_TEAM_FRESH : 0),
	    r->write_id)) != AISH_OK) {
		r->write_id[0] = '\0';
		req_error_aish(r, err, NULL, NULL);
		return;
	}
	req_set_timeout(r, timeout);
}

/* aish/teamChat {"message","group"?,"context"?,"fresh"?,"timeout_ms"?,
 * "moderation"?} */
static void
m_team_chat(struct req *r, const cJSON *p)
{
	struct ac_context_item	*items;
	const char			*msg, *group, *moderation;
	char				*text;
	size_t				 n, len;
	long				 timeout;
	int				 fresh;

	if (!param_str(r, p, "message", 1, &msg) ||
	    !param_str(r, p, "group", 0, &group) ||
	    !param_str(r, p, "moderation", 0, &moderation) ||
	    !param_timeout(r, p, BRIDGE_TIMEOUT_MS, &timeout) ||
	    !param_bool(r, p, "fresh", 1, &fresh) ||
	    !param_context(r, p, &items, &n))
		return;
	if (!compose_text(r, items, n, NULL, msg, &text, &len)) {
		free(items);
		return;
	}
	free(items);
	team_start(r, text, group, moderation, fresh, timeout);
	free(text);
}

const struct method methods_send[] = {
	{ "aish/send", m_send, 0 },
	{ "aish/pipeline", m_pipeline, 0 },
	{ "aish/teamChat", m_team_chat, 0 },
	{ NULL, NULL, 0 }
};
