/*
 * guard.h: who may talk to the server: the bearer token and the Origin
 * check that keeps web pages from driving local AIs.
 */
#ifndef RH_GUARD_H
#define RH_GUARD_H

#include "server.h"

/* True when no token is set, or the request carries the right one. */
int	rh_guard_token_ok(struct rh_server *srv, struct lws *wsi);
/* True when the request has no Origin header or a loopback one. */
int	rh_guard_origin_ok(struct lws *wsi);
/* True when origin (an Origin header's value) names a loopback host. */
int	rh_guard_origin_is_loopback(const char *origin);

#endif
