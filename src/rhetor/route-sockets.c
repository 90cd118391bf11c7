/*
 * route-sockets.c: the sockets as resources: POST /api/ai/socket/create,
 * GET /api/ai/sockets, and GET, DELETE and POST .../reset on
 * /api/ai/socket/{id}.  The registry (registry.h) does the work; these
 * give it its HTTP shape.
 */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "groups.h"
#include "registry.h"
#include "routes.h"
#include "xalloc.h"

/* The WebSocket URL of a socket on this server. */
static char *
websocket_url(struct rh_server *srv, const char *id)
{
	int	v6 = strchr(srv->opt.host, ':') != NULL;

	return xasprintf("ws://%s%s%s:%d/ws/socket/%s", v6 ? "[" : "",
	    srv->opt.host, v6 ? "]" : "", srv->port, id);
}

/* Answers a create with the socket made, or the one it means. */
static void
create_reply(struct rh_http_req *req, struct rh_socket *s, int existing)
{
	cJSON	*obj = cJSON_CreateObject();
	char	*url = websocket_url(req->srv, s->id);

	cJSON_AddStringToObject(obj, "socket_id", s->id);
	cJSON_AddStringToObject(obj, "websocket_url", url);
	cJSON_AddStringToObject(obj, "ai_name", s->ai_name);
	if (s->model != NULL)
		cJSON_AddStringToObject(obj, "model", s->model);
	else
		cJSON_AddNullToObject(obj, "model");
	cJSON_AddStringToObject(obj, "provider", s->provider_name);
	if (existing)
		cJSON_AddTrueToObject(obj, "existing");
	free(url);
	rh_http_reply(req, existing ? 200 : 201, obj);
}

/* Answers a create the cluster made (or refused). */
static void
create_answer(struct rh_http_req *req, void *s, const struct rh_err *err)
{
	if (err != NULL)
		rh_http_reply_err(req, err);
	else
		create_reply(req, s, 0);
}

/* POST /api/ai/socket/create */
void
rh_route_socket_create(struct rh_http_req *req, struct rh_socket *unused)
{
	struct rh_cl_waiter	 w = { req, create_answer };
	struct rh_create_req	 cr;
	struct rh_socket	*s;
	struct rh_err		 err;
	cJSON			*body;
	int			 existing;

	if ((body = rh_http_json_body(req)) == NULL)
		return;
	if (rh_body_create(body, &cr, &err) != 0)
		rh_http_reply_err(req, &err);
	else if (req->srv->cluster != NULL) {
		s = rh_registry_create_later(req->srv, &cr, &w, &existing,
		    &err);
		if (s != NULL)
			create_reply(req, s, existing);
		else if (err.status != 0)
			rh_http_reply_err(req, &err);
		else
			rh_http_hold(req, RH_CLUSTER_CHANGE_MS);
	} else if ((s = rh_registry_create(req->srv, &cr, &existing,
	    &err)) == NULL)
		rh_http_reply_err(req, &err);
	else
		create_reply(req, s, existing);
	cJSON_Delete(body);
}

/* GET /api/ai/sockets */
void
rh_route_sockets_list(struct rh_http_req *req, struct rh_socket *unused)
{
	cJSON			*obj = cJSON_CreateObject();
	cJSON			*list = cJSON_AddArrayToObject(obj, "sockets");
	struct rh_socket	*s;

	for (s = req->srv->sockets; s != NULL; s = s->next)
		cJSON_AddItemToArray(list, rh_registry_describe(req->srv, s, 0));
	rh_http_reply(req, 200, obj);
}

/* GET /api/ai/socket/{id} */
void
rh_route_socket_get(struct rh_http_req *req, struct rh_socket *s)
{
	rh_http_reply(req, 200, rh_registry_describe(req->srv, s, 1));
}

/* DELETE /api/ai/socket/{id} */
void
rh_route_socket_delete(struct rh_http_req *req, struct rh_socket *s)
{
	struct rh_cl_waiter	w = { req, rh_route_deleted };

	if (rh_group_of_socket(req->srv, s) != NULL) {
		rh_http_error(req, 403, AISH_ERR_FORBIDDEN, "'%s' belongs to "
		    "a group: delete the group (DELETE /api/ai/groups/%s)",
		    s->id, s->id + strlen(AISH_TEAM_CHAT_PREFIX));
		return;
	}
	if (!rh_registry_is_deletable(s)) {
		rh_http_error(req, 403, AISH_ERR_FORBIDDEN, "'%s' is built in: "
		    "it can be reset but not deleted", s->id);
		return;
	}
	if (req->srv->cluster != NULL) {
		rh_registry_delete_later(req->srv, s, &w);
		rh_http_hold(req, RH_CLUSTER_CHANGE_MS);
		return;
	}
	if (rh_registry_delete(req->srv, s) != 0) {
		rh_http_error(req, 500, AISH_ERR_STORAGE, "cannot delete: %s",
		    rh_store_error(req->srv->store));
		return;
	}
	rh_route_deleted(req, NULL, NULL);
}

/* Answers a reset with the socket reset. */
static void
reset_answer(struct rh_http_req *req, void *obj, const struct rh_err *err)
{
	struct rh_socket	*s = obj;
	cJSON			*body;

	if (err != NULL) {
		rh_http_reply_err(req, err);
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddTrueToObject(body, "reset");
	cJSON_AddStringToObject(body, "socket_id", s->id);
	rh_http_reply(req, 200, body);
}

/* POST /api/ai/socket/{id}/reset */
void
rh_route_socket_reset(struct rh_http_req *req, struct rh_socket *s)
{
	struct rh_cl_waiter	w = { req, reset_answer };

	if (req->srv->cluster != NULL) {
		rh_registry_reset_later(req->srv, s, &w);
		rh_http_hold(req, RH_CLUSTER_CHANGE_MS);
		return;
	}
	if (rh_registry_reset(req->srv, s) != 0) {
		rh_http_error(req, 500, AISH_ERR_STORAGE, "cannot reset: %s",
		    rh_store_error(req->srv->store));
		return;
	}
	reset_answer(req, s, NULL);
}
