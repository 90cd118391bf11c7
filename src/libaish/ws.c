/*
 * ws.c: libaish's WebSockets: one per socket in use, opened lazily,
 * reconnected with back-off, and the writes kept until they are finished.
 *
 * Life of a write: aish_write() appends it to its socket's list and asks
 * for the connection.  Each WRITEABLE callback sends the first write not
 * yet sent on the current connection (or else a control frame).  The
 * write stays in the list through its ack until its final frame: a read
 * or an error whose in_reply_to is its id (for a team chat, one from
 * every member of the ack).  When the connection drops, every write in
 * the list is marked unsent and goes again, with the same id, on the next
 * connection; the server acknowledges a known id again without running
 * it twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "aish-private.h"
#include <aish/protocol.h>

static int	ws_callback(struct lws *, enum lws_callback_reasons, void *,
		    void *, size_t);

const struct lws_protocols aishi_protocols[] = {
	[AISHI_PROTOCOL_WS] = { AISH_WS_PROTOCOL, ws_callback, 0, 64 * 1024, 0,
	    NULL, 0 },
	[AISHI_PROTOCOL_HTTP] = { "aish-http", aishi_http_callback, 0, 0, 0,
	    NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- connections ---- */

/* Tells the caller a socket's connection changed state. */
static void
set_state(struct aishi_conn *c, aish_conn_state_t state)
{
	struct aish	*h = c->h;
	int64_t		 down_ms = 0;

	c->state = state;
	if (c->down_since != 0)
		down_ms = (lws_now_usecs() - c->down_since) / LWS_US_PER_MS;
	if (h->on_state != NULL && !h->freeing)
		h->on_state(h, c->socket_id, state, c->failures, down_ms,
		    h->user);
}

/* Finds socket_id's connection, making it when create is set. */
struct aishi_conn *
aishi_conn_get(struct aish *h, const char *socket_id, int create)
{
	struct aishi_conn	*c;

	for (c = h->conns; c != NULL; c = c->next) {
		if (strcmp(c->socket_id, socket_id) == 0)
			return c;
	}
	if (!create || (c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->h = h;
	strcpy(c->socket_id, socket_id);
	c->state = AISH_CONN_IDLE;
	c->next = h->conns;
	h->conns = c;
	return c;
}

/* Timer: the next connection attempt. */
static void
retry_due(lws_sorted_usec_list_t *sul)
{
	struct aishi_conn	*c = lws_container_of(sul, struct aishi_conn,
				    retry_sul);

	if (c->wsi == NULL && c->wanted)
		aishi_conn_connect(c);
}

/* Schedules the next attempt after the back-off delay. */
static void
schedule_retry(struct aishi_conn *c)
{
	struct aish	*h = c->h;
	unsigned	 ms;
	char		 conceal;

	if (c->down_since == 0)
		c->down_since = lws_now_usecs();
	ms = lws_retry_get_delay_ms(h->ctx, &h->retry, &c->retry_count,
	    &conceal);
	lws_sul_schedule(h->ctx, 0, &c->retry_sul, retry_due,
	    (lws_usec_t)ms * LWS_US_PER_MS);
	set_state(c, AISH_CONN_RETRYING);
}

/* After a failed attempt or a drop: the next node of the list at once
 * while some node was not tried since the last back-off (or since the
 * connection was up), else the back-off (see SEVERAL NODES in aish.h). */
static void
retry_elsewhere(struct aishi_conn *c)
{
	struct aish	*h = c->h;

	aishi_node_failed(h, c->node);
	if (h->n_nodes < 2 || ++c->hops >= h->n_nodes) {
		c->hops = 0;
		schedule_retry(c);
		return;
	}
	if (c->down_since == 0)
		c->down_since = lws_now_usecs();
	/* From the loop, never inside libwebsockets' own callback. */
	lws_sul_schedule(h->ctx, 0, &c->retry_sul, retry_due, 1);
	if (c->state != AISH_CONN_CONNECTING)
		set_state(c, AISH_CONN_CONNECTING);
}

/* Starts a connection attempt for c (nothing when one is under way). */
void
aishi_conn_connect(struct aishi_conn *c)
{
	struct aish				*h = c->h;
	const struct aishi_node			*n = &h->nodes[h->node];
	struct lws_client_connect_info		 i;
	char					 path[512];
	char					 host[AISHI_HOST_SIZE];
	unsigned				 failures;

	c->wanted = 1;
	if (c->wsi != NULL || h->freeing)
		return;
	lws_sul_cancel(&c->retry_sul);
	c->node = h->node;
	snprintf(path, sizeof path, "%s" AISH_PATH_WS_SOCKET "%s",
	    n->path_prefix, c->socket_id);
	memset(&i, 0, sizeof i);
	i.context = h->ctx;
	i.vhost = h->vhost;
	i.address = n->host;
	i.port = n->port;
	i.path = path;
	aishi_host_header(n, host, sizeof host);
	i.host = host;
	i.protocol = NULL;	/* the server names no subprotocol */
	i.local_protocol_name = aishi_protocols[AISHI_PROTOCOL_WS].name;
	i.ssl_connection = n->tls ? LCCSCF_USE_SSL : 0;
	i.opaque_user_data = c;
	i.pwsi = &c->wsi;
	if (c->state == AISH_CONN_IDLE || c->state == AISH_CONN_FAILED) {
		c->down_since = lws_now_usecs();
		set_state(c, AISH_CONN_CONNECTING);
	}
	failures = c->failures;
	/* Unless its own callback told the failure already (lost()). */
	if (lws_client_connect_via_info(&i) == NULL &&
	    c->failures == failures) {
		c->wsi = NULL;
		c->failures++;
		retry_elsewhere(c);
	}
}

/* Frees a write. */
void
aishi_write_free(struct aishi_write *w)
{
	size_t	i;

	for (i = 0; i < w->n_members; i++)
		free(w->members[i]);
	for (i = 0; i < w->n_finished; i++)
		free(w->finished[i]);
	free(w->members);
	free(w->finished);
	free(w->content);
	free(w->mime);
	free(w);
}

/* Drops every write and control frame of c, reporting each write to the
 * caller with a local error. */
static void
drop_writes(struct aishi_conn *c, const char *code, const char *text)
{
	struct aishi_write	*w;
	struct aishi_ctl	*k;
	char			 id[AISH_ID_SIZE];

	while ((k = c->ctl) != NULL) {
		c->ctl = k->next;
		free(k);
	}
	while ((w = c->writes) != NULL) {
		c->writes = w->next;
		strcpy(id, w->id);
		aishi_write_free(w);
		aishi_local_error(c->h, c->socket_id, id, code, text);
	}
}

/* Frees every connection (aish_free): the writes end with "closed". */
void
aishi_conn_free_all(struct aish *h)
{
	struct aishi_conn	*c;

	for (c = h->conns; c != NULL; c = c->next) {
		lws_sul_cancel(&c->retry_sul);
		if (c->wsi != NULL)
			lws_set_opaque_user_data(c->wsi, NULL);
		c->wsi = NULL;
	}
	while ((c = h->conns) != NULL) {
		h->conns = c->next;
		h->freeing = 0;		/* let the caller hear of them */
		drop_writes(c, AISH_ERR_CLOSED, "the aish handle was freed");
		h->freeing = 1;
		free(c->rx);
		free(c);
	}
}

/* ---- messages to the caller ---- */

/* Hands a message to the caller. */
static void
deliver(struct aish *h, const aish_msg_t *m)
{
	if (h->on_message != NULL && !h->freeing)
		h->on_message(h, m, h->user);
}

/* Tells the caller a write ended without reaching the server. */
void
aishi_local_error(struct aish *h, const char *socket_id,
    const char *write_id, const char *code, const char *text)
{
	aish_msg_t	m;

	memset(&m, 0, sizeof m);
	m.type = AISH_MSG_ERROR;
	m.conn_socket_id = socket_id;
	m.socket_id = socket_id;
	m.in_reply_to = write_id;
	m.seq = -1;
	m.index = -1;
	m.code = code;
	m.message = text;
	m.local = 1;
	m.finished = write_id != NULL;	/* its write was dropped */
	deliver(h, &m);
}


/* Remembers in w which members a team-chat ack named. */
static void
take_members(struct aishi_write *w, const aish_msg_t *m)
{
	size_t	i;

	if (w->team || m->members == NULL)
		return;
	if (m->n_members > 0 && (w->members = calloc(m->n_members,
	    sizeof *w->members)) == NULL)
		return;
	for (i = 0; i < m->n_members; i++) {
		if ((w->members[i] = strdup(m->members[i])) == NULL)
			break;
	}
	w->n_members = i;
	w->team = 1;
}

/* Finds write id in c; pw gets the link that points at it. */
static struct aishi_write *
find_write(struct aishi_conn *c, const char *id, struct aishi_write ***pw)
{
	struct aishi_write	**pp, *w;

	for (pp = &c->writes; (w = *pp) != NULL; pp = &w->next) {
		if (strcmp(w->id, id) == 0) {
			if (pw != NULL)
				*pw = pp;
			return w;
		}
	}
	return NULL;
}

/* True when every team member of w has sent its final frame. */
static int
team_done(const struct aishi_write *w)
{
	size_t	i, j;

	for (i = 0; i < w->n_members; i++) {
		for (j = 0; j < w->n_finished; j++) {
			if (strcmp(w->members[i], w->finished[j]) == 0)
				break;
		}
		if (j == w->n_finished)
			return 0;
	}
	return 1;
}

/* Records that from sent its final frame for w; 1 when w is finished. */
static int
note_final(struct aishi_conn *c, struct aishi_write *w, const char *from)
{
	char	**f;
	int	 team_socket;

	team_socket = strncmp(c->socket_id, AISH_TEAM_CHAT_PREFIX,
	    strlen(AISH_TEAM_CHAT_PREFIX)) == 0;
	if (!team_socket || from == NULL ||
	    strcmp(from, c->socket_id) == 0)
		return 1;
	f = realloc(w->finished, (w->n_finished + 1) * sizeof *f);
	if (f == NULL)
		return 0;
	w->finished = f;
	if ((f[w->n_finished] = strdup(from)) != NULL)
		w->n_finished++;
	return w->acked && w->team && team_done(w);
}

/* True when name is one of the n names. */
static int
among(char *const *names, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return 1;
	}
	return 0;
}

/* True when the message m, about to be delivered, finishes its write
 * of c: what account() will find once it is delivered, told before so
 * that the caller hears it on the message itself (aish_msg_t.finished). */
static int
finishes(struct aishi_conn *c, const aish_msg_t *m)
{
	const struct aishi_write *w;
	size_t			 i;

	if (m->in_reply_to == NULL ||
	    (w = find_write(c, m->in_reply_to, NULL)) == NULL)
		return 0;
	if (m->type == AISH_MSG_ACK) {
		if (w->team)
			return team_done(w);
		if (m->members == NULL)
			return 0;
		for (i = 0; i < m->n_members; i++) {
			if (!among(w->finished, w->n_finished, m->members[i]))
				return 0;
		}
		return 1;
	}
	if (m->type != AISH_MSG_READ && m->type != AISH_MSG_ERROR)
		return 0;
	if (strncmp(c->socket_id, AISH_TEAM_CHAT_PREFIX,
	    strlen(AISH_TEAM_CHAT_PREFIX)) != 0 || m->socket_id == NULL ||
	    strcmp(m->socket_id, c->socket_id) == 0)
		return 1;
	if (!w->acked || !w->team)
		return 0;
	for (i = 0; i < w->n_members; i++) {
		if (strcmp(w->members[i], m->socket_id) != 0 &&
		    !among(w->finished, w->n_finished, w->members[i]))
			return 0;
	}
	return 1;
}

/* After a message was delivered: updates the write it concerns. */
static void
account(struct aishi_conn *c, const aish_msg_t *m)
{
	struct aishi_write	*w, **pw;

	if (m->in_reply_to == NULL ||
	    (w = find_write(c, m->in_reply_to, &pw)) == NULL)
		return;
	switch (m->type) {
	case AISH_MSG_ACK:
		w->acked = 1;
		take_members(w, m);
		if (!(w->team && team_done(w)))
			return;
		break;
	case AISH_MSG_READ:
	case AISH_MSG_ERROR:
		if (!note_final(c, w, m->socket_id))
			return;
		break;
	default:
		return;
	}
	*pw = w->next;
	aishi_write_free(w);
}

/* Finds the connection that holds the write a final frame answers: c
 * itself, else the connection of the AI's own socket. */
static struct aishi_conn *
owner_of(struct aishi_conn *c, const aish_msg_t *m)
{
	struct aishi_conn	*o;

	if (m->in_reply_to == NULL || find_write(c, m->in_reply_to, NULL))
		return c;
	for (o = c->h->conns; o != NULL; o = o->next) {
		if (find_write(o, m->in_reply_to, NULL) != NULL)
			return o;
	}
	return c;
}

/* After the ack of a write of c that joins the conversation (the ack
 * carries its seq): tells the caller its turn, once (see TURNS in
 * aish.h). */
static void
tell_own_turn(struct aishi_conn *c, const aish_msg_t *ack)
{
	struct aishi_write	*w;
	aish_msg_t		 m;

	if (ack->seq <= 0 || ack->in_reply_to == NULL ||
	    (w = find_write(c, ack->in_reply_to, NULL)) == NULL ||
	    w->fresh || w->mime != NULL || w->turn_told)
		return;
	w->turn_told = 1;
	memset(&m, 0, sizeof m);
	m.type = AISH_MSG_TURN;
	m.conn_socket_id = c->socket_id;
	m.socket_id = c->socket_id;
	m.content = w->content;
	m.content_len = w->len;
	m.in_reply_to = w->id;
	m.seq = ack->seq;
	m.index = -1;
	m.role = "user";
	m.local = 1;
	deliver(c->h, &m);
}

/* Parses one whole frame and hands it on. */
static void
handle_frame(struct aishi_conn *c, const char *json, size_t len)
{
	struct aish	*h = c->h;
	cJSON		*f;
	aish_msg_t	 m;
	const char	**headers = NULL, **members = NULL;

	if ((f = cJSON_ParseWithLength(json, len)) == NULL)
		return;
	if (!aishi_msg_read(&m, f, c->socket_id, &headers, &members))
		goto end;
	/* A final frame seen before (a reply delivered on two connections,
	 * or again after a server restart) is dropped. */
	if ((m.type == AISH_MSG_READ || m.type == AISH_MSG_ERROR) &&
	    m.seq >= 0 && aishi_final_seen(h, m.socket_id ? m.socket_id :
	    c->socket_id, m.seq))
		goto end;
	/* So is a delta heard on two connections (its AI's socket and a
	 * team socket): each piece is passed on once, in order. */
	if (m.type == AISH_MSG_DELTA && m.index >= 0 && m.socket_id != NULL &&
	    m.in_reply_to != NULL && aishi_delta_seen(h, m.socket_id,
	    m.in_reply_to, m.index))
		goto end;
	m.raw = json;
	m.raw_len = len;
	if (m.type == AISH_MSG_ACK || m.type == AISH_MSG_READ ||
	    m.type == AISH_MSG_ERROR)
		m.finished = finishes(m.type == AISH_MSG_ACK ? c :
		    owner_of(c, &m), &m);
	deliver(h, &m);
	if (m.type == AISH_MSG_ACK)
		tell_own_turn(c, &m);
	if (m.type != AISH_MSG_DELTA && m.type != AISH_MSG_PONG &&
	    m.type != AISH_MSG_TURN)
		account(m.type == AISH_MSG_ACK ? c : owner_of(c, &m), &m);
end:
	free(headers);
	free(members);
	cJSON_Delete(f);
}

/* Collects the fragments of a frame; hands on each whole one. */
static void
receive(struct aishi_conn *c, struct lws *wsi, const void *in, size_t len)
{
	char	*p;
	size_t	 cap;

	if (c->rx_len + len + 1 > c->rx_cap) {
		if (c->rx_len + len > AISH_MAX_BODY) {
			c->rx_len = 0;	/* too big: dropped */
			return;
		}
		cap = c->rx_cap ? c->rx_cap : 4096;
		while (cap < c->rx_len + len + 1)
			cap *= 2;
		if ((p = realloc(c->rx, cap)) == NULL) {
			c->rx_len = 0;
			return;
		}
		c->rx = p;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (!lws_is_final_fragment(wsi))
		return;
	c->rx[c->rx_len] = '\0';
	len = c->rx_len;
	c->rx_len = 0;
	handle_frame(c, c->rx, len);
}

/* ---- sending ---- */

/* Builds the JSON of a write frame; NULL when out of memory. */
static char *
write_json(const struct aishi_write *w)
{
	cJSON	*o = cJSON_CreateObject();
	char	*s = NULL;

	if (o == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, AISH_FIELD_TYPE, AISH_FRAME_WRITE) !=
	    NULL &&
	    cJSON_AddStringToObject(o, AISH_FIELD_CONTENT,
	    w->content) != NULL &&
	    cJSON_AddStringToObject(o, AISH_FIELD_ID, w->id) != NULL &&
	    (!w->synthesis || cJSON_AddStringToObject(o,
	    AISH_FIELD_MODERATION, AISH_MODERATION_SYNTHESIS) != NULL) &&
	    (!w->fresh || cJSON_AddTrueToObject(o, AISH_FIELD_FRESH) != NULL))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* Sends len bytes of json as one text frame. */
static int
send_text(struct lws *wsi, const char *json, size_t len)
{
	unsigned char	*buf;
	int		 n;

	if ((buf = malloc(LWS_PRE + len)) == NULL)
		return -1;
	/* A fresh copy every time: lws masks client frames in place. */
	memcpy(buf + LWS_PRE, json, len);
	n = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
	free(buf);
	return n < (int)len ? -1 : 0;
}

/* Bytes of a stream sent per binary frame. */
#define STREAM_FRAME	(256 * 1024)

/* Sends the next frame of a stream write: stream_start, a piece of the
 * bytes, or stream_end (after which the write counts as sent). */
static int
stream_step(struct lws *wsi, struct aishi_write *w)
{
	unsigned char	*buf;
	char		 json[AISH_ID_SIZE + 256];
	size_t		 n;
	int		 rc;

	if (w->stream_stage == 0) {
		/* Ids and types hold no character JSON must escape. */
		snprintf(json, sizeof json, "{\"type\":\"%s\",\"mime\":"
		    "\"%s\",\"id\":\"%s\"}", AISH_FRAME_STREAM_START,
		    w->mime, w->id);
		w->stream_stage = 1;
		w->stream_off = 0;
		return send_text(wsi, json, strlen(json));
	}
	if (w->stream_stage == 1 && w->stream_off < w->len) {
		n = w->len - w->stream_off;
		if (n > STREAM_FRAME)
			n = STREAM_FRAME;
		if ((buf = malloc(LWS_PRE + n)) == NULL)
			return -1;
		memcpy(buf + LWS_PRE, w->content + w->stream_off, n);
		rc = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_BINARY);
		free(buf);
		if (rc < (int)n)
			return -1;
		w->stream_off += n;
		return 0;
	}
	snprintf(json, sizeof json, "{\"type\":\"%s\",\"id\":\"%s\"}",
	    AISH_FRAME_STREAM_END, w->id);
	w->stream_stage = 0;
	w->sent = w->ever_sent = 1;
	return send_text(wsi, json, strlen(json));
}

/* One frame per writeable callback: the first unsent write, else the
 * first control frame. */
static int
writeable(struct aishi_conn *c, struct lws *wsi)
{
	struct aishi_write	*w;
	struct aishi_ctl	*k;
	char			*json;
	int			 rc;

	if (c->closing) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	for (w = c->writes; w != NULL && w->sent; w = w->next)
		;
	if (w != NULL && w->mime != NULL) {
		if (stream_step(wsi, w) != 0)
			return -1;
	} else if (w != NULL) {
		if ((json = write_json(w)) == NULL) {
			lws_callback_on_writable(wsi);	/* try again */
			return 0;
		}
		rc = send_text(wsi, json, strlen(json));
		cJSON_free(json);
		if (rc != 0)
			return -1;
		w->sent = w->ever_sent = 1;
	} else if ((k = c->ctl) != NULL) {
		c->ctl = k->next;
		rc = send_text(wsi, k->json, k->len);
		free(k);
		if (rc != 0)
			return -1;
	} else
		return 0;
	for (w = c->writes; w != NULL && w->sent; w = w->next)
		;
	if (w != NULL || c->ctl != NULL)
		lws_callback_on_writable(wsi);
	return 0;
}

/* Asks for a writeable callback when c is up. */
static void
kick(struct aishi_conn *c)
{
	if (c->wsi != NULL && c->state == AISH_CONN_UP)
		lws_callback_on_writable(c->wsi);
}

/* ---- the protocol callback ---- */

/* The connection is open: everything kept goes (again). */
static void
established(struct aishi_conn *c)
{
	struct aishi_write	*w;

	for (w = c->writes; w != NULL; w = w->next) {
		w->sent = 0;
		w->stream_stage = 0;
	}
	c->failures = 0;
	c->retry_count = 0;
	c->hops = 0;
	c->down_since = 0;
	c->rx_len = 0;
	set_state(c, AISH_CONN_UP);
	kick(c);
}

/* The connection attempt failed or the connection closed. */
static void
lost(struct aishi_conn *c, struct lws *wsi, int failed)
{
	unsigned	status = failed ? lws_http_client_http_response(wsi) : 0;

	c->wsi = NULL;
	c->rx_len = 0;
	c->closing = 0;
	if (c->h->freeing)
		return;
	if (!c->wanted) {
		if (c->state != AISH_CONN_IDLE)
			set_state(c, AISH_CONN_IDLE);
		return;
	}
	if (failed)
		c->failures++;
	if (status == 404 || status == 401 || status == 403) {
		c->wanted = 0;
		set_state(c, AISH_CONN_FAILED);
		drop_writes(c, status == 404 ? AISH_ERR_UNKNOWN_SOCKET :
		    status == 401 ? AISH_ERR_UNAUTHORIZED : AISH_ERR_FORBIDDEN,
		    status == 404 ? "the server has no such socket" :
		    status == 401 ? "the server wants a valid token" :
		    "the server refused the connection");
		return;
	}
	retry_elsewhere(c);
}

/* Adds the bearer token to the WebSocket upgrade. */
static int
add_token(struct aish *h, struct lws *wsi, void *in, size_t len)
{
	unsigned char	**p = in, *end = *p + len;

	if (h->auth == NULL)
		return 0;
	return lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"authorization:",
	    (const unsigned char *)h->auth, (int)strlen(h->auth), p, end);
}

/* libwebsockets calls this for everything about libaish's WebSockets. */
static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct aishi_conn	*c = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (c != NULL && add_token(c->h, wsi, in, len) != 0)
			return -1;
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (c != NULL)
			established(c);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c != NULL)
			receive(c, wsi, in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return c != NULL ? writeable(c, wsi) : 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c != NULL && (c->wsi == wsi || c->wsi == NULL))
			lost(c, wsi, 1);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c != NULL && (c->wsi == wsi || c->wsi == NULL))
			lost(c, wsi, 0);
		return 0;
	default:
		return 0;
	}
}

/* ---- the public WebSocket API ---- */

/* Checks a socket id argument. */
static aish_error_t
check_socket(aish_t *h, const char *socket_id)
{
	if (h == NULL || h->freeing || !aish_valid_name(socket_id))
		return AISH_E_INVALID;
	return AISH_OK;
}

/* Appends a write of len bytes (a stream when mime is set) to
 * socket_id's list, arguments already checked; synthesis and fresh are
 * the write's own flags, already read from the caller's. */
static aish_error_t
queue_write(aish_t *h, const char *socket_id, const char *content,
    size_t len, const char *mime, int synthesis, int fresh, const char *id,
    char *out_id)
{
	struct aishi_conn	*c;
	struct aishi_write	*w, **pp;

	if ((c = aishi_conn_get(h, socket_id, 1)) == NULL ||
	    (w = calloc(1, sizeof *w)) == NULL)
		return AISH_E_NOMEM;
	if ((w->content = malloc(len + 1)) == NULL ||
	    (mime != NULL && (w->mime = strdup(mime)) == NULL)) {
		free(w->content);
		free(w);
		return AISH_E_NOMEM;
	}
	w->synthesis = synthesis;
	w->fresh = fresh;
	memcpy(w->content, content, len);
	w->content[len] = '\0';
	w->len = len;
	if (id != NULL)
		strcpy(w->id, id);
	else
		aishi_make_id(h, w->id);
	for (pp = &c->writes; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = w;
	if (out_id != NULL)
		strcpy(out_id, w->id);
	if (c->wsi == NULL)
		aishi_conn_connect(c);
	c->wanted = 1;
	kick(c);
	return AISH_OK;
}

/* Queues a write of len bytes with flags (0 or AISH_WRITE_FRESH). */
aish_error_t
aish_write_flags(aish_t *h, const char *socket_id, const char *content,
    size_t len, unsigned flags, const char *id, char *out_id)
{
	if (check_socket(h, socket_id) != AISH_OK || content == NULL ||
	    memchr(content, '\0', len) != NULL ||
	    (id != NULL && !aishi_id_valid(id)) ||
	    (flags & ~(unsigned)AISH_WRITE_FRESH) != 0)
		return AISH_E_INVALID;
	if (len > AISH_MAX_CONTENT)
		return AISH_E_TOO_LARGE;
	return queue_write(h, socket_id, content, len, NULL, 0,
	    (flags & AISH_WRITE_FRESH) != 0, id, out_id);
}

/* Queues a write of len bytes. */
aish_error_t
aish_write_len(aish_t *h, const char *socket_id, const char *content,
    size_t len, const char *id, char *out_id)
{
	return aish_write_flags(h, socket_id, content, len, 0, id, out_id);
}

/* Queues a binary stream. */
aish_error_t
aish_write_stream(aish_t *h, const char *socket_id, const char *mime,
    const void *data, size_t len, const char *id, char *out_id)
{
	if (check_socket(h, socket_id) != AISH_OK || mime == NULL ||
	    !aish_mime_valid(mime) || (data == NULL && len > 0) ||
	    (id != NULL && !aishi_id_valid(id)))
		return AISH_E_INVALID;
	if (len > AISH_MAX_STREAM)
		return AISH_E_TOO_LARGE;
	return queue_write(h, socket_id, len ? data : "", len, mime, 0, 0, id,
	    out_id);
}

/* Queues a write of a NUL-terminated string. */
aish_error_t
aish_write(aish_t *h, const char *socket_id, const char *content,
    const char *id, char *out_id)
{
	if (content == NULL)
		return AISH_E_INVALID;
	return aish_write_len(h, socket_id, content, strlen(content), id,
	    out_id);
}

/* Queues a control frame on socket_id's connection. */
static aish_error_t
queue_ctl(aish_t *h, const char *socket_id, const char *json)
{
	struct aishi_conn	*c;
	struct aishi_ctl	*k, **pp;
	size_t			 len = strlen(json);

	if ((c = aishi_conn_get(h, socket_id, 1)) == NULL ||
	    (k = malloc(sizeof *k + len + 1)) == NULL)
		return AISH_E_NOMEM;
	k->next = NULL;
	k->len = len;
	memcpy(k->json, json, len + 1);
	for (pp = &c->ctl; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = k;
	if (c->wsi == NULL)
		aishi_conn_connect(c);
	c->wanted = 1;
	kick(c);
	return AISH_OK;
}

/* Cancels a write; see aish.h. */
aish_error_t
aish_cancel(aish_t *h, const char *socket_id, const char *write_id)
{
	struct aishi_conn	*c;
	struct aishi_write	*w, **pw;
	char			 json[AISH_ID_SIZE + 40];

	if (check_socket(h, socket_id) != AISH_OK || !aishi_id_valid(write_id))
		return AISH_E_INVALID;
	c = aishi_conn_get(h, socket_id, 0);
	if (c != NULL && (w = find_write(c, write_id, &pw)) != NULL &&
	    !w->ever_sent) {
		*pw = w->next;
		aishi_write_free(w);
		aishi_local_error(h, socket_id, write_id, AISH_ERR_CANCELLED,
		    "cancelled before it reached the server");
		return AISH_OK;
	}
	/* Ids hold no character that JSON must escape. */
	snprintf(json, sizeof json, "{\"type\":\"cancel\",\"id\":\"%s\"}",
	    write_id);
	return queue_ctl(h, socket_id, json);
}

/* Writes to team-chat-all or team-chat-<group>. */
aish_error_t
aish_team_chat(aish_t *h, const char *message, const char *group,
    char *out_id)
{
	return aish_team_chat_flags(h, message, group, 0, out_id);
}

/* Writes to team-chat-all or team-chat-<group>, with flags. */
aish_error_t
aish_team_chat_flags(aish_t *h, const char *message, const char *group,
    unsigned flags, char *out_id)
{
	char	socket_id[AISH_NAME_MAX + 1];
	size_t	len;

	if (group == NULL)
		snprintf(socket_id, sizeof socket_id, "%s", AISH_TEAM_CHAT_ALL);
	else if (!aish_valid_name(group) || strcmp(group, "all") == 0 ||
	    snprintf(socket_id, sizeof socket_id, "%s%s",
	    AISH_TEAM_CHAT_PREFIX, group) >= (int)sizeof socket_id)
		return AISH_E_INVALID;
	if (h == NULL || h->freeing || message == NULL ||
	    (flags & ~(unsigned)(AISH_TEAM_SYNTHESIS | AISH_TEAM_FRESH)) != 0)
		return AISH_E_INVALID;
	if ((len = strlen(message)) > AISH_MAX_CONTENT)
		return AISH_E_TOO_LARGE;
	return queue_write(h, socket_id, message, len, NULL,
	    (flags & AISH_TEAM_SYNTHESIS) != 0, (flags & AISH_TEAM_FRESH) != 0,
	    NULL, out_id);
}

/* Opens socket_id's connection now. */
aish_error_t
aish_open(aish_t *h, const char *socket_id)
{
	struct aishi_conn	*c;

	if (check_socket(h, socket_id) != AISH_OK)
		return AISH_E_INVALID;
	if ((c = aishi_conn_get(h, socket_id, 1)) == NULL)
		return AISH_E_NOMEM;
	if (c->wsi == NULL)
		aishi_conn_connect(c);
	c->wanted = 1;
	return AISH_OK;
}

/* Sends a ping. */
aish_error_t
aish_ping(aish_t *h, const char *socket_id)
{
	if (check_socket(h, socket_id) != AISH_OK)
		return AISH_E_INVALID;
	return queue_ctl(h, socket_id, "{\"type\":\"ping\"}");
}

/* Closes socket_id's connection and drops its writes. */
aish_error_t
aish_close(aish_t *h, const char *socket_id)
{
	struct aishi_conn	*c;

	if (check_socket(h, socket_id) != AISH_OK)
		return AISH_E_INVALID;
	if ((c = aishi_conn_get(h, socket_id, 0)) == NULL)
		return AISH_OK;
	c->wanted = 0;
	lws_sul_cancel(&c->retry_sul);
	c->failures = 0;
	c->retry_count = 0;
	c->hops = 0;
	c->down_since = 0;
	if (c->wsi != NULL) {
		c->closing = 1;
		lws_callback_on_writable(c->wsi);
	} else if (c->state != AISH_CONN_IDLE)
		set_state(c, AISH_CONN_IDLE);
	drop_writes(c, AISH_ERR_CLOSED,
	    "the connection was closed by aish_close()");
	return AISH_OK;
}

/* State of socket_id's connection. */
aish_conn_state_t
aish_socket_state(aish_t *h, const char *socket_id, unsigned *failures,
    int64_t *down_ms)
{
	struct aishi_conn	*c = NULL;

	if (h != NULL && socket_id != NULL)
		c = aishi_conn_get(h, socket_id, 0);
	if (failures != NULL)
		*failures = c ? c->failures : 0;
	if (down_ms != NULL)
		*down_ms = c && c->down_since ? (lws_now_usecs() -
		    c->down_since) / LWS_US_PER_MS : 0;
	return c ? c->state : AISH_CONN_IDLE;
}

/* Writes kept for one socket or all. */
size_t
aish_pending(aish_t *h, const char *socket_id)
{
	struct aishi_conn	*c;
	struct aishi_write	*w;
	size_t			 n = 0;

	if (h == NULL)
		return 0;
	for (c = h->conns; c != NULL; c = c->next) {
		if (socket_id != NULL && strcmp(c->socket_id, socket_id) != 0)
			continue;
		for (w = c->writes; w != NULL; w = w->next)
			n++;
	}
	return n;
}

/* Whether a kept write ever went out on a connection. */
int
aish_write_sent(aish_t *h, const char *socket_id, const char *write_id)
{
	struct aishi_conn	*c;
	struct aishi_write	*w;

	if (h == NULL || socket_id == NULL || write_id == NULL ||
	    (c = aishi_conn_get(h, socket_id, 0)) == NULL ||
	    (w = find_write(c, write_id, NULL)) == NULL)
		return 0;
	return w->ever_sent;
}
