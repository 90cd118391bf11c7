/*
 * cluster-history.c: every node keeps the conversation of every AI.  The
 * node that runs a job stores its answer on AISH_REPLIES with the
 * question beside it (cluster-run.c); each node hears every stored
 * answer once (live, or fetched for a gap: cluster-live.c) and adds the
 * turn, question and answer with the answer's seq, to the AI's history in
 * its own store, so that whichever node runs the AI's next job gives the
 * provider the same conversation (doc/cluster.md).
 */
#include <string.h>

#include "cluster-engine.h"
#include "provider.h"
#include "registry.h"

/* Takes the question out of a heard final frame; adds the turn. */
void
rh_cl_history_heard(struct rh_cluster *cl, cJSON *frame, int64_t seq)
{
	struct rh_server	*srv = cl->srv;
	struct rh_store		*st = srv->store;
	cJSON			*question;
	const cJSON		*type, *content, *sid;
	struct rh_socket	*ai;
	int64_t			 now = rh_now_ms(), bytes;
	int			 rows;

	question = cJSON_DetachItemFromObjectCaseSensitive(frame,
	    RH_CL_QUESTION);
	type = cJSON_GetObjectItemCaseSensitive(frame, "type");
	content = cJSON_GetObjectItemCaseSensitive(frame, "content");
	sid = cJSON_GetObjectItemCaseSensitive(frame, "socket_id");
	if (!cJSON_IsString(question) || !cJSON_IsString(type) ||
	    strcmp(type->valuestring, AISH_FRAME_READ) != 0 ||
	    !cJSON_IsString(content) || !cJSON_IsString(sid) ||
	    (ai = rh_registry_find(srv, sid->valuestring)) == NULL ||
	    !rh_registry_is_ai(ai)) {
		cJSON_Delete(question);
		return;
	}
	rows = rh_provider_history_rows(ai->provider);
	bytes = rh_provider_history_bytes(ai->provider);
	if (rh_store_begin(st) != 0 ||
	    rh_store_history_append(st, ai->id, "user",
	    question->valuestring, seq, now, rows, bytes) != 0 ||
	    rh_store_history_append(st, ai->id, "assistant",
	    content->valuestring, seq, now, rows, bytes) != 0 ||
	    rh_store_commit(st) != 0) {
		rh_log("cluster: cannot add the turn of %s to its history "
		    "here: %s", ai->id, rh_store_error(st));
		rh_store_rollback(st);
	}
	cJSON_Delete(question);
}
