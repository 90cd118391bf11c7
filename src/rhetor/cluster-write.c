/*
 * cluster-write.c: a write accepted by this node, the loop's side.  The
 * loop hands it to the store thread (cluster-accept.c), which records its
 * id and publishes its jobs; the writer's ack comes back on the loop once
 * both are stored.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster-write.h"
#include "json-build.h"
#include "ws.h"
#include "xalloc.h"

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

	if (team != NULL || (flags & RH_WRITE_SYNTHESIS)) {
		rh_err_set(err, 501, AISH_ERR_NOT_SUPPORTED,
		    "in cluster mode this node takes writes over WebSocket "
		    "and /write, without moderation; doc/cluster.md says what "
		    "is not built yet");
		rh_write_result_free(res);
		return -1;
	}
	w = xcalloc(1, sizeof *w);
	if (flags & RH_WRITE_FROM_WS)
		w->conn = ud;
	else
		w->req = ud;
	w->accepted = accepted;
	w->res.id = xstrdup(res->id);
	w->res.members = cJSON_Duplicate(res->members, 1);
	w->res.team_chat = res->team_chat;
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
	if ((w->conn != NULL || w->req != NULL) && it->status >= 0) {
		w->res.duplicate = it->status == 1;
		if (!w->res.duplicate)
			cl->srv->messages_in++;
		w->accepted(w->conn != NULL ? (void *)w->conn : (void *)w->req,
		    &w->res);
	} else if (w->req != NULL) {
		rh_http_error(w->req, 500, AISH_ERR_STORAGE, "%s", it->why);
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

/* An HTTP request is going away: its writes' answers go nowhere (the
 * writes are stored all the same). */
void
rh_cl_writes_req_gone(struct rh_cluster *cl, struct rh_http_req *req)
{
	struct rh_cl_write	*w;

	for (w = cl->writes_pending; w != NULL; w = w->next) {
		if (w->req == req)
			w->req = NULL;
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
