/*
 * reach.c: the requests of aish-bridge while aish-rhetor is away.
 *
 * A request must not spin when the server is gone, nor fail once it is
 * back.  libaish connects at once for every new write, so a request made
 * while the server is away hears within milliseconds that its attempt
 * failed; its write never left the bridge, the server cannot have it,
 * and the request fails at once, naming the URL (req_fail_unsent).  A
 * write that went out may be stored by the server, which answers it
 * after a restart: its request waits, up to --unreachable-ms of the
 * socket being down (req_unreachable).  Connection states reach the
 * requests from the loop (conn_pass), never from inside libaish, which
 * may report a failure inside the very call that queued the write.
 *
 * With several node URLs (--rhetor URL,URL,...), libaish moves to the
 * next node when one goes away; the bridge only logs the move, in one
 * line (reach_note_node).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "xalloc.h"

/* Stops r's work (its write is taken back) and answers -32001. */
static void
stop_unreachable(struct req *r, const char *why)
{
	if (r->ops != NULL && r->ops->on_unreachable != NULL) {
		r->ops->on_unreachable(r);
		return;
	}
	if (r->ops != NULL && r->ops->on_stop != NULL)
		r->ops->on_stop(r);
	req_fail_unreachable(r, why);
}

/* Tells the requests that use socket_id that it stays unreachable. */
void
req_unreachable(const char *socket_id)
{
	struct req	*r, *next;

	for (r = br.reqs; r != NULL; r = next) {
		next = r->next;
		if (r->done || r->socket_id[0] == '\0' ||
		    strcmp(r->socket_id, socket_id) != 0)
			continue;
		stop_unreachable(r, "the connection is down");
		next = br.reqs;
	}
}

/* An on_conn for requests that write: a connection attempt that failed
 * while r's write never left the bridge means the server does not have
 * it and cannot get it now: r fails at once (its write taken back)
 * rather than waiting for a server that is not there.  A write that went
 * out waits (the server may have stored it, and answers it after a
 * restart) until --unreachable-ms have passed. */
void
req_fail_unsent(struct req *r, aish_conn_state_t state)
{
	if (state != AISH_CONN_RETRYING || r->write_id[0] == '\0' ||
	    aish_write_sent(br.aish, r->socket_id, r->write_id))
		return;
	stop_unreachable(r, "the connection failed (is it running?)");
}

/* Logs, in one line, that libaish moved to another node of the URL list
 * (once per move); called when a connection comes up. */
void
reach_note_node(void)
{
	const char	*now = aish_node_url(br.aish);

	if (now == NULL || br.node_url == NULL ||
	    strcmp(now, br.node_url) == 0)
		return;
	logmsg("aish-rhetor at %s is away: now using %s", br.node_url, now);
	br.node_url = now;
}

/* Cancels r's current write on the server (the AI stops working); the
 * on_stop of every request that writes. */
void
req_stop_write(struct req *r)
{
	char	id[AISH_ID_SIZE];

	if (r->write_id[0] == '\0')
		return;
	/* Forget the id first: a local "cancelled" must not answer r. */
	memcpy(id, r->write_id, sizeof id);
	r->write_id[0] = '\0';
	aish_cancel(br.aish, r->socket_id, id);
}

/* ---- connection states, seen from the loop ---- */

/* The newest state of each socket whose connection changed since the
 * last pass of conn_pass. */
static struct conn_event {
	char			 socket_id[AISH_NAME_MAX + 1];
	aish_conn_state_t	 state;
} *conn_events;
static size_t			 n_conn_events, cap_conn_events;
static lws_sorted_usec_list_t	 conn_sul;
static int			 conn_sul_set;

/* Timer: hands each state change to the requests on its socket. */
static void
conn_pass(lws_sorted_usec_list_t *sul)
{
	struct conn_event	 ev;
	struct req		*r, **todo;
	size_t			 n, i;

	conn_sul_set = 0;
	while (n_conn_events > 0) {
		ev = conn_events[--n_conn_events];
		/* Hold each first: one may answer or free another. */
		for (n = 1, r = br.reqs; r != NULL; r = r->next)
			n++;
		todo = xcalloc(n, sizeof *todo);
		for (n = 0, r = br.reqs; r != NULL; r = r->next) {
			if (!r->done && r->ops != NULL &&
			    r->ops->on_conn != NULL &&
			    strcmp(r->socket_id, ev.socket_id) == 0) {
				req_hold(r);
				todo[n++] = r;
			}
		}
		for (i = 0; i < n; i++) {
			if (req_release(todo[i]) && todo[i]->ops->on_conn)
				todo[i]->ops->on_conn(todo[i], ev.state);
		}
		free(todo);
	}
}

/* Notes that socket_id's connection changed state; the requests on it
 * hear of it from the loop, out of libaish's call. */
void
req_conn_changed(const char *socket_id, aish_conn_state_t state)
{
	size_t	i;

	for (i = 0; i < n_conn_events; i++) {
		if (strcmp(conn_events[i].socket_id, socket_id) == 0)
			break;
	}
	if (i == n_conn_events) {
		if (n_conn_events == cap_conn_events) {
			cap_conn_events = cap_conn_events ? cap_conn_events * 2
			    : 8;
			conn_events = xrealloc(conn_events, cap_conn_events *
			    sizeof *conn_events);
		}
		snprintf(conn_events[n_conn_events++].socket_id,
		    sizeof conn_events[0].socket_id, "%s", socket_id);
	}
	conn_events[i].state = state;
	if (!conn_sul_set) {
		conn_sul_set = 1;
		lws_sul_schedule(br.ctx, 0, &conn_sul, conn_pass, 1);
	}
}
