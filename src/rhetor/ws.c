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

#include "cluster.h"
#include "delivery.h"
#include "frame.h"
#include "http.h"
#include "json-build.h"
#include "names.h"
#include "registry.h"
#include "ws.h"
#include "ws-rx.h"
#include "xalloc.h"

/* A reader that lets this much pile up unwritten is dropped; so is one
 * with frames still unwritten when all readers together hold more than
 * SERVER_MAX_PENDING, so that many readers that never read cannot make
 * the server grow without bound (doc/guarantees.md).  Frames count at
 * what they take in memory (heap_size), not their length: a pong of 15
 * bytes holds 80. */
#define CONN_MAX_PENDING	(64u * 1024 * 1024)
#define SERVER_MAX_PENDING	(128u * 1024 * 1024)
/* Unfinished binary streams of all connections together are held up to
 * this many bytes, and text messages being put together from pieces up to
 * that many; a stream or message that would pass its bound is refused
 * (overloaded, ws-rx.c). */
#define SERVER_MAX_STREAMS	(256u * 1024 * 1024)
#define SERVER_MAX_PARTIAL	(128u * 1024 * 1024)
/* Seconds a dropped reader gets to take its close frame. */
#define CONN_DROP_SECS		2

/* A frame waiting to be written. */
struct rh_out {
	struct rh_out	*next;
	char		*queued_on;	/* socket whose queue holds it, or NULL */
	int64_t		 seq;
	size_t		 len;
	size_t		 cost;		/* bytes it holds in memory */
	unsigned char	 buf[];		/* LWS_PRE + len bytes */
};

static const char ws_prefix[] = AISH_PATH_WS_SOCKET;

/* What an allocation of n bytes takes from the heap: glibc's chunk, with
 * its size word, rounded to 16 bytes and at least 32. */
static size_t
heap_size(size_t n)
{
	size_t	chunk = (n + sizeof(size_t) + 15) & ~(size_t)15;

	return chunk < 32 ? 32 : chunk;
}

/* What a frame of len bytes waiting on a connection holds in memory. */
static size_t
out_cost(size_t len, const char *queued_on)
{
	return heap_size(sizeof(struct rh_out) + LWS_PRE + len) +
	    (queued_on != NULL ? heap_size(strlen(queued_on) + 1) : 0);
}

/* Frees the frames a connection has not written; those from a queue stay
 * in the store and are offered again. */
static void
out_free_all(struct rh_conn *c)
{
	struct rh_out	*o, *next;

	for (o = c->out_head; o != NULL; o = next) {
		next = o->next;
		if (o->queued_on != NULL && c->sock != NULL)
			rh_sent_drop(c->srv, c->sock, o->seq);
		free(o->queued_on);
		free(o);
	}
	c->out_head = c->out_tail = NULL;
	c->srv->unwritten_bytes -= c->out_bytes;
	c->out_bytes = 0;
}

/* Drops a reader that does not read: its frames are freed now, and the
 * connection is closed, cleanly if it takes the close frame in time. */
static void
drop_slow_reader(struct rh_conn *c)
{
	rh_log("dropping a reader of %s that does not read (%zu bytes "
	    "unwritten)", c->sock ? c->sock->id : "?", c->out_bytes);
	c->srv->readers_dropped++;
	c->closing = 1;		/* its frames are offered to others */
	c->close_why = "reader too slow";
	out_free_all(c);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, CONN_DROP_SECS);
	lws_callback_on_writable(c->wsi);
}

/* The WebSocket listener: queues a frame on every connection of s. */
static size_t
ws_listener_frame(struct rh_server *srv, struct rh_socket *s,
    const char *json, size_t len, const char *queue_id, int64_t seq)
{
	struct rh_conn	*c;
	size_t		 n = 0;

	(void)srv;
	for (c = s->conns; c != NULL; c = c->next, n++)
		rh_conn_send(c, json, len, queue_id, seq);
	return n;
}

const struct rh_listener rh_ws_listener = {
	.name = "websocket",
	.frame = ws_listener_frame,
	.gone = rh_ws_socket_gone,
};

/* Queues a text frame on a connection (see ws.h). */
void
rh_conn_send(struct rh_conn *c, const char *json, size_t len,
    const char *queued_on, int64_t seq)
{
	struct rh_out	*o;
	size_t		 cost = out_cost(len, queued_on);

	if (c->closing)
		return;
	if (c->out_bytes + cost > CONN_MAX_PENDING || (c->out_bytes > 0 &&
	    c->srv->unwritten_bytes + cost > SERVER_MAX_PENDING)) {
		drop_slow_reader(c);
		return;
	}
	o = xmalloc(sizeof *o + LWS_PRE + len);
	o->cost = cost;
	o->next = NULL;
	o->queued_on = queued_on ? xstrdup(queued_on) : NULL;
	if (queued_on != NULL && c->sock != NULL) {
		rh_sent_hold(c->sock, seq);
		rh_sent_relieve(c->sock);
	}
	o->seq = seq;
	o->len = len;
	memcpy(o->buf + LWS_PRE, json, len);
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_bytes += cost;
	c->srv->unwritten_bytes += cost;
	lws_callback_on_writable(c->wsi);
}

/* True when queued reply seq waits unwritten on c. */
int
rh_conn_has_queued(const struct rh_conn *c, int64_t seq)
{
	const struct rh_out	*o;

	for (o = c->out_head; o != NULL; o = o->next) {
		if (o->queued_on != NULL && o->seq == seq)
			return 1;
	}
	return 0;
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

/* Store callback: queues one stored reply for a new reader, unless
 * another reader holds it. */
static void
send_queued(void *ud, const struct rh_queued_row *row)
{
	struct rh_conn	*c = ud;

	if (!rh_sent_is_held(c->sock, row->seq))
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
	if (strlen(p) >= len || !ac_name_valid(p))
		return 0;
	strcpy(id, p);
	return 1;
}

/* Accepts or refuses an upgrade before it happens.  http.c has run the
 * browser guard and the token check on it already: only upgrades it
 * checked reach this vhost. */
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

static void	abandon_arm(struct rh_server *, struct rh_socket *);

/* Timer: nobody came back to the socket; its writers' work stops (each
 * write ends with a "cancelled" error, which waits in the queue), and a
 * socket of that session with nothing left in it goes. */
static void
abandon_fire(lws_sorted_usec_list_t *sul)
{
	struct rh_abandon	*a = lws_container_of(sul, struct rh_abandon,
	    sul);
	struct rh_socket	*s = a->sock;
	struct rh_server	*srv = a->srv;
	int			 n;

	s->abandon = NULL;
	n = rh_delivery_abandon(srv, s);
	if (n > 0)
		rh_log("%s: its writers went away; stopped %d replies", s->id,
		    n);
	free(a);
	/* s may be gone after this; while a reply for it is still owed
	 * (say, from a team chat that another session started), the timer
	 * runs again. */
	if (rh_registry_session_over(srv, s) < 0)
		abandon_arm(srv, s);
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
	c->sock->had_reader = 1;
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

	ac_json_add_ref(obj, "type", AISH_FRAME_ACK);
	ac_json_add_ref(obj, "id", res->id);
	if (c->sock->kind == RH_KIND_TEAM_CHAT)
		cJSON_AddItemToObject(obj, "members",
		    cJSON_Duplicate(res->members, 1));
	if (res->duplicate)
		cJSON_AddTrueToObject(obj, "duplicate");
	/* The writer gets no turn frame of its own write: this is its seq. */
	if (res->seq > 0)
		ac_json_add_int(obj, "seq", res->seq);
	send_json(c, obj);
	/* The reply to a write sent again that was never got comes now. */
	if (res->duplicate)
		rh_sent_resend(c, res->id);
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

/* The limits of what clients send, and the server's counts of it. */
static struct rh_rx_bounds
rx_bounds(struct rh_server *srv)
{
	struct rh_rx_bounds	b;

	b.max_message = AISH_MAX_BODY;
	b.max_stream = AISH_MAX_STREAM;
	b.max_partial = SERVER_MAX_PARTIAL;
	b.max_streams = SERVER_MAX_STREAMS;
	b.partial_bytes = &srv->partial_bytes;
	b.stream_bytes = &srv->stream_bytes;
	return b;
}

static const struct rh_rx_ops	rx_ops;

/* A stream_start frame, already checked: binary frames follow, then
 * stream_end. */
static void
on_stream_start(struct rh_conn *c, const struct rh_frame *f)
{
	char	id[48];

	snprintf(id, sizeof id, "s-stream-%lld", (long long)rh_now_ms());
	(void)rh_rx_stream_start(&c->rx, f, id, &rx_ops, c);
}

/* A stream_end frame: the stream becomes a write of its bytes. */
static void
on_stream_end(struct rh_conn *c, const struct rh_frame *f)
{
	struct rh_rx_bounds	 b = rx_bounds(c->srv);
	struct rh_write_result	 res;
	struct rh_err		 err;
	int			 whole;

	if ((whole = rh_rx_stream_end(&c->rx, f, &rx_ops, c)) < 0)
		return;
	if (whole && rh_delivery_stream(c->srv, c->sock, c->rx.stream_id,
	    c->rx.stream_mime, c->rx.stream_buf, c->rx.stream_len, send_ack,
	    c, &res, &err) != 0) {
		c->srv->streams_refused++;
		send_error(c, err.code, err.message, c->rx.stream_id);
	} else if (whole)
		rh_write_result_free(&res);
	rh_rx_stream_clear(&c->rx, &b);
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

/* ws-rx.c callback: a whole text message. */
static void
rx_message(void *ud, const char *text, size_t len)
{
	on_message(ud, text, len);
}

/* ws-rx.c callback: an error frame for the client. */
static void
rx_error(void *ud, const char *code, const char *message,
    const char *in_reply_to)
{
	send_error(ud, code, message, in_reply_to);
}

/* ws-rx.c callback: a stream was refused. */
static void
rx_refused(void *ud)
{
	struct rh_conn	*c = ud;

	c->srv->streams_refused++;
}

static const struct rh_rx_ops	rx_ops = {
	rx_message, rx_error, rx_refused
};

/* A piece of a message: reassembled up to the size limit; binary ones
 * are pieces of the open stream. */
static void
on_receive(struct rh_conn *c, const char *in, size_t len)
{
	struct lws		*wsi = c->wsi;
	struct rh_rx_bounds	 b;

	if (c->sock == NULL)
		return;
	b = rx_bounds(c->srv);
	if (lws_frame_is_binary(wsi))
		rh_rx_binary(&c->rx, &b, in, len, lws_is_first_fragment(wsi),
		    &rx_ops, c);
	else
		rh_rx_text(&c->rx, &b, in, len, lws_is_first_fragment(wsi),
		    lws_is_final_fragment(wsi) &&
		    !lws_remaining_packet_payload(wsi), &rx_ops, c);
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

/* The bytes a frame of len bytes takes on the wire: a server's frames
 * are not masked (RFC 6455, 5.2). */
static size_t
wire_len(size_t len)
{
	return len + (len < 126 ? 2 : len < 65536 ? 4 : 10);
}

/* Writes the next waiting frame.  A queued reply is written only while
 * the reader is there: one written after the reader closed would never
 * be read, yet its TCP might take it. */
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
	/* While replies wait to be known got, any frame written after the
	 * reader closed would make its TCP reset the connection, and a reset
	 * says nothing of what it got: look before every frame then.  Once
	 * the reader closed, nothing more is written; libwebsockets still
	 * reads what the reader sent before closing (a write to accept,
	 * say), then finds the end and closes. */
	if ((o->queued_on != NULL || c->sent.n > 0) &&
	    rh_sent_peer_open(c) != 0)
		return 0;
	if (o->next != NULL)
		set_cork(c, 1);
	n = lws_write(c->wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
	if (n < (int)o->len)
		return -1;
	if (o->queued_on != NULL)
		rh_sent_written(c, o->seq, wire_len(o->len));
	c->out_head = o->next;
	if (c->out_head == NULL)
		c->out_tail = NULL;
	c->out_bytes -= o->cost;
	c->srv->unwritten_bytes -= o->cost;
	free(o->queued_on);
	free(o);
	if (c->out_head != NULL)
		lws_callback_on_writable(c->wsi);
	else
		set_cork(c, 0);
	return 0;
}

/* The connection is gone: what its reader got leaves the queue, the rest
 * is offered again; then it is detached and what it holds freed. */
static void
on_closed(struct rh_conn *c)
{
	struct rh_conn		**pp;
	struct rh_rx_bounds	  b;

	rh_sent_settle(c);
	rh_cluster_conn_gone(c->srv, c);
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
	b = rx_bounds(c->srv);
	rh_rx_free(&c->rx, &b);
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
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (c->wsi == wsi)
			rh_sent_peer_closing(c);
		return 0;
	case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
		/* The first sign that the connection ends: what the reader got
		 * is judged now, before a close frame of ours answers a reader
		 * that is gone (and makes its TCP reset the connection). */
		if (c->wsi == wsi)
			rh_sent_settle(c);
		return 0;
	case LWS_CALLBACK_CLOSED:
		on_closed(c);
		return 0;
	default:
		return 0;
	}
}

/* Closes every connection on a socket that is being deleted. */
void
rh_ws_socket_gone(struct rh_server *srv, struct rh_socket *s)
{
	struct rh_conn	*c, *next;

	(void)srv;
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
