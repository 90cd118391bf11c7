/*
 * route-groups.c: the groups as resources: GET /api/ai/groups, and PUT,
 * GET and DELETE on /api/ai/groups/{name}.  groups.c keeps them; these
 * give them their HTTP shape.
 */
#include <string.h>

#include "groups.h"
#include "routes.h"

/* The {name} of /api/ai/groups/{name}; NULL after answering 400. */
static const char *
path_group(struct rh_http_req *req)
{
	const char	*name = strrchr(req->path, '/') + 1;

	if (!rh_group_name_valid(name)) {
		rh_http_error(req, 400, AISH_ERR_BAD_NAME, "group names match "
		    "[A-Za-z0-9._-]{1,%d} and are not 'all'",
		    RH_GROUP_NAME_MAX);
		return NULL;
	}
	return name;
}

/* The group the path names; NULL after answering 400 or 404. */
static struct rh_group *
path_group_find(struct rh_http_req *req)
{
	const char	*name = path_group(req);
	struct rh_group	*g;

	if (name == NULL)
		return NULL;
	if ((g = rh_group_find(req->srv, name)) == NULL)
		rh_http_error(req, 404, AISH_ERR_UNKNOWN_GROUP, "no group '%s'",
		    name);
	return g;
}

/* GET /api/ai/groups */
void
rh_route_groups_list(struct rh_http_req *req, struct rh_socket *unused)
{
	cJSON		*obj = cJSON_CreateObject();
	cJSON		*list = cJSON_AddArrayToObject(obj, "groups");
	struct rh_group	*g;

	for (g = req->srv->groups; g != NULL; g = g->next)
		cJSON_AddItemToArray(list, rh_group_describe(g));
	rh_http_reply(req, 200, obj);
}

/* Answers a group put with the group. */
static void
put_answer(struct rh_http_req *req, void *g, const struct rh_err *err)
{
	if (err != NULL)
		rh_http_reply_err(req, err);
	else
		rh_http_reply(req, 200, rh_group_describe(g));
}

/* PUT /api/ai/groups/{name} */
void
rh_route_group_put(struct rh_http_req *req, struct rh_socket *unused)
{
	struct rh_cl_waiter	 w = { req, put_answer };
	struct rh_group		*g;
	struct rh_err		 err;
	const char		*name;
	const cJSON		*members;
	cJSON			*body;

	if ((name = path_group(req)) == NULL ||
	    (body = rh_http_json_body(req)) == NULL)
		return;
	members = cJSON_GetObjectItemCaseSensitive(body, "members");
	if (req->srv->cluster != NULL) {
		if (rh_group_put_later(req->srv, name, members, &w, &err) != 0)
			rh_http_reply_err(req, &err);
		else
			rh_http_hold(req, RH_CLUSTER_CHANGE_MS);
	} else if ((g = rh_group_put(req->srv, name, members, &err)) == NULL)
		rh_http_reply_err(req, &err);
	else
		put_answer(req, g, NULL);
	cJSON_Delete(body);
}

/* GET /api/ai/groups/{name} */
void
rh_route_group_get(struct rh_http_req *req, struct rh_socket *unused)
{
	struct rh_group	*g = path_group_find(req);

	if (g != NULL)
		rh_http_reply(req, 200, rh_group_describe(g));
}

/* DELETE /api/ai/groups/{name} */
void
rh_route_group_delete(struct rh_http_req *req, struct rh_socket *unused)
{
	struct rh_cl_waiter	 w = { req, rh_route_deleted };
	struct rh_group		*g = path_group_find(req);

	if (g == NULL)
		return;
	if (req->srv->cluster != NULL) {
		rh_group_delete_later(req->srv, g, &w);
		rh_http_hold(req, RH_CLUSTER_CHANGE_MS);
		return;
	}
	if (rh_group_delete(req->srv, g) != 0) {
		rh_http_error(req, 500, AISH_ERR_STORAGE, "cannot delete the "
		    "group: %s", rh_store_error(req->srv->store));
		return;
	}
	rh_route_deleted(req, NULL, NULL);
}
