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
 *
 * Who owns an rh_job, and when it dies: job.c makes every job
 * (rh_job_new).  The server's job lists hold one reference to it from
 * its write's acceptance until it ends: its final frame was stored and
 * delivered (reply.c), or it was dropped without one (a team chat over,
 * a deleted socket, shutdown).  Ending takes it off every list and drops
 * that reference; the memory goes with the last reference
 * (rh_job_unref), the one place where a job is freed.  Code that keeps a
 * job across a call that may end one takes a reference of its own and
 * tests job->ended afterwards.  A provider borrows the job between its
 * start and its done, fail or stop: done and fail only note the reply
 * (stored and delivered later, from the loop), so no provider callback,
 * and no call that starts or cancels a job, ever ends one.  The files of
 * the delivery core share job.h.
 */
#ifndef RH_DELIVERY_H
#define RH_DELIVERY_H

#include "server.h"

/* What rh_delivery_write tells the writer. */
struct rh_write_result {
	char	*id;		/* the write's id, allocated */
	int	 duplicate;	/* the id had been accepted before */
	cJSON	*members;	/* the socket ids that answer */
	int	 team_chat;	/* made on a team-chat socket */
	int64_t	 seq;		/* the seq of the write's question in the
				 * history, 0 when it joins none (fresh,
				 * repeated, a stream) */
	int64_t	 seq_ms;	/* when it was accepted (ms since 1970) */
};

/* Called once a write is stored and before any reply starts, so that the
 * writer's acknowledgement goes out before the first reply frame; the
 * write's turn (turn.h) follows it. */
typedef void (*rh_accepted_cb)(void *ud, const struct rh_write_result *res);

/* A socket whose provider fails this many times in a row becomes
 * unresponsive (reset makes it active again). */
#define RH_FAILURES_UNRESPONSIVE	3

/* Flags of rh_delivery_write. */
#define RH_WRITE_FROM_WS	0x2	/* written over a WebSocket, ud is the
					 * writer's struct rh_conn: its work
					 * stops if the writer goes away for
					 * good (rh_delivery_abandon), and its
					 * turn goes to the other readers only
					 * (turn.h) */
#define RH_WRITE_SYNTHESIS	0x1	/* moderated team chat: rhetor writes
					 * a synthesis of the replies */
#define RH_WRITE_FRESH		0x4	/* one-shot: each AI answers from its
					 * prompt and this message alone, and
					 * no history is read or extended */

/* Accepts a write to origin and starts the replies.  team is the HTTP
 * team-chat collecting the replies, or NULL; accepted (may be NULL) is
 * called as described above.  With RH_WRITE_SYNTHESIS (a write to a
 * team-chat socket, team NULL), rhetor is one more member: once every
 * other member has answered, it gets the question and the replies and its
 * reply ends the write.  Returns 0, or -1 with err filled (nothing was
 * accepted then). */
int	 rh_delivery_write(struct rh_server *srv, struct rh_socket *origin,
	    const char *id, const char *content, int flags,
	    struct rh_team *team, rh_accepted_cb accepted, void *ud,
	    struct rh_write_result *res, struct rh_err *err);
/* Accepts a binary stream (len bytes of type mime) for the AI socket ai,
 * whose provider must take media; the reply comes as for a write.  A
 * stream is not stored: a restart forgets it.  0, or -1 with err filled. */
int	 rh_delivery_stream(struct rh_server *srv, struct rh_socket *ai,
	    const char *id, const char *mime, const unsigned char *data,
	    size_t len, rh_accepted_cb accepted, void *ud,
	    struct rh_write_result *res, struct rh_err *err);
/* Asks ai for one reply to content for an HTTP team chat (not stored;
 * flags: RH_WRITE_FRESH or 0); the result goes to rh_team_result.  0, or
 * -1 with err filled. */
int	 rh_delivery_ask(struct rh_server *srv, struct rh_socket *ai,
	    const char *origin, const char *write_id, const char *content,
	    int flags, struct rh_team *team, struct rh_err *err);
/* The moderator's prompt for a question and the replies, an array of
 * {"socket_id","content"} or {"socket_id","error":{"message"}}
 * (allocated). */
char	*rh_synthesis_prompt(const char *question, const cJSON *replies);
/* Reads the optional "moderation" and "fresh" fields of a request or
 * frame into flags ("synthesis": RH_WRITE_SYNTHESIS; true:
 * RH_WRITE_FRESH).  0, or -1 with err filled. */
int	 rh_write_flags(const cJSON *obj, int *flags, struct rh_err *err);
void	 rh_write_result_free(struct rh_write_result *res);
/* Cancels the running replies to write_id made on origin; each ends with
 * a "cancelled" error frame.  Returns how many were running. */
int	 rh_delivery_cancel(struct rh_server *srv, struct rh_socket *origin,
	    const char *write_id);
/* Cancels the running replies to WebSocket writes made on origin, whose
 * writers went away and did not come back.  Returns how many. */
int	 rh_delivery_abandon(struct rh_server *srv, struct rh_socket *origin);
/* Stops the replies an HTTP team chat still waits for, silently. */
void	 rh_delivery_drop_team(struct rh_server *srv, struct rh_team *team);
/* Sends a frame from the AI of socket_id, about a write made on origin,
 * to every connection on the sockets that hear from it; connections on
 * queue_socket (may be NULL) are told the frame's queue seq. */
void	 rh_delivery_fan_out(struct rh_server *srv, const char *socket_id,
	    const char *origin, const char *json, size_t len,
	    struct rh_socket *queue_socket, int64_t seq);
/* Restarts the jobs the store says were accepted but never answered. */
int	 rh_delivery_resume(struct rh_server *srv);
/* True while an AI owes a reply for a write made to s, or s's AI owes
 * one. */
int	 rh_delivery_owes(struct rh_server *srv, const struct rh_socket *s);
/* Stops the jobs of a socket that is being deleted. */
void	 rh_delivery_socket_gone(struct rh_server *srv, struct rh_socket *s);
/* Stops every job at shutdown; the store keeps them for the next start. */
void	 rh_delivery_stop_all(struct rh_server *srv);

/* Provider callbacks (provider.h).  None of them ends or frees the job;
 * after done or fail the provider must forget it. */
void	 rh_job_delta(struct rh_job *job, const char *text, size_t len);
void	 rh_job_done(struct rh_job *job, const char *text, size_t len);
void	 rh_job_fail(struct rh_job *job, const char *code, const char *message);

/* The event loop a job runs on. */
#define rh_job_context(job)	((job)->srv->context)

#endif
