/*
 * route-write.c: POST /api/ai/socket/{id}/write, the HTTP twin of a
 * WebSocket write: accepted (202) once stored, its replies read later
 * from /read or a WebSocket.  In cluster mode the write is stored off
 * the loop and the request is answered once the engine took it.
 */
#include "body.h"
#include "cluster.h"
#include "delivery.h"
#include "routes.h"

/* Answers a write that was stored (or repeated) with 202. */
static void
write_answer(void *ud, const struct rh_write_result *res)
{
	struct rh_http_req	*req = ud;
	cJSON			*obj = cJSON_CreateObject();

	cJSON_AddTrueToObject(obj, "accepted");
	cJSON_AddStringToObject(obj, "id", res->id);
	if (res->team_chat)
		cJSON_AddItemToObject(obj, "members",
		    cJSON_Duplicate(res->members, 1));
	if (res->duplicate)
		cJSON_AddTrueToObject(obj, "duplicate");
	rh_http_reply(req, 202, obj);
}

/* POST /api/ai/socket/{id}/write */
void
rh_route_socket_write(struct rh_http_req *req, struct rh_socket *s)
{
	struct rh_write_result	 res;
	struct rh_write_fields	 w;
	struct rh_err		 err;
	cJSON			*body;
	int			 later = req->srv->cluster != NULL;

	if ((body = rh_http_json_body(req)) == NULL)
		return;
	if (rh_body_write(body, &w, &err) != 0 ||
	    rh_delivery_write(req->srv, s, w.id, w.content, w.flags,
	    NULL, later ? write_answer : NULL, later ? req : NULL, &res,
	    &err) != 0)
		rh_http_reply_err(req, &err);
	else if (later) {
		rh_write_result_free(&res);
		rh_http_hold(req, RH_CLUSTER_CHANGE_MS);
	} else {
		write_answer(req, &res);
		rh_write_result_free(&res);
	}
	cJSON_Delete(body);
}
