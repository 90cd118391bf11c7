/*
 * cluster-live.c: a final frame stored on AISH_REPLIES by any node,
 * heard live (RePublish) and sent to this node's readers with the seq the
 * stream gave it, the same on every node.
 *
 * The live path is at most once: what is republished while this node's
 * connection is down, or dropped as a slow consumer, is heard by nobody
 * here.  Since every node hears every stored frame, and the stream's seqs
 * have no holes, a seq that comes after one not heard is a gap; so is the
 * stream's last seq past ours after a reconnect.  The store thread then
 * fetches the missed frames from the stream by seq, and they go out as
 * the live ones do.  live_next is the first seq neither heard nor asked
 * for, so each seq is sent once.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-engine.h"
#include "delivery.h"
#include "json-build.h"
#include "listener.h"
#include "registry.h"
#include "xalloc.h"

/* The most frames one gap fetches: the older ones of a longer gap are
 * not sent (and logged). */
#define RH_CL_FILL_MAX	4096

/* Reads the origin's socket id from the subject of a live copy
 * ("aish.live.<origin>.<ai>") or of a stored frame ("aish.reply.…"). */
static int
origin_of(const char *subject, char *dst, size_t len)
{
	if (rh_cl_subject_ids(subject, "aish.live.", dst, len, NULL, 0) == 0)
		return 0;
	return rh_cl_subject_ids(subject, "aish.reply.", dst, len, NULL, 0);
}

/* The seq of a frame: the live copy's Nats-Sequence header, or the
 * stream's own for a fetched one; 0 when it has none. */
static uint64_t
seq_of(const struct rh_cl_item *it)
{
	const char	*seqs = NULL;

	if (it->filled)
		return natsMsg_GetSequence(it->msg);
	if (natsMsgHeader_Get(it->msg, "Nats-Sequence", &seqs) != NATS_OK)
		return 0;
	return strtoull(seqs, NULL, 10);
}

/* Loop: has the store thread fetch the frames from..to (to 0: first
 * learn the stream's last seq). */
static void
ask_fill(struct rh_cluster *cl, uint64_t from, uint64_t to)
{
	struct rh_cl_item	*it;

	if (to != 0 && to - from >= RH_CL_FILL_MAX) {
		rh_log("cluster: %" PRIu64 " replies missed by the live path "
		    "are not sent (only the last %d are fetched)",
		    to - from + 1 - RH_CL_FILL_MAX, RH_CL_FILL_MAX);
		from = to - RH_CL_FILL_MAX + 1;
	}
	it = xcalloc(1, sizeof *it);
	it->kind = RH_CL_FILL;
	it->from = from;
	it->to = to;
	rh_cl_to_store(cl, it);
}

/* Sends a stored final frame, live or fetched, to this node's readers;
 * it waits in the queue of the socket written to until one of that
 * socket's readers, on any node, got it (cluster-queue.c). */
void
rh_cl_loop_live(struct rh_cluster *cl, struct rh_cl_item *it)
{
	struct rh_store		*st = cl->srv->store;
	struct rh_socket	*queue = NULL;
	const cJSON		*sid;
	cJSON			*obj;
	char			 origin[80], *json;
	uint64_t		 seq = seq_of(it);
	int			 began = 0;

	if (!it->filled && seq > 0 && cl->live_next != 0) {
		if (seq < cl->live_next) {
			/* fetched already, or asked for */
			rh_cl_item_free(it);
			return;
		}
		if (seq > cl->live_next)
			ask_fill(cl, cl->live_next, seq - 1);
	}
	if (!it->filled && seq >= cl->live_next)
		cl->live_next = seq + 1;
	obj = cJSON_ParseWithLength(natsMsg_GetData(it->msg),
	    (size_t)natsMsg_GetDataLength(it->msg));
	sid = cJSON_GetObjectItemCaseSensitive(obj, "socket_id");
	if (obj == NULL || !cJSON_IsString(sid) || seq == 0 ||
	    seq > INT64_MAX || origin_of(natsMsg_GetSubject(it->msg), origin,
	    sizeof origin) != 0) {
		rh_log("cluster: a live reply that is not one was dropped");
		cJSON_Delete(obj);
		rh_cl_item_free(it);
		return;
	}
	/* The turn and the queued reply are stored in one transaction. */
	if (rh_store_begin(st) != 0)
		rh_log("cluster: cannot store the reply %" PRIu64 " here: %s",
		    seq, rh_store_error(st));
	else
		began = 1;
	rh_cl_history_heard(cl, obj, (int64_t)seq);
	ac_json_add_int(obj, "seq", (int64_t)seq);
	json = cJSON_PrintUnformatted(obj);
	if (began && rh_cl_queue_heard(cl, origin, json, (int64_t)seq) == 1)
		queue = rh_registry_find(cl->srv, origin);
	if (began && rh_store_commit(st) != 0) {
		rh_log("cluster: cannot store the reply %" PRIu64 " here: %s",
		    seq, rh_store_error(st));
		rh_store_rollback(st);
		queue = NULL;
	}
	if (it->filled)
		cl->replies_filled++;
	else
		cl->replies_live++;
	rh_delivery_fan_out(cl->srv, sid->valuestring, origin, json,
	    strlen(json), queue, (int64_t)seq);
	if (queue != NULL)
		rh_listeners_queued(cl->srv, queue);
	cJSON_free(json);
	cJSON_Delete(obj);
	rh_cl_item_free(it);
}

/* Loop: the connection came back; what was stored meanwhile is owed. */
void
rh_cl_loop_reconnected(struct rh_cluster *cl, struct rh_cl_item *it)
{
	rh_cl_item_free(it);
	ask_fill(cl, 0, 0);
}

/* Loop: the stream's last seq is known; the frames past ours are
 * fetched. */
void
rh_cl_loop_last(struct rh_cluster *cl, struct rh_cl_item *it)
{
	uint64_t	last = it->to;

	rh_cl_item_free(it);
	if (last == 0)
		return;
	if (cl->live_next == 0) {
		cl->live_next = last + 1;
		return;
	}
	if (last < cl->live_next)
		return;
	ask_fill(cl, cl->live_next, last);
	cl->live_next = last + 1;
}

/* The last seq of AISH_REPLIES, 0 when it cannot be told. */
uint64_t
rh_cl_replies_last(struct rh_cluster *cl)
{
	jsStreamInfo	*si = NULL;
	jsErrCode	 jerr = 0;
	uint64_t	 last;
	natsStatus	 s;

	s = js_GetStreamInfo(&si, cl->js, RH_CL_REPLIES, NULL, &jerr);
	if (s != NATS_OK) {
		rh_log("cluster: cannot learn the last reply of %s: %s",
		    RH_CL_REPLIES, rh_cl_why(s));
		return 0;
	}
	last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	return last;
}

/* Store thread: fetches the frames of a gap by seq and hands them to the
 * loop; a frame the stream no longer holds (past its limits) is not
 * sent.  With no range, it learns the stream's last seq for the loop. */
void
rh_cl_store_fill(struct rh_cluster *cl, struct rh_cl_item *it)
{
	struct rh_cl_item	*got;
	natsMsg			*msg;
	jsErrCode		 jerr;
	uint64_t		 seq, missing = 0;
	natsStatus		 s, failed = NATS_OK;

	if (it->to == 0) {
		it->kind = RH_CL_LAST;
		it->to = rh_cl_replies_last(cl);
		rh_cl_to_loop(cl, it);
		return;
	}
	for (seq = it->from; seq <= it->to; seq++) {
		msg = NULL;
		jerr = 0;
		s = js_GetMsg(&msg, cl->js, RH_CL_REPLIES, seq, NULL, &jerr);
		if (s != NATS_OK) {
			failed = s;
			missing++;
			continue;
		}
		got = xcalloc(1, sizeof *got);
		got->kind = RH_CL_LIVE;
		got->filled = 1;
		got->msg = msg;
		rh_cl_to_loop(cl, got);
	}
	if (missing > 0)
		rh_log("cluster: %" PRIu64 " of the replies %" PRIu64 " to %"
		    PRIu64 " missed by the live path cannot be fetched: %s",
		    missing, it->from, it->to, rh_cl_why(failed));
	rh_cl_item_free(it);
}
