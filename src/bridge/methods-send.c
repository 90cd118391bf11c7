/*
 * methods-send.c: the methods that wait for AI replies: aish/send (one
 * AI), aish/pipeline (each stage's output is the next one's input) and
 * aish/teamChat (every AI at once, over team-chat-all or a group).
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

#include "aish-protocol.h"
#include "bridge.h"
#include "names.h"
#include "xalloc.h"

/* ---- shared ---- */

/* Milliseconds since usec (lws_now_usecs() time). */
static double
ms_since(int64_t usec)
{
	return (double)((lws_now_usecs() - usec) / LWS_US_PER_MS);
}

/* Cancels r's current write on the server (the AI stops working). */
static void
stop_write(struct req *r)
{
	char	id[AISH_ID_SIZE];

	if (r->write_id[0] == '\0')
		return;
	/* Forget the id first: a local "cancelled" must not answer r. */
	memcpy(id, r->write_id, sizeof id);
	r->write_id[0] = '\0';
	aish_cancel(br.aish, r->socket_id, id);
}

/* The server stays unreachable: stop and answer -32001. */
static void
stop_unreachable(struct req *r)
{
	stop_write(r);
	req_error(r, RPC_UNREACHABLE, "aish-rhetor cannot be reached", NULL);
}

/* Answers the error an error frame about r's write stands for. */
static void
fail_from_frame(struct req *r, const aish_msg_t *m, const char *who)
{
	char	*text;
	cJSON	*data;

	r->write_id[0] = '\0';
	if (m->code != NULL && strcmp(m->code, "unknown_socket") == 0) {
		fail_unknown_ai(r, who);
		return;
	}
	if (m->code != NULL && strcmp(m->code, "cancelled") == 0) {
		req_error(r, RPC_CANCELLED, "cancelled", NULL);
		return;
	}
	text = xasprintf("%s: %s", who, m->message ? m->message :
	    "the AI failed");
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "ai", who);
	if (m->code != NULL)
		cJSON_AddStringToObject(data, "code", m->code);
	if (m->local && m->code != NULL && strcmp(m->code, "unauthorized") == 0)
		req_error(r, RPC_UNREACHABLE, text, data);
	else
		req_error(r, RPC_AI_ERROR, text, data);
	free(text);
}

/* ---- aish/send and aish/pipeline ---- */

struct pipe_state {
	char		**stages;
	size_t		  n;
	size_t		  cur;
	char		 *input;	/* the current stage's input */
	cJSON		 *done;		/* [{ai, socket_id, output, ms}] */
	int64_t		  stage_start;
	int		  begun;	/* the current stage's begin was sent */
	int		  is_send;
};

/* Frees a pipeline's state. */
static void
pipe_free(struct req *r)
{
	struct pipe_state	*s = r->state;
	size_t			 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->stages[i]);
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
	const char		*sock = s->stages[s->cur];

	if (s->begun)
		return;
	s->begun = 1;
	notify_progress(r, (int)s->cur, ainame_get(sock), sock, "begin",
	    NULL);
}

/* Writes the current stage's input to its AI, whose name is known. */
static void
stage_write(struct req *r)
{
	struct pipe_state	*s = r->state;
	const char		*sock = s->stages[s->cur];
	aish_error_t		 err;

	if (socket_down(r, sock))
		return;
	snprintf(r->socket_id, sizeof r->socket_id, "%s", sock);
	s->stage_start = lws_now_usecs();
	s->begun = 0;
	/* libaish makes the id: unique across bridges and restarts. */
	err = aish_write(br.aish, sock, s->input, NULL, r->write_id);
	if (err != AISH_OK) {
		r->write_id[0] = '\0';
		req_error_aish(r, err, NULL, NULL);
	}
}

/* The socket of a stage was looked up: unknown, or its AI's name. */
static void
stage_looked_up(aish_t *h, const aish_result_t *res, void *user)
{
	struct req		*r = user;
	struct pipe_state	*s = r->state;
	cJSON			*root;

	if (!req_release(r))
		return;
	if (res->err == AISH_E_NOT_FOUND) {
		fail_unknown_ai(r, s->stages[s->cur]);
		return;
	}
	if (res->err != AISH_OK) {
		req_error_aish(r, res->err, res->code, res->message);
		return;
	}
	root = cJSON_ParseWithLength(res->body ? res->body : "", res->body_len);
	ainame_learn(root);
	cJSON_Delete(root);
	if (ainame_get(s->stages[s->cur]) == NULL)	/* keep going anyway */
		ainame_put(s->stages[s->cur], s->stages[s->cur]);
	stage_write(r);
}

/*
 * Starts the current stage.  The first time a socket is used the bridge
 * asks the server about it: an unknown AI is then refused before any
 * progress, and progress names the AI ("slow") rather than the socket
 * ("slow-1").
 */
static void
stage_start(struct req *r)
{
	struct pipe_state	*s = r->state;
	aish_error_t		 err;

	if (ainame_get(s->stages[s->cur]) != NULL) {
		stage_write(r);
		return;
	}
	req_hold(r);
	if ((err = aish_get(br.aish, s->stages[s->cur], stage_looked_up, r)) !=
	    AISH_OK) {
		req_release(r);
		req_error_aish(r, err, NULL, NULL);
	}
}

/* The current stage's reply came: next stage, or the answer. */
static void
stage_done(struct req *r, const aish_msg_t *m)
{
	struct pipe_state	*s = r->state;
	const char		*sock = s->stages[s->cur];
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
	free(s->input);
	s->input = xstrdup(out);
	if (++s->cur < s->n) {
		stage_start(r);
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

	switch (m->type) {
	case AISH_MSG_ACK:
		stage_begin(r);
		break;
	case AISH_MSG_DELTA:
		stage_begin(r);
		notify_progress(r, (int)s->cur,
		    ainame_get(s->stages[s->cur]), s->stages[s->cur], "delta",
		    m->content ? m->content : "");
		break;
	case AISH_MSG_READ:
		stage_begin(r);
		stage_done(r, m);
		break;
	case AISH_MSG_ERROR:
		fail_from_frame(r, m, s->stages[s->cur]);
		break;
	default:
		break;
	}
}

static const struct req_ops pipe_ops = {
	.on_msg = stage_msg,
	.on_stop = stop_write,
	.on_unreachable = stop_unreachable,
	.free_state = pipe_free,
};

/* Adds a stage name to s; 0 after answering -32602 when it is bad. */
static int
add_stage(struct req *r, struct pipe_state *s, const char *name,
    size_t len)
{
	char	*text;

	while (len > 0 && (*name == ' ' || *name == '\t')) {
		name++;
		len--;
	}
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	s->stages = xrealloc(s->stages, (s->n + 1) * sizeof *s->stages);
	s->stages[s->n++] = xstrndup(name, len);
	if (aish_name_valid(s->stages[s->n - 1]))
		return 1;
	text = xasprintf("stage %zu: not an AI name: \"%.64s\"", s->n,
	    s->stages[s->n - 1]);
	req_error(r, RPC_INVALID_PARAMS, text, NULL);
	free(text);
	return 0;
}

/* Reads "pipeline":"a | b" or "stages":["a","b"] into s. */
static int
read_stages(struct req *r, struct pipe_state *s, const cJSON *p)
{
	const cJSON	*arr = cJSON_GetObjectItemCaseSensitive(p, "stages");
	const cJSON	*v;
	const char	*str, *bar;

	if (!param_str(r, p, "pipeline", 0, &str))
		return 0;
	if (str != NULL) {
		for (;;) {
			bar = strchr(str, '|');
			if (!add_stage(r, s, str, bar ? (size_t)(bar - str) :
			    strlen(str)))
				return 0;
			if (bar == NULL)
				return 1;
			str = bar + 1;
		}
	}
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
		req_error(r, RPC_INVALID_PARAMS, "give \"pipeline\" (a string "
		    "like \"athena | apollo\") or \"stages\" (an array)", NULL);
		return 0;
	}
	cJSON_ArrayForEach(v, arr) {
		if (!cJSON_IsString(v)) {
			req_error(r, RPC_INVALID_PARAMS,
			    "\"stages\" must hold strings", NULL);
			return 0;
		}
		if (!add_stage(r, s, v->valuestring, strlen(v->valuestring)))
			return 0;
	}
	return 1;
}

/* Starts a pipeline whose state is s. */
static void
pipe_run(struct req *r, struct pipe_state *s, const char *input,
    long timeout)
{
	s->input = xstrdup(input);
	s->done = cJSON_CreateArray();
	r->ops = &pipe_ops;
	req_set_timeout(r, timeout);
	stage_start(r);
}

/* aish/send {"ai","content","timeout_ms"?} (or "socket_id") */
static void
m_send(struct req *r, const cJSON *p)
{
	struct pipe_state	*s;
	const char		*ai, *content;
	long			 timeout;

	if (!param_target(r, p, &ai) ||
	    !param_str(r, p, "content", 1, &content) ||
	    !param_timeout(r, p, BRIDGE_TIMEOUT_MS, &timeout))
		return;
	s = xcalloc(1, sizeof *s);
	r->state = s;
	r->ops = &pipe_ops;
	s->is_send = 1;
	if (add_stage(r, s, ai, strlen(ai)))
		pipe_run(r, s, content, timeout);
}

/* aish/pipeline {"input","pipeline" | "stages","timeout_ms"?} */
static void
m_pipeline(struct req *r, const cJSON *p)
{
	struct pipe_state	*s;
	const char		*input;
	long			 timeout;

	if (!param_str(r, p, "input", 1, &input) ||
	    !param_timeout(r, p, BRIDGE_TIMEOUT_MS, &timeout))
		return;
	s = xcalloc(1, sizeof *s);
	r->state = s;
	r->ops = &pipe_ops;
	if (read_stages(r, s, p))
		pipe_run(r, s, input, timeout);
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

/* The ack: it names the members to wait for. */
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
	if (m->n_members == 0) {
		team_answer(r);
		return;
	}
	team_replay(r);
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
	if (cJSON_GetArraySize(t->answered) == cJSON_GetArraySize(t->members))
		team_answer(r);
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
	stop_write(r);		/* before the answer, which may free r */
	team_answer(r);
}

static const struct req_ops team_ops = {
	.on_msg = team_msg,
	.on_stop = stop_write,
	.on_unreachable = stop_unreachable,
	.on_timeout = team_timeout,
	.free_state = team_free,
};

/* aish/teamChat {"message","group"?,"timeout_ms"?,"moderation"?} */
static void
m_team_chat(struct req *r, const cJSON *p)
{
	struct team_state	*t;
	const char		*msg, *group, *moderation;
	long			 timeout;
	aish_error_t		 err;

	if (!param_str(r, p, "message", 1, &msg) ||
	    !param_str(r, p, "group", 0, &group) ||
	    !param_str(r, p, "moderation", 0, &moderation) ||
	    !param_timeout(r, p, BRIDGE_TIMEOUT_MS, &timeout))
		return;
	if (moderation != NULL && strcmp(moderation, "synthesis") != 0) {
		req_error(r, RPC_INVALID_PARAMS, "moderation must be "
		    "\"synthesis\"", NULL);
		return;
	}
	if (group != NULL && (!aish_name_valid(group) ||
	    strcmp(group, "all") == 0 ||
	    strlen(group) + strlen("team-chat-") > AISH_NAME_MAX)) {
		req_error(r, RPC_INVALID_PARAMS, "not a valid group name",
		    NULL);
		return;
	}
	snprintf(r->socket_id, sizeof r->socket_id, "team-chat-%s",
	    group ? group : "all");
	if (socket_down(r, r->socket_id))
		return;
	t = xcalloc(1, sizeof *t);
	t->members = cJSON_CreateArray();
	t->answered = cJSON_CreateArray();
	t->responses = cJSON_CreateArray();
	t->moderated = moderation != NULL;
	r->state = t;
	r->ops = &team_ops;
	if ((err = aish_team_chat_flags(br.aish, msg, group, t->moderated ?
	    AISH_TEAM_SYNTHESIS : 0, r->write_id)) != AISH_OK) {
		r->write_id[0] = '\0';
		req_error_aish(r, err, NULL, NULL);
		return;
	}
	req_set_timeout(r, timeout);
}

const struct method methods_send[] = {
	{ "aish/send", m_send, 0 },
	{ "aish/pipeline", m_pipeline, 0 },
	{ "aish/teamChat", m_team_chat, 0 },
	{ NULL, NULL, 0 }
};
