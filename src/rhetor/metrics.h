/*
 * metrics.h: GET /metrics, the server's counters in the Prometheus text
 * exposition format (version 0.0.4): sockets by state, messages in and
 * out, queue drops, WebSocket clients, binary streams, and per provider a
 * latency histogram and an error count.
 */
#ifndef RH_METRICS_H
#define RH_METRICS_H

#include "server.h"

/* A provider call ended after ms milliseconds, failed when failed is set
 * (cancelled calls are not counted). */
void	rh_metrics_observe(struct rh_server *srv, const char *provider,
	    int64_t ms, int failed);
/* Frees the per-provider statistics. */
void	rh_metrics_free(struct rh_server *srv);
/* The counters in that text format (allocated, the caller frees it; its
 * length in *len; route-health.c serves it). */
char	*rh_metrics_text(struct rh_server *srv, size_t *len);

#endif
