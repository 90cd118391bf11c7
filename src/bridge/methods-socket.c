/*
 * methods-socket.c: the socket registry methods: aish/create,
 * aish/write, aish/read, aish/history, aish/open, aish/list, aish/reset
 * and aish/delete.
 *
 * All but aish/write and aish/open are HTTP requests; aish/write goes
 * over the socket's WebSocket and answers when the server acknowledges
 * it (its reply comes later as aish/message and waits in the inbox for
 * aish/read); aish/open opens a socket's WebSocket for a chat and answers
 * once it is up, from when on every turn on it reaches the editor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "names.h"
#include "xalloc.h"

/* ---- shared: HTTP answers ---- */

/* What to make of a successful HTTP answer. */
enum http_kind {
	HTTP_BODY,	/* the parsed body is the result */
	HTTP_OK,	/* {"ok":true} */
	HTTP_DELETED,	/* {"ok":true}, and the socket's name is forgotten */
	HTTP_HISTORY	/* the body; the socket's WebSocket opens, so that
			 * its later turns come as aish/message and the
			 * pieces of its replies as aish/delta */
};

/* The context of one HTTP request: the request and what it wants. */
struct http_call {
	struct req	*r;
	enum http_kind	 kind;
	char		 name[AISH_NAME_MAX + 1];	/* for unknown AIs */
};

/* An HTTP request ended. */
static void
http_done(aish_t *h, const aish_result_t *res, void *user)
{
	struct http_call	*c = user;
	cJSON			*body;

	if (!req_release(c->r))
		goto end;
	if (res->err == AISH_E_NOT_FOUND && c->name[0] != '\0')
		fail_unknown_ai(c->r, c->name);
	else if (res->err != AISH_OK)
		req_error_aish(c->r, res->err, res->code, res->message);
	else if (c->kind == HTTP_OK || c->kind == HTTP_DELETED) {
		if (c->kind == HTTP_DELETED)
			ainame_forget(c->name);
		body = cJSON_CreateObject();
		cJSON_AddBoolToObject(body, "ok", 1);
		req_result(c->r, body);
	} else if ((body = cJSON_ParseWithLength(res->body ? res->body : "",
	    res->body_len)) == NULL)
		req_error(c->r, RPC_INTERNAL_ERROR,
		    "aish-rhetor's answer is not JSON", NULL);
	else {
		ainame_learn(body);		/* create */
		ainame_learn_list(body);	/* list */
		if (c->kind == HTTP_HISTORY) {
			/* As aish/open does, without waiting for it. */
			aish_open(br.aish, c->name);
			subscribe(c->name);
		}
		req_result(c->r, body);
	}
end:
	free(c);
}

/* Makes the context of an HTTP call and holds r for it. */
static struct http_call *
http_call(struct req *r, enum http_kind kind, const char *name)
{
	struct http_call	*c = xcalloc(1, sizeof *c);

	c->r = r;
	c->kind = kind;
	if (name != NULL)
		snprintf(c->name, sizeof c->name, "%s", name);
	req_hold(r);
	return c;
}

/* A libaish call could not start: answers and drops the context. */
static void
http_failed(struct http_call *c, aish_error_t err)
{
	req_release(c->r);
	req_error_aish(c->r, err, NULL, NULL);
	free(c);
}

/* ---- aish/create ---- */

/* aish/create {"ai_name","model"?,"prompt"?,"context"?,"provider"?,
 * "socket_id"?,"private"?} */
static void
m_create(struct req *r, const cJSON *p)
{
	aish_create_opts_t	 o;
	const cJSON		*ctx = cJSON_GetObjectItemCaseSensitive(p,
				    "context");
	struct http_call	*c;
	char			*ctx_json = NULL;
	aish_error_t		 err;

	memset(&o, 0, sizeof o);
	if (!param_str(r, p, "ai_name", 1, &o.ai_name) ||
	    !param_str(r, p, "model", 0, &o.model) ||
	    !param_str(r, p, "prompt", 0, &o.prompt) ||
	    !param_str(r, p, "provider", 0, &o.provider) ||
	    !param_str(r, p, "socket_id", 0, &o.socket_id) ||
	    !param_bool(r, p, "private", 0, &o.private_socket))
		return;
	if (!ac_name_valid(o.ai_name) || (o.socket_id != NULL &&
	    !ac_name_valid(o.socket_id)) || (o.provider != NULL &&
	    !ac_name_valid(o.provider))) {
		req_error(r, RPC_INVALID_PARAMS, "ai_name, socket_id and "
		    "provider are [A-Za-z0-9._-], 1 to 64", NULL);
		return;
	}
	if (ctx != NULL && !cJSON_IsNull(ctx)) {
		if (!cJSON_IsObject(ctx)) {
			req_error(r, RPC_INVALID_PARAMS,
			    "param \"context\" must be an object", NULL);
			return;
		}
		ctx_json = cJSON_PrintUnformatted(ctx);
		o.context_json = ctx_json;
	}
	c = http_call(r, HTTP_BODY, NULL);
	if ((err = aish_create(br.aish, &o, http_done, c)) != AISH_OK)
		http_failed(c, err);
	cJSON_free(ctx_json);
}

/* ---- aish/list, aish/reset, aish/delete ---- */

/* aish/list */
static void
m_list(struct req *r, const cJSON *p)
{
	struct http_call	*c = http_call(r, HTTP_BODY, NULL);
	aish_error_t		 err;

	if ((err = aish_list(br.aish, http_done, c)) != AISH_OK)
		http_failed(c, err);
}

/* aish/reset {"socket_id" | "ai"} */
static void
m_reset(struct req *r, const cJSON *p)
{
	struct http_call	*c;
	const char		*sid;
	aish_error_t		 err;

	if (!param_target(r, p, &sid))
		return;
	c = http_call(r, HTTP_OK, sid);
	if ((err = aish_reset(br.aish, sid, http_done, c)) != AISH_OK)
		http_failed(c, err);
}

/* aish/delete {"socket_id" | "ai"}; the bridge drops its WebSocket. */
static void
m_delete(struct req *r, const cJSON *p)
{
	struct http_call	*c;
	const char		*sid;
	aish_error_t		 err;

	if (!param_target(r, p, &sid))
		return;
	c = http_call(r, HTTP_DELETED, sid);
	if ((err = aish_delete(br.aish, sid, http_done, c)) != AISH_OK)
		http_failed(c, err);
	else if (aish_pending(br.aish, sid) == 0)
		aish_close(br.aish, sid);
}

/* ---- aish/write ---- */

/* Messages about a write: the ack answers, a refusal (an error without a
 * seq) is an error.  The AI's reply, read or error, can come before the
 * ack (through team-chat-all, whose connection may be served first): it
 * goes where an unasked reply goes. */
static void
write_msg(struct req *r, const aish_msg_t *m)
{
	cJSON	*res;

	if (m->type == AISH_MSG_ACK) {
		res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "id", r->write_id);
		r->write_id[0] = '\0';	/* the reply goes to the inbox */
		req_result(r, res);
	} else if (m->type == AISH_MSG_ERROR && m->seq < 0) {
		if (m->code != NULL &&
		    strcmp(m->code, AISH_ERR_UNKNOWN_SOCKET) == 0)
			fail_unknown_ai(r, r->socket_id);
		else
			req_error_aish(r, aish_error_from_code(m->code),
			    m->code, m->message);
	} else
		message_unclaimed(m);
}

static const struct req_ops write_ops = {
	.on_msg = write_msg,
	.on_stop = req_stop_write,	/* not acknowledged in time */
	.on_conn = req_fail_unsent,
};

/* aish/write {"socket_id" | "ai","content","context"?,"fresh"?,
 * "timeout_ms"?}: a write is part of the socket's conversation unless
 * "fresh" is true. */
static void
m_write(struct req *r, const cJSON *p)
{
	struct ac_context_item	*items;
	const char			*sid, *content;
	char				*text;
	size_t				 n, len;
	long				 timeout;
	int				 fresh;
	aish_error_t			 err;

	if (!param_target(r, p, &sid) ||
	    !param_str(r, p, "content", 1, &content) ||
	    !param_timeout(r, p, BRIDGE_TIMEOUT_MS, &timeout) ||
	    !param_bool(r, p, "fresh", 0, &fresh) ||
	    !param_context(r, p, &items, &n))
		return;
	if (!compose_text(r, items, n, NULL, content, &text, &len)) {
		free(items);
		return;
	}
	free(items);
	r->ops = &write_ops;
	snprintf(r->socket_id, sizeof r->socket_id, "%s", sid);
	err = aish_write_flags(br.aish, sid, text, len, fresh ?
	    AISH_WRITE_FRESH : 0, NULL, r->write_id);
	free(text);
	if (err != AISH_OK) {
		r->write_id[0] = '\0';
		req_error_aish(r, err, NULL, NULL);
		return;
	}
	req_set_timeout(r, timeout);
}

/* ---- aish/read ---- */

/* The server's queue came: its messages are the answer. */
static void
read_done(aish_t *h, const aish_result_t *res, void *user)
{
	struct req	*r = user;
	cJSON		*root, *out, *msgs, *m, *o;
	const cJSON	*v;
	const char	*keys[] = { "socket_id", "ai_name", "content",
			    "headers", "in_reply_to", "seq" };
	size_t		 i;

	if (!req_release(r))
		return;
	if (res->err == AISH_E_NOT_FOUND) {
		fail_unknown_ai(r, r->socket_id);
		return;
	}
	if (res->err != AISH_OK) {
		req_error_aish(r, res->err, res->code, res->message);
		return;
	}
	root = cJSON_ParseWithLength(res->body ? res->body : "", res->body_len);
	out = cJSON_CreateObject();
	msgs = cJSON_AddArrayToObject(out, "messages");
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(root,
	    "messages")) {
		o = cJSON_CreateObject();
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			if ((v = cJSON_GetObjectItemCaseSensitive(m, keys[i])))
				cJSON_AddItemToObject(o, keys[i],
				    cJSON_Duplicate(v, 1));
		}
		cJSON_AddItemToArray(msgs, o);
	}
	cJSON_Delete(root);
	req_result(r, out);
}

/* aish/read {"socket_id" | "ai","timeout_ms"?}: the inbox first, else
 * the server's queue (waiting up to timeout_ms for either). */
static void
m_read(struct req *r, const cJSON *p)
{
	const char	*sid;
	long		 timeout;
	cJSON		*msgs, *res;
	aish_error_t	 err;

	if (!param_target(r, p, &sid) ||
	    !param_timeout(r, p, 0, &timeout))
		return;
	if (timeout > 600000)
		timeout = 600000;
	snprintf(r->socket_id, sizeof r->socket_id, "%s", sid);
	if ((msgs = inbox_take(sid)) != NULL) {
		res = cJSON_CreateObject();
		cJSON_AddItemToObject(res, "messages", msgs);
		req_result(r, res);
		return;
	}
	req_hold(r);
	if ((err = aish_read_queue(br.aish, sid, (int)timeout, read_done, r))
	    != AISH_OK) {
		req_release(r);
		req_error_aish(r, err, NULL, NULL);
		return;
	}
	if (timeout > 0)
		inbox_wait(r);
}

/* ---- aish/history ---- */

/* aish/history {"socket_id" | "ai","limit"?,"before"?} → the server's
 * {"turns":[{"role","content","seq","timestamp"}]}, oldest first. */
static void
m_history(struct req *r, const cJSON *p)
{
	struct http_call	*c;
	const char		*sid;
	long			 limit, before;
	aish_error_t		 err;

	if (!param_target(r, p, &sid) ||
	    !param_int(r, p, "limit", 1, 1000, 0, &limit) ||
	    !param_int(r, p, "before", 1, 1000000000000000L, 0, &before))
		return;
	c = http_call(r, HTTP_HISTORY, sid);
	if ((err = aish_history(br.aish, sid, (int)limit, before, http_done,
	    c)) != AISH_OK)
		http_failed(c, err);
}

/* ---- aish/open ---- */

/* Answers an aish/open whose socket is up. */
static void
open_answer(struct req *r)
{
	cJSON		*res = cJSON_CreateObject();
	const char	*name = ainame_get(r->socket_id);

	subscribe(r->socket_id);
	cJSON_AddStringToObject(res, "socket_id", r->socket_id);
	if (name != NULL)
		cJSON_AddStringToObject(res, "ai_name", name);
	else
		cJSON_AddNullToObject(res, "ai_name");
	req_result(r, res);
}

/* The socket's WebSocket changed state: up is the answer; a failed
 * attempt is -32001 at once; a refusal (no such socket) -32602. */
static void
open_conn(struct req *r, aish_conn_state_t state)
{
	if (state == AISH_CONN_UP) {
		open_answer(r);
		return;
	}
	if (state != AISH_CONN_RETRYING && state != AISH_CONN_FAILED)
		return;
	/* Nothing keeps retrying for a chat that was never opened. */
	if (aish_pending(br.aish, r->socket_id) == 0 && !is_open(r->socket_id))
		aish_close(br.aish, r->socket_id);
	if (state == AISH_CONN_RETRYING)
		req_fail_unreachable(r, "the connection failed (is it "
		    "running?)");
	else
		fail_unknown_ai(r, r->socket_id);
}

static const struct req_ops open_ops = {
	.on_conn = open_conn,
};

/* aish/open {"socket_id" | "ai","timeout_ms"?}: opens the socket's
 * WebSocket and keeps it open (reconnecting after a server restart);
 * answers {"socket_id","ai_name"} once it is up.  From then on the
 * editor hears every turn on the socket as aish/message ("role": "user"
 * or "assistant") and every streamed piece of a reply as aish/delta. */
static void
m_open(struct req *r, const cJSON *p)
{
	const char	*sid;
	long		 timeout;
	aish_error_t	 err;

	if (!param_target(r, p, &sid) ||
	    !param_timeout(r, p, BRIDGE_UNREACHABLE_MS, &timeout))
		return;
	snprintf(r->socket_id, sizeof r->socket_id, "%s", sid);
	if (aish_socket_state(br.aish, sid, NULL, NULL) == AISH_CONN_UP) {
		open_answer(r);
		return;
	}
	r->ops = &open_ops;
	if ((err = aish_open(br.aish, sid)) != AISH_OK) {
		req_error_aish(r, err, NULL, NULL);
		return;
	}
	req_set_timeout(r, timeout);
}

const struct method methods_socket[] = {
	{ "aish/create", m_create, 0 },
	{ "aish/write", m_write, 0 },
	{ "aish/read", m_read, 0 },
	{ "aish/history", m_history, 0 },
	{ "aish/open", m_open, 0 },
	{ "aish/list", m_list, 0 },
	{ "aish/reset", m_reset, 0 },
	{ "aish/delete", m_delete, 0 },
	{ NULL, NULL, 0 }
};
