/*
 * ws.c: the WebSocket side of a socket: frames in, frames out.
 *
 * The receive callback never writes: every frame to send goes on the
 * connection's list and is written, one per writeable callback, with
 * LWS_PRE bytes of headroom in front as libwebsockets wants.  While more
 * frames wait behind the one being written, the TCP socket is corked, so
 * that an ack and the reply queued with it reach the client together and
 * wake it once.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "delivery.h"
#include "frame.h"
#include "guard.h"
#include "http.h"
#include "json-build.h"
#include "names.h"
#include "registry.h"
#include "ws.h"
#include "xalloc.h"

/* A reader that lets this much pile up unwritten is dropped; so is one
 * with frames still unwritten when all readers together hold more than
 * SERVER_MAX_PENDING, so that many readers that never read cannot make
 * the server grow without bound (doc/guarantees.md). */
#define CONN_MAX_PENDING	(64u * 1024 * 1024)
#define SERVER_MAX_PENDING	(128u * 1024 * 1024)
/* Seconds a dropped reader gets to take its close frame. */
#define CONN_DROP_SECS		2

/* A frame waiting to be written. */
struct rh_out {
	struct rh_out	*next;
	char		*queued_on;	/* socket whose queue holds it, or NULL */
	int64_t		 seq;
	size_t		 len;
	unsigned char	 buf[];		/* LWS_PRE + len bytes */
};

static const char ws_prefix[] = "/ws/socket/";

/* Bytes waiting to be written on all connections. */
static size_t pending_total;

/* Frees the frames a connection has not written; those from a queue stay
 * in the store for the next reader. */
static void
out_free_all(struct rh_conn *c)
{
	struct rh_out	*o, *next;

	for (o = c->out_head; o != NULL; o = next) {
		next = o->next;
		free(o->queued_on);
		free(o);
	}
	c->out_head = c->out_tail = NULL;
	pending_total -= c->out_bytes;
	c->out_bytes = 0;
}

/* Drops a reader that does not read: its frames are freed now, and the
 * connection is closed, cleanly if it takes the close frame in time. */
static void
drop_slow_reader(struct rh_conn *c)
{
	rh_log("dropping a reader of %s that does not read (%zu bytes "
	    "unwritten)", c->sock ? c->sock->id : "?", c->out_bytes);
	out_free_all(c);
	c->closing = 1;
	c->close_why = "reader too slow";
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, CONN_DROP_SECS);
	lws_callback_on_writable(c->wsi);
}

/* Queues a text frame on a connection (see ws.h). */
void
rh_conn_send(struct rh_conn *c, const char *json, size_t len,
    const char *queued_on, int64_t seq)
{
	struct rh_out	*o;

	if (c->closing)
		return;
	if (c->out_bytes + len > CONN_MAX_PENDING || (c->out_bytes > 0 &&
	    pending_total + len > SERVER_MAX_PENDING)) {
		drop_slow_reader(c);
		return;
	}
	o = xmalloc(sizeof *o + LWS_PRE + len);
	o->next = NULL;
	o->queued_on = queued_on ? xstrdup(queued_on) : NULL;
	o->seq = seq;
	o->len = len;
	memcpy(o->buf + LWS_PRE, json, len);
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_bytes += len;
	pending_total += len;
	lws_callback_on_writable(c->wsi);
}

/* Queues a frame built as JSON; consumes obj. */
static void
send_json(struct rh_conn *c, cJSON *obj)
{
	char	*text = cJSON_PrintUnformatted(obj);

	rh_conn_send(c, text, strlen(text), NULL, 0);
	cJSON_free(text);
	cJSON_Delete(obj);
}

/* Queues an error frame. */
static void
send_error(struct rh_conn *c, const char *code, const char *message,
    const char *in_reply_to)
{
	cJSON	*obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "type", AISH_FRAME_ERROR);
	cJSON_AddStringToObject(obj, "code", code);
	cJSON_AddStringToObject(obj, "message", message);
	if (c->sock != NULL)
		cJSON_AddStringToObject(obj, "socket_id", c->sock->id);
	if (in_reply_to != NULL)
		cJSON_AddStringToObject(obj, "in_reply_to", in_reply_to);
	send_json(c, obj);
}

/* Store callback: queues one stored reply for a new reader. */
static void
send_queued(void *ud, const struct rh_queued_row *row)
{
	struct rh_conn	*c = ud;

	rh_conn_send(c, row->json, strlen(row->json), c->sock->id, row->seq);
}

/* The socket id in a /ws/socket/{id} path, copied into id; 0 if none. */
static int
path_socket_id(const char *path, char *id, size_t len)
{
	const char	*p;

	if (strncmp(path, ws_prefix, sizeof ws_prefix - 1) != 0)
		return 0;
	p = path + sizeof ws_prefix - 1;
	if (strlen(p) >= len || !aish_name_valid(p))
		return 0;
	strcpy(id, p);
	return 1;
}

/* Accepts or refuses an upgrade before it happens. */
int
rh_ws_confirm_upgrade(struct lws *wsi, const char *protocol)
{
	struct rh_server	*srv = rh_server_of(wsi);
	char			 path[256], id[AISH_MAX_NAME + 1];

	if (protocol == NULL || strcmp(protocol, "websocket") != 0) {
		rh_http_send_now(wsi, 400, AISH_ERR_BAD_REQUEST,
		    "only WebSocket upgrades are supported");
		return 1;
	}
	if (!rh_guard_token_ok(srv, wsi)) {
		rh_http_send_now(wsi, 401, AISH_ERR_UNAUTHORIZED,
		    "missing or wrong bearer token");
		return 1;
	}
	if (!rh_guard_origin_ok(wsi)) {
		rh_http_send_now(wsi, 403, AISH_ERR_FORBIDDEN,
		    "WebSocket connections are only accepted from loopback "
		    "origins");
		return 1;
	}
	if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0 ||
	    !path_socket_id(path, id, sizeof id) ||
	    rh_registry_find(srv, id) == NULL) {
		rh_http_send_now(wsi, 404, AISH_ERR_UNKNOWN_SOCKET,
		    "no such socket");
		return 1;
	}
	return 0;
}

/* A socket whose last reader left, waiting for one to come back. */
struct rh_abandon {
	lws_sorted_usec_list_t	 sul;
	struct rh_server	*srv;
	struct rh_socket	*sock;
};

/* Timer: nobody came back to the socket; its writers' work stops (each
 * write ends with a "cancelled" error, which waits in the queue). */
static void
abandon_fire(lws_sorted_usec_list_t *sul)
{
	struct rh_abandon	*a = lws_container_of(sul, struct rh_abandon,
	    sul);
	struct rh_socket	*s = a->sock;
	int			 n;

	s->abandon = NULL;
	n = rh_delivery_abandon(a->srv, s);
	if (n > 0)
		rh_log("%s: its writers went away; stopped %d replies", s->id,
		    n);
	free(a);
}

/* The last reader of s left: give it abandon_ms to come back before the
 * AIs' work for its writes stops. */
static void
abandon_arm(struct rh_server *srv, struct rh_socket *s)
{
	if (srv->opt.abandon_ms <= 0 || srv->interrupted || s->abandon != NULL)
		return;
	s->abandon = xcalloc(1, sizeof *s->abandon);
	s->abandon->srv = srv;
	s->abandon->sock = s;
	lws_sul_schedule(srv->context, 0, &s->abandon->sul, abandon_fire,
	    (lws_usec_t)srv->opt.abandon_ms * LWS_US_PER_MS);
}

/* A reader came (back), or the socket is going: no abandon timer. */
static void
abandon_disarm(struct rh_socket *s)
{
	if (s->abandon == NULL)
		return;
	lws_sul_cancel(&s->abandon->sul);
	free(s->abandon);
	s->abandon = NULL;
}

/* A new connection: attach it to its socket and send the queue first. */
static int
on_established(struct lws *wsi, struct rh_conn *c)
{
	struct rh_server	*srv = rh_server_of(wsi);
	char			 path[256], id[AISH_MAX_NAME + 1];
	struct rh_conn		**tail;

	memset(c, 0, sizeof *c);
	c->wsi = wsi;
	c->srv = srv;
	if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0 ||
	    !path_socket_id(path, id, sizeof id) ||
	    (c->sock = rh_registry_find(srv, id)) == NULL)
		return -1;
	abandon_disarm(c->sock);
	for (tail = &c->sock->conns; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = c;
	if (rh_store_queue_each(srv->store, c->sock->id, send_queued, c) != 0)
		rh_log("cannot read the queue of %s: %s", c->sock->id,
		    rh_store_error(srv->store));
	return 0;
}

/* Sends the acknowledgement of a write, before any reply frame. */
static void
send_ack(void *ud, const struct rh_write_result *res)
{
	struct rh_conn	*c = ud;
	cJSON		*obj = cJSON_CreateObject();

	aish_json_add_ref(obj, "type", AISH_FRAME_ACK);
	aish_json_add_ref(obj, "id", res->id);
	if (c->sock->kind == RH_KIND_TEAM_CHAT)
		cJSON_AddItemToObject(obj, "members",
		    cJSON_Duplicate(res->members, 1));
	if (res->duplicate)
		cJSON_AddTrueToObject(obj, "duplicate");
	send_json(c, obj);
}

/* A write frame, already checked. */
static void
on_write(struct rh_conn *c, const struct rh_frame *f)
{
	struct rh_write_result	 res;
	struct rh_err		 err;

	if (rh_delivery_write(c->srv, c->sock, f->id, f->content,
	    f->flags | RH_WRITE_FROM_WS,
	    NULL, send_ack, c, &res, &err) != 0) {
		send_error(c, err.code, err.message, f->id);
		return;
	}
	rh_write_result_free(&res);
}

/* Forgets the stream being received. */
static void
stream_clear(struct rh_conn *c)
{
	free(c->stream_id);
	free(c->stream_mime);
	free(c->stream_buf);
	c->stream_id = c->stream_mime = NULL;
	c->stream_buf = NULL;
	c->stream_len = c->stream_cap = 0;
	c->stream_open = c->stream_dropped = 0;
}

/* A stream_start frame, already checked: binary frames follow, then
 * stream_end. */
static void
on_stream_start(struct rh_conn *c, const struct rh_frame *f)
{
	if (c->stream_open) {
		send_error(c, AISH_ERR_CONFLICT, "a stream is already open on "
		    "this connection: end it with stream_end first", f->id);
		return;
	}
	c->stream_open = 1;
	c->stream_mime = xstrdup(f->mime);
	if (f->id != NULL)
		c->stream_id = xstrdup(f->id);
	else
		c->stream_id = xasprintf("s-stream-%lld",
		    (long long)rh_now_ms());
}

/* A binary frame, or a piece of one: more bytes of the open stream. */
static void
on_stream_bytes(struct rh_conn *c, const char *in, size_t len)
{
	char	msg[160];

	if (!c->stream_open) {
		if (lws_is_first_fragment(c->wsi))
			send_error(c, AISH_ERR_BAD_REQUEST, "binary frames "
			    "belong to a stream: send stream_start first",
			    NULL);
		return;
	}
	if (c->stream_dropped)
		return;
	if (c->stream_len + len > AISH_MAX_STREAM) {
		snprintf(msg, sizeof msg, "binary streams are limited to %u "
		    "bytes; the stream is dropped", AISH_MAX_STREAM);
		send_error(c, AISH_ERR_TOO_LARGE, msg, c->stream_id);
		c->srv->streams_refused++;
		free(c->stream_buf);
		c->stream_buf = NULL;
		c->stream_len = c->stream_cap = 0;
		c->stream_dropped = 1;
		return;
	}
	/* Grow by doubling: a stream comes in thousands of pieces, and
	 * growing by each piece would copy it over and over. */
	if (c->stream_len + len + 1 > c->stream_cap) {
		c->stream_cap = c->stream_cap ? c->stream_cap : 64 * 1024;
		while (c->stream_cap < c->stream_len + len + 1)
			c->stream_cap *= 2;
		c->stream_buf = xrealloc(c->stream_buf, c->stream_cap);
	}
	memcpy(c->stream_buf + c->stream_len, in, len);
	c->stream_len += len;
}

/* A stream_end frame: the stream becomes a write of its bytes. */
static void
on_stream_end(struct rh_conn *c, const struct rh_frame *f)
{
	struct rh_write_result	 res;
	struct rh_err		 err;

	if (!c->stream_open) {
		send_error(c, AISH_ERR_BAD_REQUEST, "no stream is open: "
		    "stream_start comes first", f->id);
		return;
	}
	if (f->has_id && (f->id == NULL ||
	    strcmp(f->id, c->stream_id) != 0)) {
		send_error(c, AISH_ERR_BAD_REQUEST, "stream_end names another "
		    "stream than the open one", c->stream_id);
		return;
	}
	if (!c->stream_dropped && rh_delivery_stream(c->srv, c->sock,
	    c->stream_id, c->stream_mime, c->stream_buf, c->stream_len,
	    send_ack, c, &res, &err) != 0) {
		c->srv->streams_refused++;
		send_error(c, err.code, err.message, c->stream_id);
	} else if (!c->stream_dropped)
		rh_write_result_free(&res);
	stream_clear(c);
}

/* A cancel frame, already checked. */
static void
on_cancel(struct rh_conn *c, const struct rh_frame *f)
{
	char	msg[256];

	if (rh_delivery_cancel(c->srv, c->sock, f->id) == 0) {
		snprintf(msg, sizeof msg, "no write with id '%.128s' is "
		    "running on %s", f->id, c->sock->id);
		send_error(c, AISH_ERR_NOT_FOUND, msg, f->id);
	}
}

/* One whole text message from the client. */
static void
on_message(struct rh_conn *c, const char *text, size_t len)
{
	struct rh_frame	f;
	struct rh_err	err;

	if (rh_frame_parse(text, len, &f, &err) != 0)
		send_error(c, err.code, err.message, f.in_reply_to);
	else if (f.type == RH_FRAME_WRITE)
		on_write(c, &f);
	else if (f.type == RH_FRAME_CANCEL)
		on_cancel(c, &f);
	else if (f.type == RH_FRAME_STREAM_START)
		on_stream_start(c, &f);
	else if (f.type == RH_FRAME_STREAM_END)
		on_stream_end(c, &f);
	else
		rh_conn_send(c, "{\"type\":\"pong\"}", 15, NULL, 0);
	rh_frame_free(&f);
}

/* A piece of a message: reassembled up to the size limit. */
static void
on_receive(struct rh_conn *c, const char *in, size_t len)
{
	struct lws	*wsi = c->wsi;
	char		 msg[128];

	if (c->sock == NULL)
		return;
	if (lws_frame_is_binary(wsi)) {
		on_stream_bytes(c, in, len);
		return;
	}
	if (lws_is_first_fragment(wsi)) {
		c->rx_len = 0;
		c->rx_too_big = 0;
	}
	if (!c->rx_too_big && c->rx_len + len > AISH_MAX_BODY) {
		/* Said at once: the rest (maybe 2^63 bytes) is dropped as
		 * it comes. */
		c->rx_too_big = 1;
		free(c->rx);
		c->rx = NULL;
		snprintf(msg, sizeof msg, "messages are limited to %u bytes",
		    AISH_MAX_BODY);
		send_error(c, AISH_ERR_TOO_LARGE, msg, NULL);
	}
	if (!c->rx_too_big) {
		c->rx = xrealloc(c->rx, c->rx_len + len + 1);
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return;
	if (!c->rx_too_big)
		on_message(c, c->rx, c->rx_len);
	free(c->rx);
	c->rx = NULL;
	c->rx_len = 0;
}

/* Notes that the queued reply SEQ of SOCKET_ID was written out; its
 * removal is stored soon, in one transaction with others. */
static void
unqueue_later(struct rh_server *srv, const char *socket_id, int64_t seq)
{
	if (rh_store_queue_remove_later(srv->store, socket_id, seq) != 0) {
		rh_log("cannot unqueue %lld on %s: %s", (long long)seq,
		    socket_id, rh_store_error(srv->store));
		return;
	}
	rh_server_flush_soon(srv);
}

/* Corks (on = 1) or uncorks the connection's TCP socket: corked, the
 * kernel holds what is written until it is uncorked (or 200 ms pass). */
static void
set_cork(struct rh_conn *c, int on)
{
	lws_sockfd_type	fd = lws_get_socket_fd(c->wsi);

	if (c->corked == on || fd < 0)
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
	c->corked = on;
}

/* Writes the next waiting frame. */
static int
on_writeable(struct rh_conn *c)
{
	struct rh_out	*o = c->out_head;
	int		 n;

	if (c->closing || c->sock == NULL) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_GOINGAWAY,
		    (unsigned char *)(c->close_why ? c->close_why :
		    "socket deleted"), strlen(c->close_why ? c->close_why :
		    "socket deleted"));
		return -1;
	}
	if (o == NULL) {
		set_cork(c, 0);
		return 0;
	}
	if (o->next != NULL)
		set_cork(c, 1);
	n = lws_write(c->wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
	if (n < (int)o->len)
		return -1;
	if (o->queued_on != NULL)
		unqueue_later(c->srv, o->queued_on, o->seq);
	c->out_head = o->next;
	if (c->out_head == NULL)
		c->out_tail = NULL;
	c->out_bytes -= o->len;
	pending_total -= o->len;
	free(o->queued_on);
	free(o);
	if (c->out_head != NULL)
		lws_callback_on_writable(c->wsi);
	else
		set_cork(c, 0);
	return 0;
}

/* The connection is gone: detach it and free what it holds. */
static void
on_closed(struct rh_conn *c)
{
	struct rh_conn	**pp;

	if (c->sock != NULL) {
		for (pp = &c->sock->conns; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		}
	}
	if (c->sock != NULL && c->sock->conns == NULL)
		abandon_arm(c->srv, c->sock);
	out_free_all(c);
	free(c->rx);
	stream_clear(c);
	memset(c, 0, sizeof *c);
}

/* The WebSocket events of the protocol callback. */
int
rh_ws_event(struct lws *wsi, enum lws_callback_reasons reason,
    struct rh_conn *c, void *in, size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(wsi, c);
	case LWS_CALLBACK_RECEIVE:
		on_receive(c, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_writeable(c);
	case LWS_CALLBACK_CLOSED:
		on_closed(c);
		return 0;
	default:
		return 0;
	}
}

/* Closes every connection on a socket that is being deleted. */
void
rh_ws_socket_gone(struct rh_socket *s)
{
	struct rh_conn	*c, *next;

	abandon_disarm(s);
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		c->sock = NULL;
		c->next = NULL;
		c->closing = 1;
		c->close_why = "socket deleted";
		lws_callback_on_writable(c->wsi);
	}
	s->conns = NULL;
}
