/*
 * job.c: the life of a job (see delivery.h for who owns one and when it
 * dies): made, linked into the server's list and its write's, queued,
 * handed to its provider, ended, freed.  The jobs of a write to many
 * members start a slice of about RH_SLICE_US at a time (start_slice),
 * with other clients served in between.
 */
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "job.h"
#include "provider.h"
#include "registry.h"
#include "strmap.h"
#include "xalloc.h"

/* True for the job that writes the synthesis of a moderated team-chat
 * write: rhetor answering a write made on a team-chat socket (rhetor is
 * never a team member otherwise). */
int
rh_job_is_synthesis(const struct rh_job *job)
{
	return strcmp(job->socket_id, AISH_RHETOR_SOCKET) == 0 &&
	    strncmp(job->origin, AISH_TEAM_CHAT_PREFIX,
	    strlen(AISH_TEAM_CHAT_PREFIX)) == 0;
}

/* The key of a write: a socket id holds no '/', so origin and id can be
 * told apart (allocated). */
static char *
write_key(const char *origin, const char *write_id)
{
	return xstrcat3(origin, "/", write_id);
}

/* The jobs running for write_id on origin, or NULL when none is. */
struct rh_write_jobs *
rh_write_jobs_find(struct rh_server *srv, const char *origin,
    const char *write_id)
{
	char			*key = write_key(origin, write_id);
	struct rh_write_jobs	*w = ac_strmap_get(&srv->jobs_by_write, key);

	free(key);
	return w;
}

/* Links a new job into the server's list and its write's. */
static void
job_link(struct rh_server *srv, struct rh_job *job)
{
	struct rh_write_jobs	*w = rh_write_jobs_find(srv, job->origin,
	    job->write_id);
	char			*key;

	job->next = srv->jobs;
	if (srv->jobs != NULL)
		srv->jobs->prev = job;
	srv->jobs = job;
	if (w == NULL) {
		key = write_key(job->origin, job->write_id);
		w = xcalloc(1, sizeof *w + strlen(key) + 1);
		strcpy(w->key, key);
		ac_strmap_put(&srv->jobs_by_write, key, w);
		free(key);
	}
	job->write = w;
	job->wnext = w->first;
	if (w->first != NULL)
		w->first->wprev = job;
	w->first = job;
	if (rh_job_is_synthesis(job))
		w->synthesis = job;
	else
		w->members++;
}

/* Puts a job at the end of queue q. */
void
rh_job_queue_push(struct rh_job_queue *q, struct rh_job *job)
{
	job->queue = q;
	job->qnext = NULL;
	job->qprev = q->last;
	if (q->last != NULL)
		q->last->qnext = job;
	else
		q->first = job;
	q->last = job;
}

/* Takes a job off the queue it is on. */
void
rh_job_queue_remove(struct rh_job *job)
{
	struct rh_job_queue	*q = job->queue;

	if (job->qprev != NULL)
		job->qprev->qnext = job->qnext;
	else
		q->first = job->qnext;
	if (job->qnext != NULL)
		job->qnext->qprev = job->qprev;
	else
		q->last = job->qprev;
	job->queue = NULL;
	job->qnext = job->qprev = NULL;
}

/* Takes the oldest job off queue q; NULL when it is empty. */
struct rh_job *
rh_job_queue_pop(struct rh_job_queue *q)
{
	struct rh_job	*job = q->first;

	if (job != NULL)
		rh_job_queue_remove(job);
	return job;
}

/* Unlinks a job from every list it is on; a write without jobs left is
 * forgotten. */
static void
job_unlink(struct rh_job *job)
{
	struct rh_server	*srv = job->srv;
	struct rh_write_jobs	*w = job->write;

	if (job->prev != NULL)
		job->prev->next = job->next;
	else
		srv->jobs = job->next;
	if (job->next != NULL)
		job->next->prev = job->prev;
	if (job->queue != NULL)
		rh_job_queue_remove(job);
	if (job->wprev != NULL)
		job->wprev->wnext = job->wnext;
	else
		w->first = job->wnext;
	if (job->wnext != NULL)
		job->wnext->wprev = job->wprev;
	if (w->synthesis == job)
		w->synthesis = NULL;
	else
		w->members--;
	if (w->first == NULL) {
		ac_strmap_remove(&srv->jobs_by_write, w->key);
		free(w);
	}
	job->write = NULL;
	job->next = job->prev = job->wnext = job->wprev = NULL;
}

/* A new in-memory job. */
struct rh_job *
rh_job_new(struct rh_server *srv, int64_t job_id, const char *origin,
    const char *write_id, const char *socket_id, const char *content,
    struct rh_team *team)
{
	struct rh_job	*job = xcalloc(1, sizeof *job);

	job->refs = 1;		/* the server's lists' */
	job->srv = srv;
	job->job_id = job_id;
	job->origin = xstrdup(origin);
	job->write_id = xstrdup(write_id);
	job->socket_id = xstrdup(socket_id);
	job->content = xstrdup(content);
	job->team = team;
	job->started_ms = rh_mono_ms();
	job_link(srv, job);
	return job;
}

/* Takes a reference to a job (see delivery.h). */
void
rh_job_ref(struct rh_job *job)
{
	job->refs++;
}

/* Drops a reference; the last one frees the job.  This is the one place
 * where a job's memory goes. */
void
rh_job_unref(struct rh_job *job)
{
	if (--job->refs > 0)
		return;
	free(job->origin);
	free(job->write_id);
	free(job->socket_id);
	free(job->content);
	free(job->media);
	free(job->mime);
	free(job->final_text);
	free(job->final_code);
	cJSON_Delete(job->collected);
	free(job);
}

/* Ends a job: off every list, so that no frame follows, and the lists'
 * reference dropped.  A second call does nothing. */
void
rh_job_end(struct rh_job *job)
{
	if (job->ended)
		return;
	job->ended = 1;
	job_unlink(job);
	rh_job_unref(job);
}

/* Hands a job to its socket's provider; a provider that cannot start
 * fails the job at once. */
void
rh_job_start(struct rh_job *job)
{
	struct rh_socket	*s = rh_registry_find(job->srv, job->socket_id);
	struct rh_err		 err;

	if (s == NULL || s->provider == NULL) {
		rh_job_fail(job, AISH_ERR_UNKNOWN_SOCKET, "the socket is gone");
		return;
	}
	job->started_ms = rh_mono_ms();
	memset(&err, 0, sizeof err);
	if (s->provider->start(job, s, &err) != 0)
		rh_job_fail(job, err.code ? err.code : AISH_ERR_PROVIDER,
		    err.message);
}

/* Stops a job's provider and ends the job without any frame. */
void
rh_job_drop(struct rh_job *job)
{
	struct rh_socket	*s = rh_registry_find(job->srv, job->socket_id);

	if (s != NULL && s->provider != NULL && job->provider_state != NULL &&
	    !job->deferred)
		s->provider->stop(job);
	rh_job_end(job);
}

/* Timer: starts the jobs waiting, one slice of them.  A job that fails
 * to start, or answers at once, only queues its reply (job_finish). */
static void
start_slice(lws_sorted_usec_list_t *sul)
{
	struct rh_server	*srv = lws_container_of(sul, struct rh_server,
				    to_start.sul);
	struct rh_job		*job;
	lws_usec_t		 until = lws_now_usecs() + RH_SLICE_US;

	srv->to_start.scheduled = 0;
	while ((job = rh_job_queue_pop(&srv->to_start)) != NULL) {
		rh_job_start(job);
		if (srv->to_start.first != NULL && lws_now_usecs() >= until) {
			srv->to_start.scheduled = 1;
			lws_sul_schedule(srv->context, 0, &srv->to_start.sul,
			    start_slice, 1);
			return;
		}
	}
}

/* Puts a job at the end of those waiting to start. */
void
rh_job_start_later(struct rh_server *srv, struct rh_job *job)
{
	rh_job_queue_push(&srv->to_start, job);
}

/* Starts the jobs waiting to start, one slice now and the rest from the
 * loop. */
void
rh_job_start_queued(struct rh_server *srv)
{
	start_slice(&srv->to_start.sul);
}
