/*
 * cluster-run.c: a job pulled from the shared consumer, run on this
 * node's loop by the socket's provider.  Its final frame is stored on
 * AISH_REPLIES (Nats-Msg-Id: a re-run after a crash is answered
 * Duplicate and stored once), and only then is the job acked; a job whose
 * reply cannot be stored is given back (Nak) and run again a second
 * later.  While it runs, the engine is told every AckWait / 3 that it is
 * in progress.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster-engine.h"
#include "delivery.h"
#include "json-build.h"
#include "provider.h"
#include "registry.h"
#include "xalloc.h"

static void	job_complete(struct rh_cluster *, struct rh_job *);

/* Takes a job's item off the running jobs. */
static void
unlink_running(struct rh_cluster *cl, struct rh_cl_item *it)
{
	if (it->prev != NULL)
		it->prev->next = it->next;
	else
		cl->jobs = it->next;
	if (it->next != NULL)
		it->next->prev = it->prev;
	it->next = it->prev = NULL;
	it->job = NULL;
}

/* Frees a job of the cluster (not its item). */
static void
job_free(struct rh_job *job)
{
	free(job->origin);
	free(job->write_id);
	free(job->socket_id);
	free(job->content);
	free(job);
}

/* Stops the jobs still running, unacked (see cluster-engine.h). */
void
rh_cl_jobs_stop(struct rh_cluster *cl)
{
	struct rh_cl_item	*it;
	struct rh_job		*job;
	struct rh_socket	*s;

	while ((it = cl->jobs) != NULL) {
		job = it->job;
		unlink_running(cl, it);
		s = rh_registry_find(cl->srv, job->socket_id);
		if (s != NULL && s->provider != NULL &&
		    job->provider_state != NULL)
			s->provider->stop(job);
		job_free(job);
		rh_cl_item_free(it);
	}
}

/* Loop timer: each job running here is said to be in progress, so that
 * a reply that takes longer than AckWait is not handed to another node
 * and run twice. */
static void
jobs_keep_alive(lws_sorted_usec_list_t *sul)
{
	struct rh_cluster	*cl = lws_container_of(sul, struct rh_cluster,
				    keep_alive);
	struct rh_cl_item	*it;

	for (it = cl->jobs; it != NULL; it = it->next) {
		if (natsMsg_InProgress(it->msg, NULL) != NATS_OK)
			rh_log("cluster: cannot keep the job of %s alive: %s",
			    it->job->socket_id, nats_GetLastError(NULL));
	}
	rh_cl_keep_alive_schedule(cl);
}

/* Arms the keep-alive of the running jobs (see cluster-engine.h). */
void
rh_cl_keep_alive_schedule(struct rh_cluster *cl)
{
	lws_sul_schedule(cl->srv->context, 0, &cl->keep_alive,
	    jobs_keep_alive, cl->ack_wait_ns / 3000);
}

/* Whether the engine gave this job out before (to this node or another):
 * its earlier run's end was not acked in time. */
static int
delivered_before(natsMsg *msg)
{
	jsMsgMetaData	*meta = NULL;
	int		 again;

	if (natsMsg_GetMetaData(&meta, msg) != NATS_OK)
		return 0;
	again = meta->NumDelivered > 1;
	jsMsgMetaData_Destroy(meta);
	return again;
}

/* Starts a job handed over by the fetch thread. */
void
rh_cl_loop_job(struct rh_cluster *cl, struct rh_cl_item *it)
{
	struct rh_server	*srv = cl->srv;
	cJSON			*obj;
	const cJSON		*origin, *wid, *sid, *content;
	struct rh_socket	*s;
	struct rh_job		*job;
	struct rh_err		 err;
	int			 rc;

	obj = cJSON_ParseWithLength(natsMsg_GetData(it->msg),
	    (size_t)natsMsg_GetDataLength(it->msg));
	origin = cJSON_GetObjectItemCaseSensitive(obj, "origin");
	wid = cJSON_GetObjectItemCaseSensitive(obj, "write_id");
	sid = cJSON_GetObjectItemCaseSensitive(obj, "socket_id");
	content = cJSON_GetObjectItemCaseSensitive(obj, "content");
	if (!cJSON_IsString(origin) || !cJSON_IsString(wid) ||
	    !cJSON_IsString(sid) || !cJSON_IsString(content)) {
		/* Not a job of aish: acked, so that it is not seen again. */
		rh_log("cluster: a job that is not one was dropped");
		natsMsg_Ack(it->msg, NULL);
		rh_cl_item_free(it);
		cJSON_Delete(obj);
		rh_cl_job_ended(cl);
		return;
	}
	job = xcalloc(1, sizeof *job);
	job->srv = srv;
	job->origin = xstrdup(origin->valuestring);
	job->write_id = xstrdup(wid->valuestring);
	job->socket_id = xstrdup(sid->valuestring);
	job->content = xstrdup(content->valuestring);
	job->fresh = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj,
	    "fresh"));
	job->started_ms = rh_mono_ms();
	job->cluster = it;
	it->job = job;
	it->prev = NULL;
	if ((it->next = cl->jobs) != NULL)
		cl->jobs->prev = it;
	cl->jobs = it;
	cJSON_Delete(obj);
	cl->jobs_run++;
	if (delivered_before(it->msg))
		cl->jobs_rerun++;
	s = rh_registry_find(srv, job->socket_id);
	if (s == NULL || s->provider == NULL) {
		rh_cluster_job_finish(job, "the socket is not known on this "
		    "node", AISH_ERR_UNKNOWN_SOCKET);
		return;
	}
	memset(&err, 0, sizeof err);
	/* A provider may end the job inside its start: the job lives on
	 * until start returns. */
	it->starting = 1;
	rc = s->provider->start(job, s, &err);
	it->starting = 0;
	if (it->frame == NULL && rc != 0)
		rh_cluster_job_finish(job, err.message, err.code ? err.code :
		    AISH_ERR_PROVIDER);
	else if (it->frame != NULL)
		job_complete(cl, job);
}

/* The final frame of a job, without its seq (the stream gives it). */
static char *
final_frame(const struct rh_job *job, const char *ai_name, const char *text,
    const char *code)
{
	cJSON	*obj = cJSON_CreateObject();
	cJSON	*headers = cJSON_CreateArray();
	char	*from = xasprintf("%s%s", AISH_FROM_HEADER_PREFIX,
		    job->socket_id), *json, when[32];

	ac_json_add_ref(obj, "type", code ? AISH_FRAME_ERROR :
	    AISH_FRAME_READ);
	if (code != NULL) {
		ac_json_add_ref(obj, "code", code);
		ac_json_add_ref(obj, "message", text);
	} else
		ac_json_add_ref(obj, "content", text);
	cJSON_AddItemToArray(headers, cJSON_CreateString(from));
	ac_json_add_item(obj, "headers", headers);
	ac_json_add_ref(obj, "socket_id", job->socket_id);
	if (ai_name != NULL)
		ac_json_add_ref(obj, "ai_name", ai_name);
	ac_json_add_ref(obj, "in_reply_to", job->write_id);
	rh_format_time(rh_now_ms(), when, sizeof when);
	ac_json_add_ref(obj, "timestamp", when);
	if (job->fresh)
		cJSON_AddTrueToObject(obj, "fresh");
	/* The question goes with an answer, for every node's history
	 * (cluster-history.c); taken out before any reader sees it. */
	if (code == NULL && !job->fresh)
		ac_json_add_ref(obj, RH_CL_QUESTION, job->content);
	json = cJSON_PrintUnformatted(obj);
	if (code == NULL && !job->fresh && strlen(json) > RH_CL_FRAME_MAX) {
		/* Too big for the stream with it: the turn is not shared. */
		cJSON_free(json);
		cJSON_DeleteItemFromObjectCaseSensitive(obj, RH_CL_QUESTION);
		json = cJSON_PrintUnformatted(obj);
	}
	cJSON_Delete(obj);
	free(from);
	return json;
}

/* Sends a job's final frame to the store thread with the job's message,
 * and frees the job. */
static void
job_complete(struct rh_cluster *cl, struct rh_job *job)
{
	struct rh_cl_item	*it = job->cluster;
	char			 otok[80], atok[80], *hex;

	unlink_running(cl, it);
	rh_cl_subject_token(otok, sizeof otok, job->origin);
	rh_cl_subject_token(atok, sizeof atok, job->socket_id);
	hex = rh_cl_hex(job->write_id);
	it->kind = RH_CL_REPLY;
	it->subject = xasprintf("aish.reply.%s.%s", otok, atok);
	it->msg_id = xasprintf("%s/%s/%s", job->origin, hex, job->socket_id);
	free(hex);
	job_free(job);
	rh_cl_to_store(cl, it);
}

/* The provider ended a job (code NULL: a read); only the first end
 * counts. */
void
rh_cluster_job_finish(struct rh_job *job, const char *text,
    const char *code)
{
	struct rh_cl_item	*it = job->cluster;
	struct rh_socket	*s = rh_registry_find(job->srv,
				    job->socket_id);

	if (it->frame != NULL)
		return;
	it->frame = final_frame(job, s ? s->ai_name : NULL, text, code);
	if (!it->starting)
		job_complete(job->srv->cluster, job);
}

/* Store thread: the job of a final frame is done with: acked when the
 * frame was stored, else given back to be run again a little later. */
static void
job_settle(struct rh_cluster *cl, struct rh_cl_item *it, int stored)
{
	if (stored)
		natsMsg_Ack(it->msg, NULL);
	else
		natsMsg_NakWithDelay(it->msg, RH_CL_NAK_DELAY_MS, NULL);
	rh_cl_item_free(it);
	rh_cl_job_ended(cl);
}

/* Store thread: stores one final frame (one wait at most), then settles
 * its job. */
static void
store_reply(struct rh_cluster *cl, struct rh_cl_item *it)
{
	jsPubOptions	 po;
	jsPubAck	*pa = NULL;
	jsErrCode	 jerr = 0;
	int		 stored;

	jsPubOptions_Init(&po);
	po.MsgId = it->msg_id;
	po.MaxWait = RH_CL_WAIT_MS;
	stored = js_Publish(&pa, cl->js, it->subject, it->frame,
	    (int)strlen(it->frame), &po, &jerr) == NATS_OK;
	jsPubAck_Destroy(pa);
	job_settle(cl, it, stored);
}

/* Store thread: stores a chain of final frames (linked by next), then
 * settles their jobs: one with its own wait; several at once, waiting
 * for all their PubAcks together (one wait at most, however the engine
 * fails; the Msg-Ids make a frame stored twice a no-op). */
void
rh_cl_store_replies(struct rh_cluster *cl, struct rh_cl_item *first)
{
	struct rh_cl_pubs	 p;
	struct rh_cl_item	*it, *next;
	natsMsg			*msg;

	if (first->next == NULL) {
		store_reply(cl, first);
		return;
	}
	rh_cl_pubs_begin(cl, &p);
	for (it = first; it != NULL; it = it->next) {
		msg = NULL;
		if (natsMsg_Create(&msg, it->subject, NULL, it->frame,
		    (int)strlen(it->frame)) == NATS_OK)
			it->status = rh_cl_pubs_add(cl, &p, msg, it->msg_id);
		else {
			natsMsg_Destroy(msg);
			it->status = -1;
		}
	}
	rh_cl_pubs_wait(cl, &p);
	for (it = first; it != NULL; it = next) {
		next = it->next;
		it->next = NULL;
		job_settle(cl, it, it->status >= 0 &&
		    p.outcome[it->status] == RH_CL_PUB_STORED);
	}
	rh_cl_pubs_free(&p);
}

/* A socket leaves this node (deleted here or on another node): the
 * cluster's jobs for it stop and end with unknown_socket, a final frame
 * stored once as for any job. */
void
rh_cluster_socket_gone(struct rh_server *srv, struct rh_socket *s)
{
	struct rh_cluster	*cl = srv->cluster;
	struct rh_cl_item	*it, *next;
	struct rh_job		*job;
	char			 why[160];

	if (cl == NULL)
		return;
	snprintf(why, sizeof why, "socket '%s' was deleted", s->id);
	for (it = cl->jobs; it != NULL; it = next) {
		next = it->next;
		job = it->job;
		if (it->starting || strcmp(job->socket_id, s->id) != 0)
			continue;
		if (s->provider != NULL && job->provider_state != NULL)
			s->provider->stop(job);
		rh_cluster_job_finish(job, why, AISH_ERR_UNKNOWN_SOCKET);
	}
}
