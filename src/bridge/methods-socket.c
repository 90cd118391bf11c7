/*
 * methods-socket.c: the socket registry methods: aish/create,
 * aish/write, aish/read, aish/list, aish/reset and aish/delete.
 *
 * All but aish/write are HTTP requests that libaish runs on its worker
 * thread; aish/write goes over the socket's WebSocket and answers when
 * the server acknowledges it (its reply comes later as aish/message and
 * waits in the inbox for aish/read).
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
	HTTP_OK		/* {"ok":true} */
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
	else if (c->kind == HTTP_OK) {
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
 * "socket_id"?} */
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
	    !param_str(r, p, "socket_id", 0, &o.socket_id))
		return;
	if (!aish_name_valid(o.ai_name) || (o.socket_id != NULL &&
	    !aish_name_valid(o.socket_id)) || (o.provider != NULL &&
	    !aish_name_valid(o.provider))) {
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
	c = http_call(r, HTTP_OK, sid);
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
		if (m->code != NULL && strcmp(m->code, "unknown_socket") == 0)
			fail_unknown_ai(r, r->socket_id);
		else
			req_error_aish(r, aish_error_from_code(m->code),
			    m->code, m->message);
	} else
		message_unclaimed(m);
}

/* A write that was not acknowledged in time is taken back. */
static void
write_stop(struct req *r)
{
	char	id[AISH_ID_SIZE];

	if (r->write_id[0] == '\0')
		return;
	/* Forget the id first: a local "cancelled" must not answer r. */
	memcpy(id, r->write_id, sizeof id);
	r->write_id[0] = '\0';
	aish_cancel(br.aish, r->socket_id, id);
}

static const struct req_ops write_ops = {
	.on_msg = write_msg,
	.on_stop = write_stop,
};

/* True (after answering -32001) when socket_id has been unreachable for
 * too long to start anything on it. */
int
socket_down(struct req *r, const char *socket_id)
{
	int64_t	down_ms = 0;

	if (aish_socket_state(br.aish, socket_id, NULL, &down_ms) !=
	    AISH_CONN_RETRYING || down_ms < br.unreachable_ms)
		return 0;
	req_error(r, RPC_UNREACHABLE, "aish-rhetor cannot be reached", NULL);
	return 1;
}

/* aish/write {"socket_id" | "ai","content","timeout_ms"?} */
static void
m_write(struct req *r, const cJSON *p)
{
	const char	*sid, *content;
	long		 timeout;
	aish_error_t	 err;

	if (!param_target(r, p, &sid) ||
	    !param_str(r, p, "content", 1, &content) ||
	    !param_timeout(r, p, BRIDGE_TIMEOUT_MS, &timeout) ||
	    socket_down(r, sid))
		return;
	r->ops = &write_ops;
	snprintf(r->socket_id, sizeof r->socket_id, "%s", sid);
	if ((err = aish_write(br.aish, sid, content, NULL, r->write_id)) !=
	    AISH_OK) {
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

const struct method methods_socket[] = {
	{ "aish/create", m_create, 0 },
	{ "aish/write", m_write, 0 },
	{ "aish/read", m_read, 0 },
	{ "aish/list", m_list, 0 },
	{ "aish/reset", m_reset, 0 },
	{ "aish/delete", m_delete, 0 },
	{ NULL, NULL, 0 }
};
