/*
 * route-teamchat.h: POST /api/team-chat, one question to the whole team and one
 * answer with every reply (or who did not reply in time).
 */
#ifndef RH_ROUTE_TEAMCHAT_H
#define RH_ROUTE_TEAMCHAT_H

#include "http.h"

/* Reshapes a team chat's answer {"responses":[…],"timed_out":[…],
 * "synthesis"?} (it may replace *answer, freeing the old one); returns
 * the HTTP status to answer with. */
typedef int (*rh_team_shape)(cJSON **answer);

/* Writes message to origin (a team-chat socket, or one AI's: a team of
 * one) for the request req, which is answered once every member replied
 * or none made progress for timeout_ms; flags as rh_delivery_write's;
 * shape (may be NULL) gives the answer its shape.  0, or -1 with err
 * filled (nothing was answered then). */
int	rh_team_chat_start(struct rh_http_req *req, struct rh_socket *origin,
	    const char *message, int timeout_ms, int flags,
	    rh_team_shape shape, struct rh_err *err);
/* A member finished: content on success, err on failure. */
void	rh_team_result(struct rh_team *team, struct rh_job *job,
	    const char *content, const struct rh_err *err);
/* A member made progress: the time limit counts from now again. */
void	rh_team_progress(struct rh_team *team);
/* The request went away: stop the members' work and free the team. */
void	rh_team_abandon(struct rh_team *team);

#endif
