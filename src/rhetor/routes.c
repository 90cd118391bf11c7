/*
 * routes.c: the HTTP API of SPEC section 1, one handler per route and one
 * table that lists them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "config.h"
#include "delivery.h"
#include "groups.h"
#include "http.h"
#include "metrics.h"
#include "names.h"
#include "registry.h"
#include "teamchat.h"
#include "xalloc.h"

typedef void (*route_fn)(struct rh_http_req *req, struct rh_socket *s);

/* A route: method, path pattern ('*' is one socket id) and handler.  With
 * a '*', the handler gets the socket, already checked to exist, unless
 * the route is a group route, whose handler reads the name itself. */
struct route {
	enum rh_method	 method;
	const char	*pattern;
	route_fn	 fn;
	int		 group;		/* '*' is a group name */
};

/* GET /health */
static void
route_health(struct rh_http_req *req, struct rh_socket *unused)
{
	cJSON	*obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "status", "ok");
	cJSON_AddStringToObject(obj, "version", PACKAGE_VERSION);
	cJSON_AddNumberToObject(obj, "sockets", req->srv->nsockets);
	rh_http_reply(req, 200, obj);
}

/* The WebSocket URL of a socket on this server. */
static char *
websocket_url(struct rh_server *srv, const char *id)
{
	int	v6 = strchr(srv->opt.host, ':') != NULL;

	return xasprintf("ws://%s%s%s:%d/ws/socket/%s", v6 ? "[" : "",
	    srv->opt.host, v6 ? "]" : "", srv->port, id);
}

/* POST /api/ai/socket/create */
static void
route_create(struct rh_http_req *req, struct rh_socket *unused)
{
	struct rh_create_req	 cr;
	struct rh_socket	*s;
	struct rh_err		 err;
	cJSON			*body, *obj;
	char			*url;

	if ((body = rh_http_json_body(req)) == NULL)
		return;
	if (rh_body_create(body, &cr, &err) != 0 ||
	    (s = rh_registry_create(req->srv, &cr, &err)) == NULL) {
		rh_http_reply_err(req, &err);
		goto out;
	}
	obj = cJSON_CreateObject();
	url = websocket_url(req->srv, s->id);
	cJSON_AddStringToObject(obj, "socket_id", s->id);
	cJSON_AddStringToObject(obj, "websocket_url", url);
	cJSON_AddStringToObject(obj, "ai_name", s->ai_name);
	if (s->model != NULL)
		cJSON_AddStringToObject(obj, "model", s->model);
	else
		cJSON_AddNullToObject(obj, "model");
	cJSON_AddStringToObject(obj, "provider", s->provider_name);
	free(url);
	rh_http_reply(req, 201, obj);
out:
	cJSON_Delete(body);
}

/* GET /api/ai/sockets */
static void
route_list(struct rh_http_req *req, struct rh_socket *unused)
{
	cJSON			*obj = cJSON_CreateObject();
	cJSON			*list = cJSON_AddArrayToObject(obj, "sockets");
	struct rh_socket	*s;

	for (s = req->srv->sockets; s != NULL; s = s->next)
		cJSON_AddItemToArray(list, rh_registry_describe(req->srv, s, 0));
	rh_http_reply(req, 200, obj);
}

/* GET /api/ai/socket/{id} */
static void
route_get(struct rh_http_req *req, struct rh_socket *s)
{
	rh_http_reply(req, 200, rh_registry_describe(req->srv, s, 1));
}

/* DELETE /api/ai/socket/{id} */
static void
route_delete(struct rh_http_req *req, struct rh_socket *s)
{
	cJSON	*obj;

	if (rh_group_of_socket(req->srv, s) != NULL) {
		rh_http_error(req, 403, AISH_ERR_FORBIDDEN, "'%s' belongs to "
		    "a group: delete the group (DELETE /api/ai/groups/%s)",
		    s->id, s->id + strlen(AISH_TEAM_CHAT_PREFIX));
		return;
	}
	if (s->kind != RH_KIND_USER) {
		rh_http_error(req, 403, AISH_ERR_FORBIDDEN, "'%s' is built in: "
		    "it can be reset but not deleted", s->id);
		return;
	}
	if (rh_registry_delete(req->srv, s) != 0) {
		rh_http_error(req, 500, AISH_ERR_STORAGE, "cannot delete: %s",
		    rh_store_error(req->srv->store));
		return;
	}
	obj = cJSON_CreateObject();
	cJSON_AddTrueToObject(obj, "deleted");
	rh_http_reply(req, 200, obj);
}

/* POST /api/ai/socket/{id}/reset */
static void
route_reset(struct rh_http_req *req, struct rh_socket *s)
{
	cJSON	*obj;

	if (rh_registry_reset(req->srv, s) != 0) {
		rh_http_error(req, 500, AISH_ERR_STORAGE, "cannot reset: %s",
		    rh_store_error(req->srv->store));
		return;
	}
	obj = cJSON_CreateObject();
	cJSON_AddTrueToObject(obj, "reset");
	cJSON_AddStringToObject(obj, "socket_id", s->id);
	rh_http_reply(req, 200, obj);
}

/* POST /api/ai/socket/{id}/write: the HTTP twin of a WebSocket write. */
static void
route_write(struct rh_http_req *req, struct rh_socket *s)
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

/* Store callback: adds one queued reply to a /read answer. */
static void
collect_queued(void *ud, const struct rh_queued_row *row)
{
	cJSON	*messages = ud;
	cJSON	*msg = cJSON_Parse(row->json);

	if (msg != NULL)
		cJSON_AddItemToArray(messages, msg);
}

/* Answers a /read with the socket's queue, which it empties. */
void
rh_route_read_answer(struct rh_http_req *req, struct rh_socket *s)
{
	cJSON	*obj = cJSON_CreateObject();
	cJSON	*messages = cJSON_AddArrayToObject(obj, "messages");
	cJSON	*m;
	int	 rc;

	rc = rh_store_begin(req->srv->store);
	if (rc == 0)
		rc = rh_store_queue_each(req->srv->store, s->id,
		    collect_queued, messages);
	cJSON_ArrayForEach(m, messages) {
		if (rc == 0)
			rc = rh_store_queue_remove(req->srv->store, s->id,
			    (int64_t)cJSON_GetNumberValue(
			    cJSON_GetObjectItemCaseSensitive(m, "seq")));
	}
	if (rc != 0 || rh_store_commit(req->srv->store) != 0) {
		rh_store_rollback(req->srv->store);
		cJSON_Delete(obj);
		rh_http_error(req, 500, AISH_ERR_STORAGE, "cannot read the "
		    "queue: %s", rh_store_error(req->srv->store));
		return;
	}
	rh_http_reply(req, 200, obj);
}

/* Parses ?wait_ms=N; returns N, or -1 after answering 400. */
static int
wait_ms_arg(struct rh_http_req *req)
{
	char		 buf[48];
	const char	*value;
	int		 n, i;
	long		 ms;

	/* buf receives "wait_ms=N"; value points just after the '='. */
	value = lws_get_urlarg_by_name(req->wsi, "wait_ms=", buf, sizeof buf);
	if (value == NULL)
		return 0;
	n = (int)strlen(value);
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)value[i]))
			break;
	}
	if (n == 0 || i < n || n > 9) {
		rh_http_error(req, 400, AISH_ERR_BAD_REQUEST, "wait_ms must "
		    "be a number of milliseconds up to %d", AISH_MAX_WAIT_MS);
		return -1;
	}
	ms = atol(value);
	return ms > AISH_MAX_WAIT_MS ? AISH_MAX_WAIT_MS : (int)ms;
}

/* GET /api/ai/socket/{id}/read?wait_ms=N */
static void
route_read(struct rh_http_req *req, struct rh_socket *s)
{
	int	wait_ms = wait_ms_arg(req);

	if (wait_ms < 0)
		return;
	if (wait_ms > 0 && rh_store_queue_count(req->srv->store, s->id) == 0)
		rh_http_wait(req, s, wait_ms);
	else
		rh_route_read_answer(req, s);
}

static const struct route routes[] = {
	{ RH_GET,	"/health",			route_health, 0 },
	{ RH_POST,	"/api/ai/socket/create",	route_create, 0 },
	{ RH_GET,	"/api/ai/sockets",		route_list, 0 },
	{ RH_GET,	"/api/ai/socket/*",		route_get, 0 },
	{ RH_DELETE,	"/api/ai/socket/*",		route_delete, 0 },
	{ RH_POST,	"/api/ai/socket/*/reset",	route_reset, 0 },
	{ RH_POST,	"/api/ai/socket/*/write",	route_write, 0 },
	{ RH_GET,	"/api/ai/socket/*/read",	route_read, 0 },
	{ RH_POST,	"/api/team-chat",		rh_route_team_chat, 0 },
	{ RH_GET,	"/api/ai/groups",		rh_route_groups_list, 0 },
	{ RH_PUT,	"/api/ai/groups/*",	rh_route_group_put, 1 },
	{ RH_GET,	"/api/ai/groups/*",	rh_route_group_get, 1 },
	{ RH_DELETE,	"/api/ai/groups/*",	rh_route_group_delete, 1 },
	{ RH_GET,	"/metrics",			rh_route_metrics, 0 },
	{ RH_OTHER,	NULL,				NULL, 0 }
};

/* Matches a path against a pattern; the '*' segment is copied to arg. */
static int
path_matches(const char *pattern, const char *path, char *arg, size_t len)
{
	const char	*star = strchr(pattern, '*');
	size_t		 head, seg;

	*arg = '\0';
	if (star == NULL)
		return strcmp(pattern, path) == 0;
	head = (size_t)(star - pattern);
	if (strncmp(pattern, path, head) != 0)
		return 0;
	path += head;
	seg = strcspn(path, "/");
	if (seg == 0 || strcmp(path + seg, star + 1) != 0)
		return 0;
	if (seg >= len)
		seg = len - 1;
	memcpy(arg, path, seg);
	arg[seg] = '\0';
	return 1;
}

/* Finds the route of a request and runs it. */
void
rh_route(struct rh_http_req *req)
{
	const struct route	*r;
	struct rh_socket	*s = NULL;
	char			 arg[256];
	int			 path_known = 0;

	for (r = routes; r->pattern != NULL; r++) {
		if (!path_matches(r->pattern, req->path, arg, sizeof arg))
			continue;
		path_known = 1;
		if (r->method == req->method)
			break;
	}
	if (r->pattern == NULL) {
		if (path_known)
			rh_http_error(req, 405, AISH_ERR_METHOD, "method not "
			    "allowed on %s", req->path);
		else
			rh_http_error(req, 404, AISH_ERR_NOT_FOUND,
			    "no such resource: %s", req->path);
		return;
	}
	if (strchr(r->pattern, '*') != NULL && !r->group) {
		if (!aish_name_valid(arg)) {
			rh_http_error(req, 400, AISH_ERR_BAD_NAME, "socket ids "
			    "match [A-Za-z0-9._-]{1,64}");
			return;
		}
		if ((s = rh_registry_find(req->srv, arg)) == NULL) {
			rh_http_error(req, 404, AISH_ERR_UNKNOWN_SOCKET,
			    "no socket '%s'", arg);
			return;
		}
	}
	r->fn(req, s);
}
