/*
 * delivery.c: accepting a write (see delivery.h for the rules).  A write
 * is checked (write-check.c), stored with its jobs in one transaction,
 * acknowledged, its turn pushed to the other readers (turn.h), and its
 * jobs started (job.c); their replies go where reply.c says.  The other
 * parts of the delivery core: job-stop.c (cancel, abandon, deleted
 * sockets, restart), synthesis.c (moderated team chats), binary-stream.c,
 * reply-frame.c and fan-out.c.
 *
 * What a write costs grows with its members, never with their square:
 * the jobs of one write are found through a table keyed by the write
 * (origin and id), each job leaves its lists in one step, and the loop
 * works in slices, serving other clients in between.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "delivery.h"
#include "groups.h"
#include "held.h"
#include "job.h"
#include "registry.h"
#include "turn.h"
#include "xalloc.h"

/* The sockets whose AIs answer a write made on origin, as a JSON array:
 * the socket itself, every active AI (team-chat-all), or the active
 * members of a group (team-chat-<group>). */
static cJSON *
members_of(struct rh_server *srv, struct rh_socket *origin)
{
	cJSON			*ids = cJSON_CreateArray();
	struct rh_group		*g = rh_group_of_socket(srv, origin);
	struct rh_socket	*s;

	if (origin->kind != RH_KIND_TEAM_CHAT) {
		cJSON_AddItemToArray(ids, cJSON_CreateString(origin->id));
		return ids;
	}
	for (s = srv->sockets; s != NULL; s = s->next) {
		if (rh_registry_is_member(s) &&
		    (g == NULL || rh_group_has(g, s->id)))
			cJSON_AddItemToArray(ids, cJSON_CreateString(s->id));
	}
	return ids;
}

/* Stores the write and its jobs (members NULL: none yet) in one
 * transaction.  Returns 1 when new, 0 for a repeated id, -1 on a storage
 * error. */
static int
store_write(struct rh_server *srv, struct rh_socket *origin, const char *id,
    const char *content, int fresh, cJSON *members, int64_t *job_ids)
{
	cJSON	*m;
	int	 rc, i = 0;

	/* One statement is atomic by itself. */
	if (members == NULL)
		return rh_store_write_accept(srv->store, origin->id, id,
		    rh_now_ms());
	if (rh_store_begin(srv->store) != 0)
		return -1;
	rc = rh_store_write_accept(srv->store, origin->id, id, rh_now_ms());
	if (rc == 1) {
		cJSON_ArrayForEach(m, members) {
			job_ids[i] = rh_store_job_add(srv->store, origin->id,
			    id, m->valuestring, content, fresh);
			if (job_ids[i++] < 0) {
				rc = -1;
				break;
			}
		}
	}
	if (rc < 0) {
		rh_store_rollback(srv->store);
		return -1;
	}
	return rh_store_commit(srv->store) == 0 ? rc : -1;
}

/* Starts the jobs of one write, except a synthesis, which waits for the
 * others (at once when there are none): the first slice now, the rest
 * from the loop.  Starting a job never ends one (a reply given at once
 * waits in to_store), so the synthesis is still there after the slice. */
static void
start_all(struct rh_server *srv, struct rh_job **jobs, int n)
{
	struct rh_job	*synthesis = NULL;
	int		 i;

	for (i = 0; i < n; i++) {
		if (jobs[i]->deferred)
			synthesis = jobs[i];
		else
			rh_job_start_later(srv, jobs[i]);
	}
	rh_job_start_queued(srv);
	if (synthesis != NULL)
		rh_synthesis_maybe_start(synthesis);
}

/* Tells the writer its write was accepted, then the other readers of the
 * conversation its turn (turn.h). */
static void
write_accepted(struct rh_server *srv, struct rh_socket *origin,
    const struct rh_write_result *res, const char *content, int flags,
    rh_accepted_cb accepted, void *ud)
{
	if (accepted != NULL)
		accepted(ud, res);
	rh_turn_push(srv, origin, res, content,
	    (flags & RH_WRITE_FROM_WS) ? ud : NULL);
}

/* Gives a new write that joins the history the seq of its question, now,
 * so that the readers of its turn and the history agree on it; a store
 * that cannot give one leaves it to the reply (and no turn is pushed). */
static void
question_seq(struct rh_server *srv, struct rh_write_result *res, int fresh)
{
	if (fresh || (res->seq = rh_store_next_seq(srv->store)) < 0)
		res->seq = 0;
	res->seq_ms = rh_now_ms();
}

/* Starts the one job of a plain write inside the transaction that stores
 * the write, with its frames held, then commits: an AI that answers at
 * once (an echo without delay, a provider that fails to start) costs one
 * commit, not two, stores no job row at all, and its acknowledgement
 * still goes first.  A job still running then gets its row, so that a
 * restart runs it again.  When the reply cannot be stored or the commit
 * fails, nothing was accepted: the job stops and err says why. */
static int
start_batched(struct rh_server *srv, struct rh_job *job,
    const struct rh_write_result *res, const char *content, int flags,
    rh_accepted_cb accepted, void *ud, struct rh_err *err)
{
	struct rh_held_list	 held;
	char			*json = NULL;
	int64_t			 seq = 0;
	int			 unstored = 0, rc = 0;

	rh_held_start(&held);
	job->held = &held;
	rh_job_start(job);		/* a reply given now is only noted */
	if (job->finished) {
		seq = rh_reply_store(job, rh_registry_find(srv, job->socket_id),
		    rh_registry_find(srv, job->origin), job->final_text,
		    job->final_code, &json, 0);
		if (seq < 0)
			unstored = 1;
		else
			rh_fan_out(job, json, strlen(json),
			    rh_registry_find(srv, job->origin), seq);
		cJSON_free(json);
	} else if ((job->job_id = rh_store_job_add(srv->store, job->origin,
	    job->write_id, job->socket_id, job->content, job->fresh)) < 0)
		rc = -1;
	job->held = NULL;
	if (unstored || rc != 0 || rh_store_commit(srv->store) != 0) {
		rh_err_set(err, 500, AISH_ERR_STORAGE, "cannot store the "
		    "write: %s%s", unstored ? "its reply could not "
		    "be stored: " : "", rh_store_error(srv->store));
		rh_store_rollback(srv->store);
		rh_held_stop(&held, srv, NULL);
		rh_job_drop(job);
		return -1;
	}
	write_accepted(srv, rh_registry_find(srv, job->origin), res, content,
	    flags, accepted, ud);
	rh_held_stop(&held, srv, rh_fan_out_held);
	if (job->finished)
		rh_reply_delivered(srv, job, job->final_text, job->final_code);
	return 0;
}

/* Accepts a write and starts its replies (see delivery.h). */
int
rh_delivery_write(struct rh_server *srv, struct rh_socket *origin,
    const char *id, const char *content, int flags, struct rh_team *team,
    rh_accepted_cb accepted, void *ud, struct rh_write_result *res,
    struct rh_err *err)
{
	struct rh_job	**jobs;
	int64_t		 *job_ids;
	cJSON		 *m;
	int		  n, i = 0, rc = 0, batch;
	int		  fresh = (flags & RH_WRITE_FRESH) != 0;

	memset(res, 0, sizeof *res);
	if (rh_write_content_check(content, err) != 0)
		return -1;
	if (id != NULL && !rh_write_id_valid(id)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "id must be a "
		    "non-empty string of at most %d bytes", AISH_MAX_WRITE_ID);
		return -1;
	}
	if (origin->unresponsive) {
		rh_err_set(err, 409, AISH_ERR_NOT_ACTIVE, "socket '%s' is "
		    "unresponsive (%s); reset it first", origin->id,
		    origin->reason ? origin->reason : "provider failing");
		return -1;
	}
	if (origin->kind != RH_KIND_TEAM_CHAT && origin->provider == NULL) {
		rh_err_set(err, 409, AISH_ERR_NOT_ACTIVE, "socket '%s' has "
		    "no provider", origin->id);
		return -1;
	}
	if ((flags & RH_WRITE_SYNTHESIS) && rh_synthesis_check(srv, origin,
	    team, err) != 0)
		return -1;
	res->id = id ? xstrdup(id) : rh_write_id_new();
	res->members = members_of(srv, origin);
	res->team_chat = origin->kind == RH_KIND_TEAM_CHAT;
	if (flags & RH_WRITE_SYNTHESIS)
		cJSON_AddItemToArray(res->members,
		    cJSON_CreateString(AISH_RHETOR_SOCKET));
#ifdef HAVE_NATS
	if (srv->cluster != NULL)
		return rh_cluster_write(srv, origin, content, flags, team,
		    accepted, ud, res, err);
#endif
	n = cJSON_GetArraySize(res->members);
	job_ids = xcalloc((size_t)n + 1, sizeof *job_ids);
	jobs = xcalloc((size_t)n + 1, sizeof *jobs);
	/* A write to one AI socket opens the transaction its job may store
	 * its reply in (start_batched); team-chat writes have many. */
	batch = team == NULL && origin->kind != RH_KIND_TEAM_CHAT;
	if (batch && rh_store_begin(srv->store) != 0)
		rc = -1;
	/* An HTTP team chat lives only as long as its request: not stored. */
	else if (team == NULL)
		rc = store_write(srv, origin, res->id, content, fresh,
		    batch ? NULL : res->members, job_ids);
	else
		rc = 1;
	if (batch && rc == 0 && rh_store_commit(srv->store) != 0)
		rc = -1;
	if (rc < 0) {
		rh_err_set(err, 500, AISH_ERR_STORAGE, "cannot store the "
		    "write: %s", rh_store_error(srv->store));
		if (batch)
			rh_store_rollback(srv->store);
		rh_write_result_free(res);
	} else if (rc == 0) {
		res->duplicate = 1;
		if (accepted != NULL)
			accepted(ud, res);
	} else if (batch) {
		srv->messages_in++;
		question_seq(srv, res, fresh);
		jobs[0] = rh_job_new(srv, job_ids[0], origin->id, res->id,
		    origin->id, content, NULL);
		jobs[0]->abandonable = (flags & RH_WRITE_FROM_WS) != 0;
		jobs[0]->fresh = fresh;
		jobs[0]->question_seq = res->seq;
		jobs[0]->question_ms = res->seq_ms;
		if (start_batched(srv, jobs[0], res, content, flags, accepted,
		    ud, err) != 0) {
			srv->messages_in--;
			rh_write_result_free(res);
			rc = -1;
		}
	} else {
		question_seq(srv, res, fresh);
		write_accepted(srv, origin, res, content, flags, accepted, ud);
		srv->messages_in++;
		cJSON_ArrayForEach(m, res->members) {
			jobs[i] = rh_job_new(srv, job_ids[i], origin->id,
			    res->id, m->valuestring, content, team);
			jobs[i]->abandonable = (flags & RH_WRITE_FROM_WS) != 0;
			jobs[i]->fresh = fresh;
			if (rh_job_is_synthesis(jobs[i])) {
				jobs[i]->deferred = 1;
				jobs[i]->collected = cJSON_CreateArray();
			} else {
				jobs[i]->question_seq = res->seq;
				jobs[i]->question_ms = res->seq_ms;
			}
			i++;
		}
		start_all(srv, jobs, n);
	}
	free(jobs);
	free(job_ids);
	return rc < 0 ? -1 : 0;
}

/* Frees what rh_delivery_write put in res. */
void
rh_write_result_free(struct rh_write_result *res)
{
	free(res->id);
	cJSON_Delete(res->members);
	memset(res, 0, sizeof *res);
}

/* Asks one AI for one reply on behalf of an HTTP team chat (see
 * delivery.h). */
int
rh_delivery_ask(struct rh_server *srv, struct rh_socket *ai,
    const char *origin, const char *write_id, const char *content,
    int flags, struct rh_team *team, struct rh_err *err)
{
	struct rh_job	*job;

	if (ai->provider == NULL || ai->unresponsive) {
		rh_err_set(err, 409, AISH_ERR_NOT_ACTIVE, "socket '%s' is not "
		    "active%s%s", ai->id, ai->reason ? ": " : "",
		    ai->reason ? ai->reason : "");
		return -1;
	}
	job = rh_job_new(srv, 0, origin, write_id, ai->id, content, team);
	job->fresh = (flags & RH_WRITE_FRESH) != 0;
	rh_job_start(job);
	return 0;
}
