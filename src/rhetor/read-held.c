/*
 * read-held.c: the replies /read answers took, held until their HTTP
 * readers got them (see read-held.h for the rules).
 *
 * Each connection keeps its answers written whole, oldest first, with
 * the stream offset of their last byte, and a timer that looks at the
 * acknowledgements of its reader's TCP (tcp-peer.c) until every one is
 * got; the socket of each answer keeps the holds (sent.c).
 */
#include <stdlib.h>
#include <string.h>

#include "read-held.h"
#include "registry.h"
#include "sent.h"
#include "server.h"
#include "tcp-peer.h"
#include "xalloc.h"

/* How often an answer written but not yet got is looked at. */
#define RECHECK_MS	100

/* One answer written whole, its replies not yet known got. */
struct rh_read_sent {
	struct rh_read_sent	*next;
	struct rh_read_take	 take;
	int64_t			 end;		/* stream offset of its last
						 * byte */
	int64_t			 sent_ms;	/* monotonic time it was
						 * written whole */
};

/* An answer takes queued reply seq of socket_id. */
void
rh_read_take_add(struct rh_server *srv, struct rh_read_take *t,
    const char *socket_id, int64_t seq)
{
	struct rh_socket	*s = rh_registry_find(srv, socket_id);

	if (s == NULL)
		return;
	if (t->socket_id == NULL)
		t->socket_id = xstrdup(socket_id);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->seqs = xrealloc(t->seqs, t->cap * sizeof *t->seqs);
	}
	t->seqs[t->n++] = seq;
	rh_sent_hold(s, seq);
}

/* Frees what t holds, its replies got or let go of. */
static void
take_end(struct rh_server *srv, struct rh_read_take *t, int got)
{
	struct rh_socket	*s = t->socket_id ?
	    rh_registry_find(srv, t->socket_id) : NULL;
	size_t			 i;

	for (i = 0; s != NULL && i < t->n; i++) {
		if (got)
			rh_sent_got(srv, s, t->seqs[i]);
		else
			rh_sent_drop(srv, s, t->seqs[i]);
	}
	free(t->socket_id);
	free(t->seqs);
	memset(t, 0, sizeof *t);
}

/* The answer was never written whole: its replies are let go of. */
void
rh_read_take_drop(struct rh_server *srv, struct rh_read_take *t)
{
	take_end(srv, t, 0);
}

/* Starts a connection's list. */
void
rh_read_held_init(struct rh_read_held *h, struct rh_server *srv,
    struct lws *wsi)
{
	memset(h, 0, sizeof *h);
	h->tail = &h->head;
	h->srv = srv;
	h->wsi = wsi;
}

/* True while answers wait to be known got. */
int
rh_read_held_pending(const struct rh_read_held *h)
{
	return h->head != NULL;
}

/* Takes the first answer off the list; its replies got or let go of. */
static void
shift(struct rh_read_held *h, int got)
{
	struct rh_read_sent	*r = h->head;

	h->head = r->next;
	if (h->head == NULL)
		h->tail = &h->head;
	take_end(h->srv, &r->take, got);
	free(r);
}

static void	look_later(struct rh_read_held *h, int64_t now);

/* Timer: the answers whose last byte the reader's TCP acknowledged a
 * second ago or more, the connection still up, are got. */
static void
look_at_acks(lws_sorted_usec_list_t *sul)
{
	struct rh_read_held	*h = lws_container_of(sul,
	    struct rh_read_held, sul);
	int64_t			 now = rh_mono_ms();
	struct rh_peer		 p;

	rh_tcp_peer(lws_get_socket_fd(h->wsi), &p);
	if (p.state != RH_PEER_OPEN)
		return;		/* it is ending: rh_read_held_settle decides */
	while (h->head != NULL && h->head->end <= p.acked &&
	    now - h->head->sent_ms >= RH_SENT_CONFIRM_MS)
		shift(h, 1);
	if (h->head != NULL)
		look_later(h, now);
	else if (h->close_when_got)
		lws_set_timeout(h->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
}

/* Schedules the next look at the acknowledgements, if any is owed. */
static void
look_later(struct rh_read_held *h, int64_t now)
{
	int64_t	due;

	if (h->head == NULL)
		return;
	due = h->head->sent_ms + RH_SENT_CONFIRM_MS - now;
	if (due < RECHECK_MS)
		due = RECHECK_MS;
	lws_sul_schedule(h->srv->context, 0, &h->sul, look_at_acks,
	    (lws_usec_t)due * LWS_US_PER_MS);
}

/* The answer that took t was written whole (see read-held.h). */
void
rh_read_held_sent(struct rh_read_held *h, struct rh_read_take *t,
    int64_t end)
{
	struct rh_read_sent	*r;

	if (t->n == 0) {
		take_end(h->srv, t, 0);
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->take = *t;
	memset(t, 0, sizeof *t);
	r->end = end;
	r->sent_ms = rh_mono_ms();
	*h->tail = r;
	h->tail = &r->next;
	if (h->head == r)
		look_later(h, r->sent_ms);
}

/* The connection ends (see read-held.h).  Ended by the reader without a
 * reset, what its TCP acknowledged is got; still open (the server closes
 * it: a timeout, a refused request), what the reader kept for a second
 * is got; at shutdown, what its TCP took is. */
void
rh_read_held_settle(struct rh_read_held *h)
{
	struct rh_peer	p;
	int64_t		now = rh_mono_ms();
	int		got;

	lws_sul_cancel(&h->sul);
	if (h->head == NULL)
		return;
	rh_tcp_peer(lws_get_socket_fd(h->wsi), &p);
	while (h->head != NULL) {
		if (p.state == RH_PEER_UNKNOWN)
			got = 1;
		else if (p.state == RH_PEER_RESET || h->head->end > p.acked)
			got = 0;
		else if (p.state == RH_PEER_CLOSED || h->srv->interrupted)
			got = 1;
		else
			got = now - h->head->sent_ms >= RH_SENT_CONFIRM_MS;
		shift(h, got);
	}
}
