/*
 * route-write.c: POST /api/ai/socket/{id}/write, the HTTP twin of a
 * WebSocket write: accepted (202) once stored, its replies read later
 * from /read or a WebSocket.
 */
#include "body.h"
#include "delivery.h"
#include "routes.h"

/* POST /api/ai/socket/{id}/write */
void
rh_route_socket_write(struct rh_http_req *req, struct rh_socket *s)
{
	struct rh_write_result	 res;
	struct rh_write_fields	 w;
	struct rh_err		 err;
	cJSON			*body, *obj;

	if ((body = rh_http_json_body(req)) == NULL)
		return;
	if (rh_body_write(body, &w, &err) != 0 ||
	    rh_delivery_write(req->srv, s, w.id, w.content, w.flags,
	    NULL, NULL, NULL, &res, &err) != 0) {
		rh_http_reply_err(req, &err);
		goto out;
	}
	obj = cJSON_CreateObject();
	cJSON_AddTrueToObject(obj, "accepted");
	cJSON_AddStringToObject(obj, "id", res.id);
	if (s->kind == RH_KIND_TEAM_CHAT)
		cJSON_AddItemToObject(obj, "members",
		    cJSON_Duplicate(res.members, 1));
	if (res.duplicate)
		cJSON_AddTrueToObject(obj, "duplicate");
	rh_write_result_free(&res);
	rh_http_reply(req, 202, obj);
out:
	cJSON_Delete(body);
}
