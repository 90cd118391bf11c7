/*
 * sent.c: queued replies held by WebSocket readers until they got them
 * (see sent.h for the rules).
 *
 * Each socket keeps the seqs its connections hold, in a sorted array with
 * a count of holders; each connection keeps the replies it wrote, oldest
 * first, with the stream offset of their last byte, and a timer that
 * looks at the acknowledgements of its reader's TCP (tcp-peer.c) until
 * every one is got.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "sent.h"
#include "server.h"
#include "tcp-peer.h"
#include "ws.h"
#include "xalloc.h"

/* How often a reply written but not yet acknowledged is looked at. */
#define RECHECK_MS	100

/* One seq held by connections of a socket. */
struct rh_hold {
	int64_t		seq;
	int		count;
};

/* The seqs a socket's connections hold, sorted. */
struct rh_holds {
	struct rh_hold	*v;
	size_t		 n, cap;
};

/* The index of seq in h, or where it would go; *found says which. */
static size_t
hold_find(const struct rh_holds *h, int64_t seq, int *found)
{
	size_t	lo = 0, hi = h ? h->n : 0, mid;

	*found = 0;
	/* Seqs mostly come in order: look at the end first. */
	if (hi > 0 && h->v[hi - 1].seq < seq)
		return hi;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (h->v[mid].seq == seq) {
			*found = 1;
			return mid;
		}
		if (h->v[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Removes entry i of h. */
static void
hold_remove(struct rh_holds *h, size_t i)
{
	memmove(h->v + i, h->v + i + 1, (h->n - i - 1) * sizeof *h->v);
	h->n--;
}

/* A connection takes queued reply seq of s. */
void
rh_sent_hold(struct rh_socket *s, int64_t seq)
{
	struct rh_holds	*h;
	size_t		 i;
	int		 found;

	if (s->holds == NULL)
		s->holds = xcalloc(1, sizeof *s->holds);
	h = s->holds;
	i = hold_find(h, seq, &found);
	if (found) {
		h->v[i].count++;
		return;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = xrealloc(h->v, h->cap * sizeof *h->v);
	}
	memmove(h->v + i + 1, h->v + i, (h->n - i) * sizeof *h->v);
	h->v[i].seq = seq;
	h->v[i].count = 1;
	h->n++;
}

/* True while a connection holds reply seq of s. */
int
rh_sent_is_held(const struct rh_socket *s, int64_t seq)
{
	int	found;

	(void)hold_find(s->holds, seq, &found);
	return found;
}

/* Forgets every hold of s. */
void
rh_sent_clear(struct rh_socket *s)
{
	if (s->holds == NULL)
		return;
	free(s->holds->v);
	free(s->holds);
	s->holds = NULL;
}

/* How many of s's queued replies a reader would get now. */
int
rh_sent_available(struct rh_server *srv, struct rh_socket *s)
{
	int	n = rh_store_queue_count(srv->store, s->id);
	int	held = s->holds ? (int)s->holds->n : 0;

	if (n < 0)
		return n;
	return n > held ? n - held : 0;
}

/* What offer_again looks for in a socket's queue. */
struct offer {
	struct rh_socket	*sock;
	int64_t			 seq;		/* this reply, or */
	const char		*write_id;	/* the replies to this write */
	struct rh_conn		*only;		/* to this connection, or to
						 * every open one */
	int			 sent;
};

/* True when c holds reply seq: waiting to be written, or written and not
 * yet known to be got. */
static int
conn_holds(const struct rh_conn *c, int64_t seq)
{
	size_t	i;

	for (i = 0; i < c->sent.n; i++) {
		if (c->sent.v[i].seq == seq)
			return 1;
	}
	return rh_conn_has_queued(c, seq);
}

/* Store callback: sends one queued reply that the offer wants.  A reply
 * offered again is held by nobody; one asked for again goes to the
 * asker unless it holds it already, even while another connection does
 * (one that went away unseen, say). */
static void
offer_row(void *ud, const struct rh_queued_row *row)
{
	struct offer	*o = ud;
	struct rh_conn	*c;
	cJSON		*frame;
	const char	*irt;

	if (o->write_id == NULL && row->seq != o->seq)
		return;
	if (o->only != NULL ? conn_holds(o->only, row->seq) :
	    rh_sent_is_held(o->sock, row->seq))
		return;
	if (o->write_id != NULL) {
		frame = cJSON_Parse(row->json);
		irt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    frame, "in_reply_to"));
		if (irt == NULL || strcmp(irt, o->write_id) != 0) {
			cJSON_Delete(frame);
			return;
		}
		cJSON_Delete(frame);
	}
	for (c = o->only ? o->only : o->sock->conns; c != NULL;
	    c = o->only ? NULL : c->next) {
		if (c->closing)
			continue;
		rh_conn_send(c, row->json, strlen(row->json), o->sock->id,
		    row->seq);
		o->sent++;
	}
}

/* Reply seq of s is held by nobody now: its open connections get it, or
 * else the listeners hear that s's queue has it (the /read requests
 * waiting on s answer); else it waits for the next reader. */
static void
offer_again(struct rh_server *srv, struct rh_socket *s, int64_t seq)
{
	struct offer	o = { s, seq, NULL, NULL, 0 };

	if (s->conns != NULL && rh_store_queue_each(srv->store, s->id,
	    offer_row, &o) != 0)
		rh_log("cannot read the queue of %s: %s", s->id,
		    rh_store_error(srv->store));
	if (o.sent == 0)
		rh_listeners_queued(srv, s);
}

/* A connection lets go of reply seq of s; the last one to do so offers
 * it again. */
void
rh_sent_drop(struct rh_server *srv, struct rh_socket *s, int64_t seq)
{
	size_t	i;
	int	found;

	i = hold_find(s->holds, seq, &found);
	if (!found || --s->holds->v[i].count > 0)
		return;
	hold_remove(s->holds, i);
	if (!srv->interrupted)
		offer_again(srv, s, seq);
}

/* Reply seq of s was got: it leaves the queue (the removal is stored
 * soon, with others; in a cluster, every node's) and nobody holds it any
 * more. */
void
rh_sent_got(struct rh_server *srv, struct rh_socket *s, int64_t seq)
{
	size_t	i;
	int	found;

	i = hold_find(s->holds, seq, &found);
	if (!found)
		return;		/* got on another connection already */
	hold_remove(s->holds, i);
	if (rh_store_queue_remove_later(srv->store, s->id, seq) != 0) {
		rh_log("cannot unqueue %lld on %s: %s", (long long)seq, s->id,
		    rh_store_error(srv->store));
		return;
	}
	rh_cluster_queue_got(srv, s->id, seq);
	rh_server_flush_soon(srv);
}

/* Looks at the reader's TCP. */
static void
peer_of(struct rh_conn *c, struct rh_peer *p)
{
	rh_tcp_peer(lws_get_socket_fd(c->wsi), p);
}

/* The stream offsets libwebsockets had not yet written when their
 * replies were written are known once it wrote them. */
static void
fill_ends(struct rh_conn *c, const struct rh_peer *p)
{
	size_t	i;

	if (lws_partial_buffered(c->wsi))
		return;
	for (i = 0; i < c->sent.n; i++) {
		if (c->sent.v[i].end < 0)
			c->sent.v[i].end = p->written;
	}
}

/* Removes the first n replies of c's list. */
static void
sent_shift(struct rh_conn *c, size_t n)
{
	memmove(c->sent.v, c->sent.v + n, (c->sent.n - n) * sizeof *c->sent.v);
	c->sent.n -= n;
}

static void	look_later(struct rh_conn *c, int64_t now);

/* The replies of c whose last byte the reader's TCP acknowledged, the
 * connection still up, and that were written at least wait_ms ago, are
 * got. */
static void
confirm(struct rh_conn *c, int64_t now, int64_t wait_ms)
{
	struct rh_sent_list	*l = &c->sent;
	struct rh_peer		 p;
	size_t			 i;

	if (c->sock == NULL || l->settled || l->n == 0)
		return;
	peer_of(c, &p);
	if (p.state != RH_PEER_OPEN)
		return;		/* it is ending: rh_sent_settle decides */
	fill_ends(c, &p);
	for (i = 0; i < l->n; i++) {
		if (l->v[i].end < 0 || l->v[i].end > p.acked ||
		    now - l->v[i].sent_ms < wait_ms)
			break;
		rh_sent_got(c->srv, c->sock, l->v[i].seq);
	}
	sent_shift(c, i);
}

/* Timer: what the reader's TCP took a second ago or more is got. */
static void
look_at_acks(lws_sorted_usec_list_t *sul)
{
	struct rh_sent_list	*l = lws_container_of(sul,
	    struct rh_sent_list, sul);
	int64_t			 now = rh_mono_ms();

	confirm(l->conn, now, RH_SENT_CONFIRM_MS);
	if (!l->settled)
		look_later(l->conn, now);
}

/* A socket whose readers hold half a queue's worth: their TCPs' acks are
 * taken as got at once, without the second's wait, so that held replies
 * never fill the queue (whose oldest would be dropped).  A reader whose
 * TCP keeps taking replies that fast is reading them. */
void
rh_sent_relieve(struct rh_socket *s)
{
	struct rh_conn	*c;
	int64_t		 now;

	/* Looked at every 64 replies taken, not each: a big fan-out takes
	 * thousands in one go, most not yet written. */
	if (s->holds == NULL || s->holds->n < AISH_QUEUE_CAP / 2 ||
	    s->holds->n % 64 != 0)
		return;
	now = rh_mono_ms();
	for (c = s->conns; c != NULL; c = c->next)
		confirm(c, now, 0);
}

/* Schedules the next look at c's acknowledgements, if any is owed. */
static void
look_later(struct rh_conn *c, int64_t now)
{
	int64_t	due;

	if (c->sent.n == 0)
		return;
	due = c->sent.v[0].sent_ms + RH_SENT_CONFIRM_MS - now;
	if (due < RECHECK_MS)
		due = RECHECK_MS;
	c->sent.conn = c;
	lws_sul_schedule(c->srv->context, 0, &c->sent.sul, look_at_acks,
	    (lws_usec_t)due * LWS_US_PER_MS);
}

/* Before a queued reply is written: is the reader still there?  What the
 * kernel says is kept for rh_sent_written. */
int
rh_sent_peer_open(struct rh_conn *c)
{
	struct rh_peer	p;

	peer_of(c, &p);
	c->sent.look = p;
	if (p.state != RH_PEER_OPEN && p.state != RH_PEER_UNKNOWN)
		return -1;
	fill_ends(c, &p);
	return 0;
}

/* After a queued reply was written to c (see sent.h). */
void
rh_sent_written(struct rh_conn *c, int64_t seq, size_t wire_len)
{
	struct rh_sent_reply	*r;
	int64_t			 now = rh_mono_ms();

	if (c->sock == NULL)
		return;
	if (c->sent.look.state == RH_PEER_UNKNOWN) {
		/* The kernel says nothing of the reader: written is all
		 * there is to know. */
		rh_sent_got(c->srv, c->sock, seq);
		return;
	}
	if (c->sent.n == c->sent.cap) {
		c->sent.cap = c->sent.cap ? c->sent.cap * 2 : 8;
		c->sent.v = xrealloc(c->sent.v, c->sent.cap * sizeof *c->sent.v);
	}
	r = &c->sent.v[c->sent.n++];
	r->seq = seq;
	r->end = lws_partial_buffered(c->wsi) ? -1 :
	    c->sent.look.written + (int64_t)wire_len;
	r->received = c->sent.look.received;
	r->sent_ms = now;
	if (c->sent.n == 1)
		look_later(c, now);
}

/* Judges n replies of socket s written to a reader that ended as p
 * says: the ones its TCP acknowledged are got, unless it reset the
 * connection; the others are let go of. */
static void
judge(struct rh_server *srv, struct rh_socket *s,
    const struct rh_sent_reply *v, size_t n, const struct rh_peer *p)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (p->state == RH_PEER_UNKNOWN || (p->state != RH_PEER_RESET &&
		    v[i].end >= 0 && v[i].end <= p->acked))
			rh_sent_got(srv, s, v[i].seq);
		else
			rh_sent_drop(srv, s, v[i].seq);
	}
}

/* Judges c's replies for a reader that sent a close frame: it got what
 * its TCP took, except the replies written once its close frame had come
 * in (up to upto bytes from it), which crossed it. */
static void
judge_closing(struct rh_conn *c, const struct rh_peer *p)
{
	int64_t	upto = p->received - p->unread;
	size_t	i;

	for (i = 0; i < c->sent.n; i++) {
		if (c->sent.v[i].end >= 0 && c->sent.v[i].end <= p->acked &&
		    c->sent.v[i].received < upto)
			rh_sent_got(c->srv, c->sock, c->sent.v[i].seq);
		else
			rh_sent_drop(c->srv, c->sock, c->sent.v[i].seq);
	}
}

/* Ends c's list: settled, the timer stopped, nothing more written. */
static void
sent_end(struct rh_conn *c)
{
	c->sent.settled = 1;
	c->closing = 1;
	lws_sul_cancel(&c->sent.sul);
}

/* Frees c's list once judged. */
static void
sent_free(struct rh_conn *c)
{
	free(c->sent.v);
	c->sent.v = NULL;
	c->sent.n = c->sent.cap = 0;
}

/* c's reader sent a close frame (see sent.h). */
void
rh_sent_peer_closing(struct rh_conn *c)
{
	struct rh_peer	 p;

	if (c->sent.settled)
		return;
	peer_of(c, &p);
	if (p.state != RH_PEER_OPEN || c->sock == NULL) {
		rh_sent_settle(c);	/* its FIN, or a reset, is in */
		return;
	}
	sent_end(c);
	fill_ends(c, &p);
	judge_closing(c, &p);
	sent_free(c);
}

/* c's connection ends (see sent.h). */
void
rh_sent_settle(struct rh_conn *c)
{
	struct rh_peer	p;

	if (c->sent.settled)
		return;
	sent_end(c);
	if (c->sock != NULL && c->sent.n > 0) {
		peer_of(c, &p);
		fill_ends(c, &p);
		if (p.state == RH_PEER_OPEN && !c->srv->interrupted &&
		    c->close_why == NULL) {
			/* Closed by libwebsockets, the reader still there: a
			 * close frame that came while a frame was half written
			 * (it then skips LWS_CALLBACK_WS_PEER_INITIATED_CLOSE). */
			judge_closing(c, &p);
			sent_free(c);
			return;
		}
		/* Closed by the server (a reader too slow, say), the reader
		 * still there: what its TCP took may lie unread.  At
		 * shutdown it is taken as got, the reader being there. */
		if (p.state == RH_PEER_OPEN && !c->srv->interrupted)
			p.state = RH_PEER_RESET;
		judge(c->srv, c->sock, c->sent.v, c->sent.n, &p);
	}
	sent_free(c);
}

/* c asked again for write_id (see sent.h). */
void
rh_sent_resend(struct rh_conn *c, const char *write_id)
{
	struct offer	o = { c->sock, 0, write_id, c, 0 };

	if (c->sock == NULL)
		return;
	if (rh_store_queue_each(c->srv->store, c->sock->id, offer_row,
	    &o) != 0)
		rh_log("cannot read the queue of %s: %s", c->sock->id,
		    rh_store_error(c->srv->store));
}
