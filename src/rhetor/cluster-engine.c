/*
 * cluster-engine.c: the node's connection to NATS JetStream, its streams
 * and buckets, its two threads (store, fetch), and the hand-off of what
 * they hear to the event loop (see cluster.h, doc/cluster.md).
 */
#include <stdlib.h>
#include <string.h>

#include "cluster-engine.h"
#include "xalloc.h"

/* Hands an item to the loop, and wakes it (any thread). */
void
rh_cl_to_loop(struct rh_cluster *cl, struct rh_cl_item *it)
{
	struct lws_context	*ctx;

	it->next = NULL;
	pthread_mutex_lock(&cl->mu);
	if (cl->to_loop.tail != NULL)
		cl->to_loop.tail->next = it;
	else
		cl->to_loop.head = it;
	cl->to_loop.tail = it;
	if (++cl->to_loop.depth > cl->handoff_max)
		cl->handoff_max = cl->to_loop.depth;
	ctx = cl->srv->context;
	pthread_mutex_unlock(&cl->mu);
	if (ctx != NULL)
		lws_cancel_service(ctx);
}

/* Hands an item to the store thread (loop). */
void
rh_cl_to_store(struct rh_cluster *cl, struct rh_cl_item *it)
{
	it->next = NULL;
	pthread_mutex_lock(&cl->mu);
	if (cl->to_store.tail != NULL)
		cl->to_store.tail->next = it;
	else
		cl->to_store.head = it;
	cl->to_store.tail = it;
	cl->to_store.depth++;
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->mu);
}

/* Frees an item and what it owns. */
void
rh_cl_item_free(struct rh_cl_item *it)
{
	if (it == NULL)
		return;
	natsMsg_Destroy(it->msg);
	free(it->subject);
	free(it->msg_id);
	free(it->frame);
	free(it);
}

/* A socket id as one subject token: ids match [A-Za-z0-9._-], and '.'
 * separates tokens, so it becomes '~', which no id holds. */
void
rh_cl_subject_token(char *dst, size_t len, const char *id)
{
	size_t	i;

	for (i = 0; id[i] != '\0' && i + 1 < len; i++)
		dst[i] = id[i] == '.' ? '~' : id[i];
	dst[i] = '\0';
}

/* Reads "<prefix><origin>.<ai>" back into the socket ids (see
 * cluster-engine.h). */
int
rh_cl_subject_ids(const char *subject, const char *prefix, char *origin,
    size_t olen, char *ai, size_t alen)
{
	const char	*p, *dot;
	size_t		 i, n;

	if (strncmp(subject, prefix, strlen(prefix)) != 0)
		return -1;
	p = subject + strlen(prefix);
	if ((dot = strchr(p, '.')) == NULL || (n = (size_t)(dot - p)) == 0 ||
	    n >= olen)
		return -1;
	for (i = 0; i < n; i++)
		origin[i] = p[i] == '~' ? '.' : p[i];
	origin[n] = '\0';
	if (ai == NULL)
		return 0;
	p = dot + 1;
	if ((n = strlen(p)) == 0 || n >= alen || strchr(p, '.') != NULL)
		return -1;
	for (i = 0; i < n; i++)
		ai[i] = p[i] == '~' ? '.' : p[i];
	ai[n] = '\0';
	return 0;
}

/* Store thread: publishes each core message of the chain (see
 * cluster-engine.h): one not heard leaves a copy of a reply queued on a
 * node, or a delta missing, never a reply lost. */
void
rh_cl_store_core(struct rh_cluster *cl, struct rh_cl_item *first)
{
	struct rh_cl_item	*it, *next;
	natsStatus		 s, failed = NATS_OK;
	int			 lost = 0;

	for (it = first; it != NULL; it = next) {
		next = it->next;
		s = natsConnection_PublishString(cl->nc, it->subject,
		    it->frame);
		if (s != NATS_OK) {
			failed = s;
			lost++;
		}
		rh_cl_item_free(it);
	}
	if (lost > 0)
		rh_log("cluster: %d messages to the other nodes (replies got, "
		    "deltas) could not be sent: %s", lost, rh_cl_why(failed));
}

/* Why a NATS call failed, in words: the thread's last error text when
 * it is about this failure, else the status's own name. */
const char *
rh_cl_why(natsStatus s)
{
	natsStatus	 last = NATS_OK;
	const char	*text = nats_GetLastError(&last);

	return text != NULL && *text != '\0' && last == s ? text :
	    natsStatus_GetText(s);
}

/* A job was run to its end: the fetch thread may take one more. */
void
rh_cl_job_ended(struct rh_cluster *cl)
{
	pthread_mutex_lock(&cl->mu);
	cl->running--;
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->mu);
}

/* Takes the first item of a list (under mu). */
static struct rh_cl_item *
list_pop(struct rh_cl_list *l)
{
	struct rh_cl_item	*it = l->head;

	if (it != NULL) {
		if ((l->head = it->next) == NULL)
			l->tail = NULL;
		l->depth--;
		it->next = NULL;
	}
	return it;
}

/* nats.c thread: the connection came back. */
static void
on_reconnected(natsConnection *nc, void *ud)
{
	struct rh_cluster	*cl = ud;
	struct rh_cl_item	*it = xcalloc(1, sizeof *it);

	__atomic_add_fetch(&cl->reconnects, 1, __ATOMIC_RELAXED);
	/* Frames republished while the connection was down were heard by
	 * nobody here: the loop has them fetched. */
	it->kind = RH_CL_RECONNECTED;
	rh_cl_to_loop(cl, it);
}

/* nats.c thread: the connection was lost. */
static void
on_disconnected(natsConnection *nc, void *ud)
{
	struct rh_cluster	*cl = ud;

	__atomic_add_fetch(&cl->disconnects, 1, __ATOMIC_RELAXED);
}

/* nats.c thread: a stored final frame, republished live. */
static void
on_live(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *ud)
{
	struct rh_cl_item	*it = xcalloc(1, sizeof *it);

	it->kind = RH_CL_LIVE;
	it->msg = msg;
	rh_cl_to_loop(ud, it);
}

/* Chains to FIRST the items of its kind right behind it in to_store,
 * up to MAX in all (under mu): writes, or final frames, that wait behind
 * each other go to the engine together. */
static void
take_same(struct rh_cluster *cl, struct rh_cl_item *first, int max)
{
	struct rh_cl_item	*last = first;
	int			 n = 1;

	while (n < max && cl->to_store.head != NULL &&
	    cl->to_store.head->kind == first->kind) {
		last->next = list_pop(&cl->to_store);
		last = last->next;
		n++;
	}
}

/* The store thread: does, in order, the engine requests the loop asked
 * for; each may wait up to RH_CL_WAIT_MS, never the loop. */
static void *
store_main(void *arg)
{
	struct rh_cluster	*cl = arg;
	struct rh_cl_item	*it;

	for (;;) {
		pthread_mutex_lock(&cl->mu);
		while (!cl->stopping && cl->to_store.head == NULL)
			pthread_cond_wait(&cl->cond, &cl->mu);
		if (cl->stopping) {
			pthread_mutex_unlock(&cl->mu);
			return NULL;
		}
		it = list_pop(&cl->to_store);
		if (it->kind == RH_CL_REPLY)
			take_same(cl, it, RH_CL_REPLY_BATCH);
		else if (it->kind == RH_CL_ACCEPT)
			take_same(cl, it, RH_CL_ACCEPT_BATCH);
		else if (it->kind == RH_CL_GOT || it->kind == RH_CL_DELTA)
			take_same(cl, it, RH_CL_REPLY_BATCH);
		pthread_mutex_unlock(&cl->mu);
		if (it->kind == RH_CL_ACCEPT)
			rh_cl_store_accepts(cl, it);
		else if (it->kind == RH_CL_FILL)
			rh_cl_store_fill(cl, it);
		else if (it->kind == RH_CL_CHANGE)
			rh_cl_store_change(cl, it);
		else if (it->kind == RH_CL_GOT || it->kind == RH_CL_DELTA)
			rh_cl_store_core(cl, it);
		else
			rh_cl_store_replies(cl, it);
	}
}

/* Makes a stream, or finds it made by another node with the same
 * settings.  0, or -1 after logging. */
static int
stream_ensure(struct rh_cluster *cl, jsStreamConfig *cfg)
{
	jsStreamInfo	*si = NULL;
	jsErrCode	 jerr = 0;
	natsStatus	 s;

	s = js_AddStream(&si, cl->js, cfg, NULL, &jerr);
	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return 0;
	}
	if (jerr == JSStreamNameExistErr) {
		/* Made before with other settings: kept as it is. */
		if (js_GetStreamInfo(&si, cl->js, cfg->Name, NULL, &jerr) ==
		    NATS_OK) {
			jsStreamInfo_Destroy(si);
			return 0;
		}
	}
	rh_log("cluster: cannot make the stream %s: %s (%d)", cfg->Name,
	    nats_GetLastError(NULL), (int)jerr);
	return -1;
}

/* Makes (or finds) the streams, the bucket and the consumer. */
static int
engine_setup(struct rh_cluster *cl)
{
	const char		*jobs[] = { RH_CL_JOB_SUBJECTS };
	const char		*replies[] = { RH_CL_REPLY_SUBJECTS };
	jsStreamConfig		 cfg;
	jsRePublish		 rp;
	kvConfig		 kc;
	kvStore			*sockets = NULL;

	jsStreamConfig_Init(&cfg);
	cfg.Name = RH_CL_JOBS;
	cfg.Subjects = jobs;
	cfg.SubjectsLen = 1;
	cfg.Retention = js_WorkQueuePolicy;
	cfg.Storage = js_FileStorage;
	cfg.Replicas = cl->replicas;
	cfg.Duplicates = RH_CL_DEDUP_NS;
	cfg.MaxMsgSize = 8 * 1024 * 1024;
	if (stream_ensure(cl, &cfg) != 0)
		return -1;
	jsStreamConfig_Init(&cfg);
	jsRePublish_Init(&rp);
	rp.Source = RH_CL_REPLY_SUBJECTS;
	rp.Destination = RH_CL_LIVE_SUBJECTS;
	cfg.Name = RH_CL_REPLIES;
	cfg.Subjects = replies;
	cfg.SubjectsLen = 1;
	cfg.Retention = js_LimitsPolicy;
	cfg.Storage = js_FileStorage;
	cfg.Replicas = cl->replicas;
	cfg.Duplicates = RH_CL_DEDUP_NS;
	cfg.MaxMsgsPerSubject = 1000;
	cfg.MaxMsgSize = 8 * 1024 * 1024;
	cfg.RePublish = &rp;
	if (stream_ensure(cl, &cfg) != 0)
		return -1;
	kvConfig_Init(&kc);
	kc.Bucket = RH_CL_WRITES;
	kc.History = 1;
	kc.TTL = RH_CL_WRITES_TTL_NS;
	kc.StorageType = js_FileStorage;
	kc.Replicas = cl->replicas;
	if (js_CreateKeyValue(&cl->writes, cl->js, &kc) != NATS_OK &&
	    js_KeyValue(&cl->writes, cl->js, RH_CL_WRITES) != NATS_OK) {
		rh_log("cluster: cannot make the bucket %s: %s", RH_CL_WRITES,
		    nats_GetLastError(NULL));
		return -1;
	}
	kvConfig_Init(&kc);
	kc.Bucket = RH_CL_SOCKETS;
	kc.History = 1;
	kc.StorageType = js_FileStorage;
	kc.Replicas = cl->replicas;
	if (js_CreateKeyValue(&sockets, cl->js, &kc) != NATS_OK &&
	    js_KeyValue(&sockets, cl->js, RH_CL_SOCKETS) != NATS_OK) {
		rh_log("cluster: cannot make the bucket %s: %s",
		    RH_CL_SOCKETS, nats_GetLastError(NULL));
		return -1;
	}
	/* Made or found; the node binds it again through admin_js. */
	kvStore_Destroy(sockets);
	if (rh_cl_consumer_bind(cl) != 0)
		return -1;
	/* What is stored from now on is owed to this node's readers; a
	 * frame stored before the subscription below is found by the first
	 * gap the live path shows. */
	cl->live_next = rh_cl_replies_last(cl) + 1;
	if (natsConnection_Subscribe(&cl->live, cl->nc, RH_CL_LIVE_SUBJECTS,
	    on_live, cl) != NATS_OK) {
		rh_log("cluster: cannot hear %s: %s", RH_CL_LIVE_SUBJECTS,
		    nats_GetLastError(NULL));
		return -1;
	}
	return rh_cl_queue_open(cl) != 0 ? -1 : rh_cl_delta_open(cl);
}

/* The AckWait the first node gives the shared consumer: 30 s, or
 * AISH_CLUSTER_ACK_WAIT_MS (1000 to 600000; doc/cluster.md). */
static int64_t
ack_wait_ns(void)
{
	const char	*env = getenv("AISH_CLUSTER_ACK_WAIT_MS");
	long		 ms;

	if (env == NULL || *env == '\0')
		return RH_CL_ACK_WAIT_NS;
	ms = strtol(env, NULL, 10);
	if (ms < 1000 || ms > 600000) {
		rh_log("cluster: AISH_CLUSTER_ACK_WAIT_MS '%s' is not 1000 to "
		    "600000; 30000 it is", env);
		return RH_CL_ACK_WAIT_NS;
	}
	return (int64_t)ms * 1000000;
}

/* How many copies the streams keep: one per server listed, up to 3. */
static int
replicas_of(const char *urls)
{
	int	n = 1;

	for (; *urls != '\0'; urls++)
		n += *urls == ',';
	return n > 3 ? 3 : n;
}

/* Gives nats.c each URL of the comma-separated list. */
static natsStatus
set_servers(natsOptions *o, const char *urls)
{
	char		*copy = xstrdup(urls), *p, *save = NULL;
	const char	*list[64];
	int		 n = 0;
	natsStatus	 s;

	for (p = strtok_r(copy, ",", &save); p != NULL && n < 64;
	    p = strtok_r(NULL, ",", &save))
		list[n++] = p;
	s = natsOptions_SetServers(o, list, n);
	free(copy);
	return s;
}

/* Connects and sets up the node (see cluster.h). */
int
rh_cluster_open(struct rh_server *srv)
{
	struct rh_cluster	*cl;
	natsOptions		*o = NULL;
	jsOptions		 jo;
	char			 name[96];
	int			 tries;

	if (srv->opt.cluster == NULL)
		return 0;
	cl = xcalloc(1, sizeof *cl);
	cl->srv = srv;
	cl->replicas = replicas_of(srv->opt.cluster);
	cl->ack_wait_ns = ack_wait_ns();
	pthread_mutex_init(&cl->mu, NULL);
	pthread_cond_init(&cl->cond, NULL);
	srv->cluster = cl;
	snprintf(name, sizeof name, "aish-rhetor %s", srv->opt.node);
	if (natsOptions_Create(&o) != NATS_OK ||
	    set_servers(o, srv->opt.cluster) != NATS_OK ||
	    natsOptions_SetName(o, name) != NATS_OK ||
	    /* Otherwise nats.c waits 1 ms before each write. */
	    natsOptions_SetSendAsap(o, true) != NATS_OK ||
	    natsOptions_SetTimeout(o, 2000) != NATS_OK ||
	    natsOptions_SetMaxReconnect(o, -1) != NATS_OK ||
	    natsOptions_SetReconnectWait(o, 250) != NATS_OK ||
	    natsOptions_SetReconnectedCB(o, on_reconnected, cl) != NATS_OK ||
	    natsOptions_SetDisconnectedCB(o, on_disconnected, cl) !=
	    NATS_OK) {
		rh_log("cluster: bad NATS options: %s",
		    nats_GetLastError(NULL));
		natsOptions_Destroy(o);
		return -1;
	}
	if (natsConnection_Connect(&cl->nc, o) != NATS_OK) {
		rh_log("cluster: cannot reach NATS at %s: %s",
		    srv->opt.cluster, nats_GetLastError(NULL));
		natsOptions_Destroy(o);
		return -1;
	}
	natsOptions_Destroy(o);
	jsOptions_Init(&jo);
	jo.Wait = RH_CL_WAIT_MS;
	jo.PublishAsync.ErrHandler = rh_cl_on_async_error;
	jo.PublishAsync.ErrHandlerClosure = cl;
	if (natsConnection_JetStream(&cl->js, cl->nc, &jo) != NATS_OK) {
		rh_log("cluster: no JetStream: %s", nats_GetLastError(NULL));
		return -1;
	}
	/* Streams are elected after the servers start, and another node may
	 * be making them at the same moment: tried again for up to 30 s. */
	for (tries = 0; engine_setup(cl) != 0; tries++) {
		if (tries == 60)
			return -1;
		natsSubscription_Destroy(cl->pull);
		cl->pull = NULL;
		kvStore_Destroy(cl->writes);
		cl->writes = NULL;
		nats_Sleep(500);
	}
	if (pthread_create(&cl->store_thread, NULL, store_main, cl) != 0)
		return -1;
	cl->threads++;
	if (pthread_create(&cl->fetch_thread, NULL, rh_cl_fetch_main, cl) != 0)
		return -1;
	cl->threads++;
	if (rh_cl_sockets_open(cl) != 0)
		return -1;
	rh_cl_keep_alive_schedule(cl);
	rh_log("cluster: node %s on %s, %d replicas", srv->opt.node,
	    srv->opt.cluster, cl->replicas);
	return 0;
}

/* Runs on the loop what the threads handed over. */
void
rh_cluster_dispatch(struct rh_server *srv)
{
	struct rh_cluster	*cl = srv->cluster;
	struct rh_cl_item	*it;

	if (cl == NULL)
		return;
	for (;;) {
		pthread_mutex_lock(&cl->mu);
		it = list_pop(&cl->to_loop);
		pthread_mutex_unlock(&cl->mu);
		if (it == NULL)
			return;
		switch (it->kind) {
		case RH_CL_ACCEPTED:
			rh_cl_loop_accepted(cl, it);
			break;
		case RH_CL_JOB:
			rh_cl_loop_job(cl, it);
			break;
		case RH_CL_LIVE:
			rh_cl_loop_live(cl, it);
			break;
		case RH_CL_RECONNECTED:
			rh_cl_loop_reconnected(cl, it);
			break;
		case RH_CL_LAST:
			rh_cl_loop_last(cl, it);
			break;
		case RH_CL_ENTRY:
			rh_cl_loop_entry(cl, it);
			break;
		case RH_CL_CHANGED:
			rh_cl_loop_changed(cl, it);
			break;
		case RH_CL_GOT_HEARD:
			rh_cl_loop_got(cl, it);
			break;
		case RH_CL_DELTA_HEARD:
			rh_cl_loop_delta(cl, it);
			break;
		default:
			rh_cl_item_free(it);
			break;
		}
	}
}

/* The node's engine figures, Prometheus text (allocated). */
char *
rh_cluster_metrics_text(struct rh_server *srv)
{
	struct rh_cluster	*cl = srv->cluster;
	size_t			 depth;
	int			 running;

	if (cl == NULL)
		return NULL;
	pthread_mutex_lock(&cl->mu);
	depth = cl->to_loop.depth + cl->to_store.depth;
	running = cl->running;
	pthread_mutex_unlock(&cl->mu);
	return xasprintf(
	    "# HELP aish_cluster_reconnects_total Times the node's NATS "
	    "connection came back.\n"
	    "# TYPE aish_cluster_reconnects_total counter\n"
	    "aish_cluster_reconnects_total %llu\n"
	    "# HELP aish_cluster_disconnects_total Times the node's NATS "
	    "connection was lost.\n"
	    "# TYPE aish_cluster_disconnects_total counter\n"
	    "aish_cluster_disconnects_total %llu\n"
	    "# HELP aish_cluster_handoff_depth Items waiting between the "
	    "engine's threads and the loop.\n"
	    "# TYPE aish_cluster_handoff_depth gauge\n"
	    "aish_cluster_handoff_depth %zu\n"
	    "# HELP aish_cluster_handoff_max Deepest the hand-off to the loop "
	    "has been.\n"
	    "# TYPE aish_cluster_handoff_max gauge\n"
	    "aish_cluster_handoff_max %llu\n"
	    "# HELP aish_cluster_jobs_running Jobs of the cluster this node "
	    "is running.\n"
	    "# TYPE aish_cluster_jobs_running gauge\n"
	    "aish_cluster_jobs_running %d\n"
	    "# HELP aish_cluster_jobs_total Jobs of the cluster this node "
	    "has run.\n"
	    "# TYPE aish_cluster_jobs_total counter\n"
	    "aish_cluster_jobs_total %llu\n"
	    "# HELP aish_cluster_jobs_rerun_total Of those, jobs the engine "
	    "had given out before (their end was not acked in time).\n"
	    "# TYPE aish_cluster_jobs_rerun_total counter\n"
	    "aish_cluster_jobs_rerun_total %llu\n"
	    "# HELP aish_cluster_replies_live_total Stored replies heard "
	    "live.\n"
	    "# TYPE aish_cluster_replies_live_total counter\n"
	    "aish_cluster_replies_live_total %llu\n"
	    "# HELP aish_cluster_replies_filled_total Stored replies the live "
	    "path missed, fetched from the stream.\n"
	    "# TYPE aish_cluster_replies_filled_total counter\n"
	    "aish_cluster_replies_filled_total %llu\n"
	    "# HELP aish_cluster_consumer_rebinds_total Times the node bound "
	    "the shared consumer again (its pulls failed, or got nothing "
	    "while jobs waited).\n"
	    "# TYPE aish_cluster_consumer_rebinds_total counter\n"
	    "aish_cluster_consumer_rebinds_total %llu\n"
	    "# HELP aish_cluster_write_batches_total Batches of writes stored "
	    "together (writes that waited behind each other).\n"
	    "# TYPE aish_cluster_write_batches_total counter\n"
	    "aish_cluster_write_batches_total %llu\n"
	    "# HELP aish_cluster_writes_batched_total Writes stored in those "
	    "batches.\n"
	    "# TYPE aish_cluster_writes_batched_total counter\n"
	    "aish_cluster_writes_batched_total %llu\n"
	    "# HELP aish_cluster_replies_queued_total Stored replies put in "
	    "the queue of their socket here.\n"
	    "# TYPE aish_cluster_replies_queued_total counter\n"
	    "aish_cluster_replies_queued_total %llu\n"
	    "# HELP aish_cluster_queue_got_told_total Queued replies got by a "
	    "reader here, said to the other nodes.\n"
	    "# TYPE aish_cluster_queue_got_told_total counter\n"
	    "aish_cluster_queue_got_told_total %llu\n"
	    "# HELP aish_cluster_queue_got_heard_total Queued replies another "
	    "node's reader got, taken off the queue here.\n"
	    "# TYPE aish_cluster_queue_got_heard_total counter\n"
	    "aish_cluster_queue_got_heard_total %llu\n"
	    "# HELP aish_cluster_deltas_heard_total Deltas of replies heard "
	    "from the node that runs them (this one too).\n"
	    "# TYPE aish_cluster_deltas_heard_total counter\n"
	    "aish_cluster_deltas_heard_total %llu\n",
	    (unsigned long long)__atomic_load_n(&cl->reconnects,
	    __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&cl->disconnects,
	    __ATOMIC_RELAXED),
	    depth, (unsigned long long)cl->handoff_max, running,
	    (unsigned long long)cl->jobs_run,
	    (unsigned long long)cl->jobs_rerun,
	    (unsigned long long)cl->replies_live,
	    (unsigned long long)cl->replies_filled,
	    (unsigned long long)__atomic_load_n(&cl->rebinds,
	    __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&cl->accept_batches,
	    __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&cl->accepts_batched,
	    __ATOMIC_RELAXED),
	    (unsigned long long)cl->queued,
	    (unsigned long long)cl->got_told,
	    (unsigned long long)cl->got_heard,
	    (unsigned long long)cl->deltas_heard);
}

/* Stops the threads, then the connection; frees what is left. */
void
rh_cluster_close(struct rh_server *srv)
{
	struct rh_cluster	*cl = srv->cluster;
	struct rh_cl_item	*it;

	if (cl == NULL)
		return;
	lws_sul_cancel(&cl->keep_alive);
	rh_cl_jobs_stop(cl);
	pthread_mutex_lock(&cl->mu);
	cl->stopping = 1;
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->mu);
	if (cl->threads > 0)
		pthread_join(cl->store_thread, NULL);
	if (cl->threads > 1)
		pthread_join(cl->fetch_thread, NULL);
	rh_cl_sockets_close(cl);
	if (cl->live != NULL)
		natsSubscription_Unsubscribe(cl->live);
	natsSubscription_Destroy(cl->live);
	if (cl->got != NULL)
		natsSubscription_Unsubscribe(cl->got);
	natsSubscription_Destroy(cl->got);
	if (cl->deltas != NULL)
		natsSubscription_Unsubscribe(cl->deltas);
	natsSubscription_Destroy(cl->deltas);
	natsSubscription_Destroy(cl->pull);
	kvStore_Destroy(cl->writes);
	jsCtx_Destroy(cl->js);
	natsConnection_Destroy(cl->nc);
	/* The connection's last callbacks (disconnected, closed) still run
	 * on nats.c's own thread after it is destroyed, and use cl: the
	 * library is torn down, and its threads waited for, before cl goes.
	 * The server is ending; nothing uses NATS after this. */
	if (nats_CloseAndWait(5000) != NATS_OK)
		rh_log("cluster: the NATS library's threads did not end in 5 s");
	/* Jobs not acked go to another node after AckWait. */
	while ((it = list_pop(&cl->to_loop)) != NULL)
		rh_cl_item_free(it);
	while ((it = list_pop(&cl->to_store)) != NULL)
		rh_cl_item_free(it);
	rh_cl_writes_free(cl);
	pthread_mutex_destroy(&cl->mu);
	pthread_cond_destroy(&cl->cond);
	free(cl);
	srv->cluster = NULL;
}
