/*
 * notify.c: what comes from libaish: every AI message that reaches the
 * bridge becomes an aish/message notification, then goes to the request
 * that waits for it or, when none does, to the inbox that aish/read
 * drains.  Streamed pieces become aish/progress notifications through
 * the requests that own them.  Connection states tell when a socket has
 * been unreachable too long for the requests waiting on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "json-build.h"
#include "xalloc.h"

/* A message kept for aish/read. */
struct kept {
	struct kept	*next;
	char		 socket_id[AISH_NAME_MAX + 1];
	cJSON		*msg;		/* {socket_id, ai_name, content, headers} */
};

static struct kept	*inbox;
static size_t		 inbox_len;

/* Sends a notification (params consumed). */
static void
notify(const char *method, cJSON *params)
{
	cJSON	*n = cJSON_CreateObject();

	aish_json_add_ref(n, "jsonrpc", "2.0");
	aish_json_add_ref(n, "method", method);
	aish_json_add_item(n, "params", params);
	framing_write(n);
	cJSON_Delete(n);
}

/* The headers of m as a JSON array. */
static cJSON *
headers_json(const aish_msg_t *m)
{
	cJSON	*a = cJSON_CreateArray();
	size_t	 i;

	for (i = 0; i < m->n_headers; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(m->headers[i]));
	return a;
}

/* Sends aish/progress for request r, naming the socket when known. */
void
notify_progress(struct req *r, int stage, const char *ai,
    const char *socket_id, const char *kind, const char *content)
{
	cJSON	*p = cJSON_CreateObject();

	aish_json_add_item(p, "request_id", r->id ?
	    cJSON_Duplicate(r->id, 1) : cJSON_CreateNull());
	aish_json_add_int(p, "stage", stage);
	aish_json_add_ref(p, "ai", ai);
	if (socket_id != NULL)
		aish_json_add_ref(p, "socket_id", socket_id);
	aish_json_add_ref(p, "kind", kind);
	if (content != NULL)
		aish_json_add_ref(p, "content", content);
	notify("aish/progress", p);
}

/* Sends aish/message for a read. */
static void
notify_message(const aish_msg_t *m)
{
	cJSON	*p = cJSON_CreateObject();

	aish_json_add_ref(p, "socket_id", m->socket_id ?
	    m->socket_id : m->conn_socket_id);
	aish_json_add_ref(p, "ai_name", m->ai_name);
	aish_json_add_ref(p, "content", m->content);
	aish_json_add_item(p, "headers", headers_json(m));
	if (m->in_reply_to != NULL)
		aish_json_add_ref(p, "in_reply_to", m->in_reply_to);
	aish_json_add_int(p, "seq", m->seq);
	notify("aish/message", p);
}

/* ---- the inbox ---- */

/* The requests waiting in aish/read for a socket's next message. */
static struct waiter {
	struct waiter	*next;
	struct req	*r;
} *waiters;

/* Keeps a read nobody asked for; drops the oldest past the cap. */
static void
inbox_add(const aish_msg_t *m)
{
	struct kept	*k = xcalloc(1, sizeof *k), **pp;

	snprintf(k->socket_id, sizeof k->socket_id, "%s",
	    m->socket_id ? m->socket_id : m->conn_socket_id);
	k->msg = cJSON_CreateObject();
	cJSON_AddStringToObject(k->msg, "socket_id", k->socket_id);
	cJSON_AddStringToObject(k->msg, "ai_name", m->ai_name ? m->ai_name :
	    "");
	cJSON_AddStringToObject(k->msg, "content", m->content ? m->content :
	    "");
	cJSON_AddItemToObject(k->msg, "headers", headers_json(m));
	for (pp = &inbox; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = k;
	if (++inbox_len > BRIDGE_INBOX_CAP) {
		k = inbox;
		inbox = k->next;
		cJSON_Delete(k->msg);
		free(k);
		inbox_len--;
		logmsg("inbox full: the oldest message was dropped");
	}
}

/* Takes every kept message of socket_id, oldest first; NULL when none. */
cJSON *
inbox_take(const char *socket_id)
{
	struct kept	*k, **pp;
	cJSON		*a = NULL;

	for (pp = &inbox; (k = *pp) != NULL; ) {
		if (strcmp(k->socket_id, socket_id) != 0) {
			pp = &k->next;
			continue;
		}
		if (a == NULL)
			a = cJSON_CreateArray();
		cJSON_AddItemToArray(a, k->msg);
		*pp = k->next;
		free(k);
		inbox_len--;
	}
	return a;
}

/* Makes r (an aish/read) hear of the next message of r->socket_id. */
void
inbox_wait(struct req *r)
{
	struct waiter	*w = xcalloc(1, sizeof *w);

	w->r = r;
	req_hold(r);
	w->next = waiters;
	waiters = w;
}

/* Hands socket_id's kept messages to a waiting aish/read; also forgets
 * waiters answered meanwhile. */
static void
wake_waiters(const char *socket_id)
{
	struct waiter	*w, **pp;
	cJSON		*msgs, *res;

	for (pp = &waiters; (w = *pp) != NULL; ) {
		if (!w->r->done && strcmp(w->r->socket_id, socket_id) != 0) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		if (req_release(w->r) && (msgs = inbox_take(socket_id))) {
			res = cJSON_CreateObject();
			cJSON_AddItemToObject(res, "messages", msgs);
			req_result(w->r, res);
		}
		free(w);
	}
}

/* What becomes of a message no request takes: a reply waits in the inbox
 * (or goes to a waiting aish/read), an AI's error is logged. */
void
message_unclaimed(const aish_msg_t *m)
{
	if (m->type == AISH_MSG_READ) {
		inbox_add(m);
		wake_waiters(m->socket_id ? m->socket_id : m->conn_socket_id);
	} else if (m->type == AISH_MSG_ERROR && !m->local)
		logmsg("error from %s: %s: %s", m->conn_socket_id,
		    m->code ? m->code : "?", m->message ? m->message : "");
}

/* ---- libaish callbacks ---- */

/* Every message from libaish, on the loop thread. */
void
on_aish_message(aish_t *h, const aish_msg_t *m, void *user)
{
	struct req	*r = NULL;

	if (m->ai_name != NULL && m->socket_id != NULL)
		ainame_put(m->socket_id, m->ai_name);
	if (m->in_reply_to != NULL)
		r = req_by_write(m->in_reply_to);
	if (m->type == AISH_MSG_READ)
		notify_message(m);
	if (r != NULL && r->ops != NULL && r->ops->on_msg != NULL) {
		r->ops->on_msg(r, m);
		return;
	}
	message_unclaimed(m);
}

/* A socket's connection changed state. */
void
on_aish_state(aish_t *h, const char *socket_id, aish_conn_state_t state,
    unsigned failures, int64_t down_ms, void *user)
{
	if (state == AISH_CONN_UP) {
		br.connected = 1;
		return;
	}
	if (state != AISH_CONN_RETRYING)
		return;
	logmsg("%s: connection down for %lld ms (%u failures)", socket_id,
	    (long long)down_ms, failures);
	if (down_ms >= br.unreachable_ms) {
		br.connected = 0;
		req_unreachable(socket_id);
	}
}

