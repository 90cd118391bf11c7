/*
 * fan-out.c: who hears a frame.  A frame from the AI of a socket about a
 * write made on origin goes to every WebSocket connection on: the AI's
 * own socket; team-chat-all (unless the socket is private) and the
 * team-chat socket of each group the AI is in (when it is an AI); and
 * origin, the socket written to.  A socket reached twice hears it once.
 * Connections on the socket whose queue holds a final frame are told its
 * seq, so that the reader that writes it out takes it off the queue
 * (sent.c); the HTTP readers waiting on that queue are woken (/read).
 * The transports are reached through their listeners (listener.h):
 * WebSocket connections (ws.c), /read (http.c).  A batched write's frames
 * wait on its job (job->held) until its transaction commits.
 */
#include <string.h>

#include "delivery.h"
#include "groups.h"
#include "held.h"
#include "job.h"
#include "listener.h"
#include "registry.h"

/* The most sockets one reply reaches: origin, the AI, team-chat-all and
 * the AI's groups beyond which a reply is not fanned out. */
#define RH_MAX_FANOUT	256

/* Sends a frame from the AI of socket_id, about a write made on origin, to
 * every connection on the sockets that hear from it.  Connections on
 * queue_socket are told the frame's queue seq. */
void
rh_delivery_fan_out(struct rh_server *srv, const char *socket_id,
    const char *origin, const char *json, size_t len,
    struct rh_socket *queue_socket, int64_t seq)
{
	struct rh_socket	*targets[RH_MAX_FANOUT];
	struct rh_socket	*ai = rh_registry_find(srv, socket_id);
	struct rh_group		*g;
	int			 n = 0, i, j;

	if (ai != NULL)
		targets[n++] = ai;
	if (ai != NULL && rh_registry_is_ai(ai)) {
		if (ai->kind != RH_KIND_PRIVATE)
			targets[n++] = rh_registry_find(srv,
			    AISH_TEAM_CHAT_ALL);
		for (g = srv->groups; g != NULL && n < RH_MAX_FANOUT - 1;
		    g = g->next) {
			if (rh_group_has(g, ai->id))
				targets[n++] = rh_registry_find(srv,
				    g->socket_id);
		}
	}
	targets[n++] = rh_registry_find(srv, origin);
	for (i = 0; i < n; i++) {
		if (targets[i] == NULL)
			continue;
		for (j = 0; j < i; j++) {
			if (targets[j] == targets[i])
				break;
		}
		if (j < i)
			continue;
		srv->messages_out += rh_listeners_frame(srv, targets[i], json,
		    len, targets[i] == queue_socket ? queue_socket->id : NULL,
		    seq);
	}
}

/* Sends a held frame now that what it announces is stored; a final frame
 * also wakes the HTTP readers of the queue that holds it. */
void
rh_fan_out_held(struct rh_server *srv, const struct rh_held *h)
{
	struct rh_socket	*q = h->queue_socket ?
	    rh_registry_find(srv, h->queue_socket) : NULL;

	rh_delivery_fan_out(srv, h->socket_id, h->origin, h->json, h->len, q,
	    h->seq);
	if (q != NULL)
		rh_listeners_queued(srv, q);
}

/* Fans out a frame of job's AI, or holds it while its batched write's
 * transaction is open (start_batched); a final frame (seq > 0) with a
 * queue also wakes that queue's HTTP readers. */
void
rh_fan_out(struct rh_job *job, const char *json, size_t len,
    struct rh_socket *queue_socket, int64_t seq)
{
	struct rh_server	*srv = job->srv;

	if (job->held != NULL) {
		rh_held_add(job->held, job->socket_id, job->origin,
		    queue_socket ? queue_socket->id : NULL, seq, json, len);
		return;
	}
	rh_delivery_fan_out(srv, job->socket_id, job->origin, json, len,
	    queue_socket, seq);
	if (queue_socket != NULL)
		rh_listeners_queued(srv, queue_socket);
}
