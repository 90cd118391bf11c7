/*
 * routes.h: the HTTP API of SPEC section 1.  routes.c holds the one table
 * of routes (method, path pattern, handler) and finds a request's route;
 * each handler lives in the route-*.c file named for what it serves.
 *
 * A handler answers its request at once (rh_http_reply, rh_http_error)
 * or keeps it and answers later (a /read that waits, a team chat).  For a
 * pattern whose '*' is a socket id, the handler gets that socket, already
 * checked to exist; otherwise it gets NULL and reads the path itself.
 */
#ifndef RH_ROUTES_H
#define RH_ROUTES_H

#include "http.h"

typedef void (*rh_route_fn)(struct rh_http_req *req, struct rh_socket *s);

/* Finds the route of a request and runs it, or answers 404 or 405. */
void	rh_route(struct rh_http_req *req);
/* Answers a delete of a socket or a group (now, or later in cluster
 * mode): {"deleted":true}, or the error. */
void	rh_route_deleted(struct rh_http_req *req, void *unused,
	    const struct rh_err *err);

/* route-health.c: GET /health, GET /metrics */
void	rh_route_health(struct rh_http_req *req, struct rh_socket *unused);
void	rh_route_metrics(struct rh_http_req *req, struct rh_socket *unused);

/* route-sockets.c: making, listing, describing, deleting and resetting
 * sockets */
void	rh_route_socket_create(struct rh_http_req *req,
	    struct rh_socket *unused);
void	rh_route_sockets_list(struct rh_http_req *req,
	    struct rh_socket *unused);
void	rh_route_socket_get(struct rh_http_req *req, struct rh_socket *s);
void	rh_route_socket_delete(struct rh_http_req *req, struct rh_socket *s);
void	rh_route_socket_reset(struct rh_http_req *req, struct rh_socket *s);

/* route-write.c: POST /api/ai/socket/{id}/write */
void	rh_route_socket_write(struct rh_http_req *req, struct rh_socket *s);

/* route-read.c: GET /api/ai/socket/{id}/read?wait_ms=N */
void	rh_route_socket_read(struct rh_http_req *req, struct rh_socket *s);
/* Answers a /read: the socket's queue, held by the answer until its
 * reader got it, into {"messages":[…]}. */
void	rh_route_read_answer(struct rh_http_req *req, struct rh_socket *s);

/* route-history.c: GET /api/ai/socket/{id}/history */
void	rh_route_socket_history(struct rh_http_req *req, struct rh_socket *s);

/* route-query.c: reads the query argument name=N, N up to 18 digits: 0
 * when absent, 1 with *out set, -1 when it is not such a number. */
int	rh_route_number_arg(struct rh_http_req *req, const char *name,
	    int64_t *out);

/* route-teamchat.c: POST /api/team-chat (route-teamchat.h) */
void	rh_route_team_chat(struct rh_http_req *req, struct rh_socket *unused);

/* route-tekton.c: POST /api/ai/specialists/{id}/message (route-tekton.h) */
void	rh_route_specialist_message(struct rh_http_req *req,
	    struct rh_socket *unused);

/* route-groups.c: /api/ai/groups and /api/ai/groups/{name} */
void	rh_route_groups_list(struct rh_http_req *req, struct rh_socket *unused);
void	rh_route_group_put(struct rh_http_req *req, struct rh_socket *unused);
void	rh_route_group_get(struct rh_http_req *req, struct rh_socket *unused);
void	rh_route_group_delete(struct rh_http_req *req,
	    struct rh_socket *unused);

#endif
