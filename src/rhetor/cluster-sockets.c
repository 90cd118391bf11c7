/*
 * cluster-sockets.c: the sockets made with create and the groups, shared
 * by every node through the AISH_SOCKETS bucket (doc/cluster.md).
 *
 * A change answered on a node is put in the bucket first (create: only
 * if the id is free there, kvStore_Create), by the store thread, never
 * the loop; once its answer is back on the loop, the change is made in
 * the node's own registry and its HTTP request answered (a change waits
 * in cl->changes meanwhile, and what the watch hears waits in cl->held
 * behind it).  Every node watches the bucket on a thread of its own and
 * hands each change to the loop, which makes it in its registry too; the
 * node that made a change hears it back and skips it (echoes).  At open,
 * before the loop runs, the node reads the whole bucket and drops the
 * created sockets and groups it kept that the cluster no longer has.
 *
 * Keys: "socket.<id>", "group.<name>" and "reset.<id>" (the last reset
 * of a socket: every node clears its history and queue), with each '.'
 * of the name written '=' (names match [A-Za-z0-9._-], keys may not hold
 * empty tokens): one bucket, so that a group is heard after its members.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-engine.h"
#include "cluster-write.h"
#include "groups.h"
#include "json-build.h"
#include "registry.h"
#include "xalloc.h"

#define SOCKET_PREFIX	"socket."
#define GROUP_PREFIX	"group."
#define RESET_PREFIX	"reset."

/* The key of a socket or group: prefix, then name with '.' as '='. */
static void
key_of(char *dst, size_t len, const char *prefix, const char *name)
{
	size_t	n = strlen(prefix), i;

	snprintf(dst, len, "%s", prefix);
	for (i = 0; name[i] != '\0' && n + i + 1 < len; i++)
		dst[n + i] = name[i] == '.' ? '=' : name[i];
	dst[n + i] = '\0';
}

/* The name in a key after its prefix, '=' back to '.'; 0, or -1 when
 * the key has another prefix or does not fit. */
static int
name_of(const char *key, const char *prefix, char *dst, size_t len)
{
	size_t	n = strlen(prefix), i;

	if (strncmp(key, prefix, n) != 0 || strlen(key + n) >= len ||
	    key[n] == '\0')
		return -1;
	for (i = 0; key[n + i] != '\0'; i++)
		dst[i] = key[n + i] == '=' ? '.' : key[n + i];
	dst[i] = '\0';
	return 0;
}

/* This node made a change of key: its echo is to be skipped. */
static void
echo_expect(struct rh_cluster *cl, const char *key)
{
	intptr_t	n = (intptr_t)ac_strmap_get(&cl->echoes, key);

	ac_strmap_put(&cl->echoes, key, (void *)(n + 1));
}

/* True, once, for each change of key this node made itself. */
static int
echo_take(struct rh_cluster *cl, const char *key)
{
	intptr_t	n = (intptr_t)ac_strmap_get(&cl->echoes, key);

	if (n == 0)
		return 0;
	if (n == 1)
		ac_strmap_remove(&cl->echoes, key);
	else
		ac_strmap_put(&cl->echoes, key, (void *)(n - 1));
	return 1;
}

/* A socket as the bucket keeps it (allocated). */
static char *
socket_value(struct rh_cluster *cl, const struct rh_socket *s)
{
	cJSON	*obj = cJSON_CreateObject();
	char	*json;

	ac_json_add_ref(obj, "socket_id", s->id);
	ac_json_add_ref(obj, "ai_name", s->ai_name);
	if (s->model != NULL)
		ac_json_add_ref(obj, "model", s->model);
	ac_json_add_ref(obj, "provider", s->provider_name);
	if (s->prompt != NULL)
		ac_json_add_ref(obj, "prompt", s->prompt);
	ac_json_add_item(obj, "context", cJSON_Duplicate(s->context, 1));
	if (s->kind == RH_KIND_PRIVATE)
		cJSON_AddTrueToObject(obj, "private");
	ac_json_add_int(obj, "created_at", s->created_at);
	ac_json_add_ref(obj, "node", cl->srv->opt.node);
	json = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	return json;
}

/* What a change of the bucket does. */
enum change_op {
	CHANGE_CREATE,		/* put the key if it is absent */
	CHANGE_PUT,
	CHANGE_DELETE
};

/* A change of the bucket this node makes, waiting for the engine; the
 * loop owns it, the store thread reads op, key and value. */
struct rh_cl_change {
	struct rh_cl_change	*next;
	struct rh_cl_change	*prev;
	enum change_op		 op;
	char			*key;
	char			*value;		/* NULL for a delete */
	rh_cl_done_cb		 done;
	void			*arg;
	struct rh_cl_waiter	 w;
};

/* Frees a change. */
static void
change_free(struct rh_cl_change *ch)
{
	free(ch->key);
	free(ch->value);
	free(ch);
}

/* Hands a change (value allocated, or NULL) to the store thread. */
static void
change_start(struct rh_server *srv, enum change_op op, const char *prefix,
    const char *name, char *value, rh_cl_done_cb done, void *arg,
    const struct rh_cl_waiter *w)
{
	struct rh_cluster	*cl = srv->cluster;
	struct rh_cl_change	*ch = xcalloc(1, sizeof *ch);
	struct rh_cl_item	*it = xcalloc(1, sizeof *it);
	char			 key[160];

	key_of(key, sizeof key, prefix, name);
	ch->op = op;
	ch->key = xstrdup(key);
	ch->value = value;
	ch->done = done;
	ch->arg = arg;
	if (w != NULL)
		ch->w = *w;
	if ((ch->next = cl->changes) != NULL)
		ch->next->prev = ch;
	cl->changes = ch;
	it->kind = RH_CL_CHANGE;
	it->change = ch;
	rh_cl_to_store(cl, it);
}

/* A JSON text as the bucket keeps it (allocated with malloc). */
static char *
value_of(cJSON *obj)
{
	char	*json = cJSON_PrintUnformatted(obj);
	char	*value = xstrdup(json);

	cJSON_free(json);
	cJSON_Delete(obj);
	return value;
}

/* Puts a socket made by create in the bucket if its id is free there. */
void
rh_cluster_socket_create(struct rh_server *srv, const struct rh_socket *s,
    rh_cl_done_cb done, void *arg, const struct rh_cl_waiter *w)
{
	char	*json = socket_value(srv->cluster, s);
	char	*value = xstrdup(json);

	cJSON_free(json);
	change_start(srv, CHANGE_CREATE, SOCKET_PREFIX, s->id, value, done,
	    arg, w);
}

/* Deletes a socket from the bucket. */
void
rh_cluster_socket_delete(struct rh_server *srv, const char *id,
    rh_cl_done_cb done, void *arg, const struct rh_cl_waiter *w)
{
	change_start(srv, CHANGE_DELETE, SOCKET_PREFIX, id, NULL, done, arg,
	    w);
}

/* Puts a group in the bucket. */
void
rh_cluster_group_put(struct rh_server *srv, const char *name,
    const cJSON *members, rh_cl_done_cb done, void *arg,
    const struct rh_cl_waiter *w)
{
	cJSON	*obj = cJSON_CreateObject();

	ac_json_add_ref(obj, "name", name);
	ac_json_add_item(obj, "members", cJSON_Duplicate(members, 1));
	ac_json_add_ref(obj, "node", srv->opt.node);
	change_start(srv, CHANGE_PUT, GROUP_PREFIX, name, value_of(obj), done,
	    arg, w);
}

/* Deletes a group from the bucket. */
void
rh_cluster_group_delete(struct rh_server *srv, const char *name,
    rh_cl_done_cb done, void *arg, const struct rh_cl_waiter *w)
{
	change_start(srv, CHANGE_DELETE, GROUP_PREFIX, name, NULL, done, arg,
	    w);
}

/* Tells every node to reset a socket. */
void
rh_cluster_socket_reset(struct rh_server *srv, const char *id,
    rh_cl_done_cb done, void *arg, const struct rh_cl_waiter *w)
{
	cJSON	*obj = cJSON_CreateObject();

	ac_json_add_int(obj, "at", rh_now_ms());
	ac_json_add_ref(obj, "node", srv->opt.node);
	change_start(srv, CHANGE_PUT, RESET_PREFIX, id, value_of(obj), done,
	    arg, w);
}

/* Store thread: one request of a change; NATS_OK, or why it failed. */
static natsStatus
change_request(struct rh_cluster *cl, const struct rh_cl_change *ch)
{
	switch (ch->op) {
	case CHANGE_CREATE:
		return kvStore_Create(NULL, cl->sockets, ch->key, ch->value,
		    (int)strlen(ch->value));
	case CHANGE_PUT:
		return kvStore_PutString(NULL, cl->sockets, ch->key,
		    ch->value);
	default:
		return kvStore_Delete(cl->sockets, ch->key);
	}
}

/* Store thread: makes a change in the bucket.  While the engine elects
 * the bucket's leader no server takes a request (so it is safe to
 * repeat): it is tried again for up to RH_CL_WAIT_MS. */
void
rh_cl_store_change(struct rh_cluster *cl, struct rh_cl_item *it)
{
	struct rh_cl_change	*ch = it->change;
	kvEntry			*e = NULL;
	natsStatus		 st;
	int64_t			 until = rh_now_ms() + RH_CL_WAIT_MS;
	int			 pause = 20;

	while ((st = change_request(cl, ch)) == NATS_NO_RESPONDERS &&
	    rh_now_ms() + pause < until) {
		nats_Sleep(pause);
		pause = pause < 400 ? pause * 2 : 500;
	}
	it->status = st == NATS_OK ? 0 : -1;
	if (st != NATS_OK) {
		/* Said before the Get below overwrites the library's text;
		 * a request the engine did not answer in time may still be
		 * made there. */
		snprintf(it->why, sizeof it->why, "%s%s", rh_cl_why(st),
		    st == NATS_TIMEOUT ? " (it may be made all the same: look "
		    "again)" : "");
		if (ch->op == CHANGE_CREATE &&
		    kvStore_Get(&e, cl->sockets, ch->key) == NATS_OK) {
			/* Its own value: the create was made, unanswered. */
			it->status = kvEntry_ValueLen(e) ==
			    (int)strlen(ch->value) && memcmp(kvEntry_Value(e),
			    ch->value, strlen(ch->value)) == 0 ? 0 : 1;
			kvEntry_Destroy(e);
		}
	}
	it->kind = RH_CL_CHANGED;
	rh_cl_to_loop(cl, it);
}

/* An HTTP request is going away: its changes answer no one. */
void
rh_cluster_req_gone(struct rh_server *srv, struct rh_http_req *req)
{
	struct rh_cl_change	*ch;

	if (srv->cluster == NULL)
		return;
	for (ch = srv->cluster->changes; ch != NULL; ch = ch->next) {
		if (ch->w.req == req)
			ch->w.req = NULL;
	}
	rh_cl_writes_req_gone(srv->cluster, req);
}

/* History callback: the time of the newest turn. */
static int
newest_turn(void *ud, const struct rh_turn_row *row)
{
	*(int64_t *)ud = row->at;
	return 1;
}

/* A reset of the bucket, made here.  Read at start, it clears only a
 * history whose newest turn is older than the reset (the node was away
 * when it was made). */
static void
reset_apply(struct rh_server *srv, const char *id, const char *value,
    int at_start)
{
	struct rh_socket	*s = rh_registry_find(srv, id);
	const cJSON		*at;
	cJSON			*obj;
	int64_t			 newest = 0;

	if (s == NULL || value == NULL)
		return;
	obj = cJSON_Parse(value);
	at = cJSON_GetObjectItemCaseSensitive(obj, "at");
	if (at_start && (!cJSON_IsNumber(at) ||
	    rh_store_history_page(srv->store, s->id, 0, 0, 0, 1, newest_turn,
	    &newest) != 0 || newest == 0 || newest > (int64_t)at->valuedouble)) {
		cJSON_Delete(obj);
		return;
	}
	cJSON_Delete(obj);
	if (rh_registry_clear(srv, s) != 0)
		rh_log("cluster: cannot reset %s here: %s", id,
		    rh_store_error(srv->store));
}

/* A socket of the bucket, made here (value NULL: deleted here). */
static void
socket_apply(struct rh_server *srv, const char *id, const char *value)
{
	struct rh_create_req	 req;
	struct rh_socket	*s;
	const cJSON		*created, *context;
	cJSON			*obj;

	if (value == NULL) {
		s = rh_registry_find(srv, id);
		if (s != NULL && rh_registry_is_deletable(s) &&
		    rh_registry_drop(srv, s) != 0)
			rh_log("cluster: cannot delete %s here: %s", id,
			    rh_store_error(srv->store));
		return;
	}
	obj = cJSON_Parse(value);
	memset(&req, 0, sizeof req);
	req.socket_id = id;
	req.ai_name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    obj, "ai_name"));
	req.model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    obj, "model"));
	req.provider = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(obj, "provider"));
	req.prompt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    obj, "prompt"));
	context = cJSON_GetObjectItemCaseSensitive(obj, "context");
	req.context = cJSON_IsObject(context) ? context : NULL;
	req.private_socket = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    obj, "private"));
	created = cJSON_GetObjectItemCaseSensitive(obj, "created_at");
	if (req.ai_name == NULL || req.provider == NULL ||
	    !cJSON_IsNumber(created))
		rh_log("cluster: %s in %s is not a socket; left out", id,
		    RH_CL_SOCKETS);
	else if (rh_registry_apply(srv, &req,
	    (int64_t)created->valuedouble) == NULL)
		rh_log("cluster: cannot make %s here (a built-in socket, or "
		    "storage: %s)", id, rh_store_error(srv->store));
	cJSON_Delete(obj);
}

/* A group of the bucket, made here (value NULL: deleted here). */
static void
group_apply(struct rh_server *srv, const char *name, const char *value)
{
	struct rh_group	*g = rh_group_find(srv, name);
	cJSON		*obj;
	int		 rc = 0;

	if (value == NULL) {
		if (g != NULL)
			rc = rh_group_drop(srv, g);
	} else {
		obj = cJSON_Parse(value);
		rc = rh_group_apply(srv, name,
		    cJSON_GetObjectItemCaseSensitive(obj, "members"));
		cJSON_Delete(obj);
	}
	if (rc != 0)
		rh_log("cluster: cannot follow the group %s here: %s", name,
		    rh_store_error(srv->store));
}

/* A change of the bucket, made here: a socket, a group or a reset. */
static void
entry_apply(struct rh_cluster *cl, const char *key, const char *value,
    int at_start)
{
	char	name[128];

	if (name_of(key, SOCKET_PREFIX, name, sizeof name) == 0)
		socket_apply(cl->srv, name, value);
	else if (name_of(key, GROUP_PREFIX, name, sizeof name) == 0)
		group_apply(cl->srv, name, value);
	else if (name_of(key, RESET_PREFIX, name, sizeof name) == 0)
		reset_apply(cl->srv, name, value, at_start);
	else
		rh_log("cluster: %s in %s is not aish's; left out", key,
		    RH_CL_SOCKETS);
}

/* Loop: a change heard by the watch thread; while a change made here
 * waits for the engine, it is held until that change is made here (its
 * echo may come first). */
void
rh_cl_loop_entry(struct rh_cluster *cl, struct rh_cl_item *it)
{
	if (cl->changes != NULL) {
		it->next = NULL;
		if (cl->held.tail != NULL)
			cl->held.tail->next = it;
		else
			cl->held.head = it;
		cl->held.tail = it;
		cl->held.depth++;
		return;
	}
	if (!echo_take(cl, it->subject))
		entry_apply(cl, it->subject, it->frame, 0);
	rh_cl_item_free(it);
}

/* Loop: makes here the changes of the bucket heard while changes made
 * here waited, in the bucket's order. */
static void
held_apply(struct rh_cluster *cl)
{
	struct rh_cl_item	*it, *next;

	it = cl->held.head;
	cl->held.head = cl->held.tail = NULL;
	cl->held.depth = 0;
	for (; it != NULL; it = next) {
		next = it->next;
		if (!echo_take(cl, it->subject))
			entry_apply(cl, it->subject, it->frame, 0);
		rh_cl_item_free(it);
	}
}

/* Loop: the engine's answer about a change: it is made here, and its
 * waiter answered; then what was heard meanwhile is made here. */
void
rh_cl_loop_changed(struct rh_cluster *cl, struct rh_cl_item *it)
{
	struct rh_cl_change	*ch = it->change;

	if (ch->prev != NULL)
		ch->prev->next = ch->next;
	else
		cl->changes = ch->next;
	if (ch->next != NULL)
		ch->next->prev = ch->prev;
	if (it->status == 0)
		echo_expect(cl, ch->key);
	else
		rh_log("cluster: cannot %s %s in %s: %s", ch->op ==
		    CHANGE_DELETE ? "delete" : "store", ch->key, RH_CL_SOCKETS,
		    it->status == 1 ? "taken" : it->why);
	ch->done(cl->srv, ch->arg, it->status, it->why, &ch->w);
	change_free(ch);
	rh_cl_item_free(it);
	held_apply(cl);
}

/* The value of a put, NUL-ended (allocated), or NULL for a delete. */
static char *
entry_value(kvEntry *e)
{
	if (kvEntry_Operation(e) != kvOp_Put)
		return NULL;
	return xstrndup(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e));
}

/* The watch thread: hands every change of the bucket to the loop, in
 * the bucket's order, until the watcher is stopped. */
static void *
watch_main(void *arg)
{
	struct rh_cluster	*cl = arg;
	struct rh_cl_item	*it;
	kvEntry			*e;
	natsStatus		 st;

	for (;;) {
		e = NULL;
		st = kvWatcher_Next(&e, cl->watcher, 1000);
		if (st == NATS_ILLEGAL_STATE)
			return NULL;
		if (st != NATS_OK && st != NATS_TIMEOUT)
			nats_Sleep(100);	/* not connected: try again */
		if (st != NATS_OK || e == NULL)
			continue;
		it = xcalloc(1, sizeof *it);
		it->kind = RH_CL_ENTRY;
		it->subject = xstrdup(kvEntry_Key(e));
		it->frame = entry_value(e);
		kvEntry_Destroy(e);
		rh_cl_to_loop(cl, it);
	}
}

/* Drops the created sockets and the groups this node kept that are not
 * among the keys the bucket has (seen). */
static void
drop_unseen(struct rh_cluster *cl, const struct ac_strmap *seen)
{
	struct rh_server	*srv = cl->srv;
	struct rh_socket	*s, *next;
	struct rh_group		*g, *gnext;
	char			 key[160];

	for (g = srv->groups; g != NULL; g = gnext) {
		gnext = g->next;
		key_of(key, sizeof key, GROUP_PREFIX, g->name);
		if (ac_strmap_get(seen, key) == NULL)
			group_apply(srv, g->name, NULL);
	}
	for (s = srv->sockets; s != NULL; s = next) {
		next = s->next;
		key_of(key, sizeof key, SOCKET_PREFIX, s->id);
		if (rh_registry_is_deletable(s) &&
		    ac_strmap_get(seen, key) == NULL) {
			rh_log("cluster: %s is no longer in the cluster; "
			    "deleted here", s->id);
			socket_apply(srv, s->id, NULL);
		}
	}
}

/* Reads the bucket as it is (until the watcher's end-of-values mark) and
 * makes this node's sockets and groups match it; 0, or -1 after
 * logging. */
static int
initial_sync(struct rh_cluster *cl)
{
	struct ac_strmap	 seen = { NULL, 0, 0 };
	kvEntry			*e;
	char			*value;
	natsStatus		 st;
	int			 n = 0;

	for (;;) {
		e = NULL;
		st = kvWatcher_Next(&e, cl->watcher, RH_CL_WAIT_MS * 2);
		if (st != NATS_OK) {
			rh_log("cluster: cannot read the bucket %s: %s",
			    RH_CL_SOCKETS, rh_cl_why(st));
			ac_strmap_clear(&seen, NULL);
			return -1;
		}
		if (e == NULL)
			break;
		value = entry_value(e);
		if (value != NULL) {
			ac_strmap_put(&seen, kvEntry_Key(e), cl);
			n += strncmp(kvEntry_Key(e), RESET_PREFIX,
			    strlen(RESET_PREFIX)) != 0;
		}
		entry_apply(cl, kvEntry_Key(e), value, 1);
		free(value);
		kvEntry_Destroy(e);
	}
	drop_unseen(cl, &seen);
	ac_strmap_clear(&seen, NULL);
	rh_log("cluster: %d sockets and groups made with create are shared",
	    n);
	return 0;
}

/* Binds the bucket, follows it, and starts the watch thread. */
int
rh_cl_sockets_open(struct rh_cluster *cl)
{
	jsOptions	jo;
	natsStatus	st;

	jsOptions_Init(&jo);
	jo.Wait = RH_CL_SOCKETS_WAIT_MS;
	if ((st = natsConnection_JetStream(&cl->admin_js, cl->nc, &jo)) !=
	    NATS_OK ||
	    (st = js_KeyValue(&cl->sockets, cl->admin_js, RH_CL_SOCKETS)) !=
	    NATS_OK ||
	    (st = kvStore_WatchAll(&cl->watcher, cl->sockets, NULL)) !=
	    NATS_OK) {
		rh_log("cluster: cannot watch the bucket %s: %s",
		    RH_CL_SOCKETS, rh_cl_why(st));
		return -1;
	}
	if (initial_sync(cl) != 0)
		return -1;
	if (pthread_create(&cl->watch_thread, NULL, watch_main, cl) != 0)
		return -1;
	cl->watching = 1;
	return 0;
}

/* Stops the watch thread; frees the bucket's side.  The changes still
 * waiting (the store thread has stopped) are done with as not made, and
 * answer no one. */
void
rh_cl_sockets_close(struct rh_cluster *cl)
{
	struct rh_cl_change	*ch;
	struct rh_cl_item	*it;

	while ((ch = cl->changes) != NULL) {
		cl->changes = ch->next;
		ch->w.req = NULL;
		ch->done(cl->srv, ch->arg, -1, "the server is stopping",
		    &ch->w);
		change_free(ch);
	}
	while ((it = cl->held.head) != NULL) {
		cl->held.head = it->next;
		rh_cl_item_free(it);
	}
	cl->held.tail = NULL;
	if (cl->watcher != NULL)
		kvWatcher_Stop(cl->watcher);
	if (cl->watching)
		pthread_join(cl->watch_thread, NULL);
	cl->watching = 0;
	kvWatcher_Destroy(cl->watcher);
	cl->watcher = NULL;
	kvStore_Destroy(cl->sockets);
	cl->sockets = NULL;
	jsCtx_Destroy(cl->admin_js);
	cl->admin_js = NULL;
	ac_strmap_clear(&cl->echoes, NULL);
}
