/*
 * cluster-accept.c: the store thread's side of a write.  It records the
 * write's id in the AISH_WRITES bucket (create if absent: a repeated id
 * is a duplicate, through any node and after any restart) and publishes
 * one job per member on AISH_JOBS.
 *
 * Writes that wait behind each other go in one batch: every id is
 * created at once (async publishes to the bucket's subjects, each
 * expecting no earlier value), then every job, and the PubAcks are waited
 * for together, so that in-flight writes cost about two round trips to
 * the engine, not two each.  A write the batch could not settle goes the
 * one-at-a-time way, which tells a duplicate (its id there already) and
 * rides out an election (no server answered); but when the engine did
 * not answer the batch at all within its wait, the writes are refused
 * (storage_error, the writer sends them again) rather than waited for
 * once more each.  The Nats-Msg-Ids of the jobs make those published
 * twice no-ops.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster-write.h"
#include "json-build.h"
#include "xalloc.h"

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

/* Publishes every member's job at once and waits for all the PubAcks
 * together: a team chat's jobs cost about one round trip to the engine,
 * not one each.  0 when all were stored, or -1 with why. */
static int
publish_team(struct rh_cluster *cl, const struct rh_cl_write *w,
    const char *hex, char *why, size_t len)
{
	struct rh_cl_pubs	 p;
	const cJSON		*m;
	natsMsg			*msg;
	char			 subject[128], *msg_id, *data;
	int			 i, failed = 0;

	rh_cl_pubs_begin(cl, &p);
	cJSON_ArrayForEach(m, w->res.members) {
		data = job_body(w, hex, m->valuestring, subject,
		    sizeof subject, &msg_id);
		msg = NULL;
		if (natsMsg_Create(&msg, subject, NULL, data,
		    (int)strlen(data)) == NATS_OK)
			rh_cl_pubs_add(cl, &p, msg, msg_id);
		else {
			natsMsg_Destroy(msg);
			failed++;
		}
		cJSON_free(data);
		free(msg_id);
	}
	rh_cl_pubs_wait(cl, &p);
	for (i = 0; i < p.n; i++)
		failed += p.outcome[i] != RH_CL_PUB_STORED;
	rh_cl_pubs_free(&p);
	if (failed > 0)
		snprintf(why, len, "cannot store the jobs of %d of the %d "
		    "members", failed, cJSON_GetArraySize(w->res.members));
	return failed > 0 ? -1 : 0;
}

/* Publishes the jobs of a write: one job with its own retries, a team's
 * in one batch.  0, or -1 with why. */
static int
publish_jobs(struct rh_cluster *cl, const struct rh_cl_write *w,
    const char *hex, char *why, size_t len)
{
	if (cJSON_GetArraySize(w->res.members) > 1)
		return publish_team(cl, w, hex, why, len);
	return publish_job(cl, w, hex,
	    cJSON_GetArrayItem(w->res.members, 0)->valuestring, why, len);
}

/* The value of a write's id in AISH_WRITES: who took it, and when. */
static void
id_value(const struct rh_cl_write *w, char *dst, size_t len)
{
	snprintf(dst, len, "{\"node\":\"%s\",\"at\":%lld}", w->node,
	    (long long)rh_now_ms());
}

/* Store thread: records the write id (unless ID_STORED: a batch stored
 * it), then publishes the jobs, one write at a time. */
static void
accept_one(struct rh_cluster *cl, struct rh_cl_item *it, int id_stored)
{
	struct rh_cl_write	*w = it->write;
	char			*hex = rh_cl_hex(w->res.id);
	char			*key = xasprintf("%s.%s", w->origin, hex);
	char			 value[160];
	kvEntry			*e = NULL;
	int			 publish = 1, pause = 20;
	natsStatus		 s;
	int64_t			 until = rh_now_ms() + RH_CL_WAIT_MS;

	id_value(w, value, sizeof value);
	it->status = 0;
	s = NATS_OK;
	if (!id_stored) {
		do
			s = kvStore_Create(NULL, cl->writes, key, value,
			    (int)strlen(value));
		while (try_again(cl, s, until, &pause));
	}
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


/* What a batch knows of one of its writes. */
struct accept_slot {
	struct rh_cl_item	*it;
	char			*hex;		/* of the write id */
	char			*key;		/* in AISH_WRITES */
	int			 id;		/* index of its id's message */
	int			 first_job;	/* of its first job's, -1 */
	int			 jobs;		/* how many */
};

/* A batch of writes with distinct ids. */
struct accept_batch {
	struct accept_slot	 slot[RH_CL_ACCEPT_BATCH];
	int			 n;
};

/* Adds a write to a batch: 0, or -1 when the batch is full or holds its
 * id already (the write then goes in the next). */
static int
batch_add(struct accept_batch *b, struct rh_cl_item *it)
{
	const struct rh_cl_write	*w = it->write;
	struct accept_slot		*sl;
	char				*hex, *key;
	int				 i;

	if (b->n == RH_CL_ACCEPT_BATCH)
		return -1;
	hex = rh_cl_hex(w->res.id);
	key = xasprintf("%s.%s", w->origin, hex);
	for (i = 0; i < b->n; i++) {
		if (strcmp(b->slot[i].key, key) == 0) {
			free(hex);
			free(key);
			return -1;
		}
	}
	sl = &b->slot[b->n++];
	memset(sl, 0, sizeof *sl);
	sl->it = it;
	sl->hex = hex;
	sl->key = key;
	sl->first_job = -1;
	return 0;
}

/* Creates every id of a batch at once, each expecting no earlier value
 * for its key (as kvStore_Create does). */
static int
batch_ids(struct rh_cluster *cl, struct accept_batch *b,
    struct rh_cl_pubs *p)
{
	struct accept_slot	*sl;
	natsMsg			*msg;
	char			 value[160], *subject;
	int			 i;

	rh_cl_pubs_begin(cl, p);
	for (i = 0; i < b->n; i++) {
		sl = &b->slot[i];
		id_value(sl->it->write, value, sizeof value);
		subject = xasprintf("$KV.%s.%s", RH_CL_WRITES, sl->key);
		msg = NULL;
		if (natsMsg_Create(&msg, subject, NULL, value,
		    (int)strlen(value)) != NATS_OK ||
		    natsMsgHeader_Set(msg, "Nats-Expected-Last-Subject-Sequence",
		    "0") != NATS_OK) {
			natsMsg_Destroy(msg);
			sl->id = -1;
		} else
			sl->id = rh_cl_pubs_add(cl, p, msg, NULL);
		free(subject);
	}
	return rh_cl_pubs_wait(cl, p);
}

/* Whether a slot's id was created by the batch. */
static int
id_created(const struct accept_slot *sl, const struct rh_cl_pubs *ids)
{
	return sl->id >= 0 && ids->outcome[sl->id] == RH_CL_PUB_STORED;
}

/* Publishes the jobs of every write of a batch whose id was created. */
static int
batch_jobs(struct rh_cluster *cl, struct accept_batch *b,
    const struct rh_cl_pubs *ids, struct rh_cl_pubs *p)
{
	struct accept_slot	*sl;
	const cJSON		*m;
	natsMsg			*msg;
	char			 subject[128], *msg_id, *data;
	int			 i, k;

	rh_cl_pubs_begin(cl, p);
	for (i = 0; i < b->n; i++) {
		sl = &b->slot[i];
		if (!id_created(sl, ids))
			continue;
		cJSON_ArrayForEach(m, sl->it->write->res.members) {
			data = job_body(sl->it->write, sl->hex, m->valuestring,
			    subject, sizeof subject, &msg_id);
			k = -1;
			msg = NULL;
			if (natsMsg_Create(&msg, subject, NULL, data,
			    (int)strlen(data)) == NATS_OK)
				k = rh_cl_pubs_add(cl, p, msg, msg_id);
			else
				natsMsg_Destroy(msg);
			if (sl->first_job < 0)
				sl->first_job = k;
			/* one not made leaves the count short: not stored */
			sl->jobs += k >= 0;
			cJSON_free(data);
			free(msg_id);
		}
	}
	return rh_cl_pubs_wait(cl, p);
}

/* Whether every job of a slot was stored. */
static int
jobs_stored(const struct accept_slot *sl, const struct rh_cl_pubs *jobs)
{
	int	i;

	if (sl->first_job < 0 ||
	    sl->jobs != cJSON_GetArraySize(sl->it->write->res.members))
		return 0;
	for (i = sl->first_job; i < sl->first_job + sl->jobs; i++) {
		if (jobs->outcome[i] != RH_CL_PUB_STORED)
			return 0;
	}
	return 1;
}

/* Answers a write of a batch without another try: refused. */
static void
refuse(struct rh_cluster *cl, struct rh_cl_item *it, const char *what)
{
	snprintf(it->why, sizeof it->why, "cannot store the %s: the engine "
	    "did not answer within %d ms", what, RH_CL_WAIT_MS);
	it->status = -1;
	it->kind = RH_CL_ACCEPTED;
	rh_cl_to_loop(cl, it);
}

/* Stores a batch of writes (see above), then answers each in order. */
static void
batch_run(struct rh_cluster *cl, struct accept_batch *b)
{
	struct rh_cl_pubs	 ids, jobs;
	struct accept_slot	*sl;
	int			 ids_answered, jobs_answered, i;

	ids_answered = batch_ids(cl, b, &ids) == 0;
	jobs_answered = batch_jobs(cl, b, &ids, &jobs) == 0;
	__atomic_add_fetch(&cl->accept_batches, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&cl->accepts_batched, (uint64_t)b->n,
	    __ATOMIC_RELAXED);
	for (i = 0; i < b->n; i++) {
		sl = &b->slot[i];
		if (!id_created(sl, &ids)) {
			if (ids_answered || (sl->id >= 0 &&
			    ids.outcome[sl->id] == RH_CL_PUB_EXISTS))
				accept_one(cl, sl->it, 0);
			else
				refuse(cl, sl->it, "write id");
		} else if (!jobs_stored(sl, &jobs)) {
			if (jobs_answered)
				accept_one(cl, sl->it, 1);
			else
				refuse(cl, sl->it, "job");
		} else {
			sl->it->status = 0;
			sl->it->kind = RH_CL_ACCEPTED;
			rh_cl_to_loop(cl, sl->it);
		}
		free(sl->hex);
		free(sl->key);
	}
	rh_cl_pubs_free(&ids);
	rh_cl_pubs_free(&jobs);
	b->n = 0;
}

/* Stores a chain of writes (see cluster-engine.h): one alone the
 * one-at-a-time way, more in batches of distinct ids. */
void
rh_cl_store_accepts(struct rh_cluster *cl, struct rh_cl_item *first)
{
	struct accept_batch	*b;
	struct rh_cl_item	*it, *next;

	if (first->next == NULL) {
		accept_one(cl, first, 0);
		return;
	}
	b = xcalloc(1, sizeof *b);
	for (it = first; it != NULL; it = next) {
		next = it->next;
		it->next = NULL;
		if (batch_add(b, it) != 0) {
			batch_run(cl, b);
			batch_add(b, it);
		}
	}
	batch_run(cl, b);
	free(b);
}
