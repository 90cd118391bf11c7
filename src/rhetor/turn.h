/*
 * turn.h: a user's turn pushed live to the readers of a conversation.
 *
 * When a write that joins the history (not fresh) is accepted, every
 * WebSocket connection open on the socket written to, and, for a team
 * chat, on each member's socket, gets a "turn" frame with the write's
 * text and the seq its question has in the history; the writer's own
 * connection does not (its ack carries the seq).  Live only: the history
 * route gives the turns of the past.
 */
#ifndef RH_TURN_H
#define RH_TURN_H

#include "server.h"

struct rh_conn;
struct rh_write_result;

/* Sends the turn of the write res (its text content, made on origin) to
 * every reader but writer (NULL: none is skipped).  Nothing is built when
 * no one else listens, or when res->seq is 0 (a fresh or repeated
 * write). */
void	rh_turn_push(struct rh_server *srv, struct rh_socket *origin,
	    const struct rh_write_result *res, const char *content,
	    const struct rh_conn *writer);

#endif
