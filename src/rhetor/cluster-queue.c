/*
 * cluster-queue.c: a socket's queue, the same on every node.
 *
 * Every node hears every stored final frame (cluster-live.c) and puts it
 * in the queue of the socket written to, in its own store, as the single
 * server does; its readers there are told its seq (fan-out.c), so the
 * one that gets it takes it off (sent.c, read-held.c).  A reply got on
 * one node is said on aish.got.<socket> ({"seq","node"}, a core NATS
 * message), and every other node takes it off its own queue too.  So a
 * reply no reader got waits, on every node, for the next reader of its
 * socket on any node or for /read; one a reader got is not given again,
 * but to a reader that comes within the moment the word takes to travel,
 * or on a node that did not hear it: then it comes again with its seq
 * (doc/cluster.md).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-engine.h"
#include "json-build.h"
#include "registry.h"
#include "xalloc.h"

/* nats.c thread: another node's word that a queued reply was got. */
static void
on_got(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *ud)
{
	struct rh_cl_item	*it = xcalloc(1, sizeof *it);

	it->kind = RH_CL_GOT_HEARD;
	it->msg = msg;
	rh_cl_to_loop(ud, it);
}

/* Hears the word of the other nodes (at open). */
int
rh_cl_queue_open(struct rh_cluster *cl)
{
	if (natsConnection_Subscribe(&cl->got, cl->nc, RH_CL_GOT_SUBJECTS,
	    on_got, cl) != NATS_OK) {
		rh_log("cluster: cannot hear %s: %s", RH_CL_GOT_SUBJECTS,
		    nats_GetLastError(NULL));
		return -1;
	}
	return 0;
}

/* Puts a heard final frame in the queue of origin here (see
 * cluster-engine.h). */
int
rh_cl_queue_heard(struct rh_cluster *cl, const char *origin,
    const char *json, int64_t seq)
{
	struct rh_server	*srv = cl->srv;
	int			 dropped = 0;

	if (rh_registry_find(srv, origin) == NULL)
		return 0;
	if (rh_store_queue_push(srv->store, origin, seq, json, AISH_QUEUE_CAP,
	    &dropped) != 0) {
		rh_log("cluster: cannot queue the reply %" PRId64 " on %s here: "
		    "%s", seq, origin, rh_store_error(srv->store));
		return -1;
	}
	srv->queue_drops += (uint64_t)dropped;
	cl->queued++;
	return 1;
}

/* A reader here got reply seq of socket_id: the other nodes are told,
 * by the store thread (see cluster.h). */
void
rh_cluster_queue_got(struct rh_server *srv, const char *socket_id,
    int64_t seq)
{
	struct rh_cluster	*cl = srv->cluster;
	struct rh_cl_item	*it;
	char			 token[80];
	cJSON			*body;

	if (cl == NULL)
		return;
	rh_cl_subject_token(token, sizeof token, socket_id);
	body = cJSON_CreateObject();
	ac_json_add_int(body, "seq", seq);
	ac_json_add_ref(body, "node", srv->opt.node);
	it = xcalloc(1, sizeof *it);
	it->kind = RH_CL_GOT;
	it->subject = xasprintf("%s%s", RH_CL_GOT_PREFIX, token);
	it->frame = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	cl->got_told++;
	rh_cl_to_store(cl, it);
}

/* Reads "aish.got.<socket>" back into the socket's id. */
static int
socket_of(const char *subject, char *dst, size_t len)
{
	const char	*p = subject + strlen(RH_CL_GOT_PREFIX);
	size_t		 i, n;

	if (strncmp(subject, RH_CL_GOT_PREFIX, strlen(RH_CL_GOT_PREFIX)) != 0)
		return -1;
	if ((n = strlen(p)) == 0 || n >= len || strchr(p, '.') != NULL)
		return -1;
	for (i = 0; i < n; i++)
		dst[i] = p[i] == '~' ? '.' : p[i];
	dst[n] = '\0';
	return 0;
}

/* Loop: a reply another node's reader got leaves the queue here too. */
void
rh_cl_loop_got(struct rh_cluster *cl, struct rh_cl_item *it)
{
	struct rh_server	*srv = cl->srv;
	const cJSON		*seq, *node;
	cJSON			*body;
	char			 id[80];

	body = cJSON_ParseWithLength(natsMsg_GetData(it->msg),
	    (size_t)natsMsg_GetDataLength(it->msg));
	seq = cJSON_GetObjectItemCaseSensitive(body, "seq");
	node = cJSON_GetObjectItemCaseSensitive(body, "node");
	if (socket_of(natsMsg_GetSubject(it->msg), id, sizeof id) != 0 ||
	    !cJSON_IsNumber(seq) || seq->valuedouble < 1 ||
	    !cJSON_IsString(node))
		rh_log("cluster: a word of a reply got that is not one was "
		    "dropped");
	else if (strcmp(node->valuestring, srv->opt.node) != 0 &&
	    rh_registry_find(srv, id) != NULL) {
		cl->got_heard++;
		if (rh_store_queue_remove_later(srv->store, id,
		    (int64_t)seq->valuedouble) != 0)
			rh_log("cluster: cannot unqueue %" PRId64 " on %s: %s",
			    (int64_t)seq->valuedouble, id,
			    rh_store_error(srv->store));
		else
			rh_server_flush_soon(srv);
	}
	cJSON_Delete(body);
	rh_cl_item_free(it);
}
