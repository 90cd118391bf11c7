/*
 * reply.c: where a reply goes.  A provider streams pieces (rh_job_delta),
 * which go straight out (fan-out.c), and ends with rh_job_done or
 * rh_job_fail, which only note the reply and queue it (to_store).  A
 * slice (store_slice) then stores as many waiting replies as it can in
 * one transaction: the question and the reply join the AI's history
 * unless the write was fresh, the final frame takes the next seq and
 * joins the queue of the socket written to (rh_reply_store).  Only once
 * that committed is each final frame fanned out to every connection that
 * hears it, the HTTP readers of that queue woken, and the HTTP team chat
 * or synthesis waiting for it told (job_deliver); the job then ends.
 * A reply that cannot be stored goes out as a "storage" error frame, or,
 * if even that fails, its job stays in the store and runs again at the
 * next start.  A write to one AI socket stores its reply given at once
 * in the write's own transaction instead (delivery.c, start_batched).
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "delivery.h"
#include "job.h"
#include "metrics.h"
#include "provider.h"
#include "registry.h"
#include "route-teamchat.h"
#include "xalloc.h"

/* Streams a piece of a reply to everyone listening. */
void
rh_job_delta(struct rh_job *job, const char *text, size_t len)
{
	char	*json;

#ifdef HAVE_NATS
	if (job->cluster != NULL) {
		rh_cluster_job_delta(job, text, len);
		return;
	}
#endif
	json = rh_frame_delta(job, text, len);
	rh_fan_out(job, json, strlen(json), NULL, 0);
	cJSON_free(json);
	if (job->team != NULL)
		rh_team_progress(job->team);
}

/* Stores a finished job (history, queue) in a transaction of its own
 * (own), or in the caller's, which then fails whole if this fails: no
 * savepoint (which copies every page it changes).  Returns the reply's
 * seq, or -1.  On success *json is the final frame's text.  A reply joins
 * its AI's history with its question, unless the write was fresh: the
 * question has the seq its write was given when accepted (its turn
 * frame's), or, for a job run again after a restart, the seq before the
 * reply's. */
int64_t
rh_reply_store(struct rh_job *job, struct rh_socket *ai,
    struct rh_socket *origin, const char *text, const char *code,
    char **json, int own)
{
	struct rh_store	*st = job->srv->store;
	int64_t		 seq, now = rh_now_ms();
	int		 dropped = 0, rc = 0;
	int		 turn = code == NULL && ai != NULL && !job->fresh;

	*json = NULL;
	if (own && rh_store_begin(st) != 0)
		return -1;
	if (turn && rh_store_history_append(st, ai->id, "user", job->content,
	    job->question_seq, job->question_ms ? job->question_ms : now,
	    rh_provider_history_rows(ai->provider),
	    rh_provider_history_bytes(ai->provider)) != 0)
		goto fail;
	seq = rh_store_next_seq(st);
	if (seq < 0)
		goto fail;
	*json = rh_frame_final(job, ai ? ai->ai_name : job->socket_id, text,
	    code, seq, now);
	if (job->job_id > 0)
		rc |= rh_store_job_delete(st, job->job_id);
	if (turn)
		rc |= rh_store_history_append(st, ai->id, "assistant", text,
		    seq, now, rh_provider_history_rows(ai->provider),
		    rh_provider_history_bytes(ai->provider));
	if (ai != NULL) {
		ai->last_activity = now;
		rc |= rh_store_socket_touch_later(st, ai->id,
		    ai->last_activity);
	}
	if (job->team == NULL && origin != NULL)
		rc |= rh_store_queue_push(st, origin->id, seq, *json,
		    AISH_QUEUE_CAP, &dropped);
	if (rc != 0)
		goto fail;
	if (own && rh_store_commit(st) != 0)
		goto fail;
	job->srv->queue_drops += (uint64_t)dropped;
	rh_server_flush_soon(job->srv);		/* the activity time */
	return seq;
fail:
	rh_log("cannot store the reply to %s on %s: %s", job->write_id,
	    job->socket_id, rh_store_error(st));
	if (own)
		rh_store_rollback(st);
	cJSON_free(*json);
	*json = NULL;
	return -1;
}

/* Counts a provider call for /metrics and keeps the tally of failures
 * (provider_error, provider_timeout) in a row: after
 * RH_FAILURES_UNRESPONSIVE of them the socket becomes unresponsive, with
 * the last error as its reason; a success clears it. */
static void
account_failure(struct rh_server *srv, struct rh_job *job,
    struct rh_socket *ai, const char *text, const char *code)
{
	int	failed = code != NULL && (strcmp(code, AISH_ERR_PROVIDER) == 0 ||
	    strcmp(code, AISH_ERR_PROVIDER_TIMEOUT) == 0);

	if (ai == NULL || ai->provider == NULL || job->deferred ||
	    (code != NULL && !failed))
		return;
	rh_metrics_observe(srv, ai->provider_name, rh_mono_ms() -
	    job->started_ms, failed);
	if (!failed) {
		ai->failures = 0;
		return;
	}
	if (++ai->failures < RH_FAILURES_UNRESPONSIVE || ai->unresponsive)
		return;
	if (rh_registry_set_unresponsive(srv, ai, text) != 0)
		rh_log("cannot mark %s unresponsive: %s", ai->id,
		    rh_store_error(srv->store));
	else
		rh_log("%s is unresponsive after %d provider failures: %s",
		    ai->id, ai->failures, text);
}

/* Sends a job's stored final frame to everyone listening and tells who
 * waits for it (an HTTP team chat, a synthesis); ends the job. */
static void
job_deliver(struct rh_job *job, const char *json, int64_t seq,
    const char *text, const char *code)
{
	struct rh_server	*srv = job->srv;
	struct rh_socket	*origin = rh_registry_find(srv, job->origin);
	struct rh_err		 err;

	rh_fan_out(job, json, strlen(json), job->team == NULL ? origin : NULL,
	    seq);
	if (job->team != NULL) {
		if (code != NULL)
			rh_err_set(&err, 502, code, "%s", text);
		rh_team_result(job->team, job, code ? NULL : text,
		    code ? &err : NULL);
	}
	rh_reply_delivered(srv, job, text, code);
}

/* Ends a job with its final frame now: stored in a transaction of its
 * own, fanned out, job ended. */
static void
finish_now(struct rh_job *job, const char *text, const char *code)
{
	struct rh_server	*srv = job->srv;
	struct rh_socket	*ai = rh_registry_find(srv, job->socket_id);
	struct rh_socket	*origin = rh_registry_find(srv, job->origin);
	char			*json;
	int64_t			 seq;

	seq = rh_reply_store(job, ai, origin, text, code, &json, 1);
	if (seq < 0 &&
	    (code == NULL || strcmp(code, AISH_ERR_STORAGE) != 0)) {
		/* The reply could not be stored (a full disk, say): the
		 * smaller error frame, without history, may still fit, and
		 * tells the writer why. */
		text = "the reply could not be stored (is the disk full?); "
		    "write again once there is room";
		code = AISH_ERR_STORAGE;
		seq = rh_reply_store(job, ai, origin, text, code, &json, 1);
	}
	if (seq < 0) {
		/* Not stored at all: the job stays in the store and runs
		 * again at the next start rather than being lost. */
		rh_job_end(job);
		return;
	}
	job_deliver(job, json, seq, text, code);
	cJSON_free(json);
}

/* Stores the replies waiting, as many as fit in RH_SLICE_US (at least one)
 * or all when until is 0, in one transaction, then sends them; when that
 * transaction fails, each is stored on its own, as finish_now does.
 * Returns 1 while replies are left. */
static int
store_batch(struct rh_server *srv, lws_usec_t until)
{
	struct rh_store		*st = srv->store;
	struct rh_job		*job, **batch = NULL;
	char			**json = NULL;
	int64_t			 *seq = NULL;
	size_t			  n = 0, cap = 0, i;
	int			  ok, began;

	ok = began = rh_store_begin(st) == 0;
	while ((job = rh_job_queue_pop(&srv->to_store)) != NULL) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			batch = xrealloc(batch, cap * sizeof *batch);
			json = xrealloc(json, cap * sizeof *json);
			seq = xrealloc(seq, cap * sizeof *seq);
		}
		rh_job_ref(job);	/* kept while others are delivered */
		batch[n] = job;
		json[n] = NULL;
		seq[n] = ok ? rh_reply_store(job, rh_registry_find(srv,
		    job->socket_id), rh_registry_find(srv, job->origin),
		    job->final_text, job->final_code, &json[n], 0) : -1;
		ok = ok && seq[n++] >= 0;
		if (!ok || (until != 0 && lws_now_usecs() >= until))
			break;
	}
	if (ok && rh_store_commit(st) == 0) {
		for (i = 0; i < n; i++) {
			if (!batch[i]->ended)
				job_deliver(batch[i], json[i], seq[i],
				    batch[i]->final_text, batch[i]->final_code);
			cJSON_free(json[i]);
			rh_job_unref(batch[i]);
		}
	} else {
		if (began)
			rh_store_rollback(st);
		for (i = 0; i < n; i++) {
			cJSON_free(json[i]);
			if (!batch[i]->ended)
				finish_now(batch[i], batch[i]->final_text,
				    batch[i]->final_code);
			rh_job_unref(batch[i]);
		}
	}
	free(batch);
	free(json);
	free(seq);
	return srv->to_store.first != NULL;
}

/* Timer: one slice of the replies waiting to be stored. */
static void
store_slice(lws_sorted_usec_list_t *sul)
{
	struct rh_server	*srv = lws_container_of(sul, struct rh_server,
				    to_store.sul);

	srv->to_store.scheduled = 0;
	if (store_batch(srv, lws_now_usecs() + RH_SLICE_US) &&
	    !srv->to_store.scheduled) {
		srv->to_store.scheduled = 1;
		lws_sul_schedule(srv->context, 0, &srv->to_store.sul,
		    store_slice, 1);
	}
}

/* Ends a job's reply: noted, never stored or freed here, so that a
 * provider may call this from inside its start.  The reply waits for the
 * next slice of store_slice, which stores many in one transaction (the
 * job lives on till then, off its provider); a batched write's is stored
 * by start_batched once the provider's start returns.  A second result
 * is ignored. */
static void
job_finish(struct rh_job *job, const char *text, const char *code)
{
	struct rh_server	*srv = job->srv;

	if (job->finished)
		return;
	account_failure(srv, job, rh_registry_find(srv, job->socket_id),
	    text, code);
	job->finished = 1;
	job->provider_state = NULL;
	job->final_text = xstrdup(text);
	job->final_code = code ? xstrdup(code) : NULL;
	if (job->held != NULL)
		return;
	if (job->queue != NULL)
		rh_job_queue_remove(job); /* cancelled, not started */
	rh_job_queue_push(&srv->to_store, job);
	if (!srv->to_store.scheduled) {
		srv->to_store.scheduled = 1;
		lws_sul_schedule(srv->context, 0, &srv->to_store.sul,
		    store_slice, 0);
	}
}

/* A job of a write has delivered its reply: a synthesis waiting for it
 * collects the reply and starts once no member is left.  Ends the job
 * (text and code may be its own). */
void
rh_reply_delivered(struct rh_server *srv, struct rh_job *job, const char *text,
    const char *code)
{
	struct rh_job	*synthesis = NULL;

	(void)srv;
	if (job->team == NULL && !rh_job_is_synthesis(job))
		synthesis = rh_synthesis_waiting(job->write);
	if (synthesis != NULL)
		rh_synthesis_collect(synthesis, job->socket_id, text, code);
	rh_job_end(job);		/* the synthesis holds the write on */
	if (synthesis != NULL)
		rh_synthesis_maybe_start(synthesis);
}

/* The provider finished a reply. */
void
rh_job_done(struct rh_job *job, const char *text, size_t len)
{
	char	*whole = xstrndup(text, len);

#ifdef HAVE_NATS
	if (job->cluster != NULL) {
		rh_cluster_job_finish(job, whole, NULL);
		free(whole);
		return;
	}
#endif
	job_finish(job, whole, NULL);
	free(whole);
}

/* The provider failed. */
void
rh_job_fail(struct rh_job *job, const char *code, const char *message)
{
#ifdef HAVE_NATS
	if (job->cluster != NULL) {
		rh_cluster_job_finish(job, message, code);
		return;
	}
#endif
	job_finish(job, message, code);
}

/* Stores every reply still waiting, at shutdown. */
void
rh_reply_store_waiting(struct rh_server *srv)
{
	lws_sul_cancel(&srv->to_store.sul);
	while (srv->to_store.first != NULL)
		(void)store_batch(srv, 0);
}
