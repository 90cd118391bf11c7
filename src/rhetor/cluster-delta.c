/*
 * cluster-delta.c: the deltas of a reply, carried to every node.
 *
 * The node that runs a job says each delta on
 * aish.delta.<origin>.<ai> (a core NATS message), by the store thread,
 * so that a job's deltas leave before its final frame is stored; every
 * node, this one too, hears them and sends them to its readers as the
 * single server's fan-out does (no seq, no queue).  Deltas are at most
 * once here as a reader of the single server may miss them: the final
 * frame holds the whole text (SPEC §2).
 */
#include <string.h>

#include "cluster-engine.h"
#include "delivery.h"
#include "job.h"
#include "xalloc.h"

/* nats.c thread: a delta of a reply, from the node that runs it. */
static void
on_delta(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *ud)
{
	struct rh_cl_item	*it = xcalloc(1, sizeof *it);

	it->kind = RH_CL_DELTA_HEARD;
	it->msg = msg;
	rh_cl_to_loop(ud, it);
}

/* Hears the deltas of every node (at open). */
int
rh_cl_delta_open(struct rh_cluster *cl)
{
	if (natsConnection_Subscribe(&cl->deltas, cl->nc,
	    RH_CL_DELTA_SUBJECTS, on_delta, cl) != NATS_OK) {
		rh_log("cluster: cannot hear %s: %s", RH_CL_DELTA_SUBJECTS,
		    nats_GetLastError(NULL));
		return -1;
	}
	return 0;
}

/* A provider's delta of a job the cluster handed out: said to every
 * node by the store thread. */
void
rh_cluster_job_delta(struct rh_job *job, const char *text, size_t len)
{
	struct rh_cluster	*cl = job->srv->cluster;
	struct rh_cl_item	*it;
	char			 origin[80], ai[80];
	char			*json;

	if (cl == NULL)
		return;
	rh_cl_subject_token(origin, sizeof origin, job->origin);
	rh_cl_subject_token(ai, sizeof ai, job->socket_id);
	json = rh_frame_delta(job, text, len);
	it = xcalloc(1, sizeof *it);
	it->kind = RH_CL_DELTA;
	it->subject = xasprintf("%s%s.%s", RH_CL_DELTA_PREFIX, origin, ai);
	it->frame = xstrdup(json);
	cJSON_free(json);
	rh_cl_to_store(cl, it);
}

/* Loop: a delta heard goes to the readers here. */
void
rh_cl_loop_delta(struct rh_cluster *cl, struct rh_cl_item *it)
{
	char	origin[80], ai[80];

	if (rh_cl_subject_ids(natsMsg_GetSubject(it->msg),
	    RH_CL_DELTA_PREFIX, origin, sizeof origin, ai, sizeof ai) != 0 ||
	    natsMsg_GetDataLength(it->msg) <= 0)
		rh_log("cluster: a delta that is not one was dropped");
	else {
		cl->deltas_heard++;
		rh_delivery_fan_out(cl->srv, ai, origin,
		    natsMsg_GetData(it->msg),
		    (size_t)natsMsg_GetDataLength(it->msg), NULL, 0);
	}
	rh_cl_item_free(it);
}
