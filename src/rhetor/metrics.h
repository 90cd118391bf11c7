/*
 * metrics.h: GET /metrics, the server's counters in the Prometheus text
 * exposition format (version 0.0.4): sockets by state, messages in and
 * out, queue drops, WebSocket clients, binary streams, and per provider a
 * latency histogram and an error count.
 */
#ifndef RH_METRICS_H
#define RH_METRICS_H

#include "server.h"

struct rh_http_req;

/* A provider call ended after ms milliseconds, failed when failed is set
 * (cancelled calls are not counted). */
void	rh_metrics_observe(struct rh_server *srv, const char *provider,
	    int64_t ms, int failed);
/* Frees the per-provider statistics. */
void	rh_metrics_free(struct rh_server *srv);
/* GET /metrics */
void	rh_route_metrics(struct rh_http_req *req, struct rh_socket *unused);

#endif
