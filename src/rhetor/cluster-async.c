/*
 * cluster-async.c: a batch of messages published asynchronously by the
 * store thread, with what became of each: stored, refused because its
 * key had a value already (a write id seen before), or not stored (an
 * error, or no answer within RH_CL_WAIT_MS).
 *
 * Waiting for the whole batch costs one wait at most, however many
 * messages it holds and however the engine fails: messages still
 * unanswered then are taken back from nats.c (so that no late answer
 * arrives) and count as not stored; what the caller does with those is
 * safe to repeat (Nats-Msg-Id, or a key that must be absent).
 */
#include <stdlib.h>
#include <string.h>

#include "cluster-engine.h"
#include "xalloc.h"

/* Starts a batch: nats.c's threads report into it from now on. */
void
rh_cl_pubs_begin(struct rh_cluster *cl, struct rh_cl_pubs *p)
{
	memset(p, 0, sizeof *p);
	pthread_mutex_lock(&cl->mu);
	cl->pubs = p;
	pthread_mutex_unlock(&cl->mu);
}

/* The index of a message of the current batch (under mu), or -1.  The
 * latest with that address: an earlier one, answered, may have been freed
 * and its memory given to a later one. */
static int
index_of(const struct rh_cl_pubs *p, const natsMsg *msg)
{
	int	i;

	for (i = p->n - 1; i >= 0; i--) {
		if (p->msgs[i] == msg)
			return i;
	}
	return -1;
}

/* Publishes MSG (taken over) with MSG_ID, if any, as the batch's next
 * message; its index. */
int
rh_cl_pubs_add(struct rh_cluster *cl, struct rh_cl_pubs *p, natsMsg *msg,
    const char *msg_id)
{
	jsPubOptions	po;
	natsMsg		*sent = msg;
	int		 i;

	pthread_mutex_lock(&cl->mu);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->msgs = xrealloc(p->msgs, (size_t)p->cap *
		    sizeof *p->msgs);
		p->outcome = xrealloc(p->outcome, (size_t)p->cap *
		    sizeof *p->outcome);
	}
	i = p->n++;
	p->msgs[i] = msg;
	p->outcome[i] = RH_CL_PUB_STORED;
	pthread_mutex_unlock(&cl->mu);
	jsPubOptions_Init(&po);
	po.MsgId = msg_id;
	if (js_PublishMsgAsync(cl->js, &sent, &po) != NATS_OK) {
		pthread_mutex_lock(&cl->mu);
		p->msgs[i] = NULL;
		p->outcome[i] = RH_CL_PUB_FAILED;
		pthread_mutex_unlock(&cl->mu);
		natsMsg_Destroy(sent);
	}
	return i;
}

/* nats.c thread: a message published asynchronously was not stored. */
void
rh_cl_on_async_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
	struct rh_cluster	*cl = closure;
	int			 i;

	(void)js;
	pthread_mutex_lock(&cl->mu);
	if (cl->pubs != NULL && (i = index_of(cl->pubs, pae->Msg)) >= 0)
		cl->pubs->outcome[i] = pae->ErrCode ==
		    JSStreamWrongLastSequenceErr ? RH_CL_PUB_EXISTS :
		    RH_CL_PUB_FAILED;
	pthread_mutex_unlock(&cl->mu);
}

/* Waits (RH_CL_WAIT_MS at most) for the answers to the batch; what is
 * still unanswered then is not stored.  The outcomes are final after.
 * 0 when every message was answered (stored or not), -1 when the wait
 * ran out. */
int
rh_cl_pubs_wait(struct rh_cluster *cl, struct rh_cl_pubs *p)
{
	jsPubOptions	po;
	natsMsgList	pending;
	int		i, k, rc = 0;

	jsPubOptions_Init(&po);
	po.MaxWait = RH_CL_WAIT_MS;
	if (p->n > 0 && js_PublishAsyncComplete(cl->js, &po) != NATS_OK) {
		rc = -1;
		memset(&pending, 0, sizeof pending);
		if (js_PublishAsyncGetPendingList(&pending, cl->js) ==
		    NATS_OK) {
			pthread_mutex_lock(&cl->mu);
			for (k = 0; k < pending.Count; k++) {
				if ((i = index_of(p, pending.Msgs[k])) >= 0)
					p->outcome[i] = RH_CL_PUB_FAILED;
			}
			pthread_mutex_unlock(&cl->mu);
			natsMsgList_Destroy(&pending);
		} else {
			/* Nothing can be told: none counts as stored. */
			pthread_mutex_lock(&cl->mu);
			for (i = 0; i < p->n; i++) {
				if (p->outcome[i] == RH_CL_PUB_STORED)
					p->outcome[i] = RH_CL_PUB_FAILED;
			}
			pthread_mutex_unlock(&cl->mu);
		}
	}
	pthread_mutex_lock(&cl->mu);
	cl->pubs = NULL;
	pthread_mutex_unlock(&cl->mu);
	return rc;
}

/* Frees what a batch holds (its messages belong to nats.c). */
void
rh_cl_pubs_free(struct rh_cl_pubs *p)
{
	free(p->msgs);
	free(p->outcome);
	memset(p, 0, sizeof *p);
}
