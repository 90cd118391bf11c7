/*
 * route-tekton.h: Tekton compatibility.  The first aish (a Python client of
 * Tekton's Rhetor) asks a specialist with POST
 * /api/ai/specialists/{id}/message and falls back to POST /api/team-chat
 * with "moderation_mode" and "timeout", reading "responses" keyed by
 * specialist id.  aish-rhetor answers those requests in that shape, so
 * that client runs against it unchanged (doc/tekton.md).
 */
#ifndef RH_ROUTE_TEKTON_H
#define RH_ROUTE_TEKTON_H

#include "http.h"

/* True for a team-chat request in Tekton's shape: it has
 * "moderation_mode" or "timeout" (seconds), and no "timeout_ms". */
int	rh_tekton_asks(const cJSON *body);
/* Answers such a team chat (body stays the caller's). */
void	rh_tekton_team_chat(struct rh_http_req *req, const cJSON *body);
/* POST /api/ai/specialists/{id}/message is in routes.h. */

#endif
