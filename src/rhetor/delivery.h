/*
 * delivery.h: from an accepted write to a delivered reply.
 *
 * A write is stored, then acknowledged, then handed to the provider of
 * every AI that owes a reply (one socket, or every member of a team chat).
 * Each reply streams as delta frames and ends with one read or error
 * frame, which is stored in the queue of the socket the write was made to
 * and sent to every connection that listens: the answering AI's socket,
 * team-chat-all, and the writer's socket.  A queued frame leaves the queue
 * once a connection on that socket has written it, or /read took it.
 */
#ifndef RH_DELIVERY_H
#define RH_DELIVERY_H

#include "server.h"

/* What rh_delivery_write tells the writer. */
struct rh_write_result {
	char	*id;		/* the write's id, allocated */
	int	 duplicate;	/* the id had been accepted before */
	cJSON	*members;	/* team chat: array of socket ids, else NULL */
};

/* Called once a write is stored and before any reply starts, so that the
 * writer's acknowledgement goes out before the first reply frame. */
typedef void (*rh_accepted_cb)(void *ud, const struct rh_write_result *res);

/* Accepts a write to origin and starts the replies.  team is the HTTP
 * team-chat collecting the replies, or NULL; accepted (may be NULL) is
 * called as described above.  Returns 0, or -1 with err filled (nothing
 * was accepted then). */
int	 rh_delivery_write(struct rh_server *srv, struct rh_socket *origin,
	    const char *id, const char *content, struct rh_team *team,
	    rh_accepted_cb accepted, void *ud, struct rh_write_result *res,
	    struct rh_err *err);
void	 rh_write_result_free(struct rh_write_result *res);
/* Cancels the running replies to write_id made on origin; each ends with
 * a "cancelled" error frame.  Returns how many were running. */
int	 rh_delivery_cancel(struct rh_server *srv, struct rh_socket *origin,
	    const char *write_id);
/* Stops the replies an HTTP team chat still waits for, silently. */
void	 rh_delivery_drop_team(struct rh_server *srv, struct rh_team *team);
/* Restarts the jobs the store says were accepted but never answered. */
int	 rh_delivery_resume(struct rh_server *srv);
/* Stops the jobs of a socket that is being deleted. */
void	 rh_delivery_socket_gone(struct rh_server *srv, struct rh_socket *s);
/* Stops every job at shutdown; the store keeps them for the next start. */
void	 rh_delivery_stop_all(struct rh_server *srv);

/* Provider callbacks (provider.h). */
void	 rh_job_delta(struct rh_job *job, const char *text, size_t len);
void	 rh_job_done(struct rh_job *job, const char *text, size_t len);
void	 rh_job_fail(struct rh_job *job, const char *code, const char *message);

/* The event loop a job runs on. */
#define rh_job_context(job)	((job)->srv->context)

#endif
