/*
 * groups.c: named groups of AI sockets and their broadcast sockets
 * team-chat-<name> (see groups.h); route-groups.c serves them over HTTP.
 *
 * As everywhere in the server, a change is written to the store first
 * (group and socket in one transaction) and made in memory after.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "groups.h"
#include "names.h"
#include "registry.h"
#include "xalloc.h"

/* Empties a group in memory. */
static void
members_clear(struct rh_group *g)
{
	size_t	i;

	for (i = 0; i < g->n; i++)
		free(g->members[i]);
	free(g->members);
	g->members = NULL;
	g->n = 0;
	ac_strmap_clear(&g->member_set, NULL);
}

/* Frees one group's memory. */
static void
group_free(struct rh_group *g)
{
	members_clear(g);
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

/* Adds a member to a group in memory; the array grows by doubling. */
static void
member_add(struct rh_group *g, const char *socket_id)
{
	if ((g->n & (g->n - 1)) == 0)	/* 0, 1, 2, 4...: full */
		g->members = xrealloc(g->members, (g->n ? g->n * 2 : 1) *
		    sizeof *g->members);
	g->members[g->n++] = xstrdup(socket_id);
	ac_strmap_put(&g->member_set, socket_id, g);
}

/* The groups being loaded, and the last one seen. */
struct group_load {
	struct rh_server	*srv;
	struct rh_group		*last;
};

/* Store callback: one (group, member) row.  The rows come group after
 * group: the last group seen is looked at first. */
static void
load_row(void *ud, const struct rh_group_row *row)
{
	struct group_load	*gl = ud;
	struct rh_group		*g = gl->last;

	if (g == NULL || strcmp(g->name, row->name) != 0)
		g = rh_group_find(gl->srv, row->name);
	if (g == NULL)
		g = group_add(gl->srv, row->name);
	gl->last = g;
	if (row->member != NULL)
		member_add(g, row->member);
}

/* Loads the groups and puts their sockets in order. */
int
rh_groups_load(struct rh_server *srv)
{
	struct group_load	 gl = { srv, NULL };
	struct rh_socket	*s, *next;
	struct rh_group		*g;

	if (rh_store_group_each(srv->store, load_row, &gl) != 0)
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
	return ac_name_valid(name) && strlen(name) <= RH_GROUP_NAME_MAX &&
	    strcmp(name, "all") != 0;
}

/* True when socket_id is a member of g. */
int
rh_group_has(const struct rh_group *g, const char *socket_id)
{
	return ac_strmap_get(&g->member_set, socket_id) != NULL;
}

/* Checks the members of a put and collects their ids without repeats
 * into ids (n of them).  Returns 0, or -1 with err filled. */
static int
members_check(struct rh_server *srv, const cJSON *members,
    const char ***ids, size_t *n, struct rh_err *err)
{
	const cJSON		*m;
	struct rh_socket	*s;
	struct ac_strmap	 seen = { NULL, 0, 0 };

	*ids = NULL;
	*n = 0;
	if (!cJSON_IsArray(members) || cJSON_GetArraySize(members) == 0) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "a group needs "
		    "\"members\": a non-empty array of socket ids");
		return -1;
	}
	*ids = xcalloc((size_t)cJSON_GetArraySize(members), sizeof **ids);
	cJSON_ArrayForEach(m, members) {
		if (!cJSON_IsString(m) || !ac_name_valid(m->valuestring)) {
			rh_err_set(err, 400, AISH_ERR_BAD_NAME, "members are "
			    "socket ids matching [A-Za-z0-9._-]{1,64}");
			goto fail;
		}
		if ((s = rh_registry_find(srv, m->valuestring)) == NULL) {
			rh_err_set(err, 404, AISH_ERR_UNKNOWN_SOCKET,
			    "no socket '%s'", m->valuestring);
			goto fail;
		}
		if (!rh_registry_is_ai(s)) {
			rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "'%s' is "
			    "not an AI socket: groups hold AI sockets only",
			    s->id);
			goto fail;
		}
		if (ac_strmap_get(&seen, s->id) == NULL) {
			ac_strmap_put(&seen, s->id, s);
			(*ids)[(*n)++] = s->id;
		}
	}
	ac_strmap_clear(&seen, NULL);
	return 0;
fail:
	ac_strmap_clear(&seen, NULL);
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

/* Stores a group of n checked members and makes it so in memory; the
 * group, or NULL on a storage error. */
static struct rh_group *
group_set(struct rh_server *srv, const char *name, const char **ids,
    size_t n)
{
	struct rh_group		*g;
	struct rh_socket	*made;
	size_t			 i;

	if (group_store(srv, name, ids, n, &made) != 0)
		return NULL;
	if ((g = rh_group_find(srv, name)) == NULL)
		g = group_add(srv, name);
	members_clear(g);
	for (i = 0; i < n; i++)
		member_add(g, ids[i]);
	return g;
}

/* Checks a group's name and members: 0 with ids (allocated) and n set,
 * or -1 with err filled. */
static int
put_check(struct rh_server *srv, const char *name, const cJSON *members,
    const char ***ids, size_t *n, struct rh_err *err)
{
	if (!rh_group_name_valid(name)) {
		rh_err_set(err, 400, AISH_ERR_BAD_NAME, "group names match "
		    "[A-Za-z0-9._-]{1,%d} and are not 'all'",
		    RH_GROUP_NAME_MAX);
		return -1;
	}
	return members_check(srv, members, ids, n, err);
}

/* Creates or replaces a group (see groups.h). */
struct rh_group *
rh_group_put(struct rh_server *srv, const char *name, const cJSON *members,
    struct rh_err *err)
{
	struct rh_group		*g;
	const char		**ids;
	size_t			  n;

	if (put_check(srv, name, members, &ids, &n, err) != 0)
		return NULL;
	if ((g = group_set(srv, name, ids, n)) == NULL)
		rh_err_set(err, 500, AISH_ERR_STORAGE, "cannot store the "
		    "group: %s", rh_store_error(srv->store));
	free(ids);
	return g;
}

/* A group put waiting for the cluster. */
struct put_later {
	char	*name;
	cJSON	*members;	/* the checked ids */
};

/* Loop: the cluster's answer about a group put: the group is made here
 * too, with the members still here. */
static void
put_done(struct rh_server *srv, void *arg, int rc, const char *why,
    const struct rh_cl_waiter *w)
{
	struct put_later	*pl = arg;
	struct rh_group		*g = NULL;
	struct rh_err		 err;

	if (rc != 0)
		rh_err_set(&err, 500, AISH_ERR_STORAGE, "cannot store the "
		    "group in the cluster: %s", why);
	else if (rh_group_apply(srv, pl->name, pl->members) != 0 ||
	    (g = rh_group_find(srv, pl->name)) == NULL)
		rh_err_set(&err, 500, AISH_ERR_STORAGE, "cannot store the "
		    "group: %s", rh_store_error(srv->store));
	rh_cl_answer(w, g, g != NULL ? NULL : &err);
	free(pl->name);
	cJSON_Delete(pl->members);
	free(pl);
}

/* Creates or replaces a group in cluster mode (see groups.h). */
int
rh_group_put_later(struct rh_server *srv, const char *name,
    const cJSON *members, const struct rh_cl_waiter *w, struct rh_err *err)
{
	struct put_later	*pl;
	const char		**ids;
	size_t			  n, i;

	if (put_check(srv, name, members, &ids, &n, err) != 0)
		return -1;
	pl = xcalloc(1, sizeof *pl);
	pl->name = xstrdup(name);
	pl->members = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(pl->members, cJSON_CreateString(ids[i]));
	free(ids);
	rh_cluster_group_put(srv, name, pl->members, put_done, pl, w);
	return 0;
}

/* A group another node put, here too (see groups.h). */
int
rh_group_apply(struct rh_server *srv, const char *name, const cJSON *members)
{
	const char		**ids;
	const cJSON		 *m;
	struct rh_socket	 *s;
	struct ac_strmap	  seen = { NULL, 0, 0 };
	size_t			  n = 0;
	int			  rc;

	if (!rh_group_name_valid(name) || !cJSON_IsArray(members))
		return -1;
	ids = xcalloc((size_t)cJSON_GetArraySize(members) + 1, sizeof *ids);
	cJSON_ArrayForEach(m, members) {
		if (cJSON_IsString(m) &&
		    (s = rh_registry_find(srv, m->valuestring)) != NULL &&
		    rh_registry_is_ai(s) && ac_strmap_get(&seen, s->id) == NULL) {
			ac_strmap_put(&seen, s->id, s);
			ids[n++] = s->id;
		}
	}
	ac_strmap_clear(&seen, NULL);
	rc = group_set(srv, name, ids, n) != NULL ? 0 : -1;
	free(ids);
	return rc;
}

/* Deletes a group and its socket. */
int
rh_group_delete(struct rh_server *srv, struct rh_group *g)
{
	return rh_group_drop(srv, g);
}

/* Loop: the cluster's answer about a group delete (arg: the name): the
 * group goes here too, unless it went meanwhile. */
static void
delete_done(struct rh_server *srv, void *arg, int rc, const char *why,
    const struct rh_cl_waiter *w)
{
	struct rh_group	*g;
	struct rh_err	 err;
	char		*name = arg;

	if (rc != 0) {
		rh_err_set(&err, 500, AISH_ERR_STORAGE, "cannot delete the "
		    "group from the cluster: %s", why);
		rh_cl_answer(w, NULL, &err);
	} else if ((g = rh_group_find(srv, name)) != NULL &&
	    rh_group_drop(srv, g) != 0) {
		rh_err_set(&err, 500, AISH_ERR_STORAGE, "cannot delete the "
		    "group: %s", rh_store_error(srv->store));
		rh_cl_answer(w, NULL, &err);
	} else
		rh_cl_answer(w, NULL, NULL);
	free(name);
}

/* Deletes a group from the cluster, then here (see groups.h). */
void
rh_group_delete_later(struct rh_server *srv, struct rh_group *g,
    const struct rh_cl_waiter *w)
{
	rh_cluster_group_delete(srv, g->name, delete_done, xstrdup(g->name),
	    w);
}

/* Deletes a group and its socket here. */
int
rh_group_drop(struct rh_server *srv, struct rh_group *g)
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
		if (!rh_group_has(g, socket_id))
			continue;
		ac_strmap_remove(&g->member_set, socket_id);
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
