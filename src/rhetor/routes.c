/*
 * routes.c: the HTTP API of SPEC section 1: the one table that lists its
 * routes, and the matching of a request to its route (see routes.h; the
 * handlers live in the route-*.c files).
 */
#include <string.h>

#include "names.h"
#include "registry.h"
#include "routes.h"

/* A route's '*' is not a socket id (a group name, a specialist id): its
 * handler reads it from the path itself. */
#define ROUTE_NAMED	0x01
/* HEAD is refused: the GET changes state (a read empties the queue). */
#define ROUTE_NO_HEAD	0x02

/* A route: method, path pattern ('*' is one path segment) and handler.
 * With a '*' and no ROUTE_NAMED, the handler gets the socket, already
 * checked to exist. */
struct route {
	enum rh_method	 method;
	const char	*pattern;
	rh_route_fn	 fn;
	int		 flags;
};

/* Every route of the HTTP API. */
static const struct route routes[] = {
	{ RH_GET,	"/health",		rh_route_health, 0 },
	{ RH_GET,	"/metrics",		rh_route_metrics, 0 },
	{ RH_POST,	"/api/ai/socket/create", rh_route_socket_create, 0 },
	{ RH_GET,	"/api/ai/sockets",	rh_route_sockets_list, 0 },
	{ RH_GET,	"/api/ai/socket/*",	rh_route_socket_get, 0 },
	{ RH_DELETE,	"/api/ai/socket/*",	rh_route_socket_delete, 0 },
	{ RH_POST,	"/api/ai/socket/*/reset", rh_route_socket_reset, 0 },
	{ RH_POST,	"/api/ai/socket/*/write", rh_route_socket_write, 0 },
	{ RH_GET,	"/api/ai/socket/*/read", rh_route_socket_read,
	    ROUTE_NO_HEAD },
	{ RH_GET,	"/api/ai/socket/*/history",
	    rh_route_socket_history, 0 },
	{ RH_POST,	"/api/team-chat",	rh_route_team_chat, 0 },
	{ RH_POST,	"/api/ai/specialists/*/message",
	    rh_route_specialist_message, ROUTE_NAMED },
	{ RH_GET,	"/api/ai/groups",	rh_route_groups_list, 0 },
	{ RH_PUT,	"/api/ai/groups/*",	rh_route_group_put,
	    ROUTE_NAMED },
	{ RH_GET,	"/api/ai/groups/*",	rh_route_group_get,
	    ROUTE_NAMED },
	{ RH_DELETE,	"/api/ai/groups/*",	rh_route_group_delete,
	    ROUTE_NAMED },
	{ RH_OTHER,	NULL,			NULL, 0 }
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
	if (req->head_only && (r->flags & ROUTE_NO_HEAD)) {
		rh_http_error(req, 405, AISH_ERR_METHOD, "HEAD is not allowed "
		    "on %s: a read empties the queue (use GET)", req->path);
		return;
	}
	if (strchr(r->pattern, '*') != NULL && !(r->flags & ROUTE_NAMED)) {
		if (!ac_name_valid(arg)) {
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

/* Answers a delete of a socket or a group, now or once the cluster took
 * it: {"deleted":true}, or the error. */
void
rh_route_deleted(struct rh_http_req *req, void *unused,
    const struct rh_err *err)
{
	cJSON	*obj;

	if (err != NULL) {
		rh_http_reply_err(req, err);
		return;
	}
	obj = cJSON_CreateObject();
	cJSON_AddTrueToObject(obj, "deleted");
	rh_http_reply(req, 200, obj);
}
