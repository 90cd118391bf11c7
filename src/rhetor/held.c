/*
 * held.c: frames held back until the transaction that stored what they
 * announce commits (see held.h).
 */
#include <stdlib.h>
#include <string.h>

#include "held.h"
#include "xalloc.h"

/* Starts holding frames. */
void
rh_held_start(struct rh_held_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

/* Holds one frame, copying everything. */
void
rh_held_add(struct rh_held_list *l, const char *socket_id,
    const char *origin, const char *queue_socket, int64_t seq,
    const char *json, size_t len)
{
	struct rh_held	*h = xmalloc(sizeof *h + len + 1);

	h->next = NULL;
	h->socket_id = xstrdup(socket_id);
	h->origin = xstrdup(origin);
	h->queue_socket = queue_socket ? xstrdup(queue_socket) : NULL;
	h->seq = seq;
	h->len = len;
	memcpy(h->json, json, len);
	h->json[len] = '\0';
	*l->tail = h;
	l->tail = &h->next;
}

/* Stops holding, sending (or dropping) the frames held. */
void
rh_held_stop(struct rh_held_list *l, struct rh_server *srv,
    rh_held_send_cb send)
{
	struct rh_held	*h;

	while ((h = l->head) != NULL) {
		l->head = h->next;
		if (send != NULL)
			send(srv, h);
		free(h->socket_id);
		free(h->origin);
		free(h->queue_socket);
		free(h);
	}
	l->tail = &l->head;
}
