/*
 * groups.c: named groups of AI sockets and their broadcast sockets
 * team-chat-<name> (see groups.h), and the /api/ai/groups routes.
 *
 * As everywhere in the server, a change is written to the store first
 * (group and socket in one transaction) and made in memory after.
 */
#include <stdlib.h>
#include <string.h>

#include "groups.h"
#include "http.h"
#include "names.h"
#include "registry.h"
#include "xalloc.h"

/* Frees one group's memory. */
static void
group_free(struct rh_group *g)
{
	size_t	i;

	for (i = 0; i < g->n; i++)
		free(g->members[i]);
	free(g->members);
	free(g->name);
	free(g->socket_id);
	free(g);
}

/* A new empty group, appended to the server's list. */
static struct rh_group *
group_add(struct rh_server *srv, const char *name)
{
	struct rh_group	*g = xcalloc(1, sizeof *g), **tail;

	g->name = xstrdup(name);
	g->socket_id = xasprintf("%s%s", AISH_TEAM_CHAT_PREFIX, name);
	for (tail = &srv->groups; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = g;
	return g;
}

/* Adds a member to a group in memory. */
static void
member_add(struct rh_group *g, const char *socket_id)
{
	g->members = xrealloc(g->members, (g->n + 1) * sizeof *g->members);
	g->members[g->n++] = xstrdup(socket_id);
}

/* Store callback: one (group, member) row. */
static void
load_row(void *ud, const struct rh_group_row *row)
{
	struct rh_server	*srv = ud;
	struct rh_group		*g = rh_group_find(srv, row->name);

	if (g == NULL)
		g = group_add(srv, row->name);
	if (row->member != NULL)
		member_add(g, row->member);
}

/* Loads the groups and puts their sockets in order. */
int
rh_groups_load(struct rh_server *srv)
{
	struct rh_socket	*s, *next;
	struct rh_group		*g;

	if (rh_store_group_each(srv->store, load_row, srv) != 0)
		return -1;
	for (g = srv->groups; g != NULL; g = g->next) {
		if (rh_registry_find(srv, g->socket_id) == NULL &&
		    rh_registry_add_team(srv, g->socket_id) == NULL)
			return -1;
	}
	for (s = srv->sockets; s != NULL; s = next) {
		next = s->next;
		if (s->kind == RH_KIND_TEAM_CHAT &&
		    strcmp(s->id, AISH_TEAM_CHAT_ALL) != 0 &&
		    rh_group_of_socket(srv, s) == NULL &&
		    rh_registry_delete(srv, s) != 0)
			return -1;
	}
	return 0;
}

/* Frees every group in memory. */
void
rh_groups_free(struct rh_server *srv)
{
	struct rh_group	*g;

	while ((g = srv->groups) != NULL) {
		srv->groups = g->next;
		group_free(g);
	}
}

/* The group of this name, or NULL. */
struct rh_group *
rh_group_find(struct rh_server *srv, const char *name)
{
	struct rh_group	*g;

	for (g = srv->groups; g != NULL; g = g->next) {
		if (strcmp(g->name, name) == 0)
			return g;
	}
	return NULL;
}

/* The group whose broadcast socket is s, or NULL. */
struct rh_group *
rh_group_of_socket(struct rh_server *srv, const struct rh_socket *s)
{
	struct rh_group	*g;

	if (s->kind != RH_KIND_TEAM_CHAT)
		return NULL;
	for (g = srv->groups; g != NULL; g = g->next) {
		if (strcmp(g->socket_id, s->id) == 0)
			return g;
	}
	return NULL;
}

/* True for a valid group name. */
int
rh_group_name_valid(const char *name)
{
	return aish_name_valid(name) && strlen(name) <= RH_GROUP_NAME_MAX &&
	    strcmp(name, "all") != 0;
}

/* True when socket_id is a member of g. */
int
rh_group_has(const struct rh_group *g, const char *socket_id)
{
	size_t	i;

	for (i = 0; i < g->n; i++) {
		if (strcmp(g->members[i], socket_id) == 0)
			return 1;
	}
	return 0;
}

/* Checks the members of a put and collects their ids without repeats
 * into ids (n of them).  Returns 0, or -1 with err filled. */
static int
members_check(struct rh_server *srv, const cJSON *members,
    const char ***ids, size_t *n, struct rh_err *err)
{
	const cJSON		*m;
	struct rh_socket	*s;
	size_t			 i;

	*ids = NULL;
	*n = 0;
	if (!cJSON_IsArray(members) || cJSON_GetArraySize(members) == 0) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "a group needs "
		    "\"members\": a non-empty array of socket ids");
		return -1;
	}
	*ids = xcalloc((size_t)cJSON_GetArraySize(members), sizeof **ids);
	cJSON_ArrayForEach(m, members) {
		if (!cJSON_IsString(m) || !aish_name_valid(m->valuestring)) {
			rh_err_set(err, 400, AISH_ERR_BAD_NAME, "members are "
			    "socket ids matching [A-Za-z0-9._-]{1,64}");
			goto fail;
		}
		if ((s = rh_registry_find(srv, m->valuestring)) == NULL) {
			rh_err_set(err, 404, AISH_ERR_UNKNOWN_SOCKET,
			    "no socket '%s'", m->valuestring);
			goto fail;
		}
		if (s->kind != RH_KIND_USER && s->kind != RH_KIND_ROSTER) {
			rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "'%s' is "
			    "not an AI socket: groups hold AI sockets only",
			    s->id);
			goto fail;
		}
		for (i = 0; i < *n; i++) {
			if (strcmp((*ids)[i], s->id) == 0)
				break;
		}
		if (i == *n)
			(*ids)[(*n)++] = s->id;
	}
	return 0;
fail:
	free(*ids);
	*ids = NULL;
	return -1;
}

/* Stores a group and its socket in one transaction; 0 or -1. */
static int
group_store(struct rh_server *srv, const char *name, const char **ids,
    size_t n, struct rh_socket **made)
{
	char	*sid = xasprintf("%s%s", AISH_TEAM_CHAT_PREFIX, name);
	int	 rc = -1;

	*made = NULL;
	if (rh_store_begin(srv->store) != 0)
		goto out;
	if (rh_store_group_put(srv->store, name, ids, n, rh_now_ms()) != 0 ||
	    (rh_registry_find(srv, sid) == NULL &&
	    (*made = rh_registry_add_team(srv, sid)) == NULL)) {
		rh_store_rollback(srv->store);
		goto out;
	}
	if (rh_store_commit(srv->store) != 0) {
		if (*made != NULL)
			rh_registry_forget(srv, *made);
		*made = NULL;
		goto out;
	}
	rc = 0;
out:
	free(sid);
	return rc;
}

/* Creates or replaces a group (see groups.h). */
struct rh_group *
rh_group_put(struct rh_server *srv, const char *name, const cJSON *members,
    struct rh_err *err)
{
	struct rh_group		*g;
	struct rh_socket	*made;
	const char		**ids;
	size_t			  n, i;

	if (!rh_group_name_valid(name)) {
		rh_err_set(err, 400, AISH_ERR_BAD_NAME, "group names match "
		    "[A-Za-z0-9._-]{1,%d} and are not 'all'",
		    RH_GROUP_NAME_MAX);
		return NULL;
	}
	if (members_check(srv, members, &ids, &n, err) != 0)
		return NULL;
	if (group_store(srv, name, ids, n, &made) != 0) {
		rh_err_set(err, 500, AISH_ERR_STORAGE, "cannot store the "
		    "group: %s", rh_store_error(srv->store));
		free(ids);
		return NULL;
	}
	if ((g = rh_group_find(srv, name)) == NULL)
		g = group_add(srv, name);
	for (i = 0; i < g->n; i++)
		free(g->members[i]);
	g->n = 0;
	for (i = 0; i < n; i++)
		member_add(g, ids[i]);
	free(ids);
	return g;
}

/* Deletes a group and its socket. */
int
rh_group_delete(struct rh_server *srv, struct rh_group *g)
{
	struct rh_group		**pp;
	struct rh_socket	*s = rh_registry_find(srv, g->socket_id);

	if (rh_store_begin(srv->store) != 0)
		return -1;
	if (rh_store_group_delete(srv->store, g->name) != 0 ||
	    (s != NULL && rh_store_socket_delete(srv->store, s->id) != 0) ||
	    rh_store_commit(srv->store) != 0) {
		rh_store_rollback(srv->store);
		return -1;
	}
	for (pp = &srv->groups; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	group_free(g);
	if (s != NULL)
		rh_registry_forget(srv, s);
	return 0;
}

/* A socket is being deleted: it leaves every group. */
void
rh_groups_socket_gone(struct rh_server *srv, const char *socket_id)
{
	struct rh_group	*g;
	size_t		 i;

	for (g = srv->groups; g != NULL; g = g->next) {
		for (i = 0; i < g->n; i++) {
			if (strcmp(g->members[i], socket_id) != 0)
				continue;
			free(g->members[i]);
			memmove(g->members + i, g->members + i + 1,
			    (g->n - i - 1) * sizeof *g->members);
			g->n--;
			break;
		}
	}
}

/* Describes a group. */
cJSON *
rh_group_describe(const struct rh_group *g)
{
	cJSON	*obj = cJSON_CreateObject();
	cJSON	*members;
	size_t	 i;

	cJSON_AddStringToObject(obj, "name", g->name);
	members = cJSON_AddArrayToObject(obj, "members");
	for (i = 0; i < g->n; i++)
		cJSON_AddItemToArray(members,
		    cJSON_CreateString(g->members[i]));
	cJSON_AddStringToObject(obj, "socket_id", g->socket_id);
	return obj;
}

/* The groups socket_id belongs to. */
cJSON *
rh_groups_of(struct rh_server *srv, const char *socket_id)
{
	cJSON		*names = cJSON_CreateArray();
	struct rh_group	*g;

	for (g = srv->groups; g != NULL; g = g->next) {
		if (rh_group_has(g, socket_id))
			cJSON_AddItemToArray(names, cJSON_CreateString(g->name));
	}
	return names;
}

/* ---- routes ---- */

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

/* PUT /api/ai/groups/{name} */
void
rh_route_group_put(struct rh_http_req *req, struct rh_socket *unused)
{
	struct rh_group	*g;
	struct rh_err	 err;
	const char	*name;
	cJSON		*body;

	if ((name = path_group(req)) == NULL ||
	    (body = rh_http_json_body(req)) == NULL)
		return;
	g = rh_group_put(req->srv, name, cJSON_GetObjectItemCaseSensitive(body,
	    "members"), &err);
	if (g == NULL)
		rh_http_reply_err(req, &err);
	else
		rh_http_reply(req, 200, rh_group_describe(g));
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
	struct rh_group	*g = path_group_find(req);
	cJSON		*obj;

	if (g == NULL)
		return;
	if (rh_group_delete(req->srv, g) != 0) {
		rh_http_error(req, 500, AISH_ERR_STORAGE, "cannot delete the "
		    "group: %s", rh_store_error(req->srv->store));
		return;
	}
	obj = cJSON_CreateObject();
	cJSON_AddTrueToObject(obj, "deleted");
	rh_http_reply(req, 200, obj);
}
