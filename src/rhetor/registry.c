/*
 * registry.c: the AI sockets, in memory in creation order and in the store.
 *
 * Every change is written to the store first and made in memory after, so
 * what a client was told always survives a restart.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "delivery.h"
#include "groups.h"
#include "listener.h"
#include "names.h"
#include "provider.h"
#include "registry.h"
#include "sent.h"
#include "xalloc.h"

/* The stored form of a socket; strings point into s. */
static void
socket_row(const struct rh_socket *s, struct rh_socket_row *row,
    char **context_text)
{
	*context_text = cJSON_PrintUnformatted(s->context);
	memset(row, 0, sizeof *row);
	row->id = s->id;
	row->ai_name = s->ai_name;
	row->model = s->model;
	row->provider = s->provider_name;
	row->prompt = s->prompt;
	row->context_json = *context_text;
	row->state = s->unresponsive ? AISH_STATE_UNRESPONSIVE :
	    AISH_STATE_ACTIVE;
	row->reason = s->reason;
	row->created_at = s->created_at;
	row->last_activity = s->last_activity;
	row->kind = s->kind;
}

/* Writes a socket to the store. */
static int
socket_save(struct rh_server *srv, const struct rh_socket *s)
{
	struct rh_socket_row	 row;
	char			*context_text;
	int			 rc;

	socket_row(s, &row, &context_text);
	rc = rh_store_socket_put(srv->store, &row);
	cJSON_free(context_text);
	return rc;
}

/* Appends a socket to the in-memory list. */
static void
socket_append(struct rh_server *srv, struct rh_socket *s)
{
	s->prev = srv->sockets_last;
	s->next = NULL;
	if (srv->sockets_last != NULL)
		srv->sockets_last->next = s;
	else
		srv->sockets = s;
	srv->sockets_last = s;
	rh_socket_index_add(&srv->socket_index, s);
	srv->nsockets++;
}

/* Frees one socket's memory. */
static void
socket_free(struct rh_socket *s)
{
	free(s->abandon);	/* at exit: the loop that timed it is gone */
	rh_sent_clear(s);
	free(s->id);
	free(s->ai_name);
	free(s->model);
	free(s->provider_name);
	free(s->prompt);
	free(s->reason);
	cJSON_Delete(s->context);
	free(s);
}

/* A new in-memory socket with the given fields. */
static struct rh_socket *
socket_new(const char *id, const char *ai_name, const char *model,
    const char *provider, const char *prompt, const cJSON *context,
    enum rh_socket_kind kind)
{
	struct rh_socket	*s = xcalloc(1, sizeof *s);

	s->id = xstrdup(id);
	s->ai_name = xstrdup(ai_name);
	s->model = model ? xstrdup(model) : NULL;
	s->provider_name = xstrdup(provider);
	s->provider = rh_provider_find(provider);
	s->prompt = prompt ? xstrdup(prompt) : NULL;
	s->context = context ? cJSON_Duplicate(context, 1) :
	    cJSON_CreateObject();
	if (s->context == NULL)
		s->context = cJSON_CreateObject();
	s->kind = kind;
	s->created_at = s->last_activity = rh_now_ms();
	return s;
}

/* Store callback: brings one stored socket back into memory. */
static void
load_one(void *ud, const struct rh_socket_row *row)
{
	struct rh_server	*srv = ud;
	struct rh_socket	*s;
	cJSON			*context = NULL;

	if (row->context_json != NULL)
		context = cJSON_Parse(row->context_json);
	if (context != NULL && !cJSON_IsObject(context)) {
		cJSON_Delete(context);
		context = NULL;
	}
	s = socket_new(row->id, row->ai_name, row->model, row->provider,
	    row->prompt, context, (enum rh_socket_kind)row->kind);
	cJSON_Delete(context);
	s->created_at = row->created_at;
	s->last_activity = row->last_activity;
	s->unresponsive = row->state != NULL &&
	    strcmp(row->state, AISH_STATE_UNRESPONSIVE) == 0;
	s->reason = row->reason ? xstrdup(row->reason) : NULL;
	socket_append(srv, s);
}

/* The model a socket on provider gets when none is asked for. */
static const char *
default_model(const char *provider)
{
	const struct rh_provider	*p = rh_provider_find(provider);

	return p != NULL ? p->default_model : NULL;
}

/* Replaces a string field when the new value differs; returns 1 if it
 * did. */
static int
field_update(char **field, const char *value)
{
	if ((*field == NULL && value == NULL) || (*field != NULL &&
	    value != NULL && strcmp(*field, value) == 0))
		return 0;
	free(*field);
	*field = value ? xstrdup(value) : NULL;
	return 1;
}

/* Adds a built-in socket unless the store already had it; a stored
 * roster or rhetor socket takes the provider, model and prompt the
 * server now gives it. */
static int
ensure_builtin(struct rh_server *srv, const char *id, const char *prompt,
    enum rh_socket_kind kind, const char *provider, const char *model)
{
	struct rh_socket	*s;
	int			 changed = 0;

	if (model == NULL && provider != NULL)
		model = default_model(provider);
	if ((s = rh_registry_find(srv, id)) != NULL) {
		if (s->kind != kind || kind == RH_KIND_TEAM_CHAT)
			return 0;
		changed |= field_update(&s->provider_name, provider);
		changed |= field_update(&s->model, model);
		changed |= field_update(&s->prompt, prompt);
		s->provider = rh_provider_find(provider);
		return changed ? socket_save(srv, s) : 0;
	}
	s = socket_new(id, id, model, kind == RH_KIND_TEAM_CHAT ? "none" :
	    provider, prompt, NULL, kind);
	if (socket_save(srv, s) != 0) {
		socket_free(s);
		return -1;
	}
	socket_append(srv, s);
	return 0;
}

/* Loads stored sockets and adds the special ones and the roster. */
int
rh_registry_load(struct rh_server *srv)
{
	const struct rh_roster_entry	*e;
	const char			*dflt = rh_provider_default();

	if (rh_store_socket_each(srv->store, load_one, srv) != 0)
		return -1;
	if (rh_store_begin(srv->store) != 0)
		return -1;
	if (ensure_builtin(srv, AISH_TEAM_CHAT_ALL, NULL,
	    RH_KIND_TEAM_CHAT, NULL, NULL) != 0 ||
	    ensure_builtin(srv, AISH_RHETOR_SOCKET, rh_rhetor_prompt,
	    RH_KIND_RHETOR, dflt, NULL) != 0)
		goto fail;
	for (e = rh_roster_entries(); e->name != NULL; e++) {
		if (ensure_builtin(srv, e->name, e->persona, RH_KIND_ROSTER,
		    e->provider ? e->provider : dflt, e->model) != 0)
			goto fail;
	}
	return rh_store_commit(srv->store);
fail:
	rh_store_rollback(srv->store);
	return -1;
}

/* Frees every socket in memory. */
void
rh_registry_free(struct rh_server *srv)
{
	struct rh_socket	*s, *next;

	for (s = srv->sockets; s != NULL; s = next) {
		next = s->next;
		socket_free(s);
	}
	srv->sockets = srv->sockets_last = NULL;
	rh_socket_index_free(&srv->socket_index);
	srv->nsockets = 0;
}

/* The socket with this id, or NULL. */
struct rh_socket *
rh_registry_find(struct rh_server *srv, const char *id)
{
	return rh_socket_index_find(&srv->socket_index, id);
}

/* The socket a stage name means: an id, or a roster AI's own socket. */
struct rh_socket *
rh_registry_resolve(struct rh_server *srv, const char *name)
{
	return rh_registry_find(srv, name);
}

/* Checks a create request; returns 0, or -1 with err filled. */
static int
create_check(struct rh_server *srv, const struct rh_create_req *req,
    struct rh_err *err)
{
	if (req->ai_name == NULL || !ac_name_valid(req->ai_name)) {
		rh_err_set(err, 400, AISH_ERR_BAD_NAME, "ai_name must match "
		    "[A-Za-z0-9._-]{1,64}");
		return -1;
	}
	if (req->socket_id != NULL) {
		if (!ac_name_valid(req->socket_id)) {
			rh_err_set(err, 400, AISH_ERR_BAD_NAME, "socket_id "
			    "must match [A-Za-z0-9._-]{1,64}");
			return -1;
		}
		if (rh_registry_find(srv, req->socket_id) != NULL) {
			rh_err_set(err, 409, AISH_ERR_CONFLICT,
			    "socket '%s' already exists", req->socket_id);
			return -1;
		}
		if (strncmp(req->socket_id, AISH_TEAM_CHAT_PREFIX,
		    strlen(AISH_TEAM_CHAT_PREFIX)) == 0) {
			rh_err_set(err, 400, AISH_ERR_BAD_NAME, "socket ids "
			    "starting with '%s' are reserved",
			    AISH_TEAM_CHAT_PREFIX);
			return -1;
		}
	}
	if (req->provider != NULL && rh_provider_find(req->provider) == NULL) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "unknown provider "
		    "'%s' (known: %s)", req->provider, rh_provider_names());
		return -1;
	}
	return 0;
}

/* The special socket that a create of ai_name means: team-chat-all,
 * rhetor, or a group's team-chat-<name>.  There is one of each, so a
 * client that creates one (as clients written for the first aish do at
 * start) gets it, and no AI of that name is made.  NULL for any other
 * name; also NULL, with err filled, for a team-chat-<name> of no group. */
static struct rh_socket *
special_named(struct rh_server *srv, const char *ai_name, struct rh_err *err)
{
	struct rh_group	*g;
	const char	*group;
	size_t		 plen = strlen(AISH_TEAM_CHAT_PREFIX);

	if (ai_name == NULL)
		return NULL;
	if (strcmp(ai_name, AISH_RHETOR_SOCKET) == 0 ||
	    strcmp(ai_name, AISH_TEAM_CHAT_ALL) == 0)
		return rh_registry_find(srv, ai_name);
	if (strncmp(ai_name, AISH_TEAM_CHAT_PREFIX, plen) != 0)
		return NULL;
	group = ai_name + plen;
	if ((g = rh_group_find(srv, group)) == NULL) {
		rh_err_set(err, 404, AISH_ERR_UNKNOWN_GROUP, "'%s' would be "
		    "the team-chat socket of group '%s', and there is no such "
		    "group (make it with PUT /api/ai/groups/%s)", ai_name,
		    group, group);
		return NULL;
	}
	return rh_registry_find(srv, g->socket_id);
}

/* A fresh "<ai_name>-<n>" id; n comes from a counter that never goes back.
 * A long ai_name is shortened so that the id stays a valid name. */
static char *
next_socket_id(struct rh_server *srv, const char *ai_name)
{
	char	 suffix[24];
	int64_t	 n;
	int	 keep;
	char	*id;

	for (;;) {
		n = rh_store_next_socket_number(srv->store, ai_name);
		if (n < 0)
			return NULL;
		snprintf(suffix, sizeof suffix, "-%lld", (long long)n);
		keep = AISH_MAX_NAME - (int)strlen(suffix);
		id = xasprintf("%.*s%s", keep, ai_name, suffix);
		if (rh_registry_find(srv, id) == NULL)
			return id;
		free(id);
	}
}

/* The checks and the id of a create: the socket to make (in no list,
 * not stored yet), or the special socket the create means (*existing is
 * then 1), or NULL with err filled. */
static struct rh_socket *
create_start(struct rh_server *srv, const struct rh_create_req *req,
    int *existing, struct rh_err *err)
{
	struct rh_socket	*s;
	char			*id;
	const char		*prompt = req->prompt, *provider;

	*existing = 0;
	memset(err, 0, sizeof *err);
	if (req->socket_id == NULL &&
	    (s = special_named(srv, req->ai_name, err)) != NULL) {
		*existing = 1;
		return s;
	}
	if (err->status != 0 || create_check(srv, req, err) != 0)
		return NULL;
	if (req->socket_id != NULL)
		id = xstrdup(req->socket_id);
	else if ((id = next_socket_id(srv, req->ai_name)) == NULL) {
		rh_err_set(err, 500, AISH_ERR_STORAGE, "cannot number the "
		    "socket: %s", rh_store_error(srv->store));
		return NULL;
	}
	if (prompt == NULL && rh_roster_find(req->ai_name) != NULL)
		prompt = rh_roster_find(req->ai_name)->persona;
	provider = req->provider ? req->provider : rh_provider_default();
	s = socket_new(id, req->ai_name, req->model ? req->model :
	    default_model(provider), provider, prompt, req->context,
	    req->private_socket ? RH_KIND_PRIVATE : RH_KIND_USER);
	free(id);
	return s;
}

/* Creates a socket (see registry.h). */
struct rh_socket *
rh_registry_create(struct rh_server *srv, const struct rh_create_req *req,
    int *existing, struct rh_err *err)
{
	struct rh_socket	*s;

	if ((s = create_start(srv, req, existing, err)) == NULL || *existing)
		return s;
	if (socket_save(srv, s) != 0) {
		rh_err_set(err, 500, AISH_ERR_STORAGE, "cannot store the "
		    "socket: %s", rh_store_error(srv->store));
		socket_free(s);
		return NULL;
	}
	socket_append(srv, s);
	return s;
}

/* A create waiting for the cluster. */
struct create_later {
	struct rh_socket	*s;		/* not in the lists yet */
	int			 numbered;	/* create gave the id */
	int			 tries;
};

/* Loop: the cluster's answer about a delete made only to undo a create
 * (logged by the cluster). */
static void
undone(struct rh_server *srv, void *arg, int rc, const char *why,
    const struct rh_cl_waiter *w)
{
}

/* Loop: the cluster's answer about a create: the socket is made here
 * too, or a number another node gave meanwhile is passed over. */
static void
create_done(struct rh_server *srv, void *arg, int rc, const char *why,
    const struct rh_cl_waiter *w)
{
	struct create_later	*cr = arg;
	struct rh_socket	*s = cr->s, *here;
	struct rh_err		 err;
	char			*id;

	if (rc == 1 && cr->numbered && ++cr->tries < 100 &&
	    (id = next_socket_id(srv, s->ai_name)) != NULL) {
		free(s->id);
		s->id = id;
		rh_cluster_socket_create(srv, s, create_done, cr, w);
		return;
	}
	free(cr);
	if (rc == 0 && (here = rh_registry_find(srv, s->id)) != NULL) {
		/* Made here meanwhile, from the bucket. */
		socket_free(s);
		rh_cl_answer(w, here, NULL);
		return;
	}
	if (rc == 0 && socket_save(srv, s) == 0) {
		socket_append(srv, s);
		rh_cl_answer(w, s, NULL);
		return;
	}
	if (rc == 0) {
		rh_err_set(&err, 500, AISH_ERR_STORAGE, "cannot store the "
		    "socket: %s", rh_store_error(srv->store));
		rh_cluster_socket_delete(srv, s->id, undone, NULL, NULL);
	} else if (rc == 1)
		rh_err_set(&err, 409, AISH_ERR_CONFLICT, "socket '%s' already "
		    "exists", s->id);
	else
		rh_err_set(&err, 500, AISH_ERR_STORAGE, "cannot store the "
		    "socket in the cluster: %s", why);
	socket_free(s);
	rh_cl_answer(w, NULL, &err);
}

/* Creates a socket in cluster mode (see registry.h). */
struct rh_socket *
rh_registry_create_later(struct rh_server *srv,
    const struct rh_create_req *req, const struct rh_cl_waiter *w,
    int *existing, struct rh_err *err)
{
	struct rh_socket	*s;
	struct create_later	*cr;

	if ((s = create_start(srv, req, existing, err)) == NULL || *existing)
		return s;
	cr = xcalloc(1, sizeof *cr);
	cr->s = s;
	cr->numbered = req->socket_id == NULL;
	rh_cluster_socket_create(srv, s, create_done, cr, w);
	return NULL;
}

/* A socket another node made, here too (see registry.h). */
struct rh_socket *
rh_registry_apply(struct rh_server *srv, const struct rh_create_req *req,
    int64_t created_at)
{
	enum rh_socket_kind	 kind = req->private_socket ?
				    RH_KIND_PRIVATE : RH_KIND_USER;
	struct rh_socket	*s = rh_registry_find(srv, req->socket_id);
	const char		*provider = req->provider ? req->provider :
				    rh_provider_default();
	int			 changed = 0;

	if (s != NULL && !rh_registry_is_deletable(s))
		return NULL;
	if (s != NULL) {
		changed |= field_update(&s->ai_name, req->ai_name);
		changed |= field_update(&s->model, req->model);
		changed |= field_update(&s->provider_name, provider);
		changed |= field_update(&s->prompt, req->prompt);
		changed |= s->kind != kind || s->created_at != created_at;
		if (req->context != NULL && !cJSON_Compare(s->context,
		    req->context, 1)) {
			cJSON_Delete(s->context);
			s->context = cJSON_Duplicate(req->context, 1);
			changed = 1;
		}
		s->provider = rh_provider_find(provider);
		s->kind = kind;
		s->created_at = created_at;
		return !changed || socket_save(srv, s) == 0 ? s : NULL;
	}
	s = socket_new(req->socket_id, req->ai_name, req->model, provider,
	    req->prompt, req->context, kind);
	s->created_at = s->last_activity = created_at;
	if (socket_save(srv, s) != 0) {
		socket_free(s);
		return NULL;
	}
	socket_append(srv, s);
	return s;
}

/* Adds a broadcast socket (a group's team-chat-<name>) to the store and
 * to memory; NULL on a storage error. */
struct rh_socket *
rh_registry_add_team(struct rh_server *srv, const char *id)
{
	struct rh_socket	*s;

	s = socket_new(id, id, NULL, "none", NULL, NULL, RH_KIND_TEAM_CHAT);
	if (socket_save(srv, s) != 0) {
		socket_free(s);
		return NULL;
	}
	socket_append(srv, s);
	return s;
}

/* Removes a socket from the store and memory. */
int
rh_registry_delete(struct rh_server *srv, struct rh_socket *s)
{
	return rh_registry_drop(srv, s);
}

/* Loop: the cluster's answer about a delete (arg: the id): the socket
 * goes here too, unless it went meanwhile. */
static void
delete_done(struct rh_server *srv, void *arg, int rc, const char *why,
    const struct rh_cl_waiter *w)
{
	struct rh_socket	*s;
	struct rh_err		 err;
	char			*id = arg;

	if (rc != 0) {
		rh_err_set(&err, 500, AISH_ERR_STORAGE, "cannot delete '%s' "
		    "from the cluster: %s", id, why);
		rh_cl_answer(w, NULL, &err);
	} else if ((s = rh_registry_find(srv, id)) != NULL &&
	    rh_registry_is_deletable(s) && rh_registry_drop(srv, s) != 0) {
		rh_err_set(&err, 500, AISH_ERR_STORAGE, "cannot delete: %s",
		    rh_store_error(srv->store));
		rh_cl_answer(w, NULL, &err);
	} else
		rh_cl_answer(w, NULL, NULL);
	free(id);
}

/* Removes a socket create made from the cluster, then here (see
 * registry.h). */
void
rh_registry_delete_later(struct rh_server *srv, struct rh_socket *s,
    const struct rh_cl_waiter *w)
{
	rh_cluster_socket_delete(srv, s->id, delete_done, xstrdup(s->id), w);
}

/* Removes a socket from the store and from memory. */
int
rh_registry_drop(struct rh_server *srv, struct rh_socket *s)
{
	if (rh_store_socket_delete(srv->store, s->id) != 0)
		return -1;
	rh_registry_forget(srv, s);
	return 0;
}

/* Removes a socket from memory only (the store no longer has it): its
 * jobs stop, its readers are closed, it leaves its groups. */
void
rh_registry_forget(struct rh_server *srv, struct rh_socket *s)
{
	rh_groups_socket_gone(srv, s->id);
	rh_cluster_socket_gone(srv, s);
	rh_delivery_socket_gone(srv, s);
	rh_listeners_gone(srv, s);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		srv->sockets = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		srv->sockets_last = s->prev;
	rh_socket_index_remove(&srv->socket_index, s);
	srv->nsockets--;
	socket_free(s);
}

/* True for an id that create numbered for ai_name: "<ai_name>-<n>". */
static int
numbered_id(const char *id, const char *ai_name)
{
	size_t	n = strlen(ai_name);

	if (strncmp(id, ai_name, n) != 0 || id[n] != '-' || id[n + 1] == '\0')
		return 0;
	return strspn(id + n + 1, "0123456789") == strlen(id + n + 1);
}

/* A session's last reader left long ago (see registry.h). */
int
rh_registry_session_over(struct rh_server *srv, struct rh_socket *s)
{
	cJSON	*groups;
	int	 in_group, queued;

	/* A node of a cluster does not know the readers of the others. */
	if (srv->cluster != NULL)
		return 0;
	if (s->kind != RH_KIND_USER || !s->had_reader || s->conns != NULL ||
	    s->waiters != NULL || srv->interrupted ||
	    !numbered_id(s->id, s->ai_name))
		return 0;
	if (rh_delivery_owes(srv, s))
		return -1;	/* a reply is on its way: look again later */
	groups = rh_groups_of(srv, s->id);
	in_group = cJSON_GetArraySize(groups) > 0;
	cJSON_Delete(groups);
	queued = rh_store_queue_count(srv->store, s->id);
	if (in_group || queued != 0)
		return 0;
	rh_log("%s: the session that used it is over; deleting it", s->id);
	if (rh_registry_delete(srv, s) != 0) {
		rh_log("cannot delete %s: %s", s->id,
		    rh_store_error(srv->store));
		return 0;
	}
	return 1;
}

/* Clears history and queue and makes the socket active again. */
int
rh_registry_reset(struct rh_server *srv, struct rh_socket *s)
{
	return rh_registry_clear(srv, s);
}

/* Loop: the cluster's answer about a reset (arg: the id): the socket is
 * cleared here too. */
static void
reset_done(struct rh_server *srv, void *arg, int rc, const char *why,
    const struct rh_cl_waiter *w)
{
	struct rh_socket	*s;
	struct rh_err		 err;
	char			*id = arg;

	if (rc != 0)
		rh_err_set(&err, 500, AISH_ERR_STORAGE, "cannot reset '%s' in "
		    "the cluster: %s", id, why);
	else if ((s = rh_registry_find(srv, id)) == NULL)
		rh_err_set(&err, 404, AISH_ERR_UNKNOWN_SOCKET, "socket '%s' "
		    "was deleted", id);
	else if (rh_registry_clear(srv, s) != 0)
		rh_err_set(&err, 500, AISH_ERR_STORAGE, "cannot reset: %s",
		    rh_store_error(srv->store));
	else {
		rh_cl_answer(w, s, NULL);
		free(id);
		return;
	}
	rh_cl_answer(w, NULL, &err);
	free(id);
}

/* Resets a socket on every node of the cluster (see registry.h). */
void
rh_registry_reset_later(struct rh_server *srv, struct rh_socket *s,
    const struct rh_cl_waiter *w)
{
	rh_cluster_socket_reset(srv, s->id, reset_done, xstrdup(s->id), w);
}

/* Clears history and queue and makes the socket active again, here. */
int
rh_registry_clear(struct rh_server *srv, struct rh_socket *s)
{
	int	rc;

	rh_store_begin(srv->store);
	rc = rh_store_history_clear(srv->store, s->id);
	if (rc == 0)
		rc = rh_store_queue_clear(srv->store, s->id);
	if (rc == 0)
		rc = rh_store_socket_set_state(srv->store, s->id,
		    AISH_STATE_ACTIVE, NULL);
	if (rc != 0) {
		rh_store_rollback(srv->store);
		return -1;
	}
	if (rh_store_commit(srv->store) != 0)
		return -1;
	s->unresponsive = 0;
	s->failures = 0;
	free(s->reason);
	s->reason = NULL;
	rh_sent_clear(s);	/* what readers held is gone with the queue */
	return 0;
}

/* True for the sockets a team-chat-all write reaches. */
int
rh_registry_is_member(const struct rh_socket *s)
{
	return (s->kind == RH_KIND_USER || s->kind == RH_KIND_ROSTER) &&
	    !s->unresponsive;
}

/* True for the AI sockets: made with create or on the roster. */
int
rh_registry_is_ai(const struct rh_socket *s)
{
	return s->kind == RH_KIND_USER || s->kind == RH_KIND_ROSTER ||
	    s->kind == RH_KIND_PRIVATE;
}

/* True for the sockets delete may remove: the ones create made. */
int
rh_registry_is_deletable(const struct rh_socket *s)
{
	return s->kind == RH_KIND_USER || s->kind == RH_KIND_PRIVATE;
}

/* Marks a socket unresponsive with a reason, in the store and in memory.
 * 0 or -1. */
int
rh_registry_set_unresponsive(struct rh_server *srv, struct rh_socket *s,
    const char *reason)
{
	if (rh_store_socket_set_state(srv->store, s->id,
	    AISH_STATE_UNRESPONSIVE, reason) != 0)
		return -1;
	s->unresponsive = 1;
	free(s->reason);
	s->reason = reason ? xstrdup(reason) : NULL;
	return 0;
}

/* Adds a string field, or null when the value is NULL. */
static void
add_string_or_null(cJSON *obj, const char *key, const char *value)
{
	if (value != NULL)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

/* Describes a socket as JSON. */
cJSON *
rh_registry_describe(struct rh_server *srv, struct rh_socket *s, int detail)
{
	cJSON	*obj = cJSON_CreateObject();
	char	 when[32];

	cJSON_AddStringToObject(obj, "socket_id", s->id);
	cJSON_AddStringToObject(obj, "ai_name", s->ai_name);
	add_string_or_null(obj, "model", s->model);
	cJSON_AddStringToObject(obj, "provider", s->provider_name);
	if (s->kind == RH_KIND_PRIVATE)
		cJSON_AddTrueToObject(obj, "private");
	cJSON_AddStringToObject(obj, "state", s->unresponsive ?
	    AISH_STATE_UNRESPONSIVE : AISH_STATE_ACTIVE);
	if (s->unresponsive)
		add_string_or_null(obj, "reason", s->reason);
	rh_format_time(s->created_at, when, sizeof when);
	cJSON_AddStringToObject(obj, "created_at", when);
	rh_format_time(s->last_activity, when, sizeof when);
	cJSON_AddStringToObject(obj, "last_activity", when);
	/* Replies on their way to a reader are not waiting for one. */
	cJSON_AddNumberToObject(obj, "queue_size",
	    rh_sent_available(srv, s));
	cJSON_AddItemToObject(obj, "groups", rh_groups_of(srv, s->id));
	if (detail) {
		add_string_or_null(obj, "prompt", s->prompt);
		cJSON_AddItemToObject(obj, "context",
		    cJSON_Duplicate(s->context, 1));
		cJSON_AddNumberToObject(obj, "history_size",
		    rh_store_history_count(srv->store, s->id,
		    rh_provider_history_rows(s->provider),
		    rh_provider_history_bytes(s->provider)));
	}
	return obj;
}

/* Reads a non-negative integer from context.echo.<key>, or 0. */
static int
echo_param(const struct rh_socket *s, const char *key, int max)
{
	const cJSON	*echo, *v;

	echo = cJSON_GetObjectItemCaseSensitive(s->context, "echo");
	v = cJSON_GetObjectItemCaseSensitive(echo, key);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		return 0;
	return v->valuedouble > max ? max : (int)v->valuedouble;
}

/* The echo delay and chunk count a socket's context asks for. */
void
rh_socket_echo_params(const struct rh_socket *s, int *delay_ms, int *chunks)
{
	*delay_ms = echo_param(s, "delay_ms", AISH_MAX_WAIT_MS);
	*chunks = echo_param(s, "chunks", 10000);
}
