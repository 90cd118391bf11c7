/*
 * guard.h: who may talk to the server (SPEC section 1): the browser guard
 * that keeps web pages from driving or reading local AIs (Origin,
 * Sec-Fetch-Site, Host, Content-Type) and the bearer token.
 *
 * Pure functions of the request's header values and of what the server
 * is (its address, port and token): no I/O, so that each rule can be
 * tested and fuzzed alone (fuzz/fuzz-http-head.c).  http.c runs
 * rh_guard_check on every request head, WebSocket upgrades included,
 * before anything else looks at the request.
 */
#ifndef RH_GUARD_H
#define RH_GUARD_H

#include <stddef.h>

#include "http-parse.h"
#include "token-file.h"

/* What the server is, for the checks. */
struct rh_guard_self {
	const char	*host;		/* --host as given (name or address) */
	int		 port;		/* the port actually bound */
	int		 wildcard;	/* listening on 0.0.0.0 or :: */
	const char	*token;		/* NULL: no token needed */
};

/* Runs every check on a request head, in order: Host, Origin,
 * Sec-Fetch-Site (403; a missing Host 400), the token unless the request
 * is GET or HEAD /health (401), Content-Type when a body follows (415).
 * Returns 0, or -1 with why filled. */
int	rh_guard_check(const struct rh_guard_self *self,
	    const struct rh_http_head *h, const char *path,
	    struct rh_http_refusal *why);

/* The rules one by one; each is true when the request passes. */
int	rh_guard_host_ok(const struct rh_guard_self *self, const char *host);
int	rh_guard_origin_ok(const struct rh_guard_self *self,
	    const char *origin);
int	rh_guard_fetch_site_ok(const char *sec_fetch_site);
int	rh_guard_media_ok(const char *content_type);
int	rh_guard_token_ok(const char *token, const char *authorization);

#endif
