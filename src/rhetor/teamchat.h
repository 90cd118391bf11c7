/*
 * teamchat.h: POST /api/team-chat, one question to the whole team and one
 * answer with every reply (or who did not reply in time).
 */
#ifndef RH_TEAMCHAT_H
#define RH_TEAMCHAT_H

#include "http.h"

/* POST /api/team-chat */
void	rh_route_team_chat(struct rh_http_req *req, struct rh_socket *unused);
/* A member finished: content on success, err on failure. */
void	rh_team_result(struct rh_team *team, struct rh_job *job,
	    const char *content, const struct rh_err *err);
/* The request went away: stop the members' work and free the team. */
void	rh_team_abandon(struct rh_team *team);

#endif
