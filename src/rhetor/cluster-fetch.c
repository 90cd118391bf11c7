/*
 * cluster-fetch.c: the fetch thread, which pulls jobs from the shared
 * durable consumer of AISH_JOBS, at most RH_CL_MAX_RUNNING at once on
 * this node, and hands them to the loop.
 *
 * The consumer is bound again when this node cannot take jobs while
 * there are some: after RH_CL_REBIND_MS of errors, or of empty pulls
 * while the engine says jobs wait (the consumer was deleted, or the
 * subscription lost its way through leader changes).  A node that took
 * no jobs while its peer took them all would otherwise be seen only
 * when that peer dies.
 */
#include <string.h>

#include "cluster-engine.h"
#include "xalloc.h"

/* How long pulls may fail, or come back empty while jobs wait, before
 * the consumer is bound again. */
#define RH_CL_REBIND_MS	5000

/* Binds (and makes, when no node has) the shared consumer; 0, or -1
 * after logging. */
int
rh_cl_consumer_bind(struct rh_cluster *cl)
{
	jsConsumerConfig	 cc;
	jsSubOptions		 so;
	jsErrCode		 jerr = 0;

	jsSubOptions_Init(&so);
	jsConsumerConfig_Init(&cc);
	cc.Durable = RH_CL_CONSUMER;
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = cl->ack_wait_ns;
	cc.MaxAckPending = 10000;
	so.Config = cc;
	so.Stream = RH_CL_JOBS;
	if (js_PullSubscribe(&cl->pull, cl->js, RH_CL_JOB_SUBJECTS,
	    RH_CL_CONSUMER, NULL, &so, &jerr) != NATS_OK) {
		rh_log("cluster: cannot bind the consumer %s: %s (%d)",
		    RH_CL_CONSUMER, nats_GetLastError(NULL), (int)jerr);
		return -1;
	}
	return 0;
}

/* Whether jobs wait in the consumer (or it is gone) while this node's
 * pulls come back empty. */
static int
jobs_wait_unseen(struct rh_cluster *cl)
{
	jsConsumerInfo	*ci = NULL;
	jsErrCode	 jerr = 0;
	int		 waiting;

	if (js_GetConsumerInfo(&ci, cl->js, RH_CL_JOBS, RH_CL_CONSUMER, NULL,
	    &jerr) != NATS_OK)
		return jerr == JSConsumerNotFoundErr;
	waiting = ci->NumPending > 0;
	jsConsumerInfo_Destroy(ci);
	return waiting;
}

/* Binds the consumer again, saying why. */
static void
rebind(struct rh_cluster *cl, const char *why)
{
	rh_log("cluster: the consumer %s is bound again (%s)", RH_CL_CONSUMER,
	    why);
	natsSubscription_Destroy(cl->pull);
	cl->pull = NULL;
	if (rh_cl_consumer_bind(cl) == 0)
		__atomic_add_fetch(&cl->rebinds, 1, __ATOMIC_RELAXED);
}

/* Waits until this node may run one more job; how many it may take, 0
 * when stopping. */
static int
room_for_jobs(struct rh_cluster *cl)
{
	int	room;

	pthread_mutex_lock(&cl->mu);
	while (!cl->stopping && cl->running >= RH_CL_MAX_RUNNING)
		pthread_cond_wait(&cl->cond, &cl->mu);
	room = cl->stopping ? 0 : RH_CL_MAX_RUNNING - cl->running;
	pthread_mutex_unlock(&cl->mu);
	return room > 16 ? 16 : room;
}

/* Hands each job of a pull to the loop. */
static void
hand_over(struct rh_cluster *cl, natsMsgList *list)
{
	struct rh_cl_item	*it;
	int			 i;

	for (i = 0; i < list->Count; i++) {
		it = xcalloc(1, sizeof *it);
		it->kind = RH_CL_JOB;
		it->msg = list->Msgs[i];
		list->Msgs[i] = NULL;
		pthread_mutex_lock(&cl->mu);
		cl->running++;
		pthread_mutex_unlock(&cl->mu);
		rh_cl_to_loop(cl, it);
	}
}

/* The fetch thread (see above). */
void *
rh_cl_fetch_main(void *arg)
{
	struct rh_cluster	*cl = arg;
	natsMsgList		 list;
	natsStatus		 s, failing = NATS_OK;
	int64_t			 since = rh_mono_ms();
	int			 room;

	while ((room = room_for_jobs(cl)) > 0) {
		memset(&list, 0, sizeof list);
		s = cl->pull == NULL ? NATS_INVALID_SUBSCRIPTION :
		    natsSubscription_Fetch(&list, cl->pull, room, 500, NULL);
		if (s == NATS_OK) {
			if (failing != NATS_OK)
				rh_log("cluster: jobs are taken from %s again",
				    RH_CL_CONSUMER);
			failing = NATS_OK;
			since = rh_mono_ms();
			hand_over(cl, &list);
		} else if (s != NATS_TIMEOUT) {
			if (s != failing)
				rh_log("cluster: cannot take jobs from %s: %s",
				    RH_CL_CONSUMER, rh_cl_why(s));
			if (failing == NATS_OK)
				since = rh_mono_ms();
			failing = s;
			nats_Sleep(100);
			if (rh_mono_ms() - since >= RH_CL_REBIND_MS) {
				rebind(cl, "its pulls fail");
				since = rh_mono_ms();
			}
		} else if (rh_mono_ms() - since >= RH_CL_REBIND_MS) {
			if (jobs_wait_unseen(cl))
				rebind(cl, "jobs wait, none come");
			since = rh_mono_ms();
		}
		natsMsgList_Destroy(&list);
	}
	return NULL;
}
