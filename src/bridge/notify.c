/*
 * notify.c: what comes from libaish: every AI message that reaches the
 * bridge becomes an aish/message notification, then goes to the request
 * that waits for it or, when none does, to the inbox that aish/read
 * drains.  Streamed pieces become aish/progress notifications through
 * the requests that own them (or through the face that runs them), and
 * aish/delta notifications on the sockets an editor opened with
 * aish/open or aish/history (a chat).  A user's turn (AISH_MSG_TURN:
 * another client's write, or this bridge's own once acknowledged)
 * becomes aish/message with role "user" and goes nowhere else.
 * Connection states tell the requests on a socket (from the loop) and
 * when it has been unreachable too long for those waiting on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aish/protocol.h>
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

/* Reports progress of request r: to the face that runs it, or as
 * aish/progress naming the socket when known. */
void
notify_progress(struct req *r, int stage, const char *ai,
    const char *socket_id, const char *kind, const char *content)
{
	struct progress	 ev = { stage, ai, socket_id, kind, content };
	cJSON		*p;

	if (r->xlat != NULL && r->xlat->progress != NULL) {
		r->xlat->progress(r, &ev);
		return;
	}
	if (!session_face()->aish_notifications)
		return;
	p = cJSON_CreateObject();

	ac_json_add_item(p, "request_id", r->id ?
	    cJSON_Duplicate(r->id, 1) : cJSON_CreateNull());
	ac_json_add_int(p, "stage", stage);
	ac_json_add_ref(p, "ai", ai);
	if (socket_id != NULL)
		ac_json_add_ref(p, "socket_id", socket_id);
	ac_json_add_ref(p, "kind", kind);
	if (content != NULL)
		ac_json_add_ref(p, "content", content);
	client_notify("aish/progress", p);
}

/* The socket a message is about, and the name of its AI ("" when not
 * known yet). */
static const char *
msg_socket(const aish_msg_t *m)
{
	return m->socket_id ? m->socket_id : m->conn_socket_id;
}

static const char *
msg_ai_name(const aish_msg_t *m)
{
	const char	*name = m->ai_name ? m->ai_name :
	    ainame_get(msg_socket(m));

	return name ? name : "";
}

/* Sends aish/message for a read (role "assistant") or a user's turn
 * (role "user"). */
static void
notify_message(const aish_msg_t *m)
{
	cJSON	*p = cJSON_CreateObject();

	ac_json_add_ref(p, "socket_id", msg_socket(m));
	ac_json_add_ref(p, "ai_name", msg_ai_name(m));
	ac_json_add_ref(p, "role", m->type == AISH_MSG_TURN ? "user" :
	    "assistant");
	ac_json_add_ref(p, "content", m->content);
	ac_json_add_item(p, "headers", headers_json(m));
	if (m->in_reply_to != NULL)
		ac_json_add_ref(p, "in_reply_to", m->in_reply_to);
	ac_json_add_int(p, "seq", m->seq);
	if (m->timestamp != NULL)
		ac_json_add_ref(p, "timestamp", m->timestamp);
	if (m->fresh)
		cJSON_AddTrueToObject(p, "fresh");
	client_notify("aish/message", p);
}

/* ---- the sockets opened by aish/open ---- */

static struct open_socket {
	struct open_socket	*next;
	char			 socket_id[AISH_NAME_MAX + 1];
} *opened;
static int	 team_opened;	/* a team-chat socket is among them */

/* Streams the replies on socket_id to the editor from now on (aish/delta)
 * as well as its turns. */
void
subscribe(const char *socket_id)
{
	struct open_socket	*o;

	if (is_open(socket_id))
		return;
	o = xcalloc(1, sizeof *o);
	snprintf(o->socket_id, sizeof o->socket_id, "%s", socket_id);
	o->next = opened;
	opened = o;
	if (strncmp(socket_id, AISH_TEAM_CHAT_PREFIX,
	    strlen(AISH_TEAM_CHAT_PREFIX)) == 0)
		team_opened = 1;
}

/* True when an aish/open of socket_id succeeded. */
int
is_open(const char *socket_id)
{
	struct open_socket	*o;

	for (o = opened; o != NULL; o = o->next) {
		if (strcmp(o->socket_id, socket_id) == 0)
			return 1;
	}
	return 0;
}

/* True when a delta belongs to an opened socket: its AI's, the one it
 * came on, or any when a team chat is open (whose members are any AI). */
static int
delta_wanted(const aish_msg_t *m)
{
	struct open_socket	*o;

	if (team_opened)
		return 1;
	for (o = opened; o != NULL; o = o->next) {
		if ((m->socket_id && strcmp(o->socket_id, m->socket_id) == 0) ||
		    strcmp(o->socket_id, m->conn_socket_id) == 0)
			return 1;
	}
	return 0;
}

/* Sends aish/delta for a streamed piece of a reply. */
static void
notify_delta(const aish_msg_t *m)
{
	cJSON	*p = cJSON_CreateObject();

	ac_json_add_ref(p, "socket_id", msg_socket(m));
	ac_json_add_ref(p, "ai_name", msg_ai_name(m));
	ac_json_add_ref(p, "role", "assistant");
	ac_json_add_ref(p, "content", m->content);
	if (m->in_reply_to != NULL)
		ac_json_add_ref(p, "in_reply_to", m->in_reply_to);
	ac_json_add_int(p, "index", m->index);
	if (m->fresh)
		cJSON_AddTrueToObject(p, "fresh");
	client_notify("aish/delta", p);
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
	if (m->type == AISH_MSG_TURN) {
		/* No request's reply. */
		if (session_face()->aish_notifications)
			notify_message(m);
		return;
	}
	if (m->type == AISH_MSG_DELTA && opened != NULL &&
	    session_face()->aish_notifications && delta_wanted(m))
		notify_delta(m);
	if (m->in_reply_to != NULL && (r = req_by_write(m->in_reply_to)))
		req_progress(r);
	/* A face's request reports its replies its own way. */
	if (m->type == AISH_MSG_READ && (r == NULL || r->xlat == NULL) &&
	    session_face()->aish_notifications)
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
	req_conn_changed(socket_id, state);
	if (state == AISH_CONN_UP) {
		reach_note_node();
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

