/*
 * job-stop.c: the jobs that stop before their reply (a cancel, a writer
 * gone for good, an HTTP team chat over, a deleted socket, shutdown),
 * and those started again after a restart.  Cancelling only fails a job
 * (its error frame is stored and delivered like a reply, reply.c); the
 * others end it without a frame (rh_job_drop).
 */
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "job.h"
#include "provider.h"
#include "registry.h"
#include "route-teamchat.h"
#include "xalloc.h"

/* Cancels the running replies of write w; returns how many.  Each
 * cancelled job waits for its error frame to be stored, like a reply
 * already given, which goes out as it is: no job ends here. */
static int
write_cancel(struct rh_server *srv, struct rh_write_jobs *w)
{
	struct rh_job		*job;
	struct rh_socket	*s;
	int			 n = 0;

	/* A synthesis waiting for this write ends first, so that the
	 * members' cancelled replies do not start it. */
	if ((job = rh_synthesis_waiting(w)) != NULL) {
		n++;
		rh_job_fail(job, AISH_ERR_CANCELLED, "cancelled by the client");
	}
	for (job = w->first; job != NULL; job = job->wnext) {
		if (job->finished)
			continue;
		s = rh_registry_find(srv, job->socket_id);
		if (s != NULL && s->provider != NULL && !job->deferred)
			s->provider->stop(job);
		n++;
		rh_job_fail(job, AISH_ERR_CANCELLED, "cancelled by the client");
	}
	return n;
}

/* Cancels the running replies to write_id on origin. */
int
rh_delivery_cancel(struct rh_server *srv, struct rh_socket *origin,
    const char *write_id)
{
	struct rh_write_jobs	*w = rh_write_jobs_find(srv, origin->id,
	    write_id);

	return w != NULL ? write_cancel(srv, w) : 0;
}

/* Cancels the running replies to WebSocket writes made on origin, a
 * write at a time in one pass: a write once cancelled has no job left
 * unfinished, and cancelling ends no job, so the list holds still. */
int
rh_delivery_abandon(struct rh_server *srv, struct rh_socket *origin)
{
	struct rh_job	*job;
	int		 n = 0;

	for (job = srv->jobs; job != NULL; job = job->next) {
		if (job->abandonable && !job->finished &&
		    strcmp(job->origin, origin->id) == 0)
			n += write_cancel(srv, job->write);
	}
	return n;
}

/* Stops the replies an HTTP team chat still waits for. */
void
rh_delivery_drop_team(struct rh_server *srv, struct rh_team *team)
{
	struct rh_job	*job, *next;

	for (job = srv->jobs; job != NULL; job = next) {
		next = job->next;
		if (job->team == team)
			rh_job_drop(job);
	}
}

/* Store callback: restarts one unanswered job. */
static void
resume_one(void *ud, const struct rh_job_row *row)
{
	struct rh_server	*srv = ud;

	rh_job_new(srv, row->job_id, row->origin, row->write_id, row->socket_id,
	    row->content, NULL)->fresh = row->fresh;
}

/* Restarts the jobs that were accepted but never answered. */
int
rh_delivery_resume(struct rh_server *srv)
{
	struct rh_job	*job, *last;
	size_t		 n = 0;

	if (rh_store_job_each(srv->store, resume_one, srv) != 0) {
		rh_log("cannot read unfinished jobs: %s",
		    rh_store_error(srv->store));
		return -1;
	}
	for (job = srv->jobs; job != NULL; job = job->next)
		n++;
	if (n == 0)
		return 0;
	last = srv->jobs;
	rh_log("resuming %zu unanswered writes", n);
	/* Start them only once all are loaded, oldest first (the list has
	 * the newest first), a slice at a time.  Neither queueing a job nor
	 * failing one ends a job, so the list holds still. */
	while (last->next != NULL)
		last = last->next;
	for (job = last; job != NULL; job = job->prev) {
		/* The replies a synthesis was collecting were in memory. */
		if (rh_job_is_synthesis(job))
			rh_job_fail(job, AISH_ERR_INTERNAL, "the server "
			    "restarted before the synthesis was written; ask "
			    "again");
		else
			rh_job_start_later(srv, job);
	}
	rh_job_start_queued(srv);
	return 0;
}

/* True while a job answers for s or for a write made to s. */
int
rh_delivery_owes(struct rh_server *srv, const struct rh_socket *s)
{
	struct rh_job	*job;

	for (job = srv->jobs; job != NULL; job = job->next) {
		if (strcmp(job->socket_id, s->id) == 0 ||
		    strcmp(job->origin, s->id) == 0)
			return 1;
	}
	return 0;
}

/* Stops the jobs of a socket being deleted (answering it or written to
 * it); a team chat waiting for one is told.  One pass drops them (each
 * drop ends that job alone); the syntheses that no longer wait for
 * anyone start after it, each held by a reference meanwhile. */
void
rh_delivery_socket_gone(struct rh_server *srv, struct rh_socket *s)
{
	struct rh_job	*job, *next, *synthesis, **waiting = NULL;
	struct rh_err	 err;
	size_t		  nwaiting = 0, cap = 0, i;

	rh_err_set(&err, 404, AISH_ERR_UNKNOWN_SOCKET,
	    "socket '%s' was deleted", s->id);
	for (job = srv->jobs; job != NULL; job = next) {
		next = job->next;
		if (strcmp(job->socket_id, s->id) != 0 &&
		    strcmp(job->origin, s->id) != 0)
			continue;
		if (job->job_id > 0)
			rh_store_job_delete(srv->store, job->job_id);
		if (job->team != NULL)
			rh_team_result(job->team, job, NULL, &err);
		synthesis = strcmp(job->origin, s->id) != 0 ?
		    rh_synthesis_waiting(job->write) : NULL;
		if (synthesis != NULL && synthesis != job) {
			rh_synthesis_collect(synthesis, job->socket_id,
			    err.message, err.code);
			if (nwaiting == cap) {
				cap = cap ? cap * 2 : 8;
				waiting = xrealloc(waiting, cap *
				    sizeof *waiting);
			}
			rh_job_ref(synthesis);
			waiting[nwaiting++] = synthesis;
		}
		rh_job_drop(job);		/* ends this job alone */
	}
	for (i = 0; i < nwaiting; i++) {
		rh_synthesis_maybe_start(waiting[i]);
		rh_job_unref(waiting[i]);
	}
	free(waiting);
}

/* Stops every job at shutdown; the store keeps them. */
void
rh_delivery_stop_all(struct rh_server *srv)
{
	lws_sul_cancel(&srv->to_start.sul);
	/* The replies already given are stored, not asked for again. */
	rh_reply_store_waiting(srv);
	while (srv->jobs != NULL)
		rh_job_drop(srv->jobs);
	ac_strmap_clear(&srv->jobs_by_write, NULL);
}
