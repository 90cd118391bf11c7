/*
 * cluster-write.c: a write accepted by this node.  The loop hands it to
 * the store thread, which records its id in the AISH_WRITES bucket
 * (create if absent: a repeated id is a duplicate, through any node and
 * after any restart) and publishes one job per member on AISH_JOBS; the
 * writer's ack comes back on the loop once both are stored.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster-engine.h"
#include "delivery.h"
#include "json-build.h"
#include "ws.h"
#include "xalloc.h"

/* A write waiting for the engine; the loop owns it. */
struct rh_cl_write {
	struct rh_cl_write	*next;
	struct rh_cl_write	*prev;
	struct rh_conn		*conn;		/* NULL once gone */
	rh_accepted_cb		 accepted;
	struct rh_write_result	 res;		/* id and members */
	/* read by the store thread, never changed after the hand-off */
	char			*origin;
	char			*node;
	char			*content;
	int			 fresh;
};

/* A string as lowercase hex (allocated). */
char *
rh_cl_hex(const char *s)
{
	size_t	 n = strlen(s), i;
	char	*hex = xmalloc(n * 2 + 1);

	for (i = 0; i < n; i++)
		snprintf(hex + i * 2, 3, "%02x", (unsigned char)s[i]);
	hex[n * 2] = '\0';
	return hex;
}

/* Frees a write. */
static void
write_free(struct rh_cl_write *w)
{
	rh_write_result_free(&w->res);
	free(w->origin);
	free(w->node);
	free(w->content);
	free(w);
}

/* Accepts a write in cluster mode (see cluster.h). */
int
rh_cluster_write(struct rh_server *srv, struct rh_socket *origin,
    const char *content, int flags, struct rh_team *team,
    rh_accepted_cb accepted, void *ud, struct rh_write_result *res,
    struct rh_err *err)
{
	struct rh_cluster	*cl = srv->cluster;
	struct rh_cl_write	*w;
	struct rh_cl_item	*it;

	if (team != NULL || !(flags & RH_WRITE_FROM_WS) ||
	    (flags & RH_WRITE_SYNTHESIS)) {
		rh_err_set(err, 501, AISH_ERR_NOT_SUPPORTED,
		    "in cluster mode this "
		    "node takes writes over WebSocket, without moderation; "
		    "doc/cluster.md says what is not built yet");
		rh_write_result_free(res);
		return -1;
	}
	w = xcalloc(1, sizeof *w);
	w->conn = ud;
	w->accepted = accepted;
	w->res.id = xstrdup(res->id);
	w->res.members = cJSON_Duplicate(res->members, 1);
	w->origin = xstrdup(origin->id);
	w->node = xstrdup(srv->opt.node);
	w->content = xstrdup(content);
	w->fresh = (flags & RH_WRITE_FRESH) != 0;
	if ((w->next = cl->writes_pending) != NULL)
		w->next->prev = w;
	cl->writes_pending = w;
	it = xcalloc(1, sizeof *it);
	it->kind = RH_CL_ACCEPT;
	it->write = w;
	rh_cl_to_store(cl, it);
	return 0;
}

/* Store thread: whether a request that no server answered is tried
 * again.  While the engine elects a stream's leader after a kill, a
 * request is taken by none (so it is safe to repeat): it is tried again
 * until UNTIL, so that an election costs the writer time, not a refusal.
 * Once a whole wait went unanswered (no quorum), each request is tried
 * once until the engine answers again. */
static int
try_again(struct rh_cluster *cl, natsStatus s, int64_t until, int *pause)
{
	if (s != NATS_NO_RESPONDERS) {
		cl->unanswered = 0;
		return 0;
	}
	if (cl->unanswered || rh_now_ms() + *pause >= until) {
		cl->unanswered = 1;
		return 0;
	}
	nats_Sleep(*pause);
	*pause = *pause < 400 ? *pause * 2 : 500;
	return 1;
}

/* The job of one member of a write: its body, subject and Msg-Id
 * (the body and the id allocated). */
static char *
job_body(const struct rh_cl_write *w, const char *hex, const char *member,
    char *subject, size_t len, char **msg_id)
{
	cJSON	*obj = cJSON_CreateObject();
	char	 tok[80], *data;

	ac_json_add_ref(obj, "origin", w->origin);
	ac_json_add_ref(obj, "write_id", w->res.id);
	ac_json_add_ref(obj, "socket_id", member);
	ac_json_add_ref(obj, "content", w->content);
	ac_json_add_ref(obj, "node", w->node);
	if (w->fresh)
		cJSON_AddTrueToObject(obj, "fresh");
	data = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	rh_cl_subject_token(tok, sizeof tok, member);
	snprintf(subject, len, "aish.job.%s", tok);
	*msg_id = xasprintf("%s/%s/%s", w->origin, hex, member);
	return data;
}

/* Publishes the job of one member of a write, waiting for its PubAck; 0,
 * or -1 with why. */
static int
publish_job(struct rh_cluster *cl, const struct rh_cl_write *w,
    const char *hex, const char *member, char *why, size_t len)
{
	char		 subject[128], *msg_id, *data;
	jsPubOptions	 po;
	jsPubAck	*pa = NULL;
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	int64_t		 until = rh_now_ms() + RH_CL_WAIT_MS;
	int		 pause = 20;

	data = job_body(w, hex, member, subject, sizeof subject, &msg_id);
	jsPubOptions_Init(&po);
	po.MsgId = msg_id;
	po.MaxWait = RH_CL_WAIT_MS;
	do {
		jsPubAck_Destroy(pa);
		pa = NULL;
		s = js_Publish(&pa, cl->js, subject, data, (int)strlen(data),
		    &po, &jerr);
	} while (try_again(cl, s, until, &pause));
	jsPubAck_Destroy(pa);
	cJSON_free(data);
	free(msg_id);
	if (s != NATS_OK) {
		snprintf(why, len, "cannot store the job: %s",
		    rh_cl_why(s));
		return -1;
	}
	return 0;
}

/* nats.c thread: a job of the batch was not stored; the batch is then
 * published again one job at a time. */
void
rh_cl_on_async_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
	struct rh_cluster	*cl = closure;

	(void)js;
	(void)pae;
	__atomic_add_fetch(&cl->async_errors, 1, __ATOMIC_RELAXED);
}

/* Publishes every member's job at once and waits for all the PubAcks
 * together: a team chat's jobs cost about one round trip to the engine,
 * not one each.  0 when all were stored. */
static int
publish_batch(struct rh_cluster *cl, const struct rh_cl_write *w,
    const char *hex)
{
	const cJSON	*m;
	char		 subject[128], *msg_id, *data;
	jsPubOptions	 po;
	natsStatus	 s = NATS_OK;

	__atomic_store_n(&cl->async_errors, 0, __ATOMIC_RELAXED);
	cJSON_ArrayForEach(m, w->res.members) {
		data = job_body(w, hex, m->valuestring, subject,
		    sizeof subject, &msg_id);
		jsPubOptions_Init(&po);
		po.MsgId = msg_id;
		s = js_PublishAsync(cl->js, subject, data, (int)strlen(data),
		    &po);
		cJSON_free(data);
		free(msg_id);
		if (s != NATS_OK)
			break;
	}
	jsPubOptions_Init(&po);
	po.MaxWait = RH_CL_WAIT_MS;
	if (js_PublishAsyncComplete(cl->js, &po) != NATS_OK || s != NATS_OK)
		return -1;
	return __atomic_load_n(&cl->async_errors, __ATOMIC_RELAXED) == 0 ?
	    0 : -1;
}

/* Publishes the jobs of a write: a team's in one batch; one job, or a
 * batch that met an error, one at a time (the Msg-Ids make the jobs
 * stored already no-ops).  0, or -1 with why. */
static int
publish_jobs(struct rh_cluster *cl, const struct rh_cl_write *w,
    const char *hex, char *why, size_t len)
{
	const cJSON	*m;

	if (cJSON_GetArraySize(w->res.members) > 1 &&
	    publish_batch(cl, w, hex) == 0)
		return 0;
	cJSON_ArrayForEach(m, w->res.members) {
		if (publish_job(cl, w, hex, m->valuestring, why, len) != 0)
			return -1;
	}
	return 0;
}

/* Store thread: records the write id, then publishes the jobs. */
void
rh_cl_store_accept(struct rh_cluster *cl, struct rh_cl_item *it)
{
	struct rh_cl_write	*w = it->write;
	char			*hex = rh_cl_hex(w->res.id);
	char			*key = xasprintf("%s.%s", w->origin, hex);
	char			 value[160];
	kvEntry			*e = NULL;
	int			 publish = 1, pause = 20;
	natsStatus		 s;
	int64_t			 until = rh_now_ms() + RH_CL_WAIT_MS;

	snprintf(value, sizeof value, "{\"node\":\"%s\",\"at\":%lld}",
	    w->node, (long long)rh_now_ms());
	it->status = 0;
	do
		s = kvStore_Create(NULL, cl->writes, key, value,
		    (int)strlen(value));
	while (try_again(cl, s, until, &pause));
	if (s != NATS_OK) {
		/* Said before the Get below overwrites the library's text. */
		snprintf(it->why, sizeof it->why, "cannot store the write id: "
		    "%s", rh_cl_why(s));
		if (kvStore_Get(&e, cl->writes, key) == NATS_OK) {
			it->status = 1;
			/* The jobs are published again while JetStream still
			 * knows their Msg-Ids: a node that died between the
			 * id and its jobs leaves none missing, and none
			 * is stored twice. */
			publish = rh_now_ms() - kvEntry_Created(e) /
			    1000000 < RH_CL_DEDUP_NS / 1000000 - 60000;
			kvEntry_Destroy(e);
		} else {
			it->status = -1;
			publish = 0;
		}
	}
	if (publish && publish_jobs(cl, w, hex, it->why, sizeof it->why) != 0)
		it->status = -1;
	free(hex);
	free(key);
	it->kind = RH_CL_ACCEPTED;
	rh_cl_to_loop(cl, it);
}

/* Loop: the engine's answer about a write goes to its writer. */
void
rh_cl_loop_accepted(struct rh_cluster *cl, struct rh_cl_item *it)
{
	struct rh_cl_write	*w = it->write;
	cJSON			*obj;
	char			*json;

	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		cl->writes_pending = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	if (w->conn != NULL && it->status >= 0) {
		w->res.duplicate = it->status == 1;
		if (!w->res.duplicate)
			cl->srv->messages_in++;
		w->accepted(w->conn, &w->res);
	} else if (w->conn != NULL) {
		obj = cJSON_CreateObject();
		ac_json_add_ref(obj, "type", AISH_FRAME_ERROR);
		ac_json_add_ref(obj, "code", AISH_ERR_STORAGE);
		ac_json_add_ref(obj, "message", it->why);
		ac_json_add_ref(obj, "in_reply_to", w->res.id);
		json = cJSON_PrintUnformatted(obj);
		rh_conn_send(w->conn, json, strlen(json), NULL, 0);
		cJSON_free(json);
		cJSON_Delete(obj);
	}
	write_free(w);
	rh_cl_item_free(it);
}

/* A connection is going away: its writes' answers go nowhere. */
void
rh_cluster_conn_gone(struct rh_server *srv, struct rh_conn *c)
{
	struct rh_cl_write	*w;

	if (srv->cluster == NULL)
		return;
	for (w = srv->cluster->writes_pending; w != NULL; w = w->next) {
		if (w->conn == c)
			w->conn = NULL;
	}
}

/* Frees the writes still waiting (at shutdown, threads stopped). */
void
rh_cl_writes_free(struct rh_cluster *cl)
{
	struct rh_cl_write	*w;

	while ((w = cl->writes_pending) != NULL) {
		cl->writes_pending = w->next;
		write_free(w);
	}
}
