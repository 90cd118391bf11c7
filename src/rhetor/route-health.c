/*
 * route-health.c: what a watcher asks of the server: GET /health (up, its
 * version, how many sockets) and GET /metrics (the counters, metrics.h).
 */
#include <stdlib.h>

#include "config.h"
#include "metrics.h"
#include "routes.h"

/* GET /health */
void
rh_route_health(struct rh_http_req *req, struct rh_socket *unused)
{
	cJSON	*obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "status", "ok");
	cJSON_AddStringToObject(obj, "version", PACKAGE_VERSION);
	cJSON_AddNumberToObject(obj, "sockets", req->srv->nsockets);
	rh_http_reply(req, 200, obj);
}

/* GET /metrics */
void
rh_route_metrics(struct rh_http_req *req, struct rh_socket *unused)
{
	size_t	 len;
	char	*text = rh_metrics_text(req->srv, &len);

	rh_http_reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    text, len);
	free(text);
}
