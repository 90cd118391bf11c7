/*
 * delivery.c: accepted writes, the jobs that answer them, and the fan-out
 * of their replies (see delivery.h for the rules).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "delivery.h"
#include "http.h"
#include "names.h"
#include "provider.h"
#include "registry.h"
#include "teamchat.h"
#include "ws.h"
#include "xalloc.h"


/* A fresh write id for a write that came without one. */
static char *
make_write_id(void)
{
	unsigned char	r[8];
	char		hex[sizeof r * 2 + 1];
	size_t		i;

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		memset(r, 0, sizeof r);
	for (i = 0; i < sizeof r; i++)
		snprintf(hex + i * 2, 3, "%02x", r[i]);
	return xasprintf("s-%lld-%s", (long long)rh_now_ms(), hex);
}

/* Checks a client's write id. */
static int
write_id_valid(const char *id)
{
	size_t	n = strlen(id);

	return n > 0 && n <= AISH_MAX_WRITE_ID && aish_utf8_valid(id, n);
}

/* Checks the content of a write; returns 0 or -1 with err filled. */
static int
content_check(const char *content, struct rh_err *err)
{
	size_t	n = strlen(content);

	if (n > AISH_MAX_CONTENT) {
		rh_err_set(err, 413, AISH_ERR_TOO_LARGE, "content is %zu "
		    "bytes; the limit is %u", n, AISH_MAX_CONTENT);
		return -1;
	}
	if (!aish_utf8_valid(content, n)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "content is not valid UTF-8 text");
		return -1;
	}
	return 0;
}

/* The sockets whose AIs answer a write made on origin, as a JSON array. */
static cJSON *
members_of(struct rh_server *srv, struct rh_socket *origin)
{
	cJSON			*ids = cJSON_CreateArray();
	struct rh_socket	*s;

	if (origin->kind != RH_KIND_TEAM_CHAT) {
		cJSON_AddItemToArray(ids, cJSON_CreateString(origin->id));
		return ids;
	}
	for (s = srv->sockets; s != NULL; s = s->next) {
		if (rh_registry_is_member(s))
			cJSON_AddItemToArray(ids, cJSON_CreateString(s->id));
	}
	return ids;
}

/* A new in-memory job. */
static struct rh_job *
job_new(struct rh_server *srv, int64_t job_id, const char *origin,
    const char *write_id, const char *socket_id, const char *content,
    struct rh_team *team)
{
	struct rh_job	*job = xcalloc(1, sizeof *job);

	job->srv = srv;
	job->job_id = job_id;
	job->origin = xstrdup(origin);
	job->write_id = xstrdup(write_id);
	job->socket_id = xstrdup(socket_id);
	job->content = xstrdup(content);
	job->team = team;
	job->started_ms = rh_mono_ms();
	job->next = srv->jobs;
	srv->jobs = job;
	return job;
}

/* Unlinks a job from the server's list and frees it. */
static void
job_free(struct rh_job *job)
{
	struct rh_job	**pp;

	for (pp = &job->srv->jobs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == job) {
			*pp = job->next;
			break;
		}
	}
	free(job->origin);
	free(job->write_id);
	free(job->socket_id);
	free(job->content);
	free(job);
}

/* Hands a job to its socket's provider; a provider that cannot start
 * fails the job at once. */
static void
job_start(struct rh_job *job)
{
	struct rh_socket	*s = rh_registry_find(job->srv, job->socket_id);
	struct rh_err		 err;

	if (s == NULL || s->provider == NULL) {
		rh_job_fail(job, AISH_ERR_UNKNOWN_SOCKET, "the socket is gone");
		return;
	}
	memset(&err, 0, sizeof err);
	if (s->provider->start(job, s, &err) != 0)
		rh_job_fail(job, err.code ? err.code : AISH_ERR_PROVIDER,
		    err.message);
}

/* Stores the write and its jobs in one transaction.  Returns 1 when new,
 * 0 for a repeated id, -1 on a storage error. */
static int
store_write(struct rh_server *srv, struct rh_socket *origin, const char *id,
    const char *content, cJSON *members, int64_t *job_ids)
{
	cJSON	*m;
	int	 rc, i = 0;

	if (rh_store_begin(srv->store) != 0)
		return -1;
	rc = rh_store_write_accept(srv->store, origin->id, id, rh_now_ms());
	if (rc == 1) {
		cJSON_ArrayForEach(m, members) {
			job_ids[i] = rh_store_job_add(srv->store, origin->id,
			    id, m->valuestring, content);
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

/* Accepts a write and starts its replies (see delivery.h). */
int
rh_delivery_write(struct rh_server *srv, struct rh_socket *origin,
    const char *id, const char *content, struct rh_team *team,
    rh_accepted_cb accepted, void *ud, struct rh_write_result *res,
    struct rh_err *err)
{
	struct rh_job	**jobs;
	int64_t		 *job_ids;
	cJSON		 *m;
	int		  n, i = 0, rc = 0;

	memset(res, 0, sizeof *res);
	if (content_check(content, err) != 0)
		return -1;
	if (id != NULL && !write_id_valid(id)) {
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
	res->id = id ? xstrdup(id) : make_write_id();
	res->members = members_of(srv, origin);
	n = cJSON_GetArraySize(res->members);
	job_ids = xcalloc((size_t)n + 1, sizeof *job_ids);
	jobs = xcalloc((size_t)n + 1, sizeof *jobs);
	/* An HTTP team chat lives only as long as its request: not stored. */
	if (team == NULL)
		rc = store_write(srv, origin, res->id, content, res->members,
		    job_ids);
	else
		rc = 1;
	if (rc < 0) {
		rh_err_set(err, 500, AISH_ERR_STORAGE, "cannot store the "
		    "write: %s", rh_store_error(srv->store));
		rh_write_result_free(res);
	} else if (rc == 0) {
		res->duplicate = 1;
		if (accepted != NULL)
			accepted(ud, res);
	} else {
		if (accepted != NULL)
			accepted(ud, res);
		srv->messages_in++;
		cJSON_ArrayForEach(m, res->members) {
			jobs[i] = job_new(srv, job_ids[i], origin->id, res->id,
			    m->valuestring, content, team);
			i++;
		}
		for (i = 0; i < n; i++)
			job_start(jobs[i]);
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

/* Sends a frame to every connection on the sockets that hear from job's
 * AI.  Connections on queue_socket are told the frame's queue seq. */
static void
fan_out(struct rh_job *job, const char *json, size_t len,
    struct rh_socket *queue_socket, int64_t seq)
{
	struct rh_server	*srv = job->srv;
	struct rh_socket	*targets[3];
	struct rh_socket	*ai = rh_registry_find(srv, job->socket_id);
	struct rh_conn		*c;
	int			 n = 0, i, j;

	if (ai != NULL)
		targets[n++] = ai;
	if (ai != NULL && rh_registry_is_member(ai))
		targets[n++] = rh_registry_find(srv, AISH_TEAM_CHAT_ALL);
	targets[n++] = rh_registry_find(srv, job->origin);
	for (i = 0; i < n; i++) {
		if (targets[i] == NULL)
			continue;
		for (j = 0; j < i; j++) {
			if (targets[j] == targets[i])
				break;
		}
		if (j < i)
			continue;
		for (c = targets[i]->conns; c != NULL; c = c->next) {
			rh_conn_send(c, json, len, targets[i] == queue_socket ?
			    queue_socket->id : NULL, seq);
			srv->messages_out++;
		}
	}
}

/* A frame as JSON text; consumes obj. */
static char *
frame_text(cJSON *obj)
{
	char	*text = cJSON_PrintUnformatted(obj);

	cJSON_Delete(obj);
	return text;
}

/* Streams a piece of a reply to everyone listening. */
void
rh_job_delta(struct rh_job *job, const char *text, size_t len)
{
	cJSON	*obj = cJSON_CreateObject();
	char	*piece = xstrndup(text, len), *json;

	cJSON_AddStringToObject(obj, "type", AISH_FRAME_DELTA);
	cJSON_AddStringToObject(obj, "content", piece);
	cJSON_AddStringToObject(obj, "socket_id", job->socket_id);
	cJSON_AddStringToObject(obj, "in_reply_to", job->write_id);
	free(piece);
	json = frame_text(obj);
	fan_out(job, json, strlen(json), NULL, 0);
	cJSON_free(json);
}

/* The final frame of a job: a read frame, or an error frame when code is
 * not NULL. */
static cJSON *
final_frame(struct rh_job *job, const char *ai_name, const char *content,
    const char *code, int64_t seq)
{
	cJSON	*obj = cJSON_CreateObject();
	cJSON	*headers = cJSON_CreateArray();
	char	*from = xasprintf("%s%s", AISH_FROM_HEADER_PREFIX,
	    job->socket_id);
	char	 when[32];

	cJSON_AddStringToObject(obj, "type", code ? AISH_FRAME_ERROR :
	    AISH_FRAME_READ);
	if (code != NULL) {
		cJSON_AddStringToObject(obj, "code", code);
		cJSON_AddStringToObject(obj, "message", content);
	} else
		cJSON_AddStringToObject(obj, "content", content);
	cJSON_AddItemToArray(headers, cJSON_CreateString(from));
	free(from);
	cJSON_AddItemToObject(obj, "headers", headers);
	cJSON_AddStringToObject(obj, "socket_id", job->socket_id);
	cJSON_AddStringToObject(obj, "ai_name", ai_name);
	cJSON_AddStringToObject(obj, "in_reply_to", job->write_id);
	cJSON_AddNumberToObject(obj, "seq", (double)seq);
	rh_format_time(rh_now_ms(), when, sizeof when);
	cJSON_AddStringToObject(obj, "timestamp", when);
	return obj;
}

/* Stores a finished job (history, queue) in one transaction; returns the
 * reply's seq, or -1.  On success *json is the final frame's text. */
static int64_t
store_final(struct rh_job *job, struct rh_socket *ai,
    struct rh_socket *origin, const char *text, const char *code,
    char **json)
{
	struct rh_store	*st = job->srv->store;
	int64_t		 seq;
	int		 dropped = 0, rc = 0;

	*json = NULL;
	if (rh_store_begin(st) != 0)
		return -1;
	seq = rh_store_next_seq(st);
	if (seq < 0)
		goto fail;
	*json = frame_text(final_frame(job, ai ? ai->ai_name : job->socket_id,
	    text, code, seq));
	if (job->job_id > 0)
		rc |= rh_store_job_delete(st, job->job_id);
	if (code == NULL && ai != NULL) {
		rc |= rh_store_history_append(st, ai->id, "user", job->content,
		    rh_provider_history_rows(ai->provider),
		    rh_provider_history_bytes(ai->provider));
		rc |= rh_store_history_append(st, ai->id, "assistant", text,
		    rh_provider_history_rows(ai->provider),
		    rh_provider_history_bytes(ai->provider));
	}
	if (ai != NULL) {
		ai->last_activity = rh_now_ms();
		rc |= rh_store_socket_touch(st, ai->id, ai->last_activity);
	}
	if (job->team == NULL && origin != NULL)
		rc |= rh_store_queue_push(st, origin->id, seq, *json,
		    AISH_QUEUE_CAP, &dropped);
	if (rc != 0)
		goto fail;
	if (rh_store_commit(st) != 0)
		goto fail;
	job->srv->queue_drops += (uint64_t)dropped;
	return seq;
fail:
	rh_log("cannot store the reply to %s on %s: %s", job->write_id,
	    job->socket_id, rh_store_error(st));
	rh_store_rollback(st);
	cJSON_free(*json);
	*json = NULL;
	return -1;
}

/* Ends a job with its final frame: stored, fanned out, job freed. */
static void
job_finish(struct rh_job *job, const char *text, const char *code)
{
	struct rh_server	*srv = job->srv;
	struct rh_socket	*ai = rh_registry_find(srv, job->socket_id);
	struct rh_socket	*origin = rh_registry_find(srv, job->origin);
	struct rh_socket	*queue_socket;
	struct rh_err		 err;
	char			*json;
	int64_t			 seq;

	seq = store_final(job, ai, origin, text, code, &json);
	if (seq < 0) {
		/* Not stored: the job stays in the store and runs again at
		 * the next start rather than being lost. */
		job_free(job);
		return;
	}
	queue_socket = job->team == NULL ? origin : NULL;
	fan_out(job, json, strlen(json), queue_socket, seq);
	if (queue_socket != NULL)
		rh_http_wake_readers(srv, queue_socket);
	cJSON_free(json);
	if (job->team != NULL) {
		if (code != NULL)
			rh_err_set(&err, 502, code, "%s", text);
		rh_team_result(job->team, job, code ? NULL : text,
		    code ? &err : NULL);
	}
	job_free(job);
}

/* The provider finished a reply. */
void
rh_job_done(struct rh_job *job, const char *text, size_t len)
{
	char	*whole = xstrndup(text, len);

	job_finish(job, whole, NULL);
	free(whole);
}

/* The provider failed. */
void
rh_job_fail(struct rh_job *job, const char *code, const char *message)
{
	job_finish(job, message, code);
}

/* Stops a job's provider and frees the job without any frame. */
static void
job_drop(struct rh_job *job)
{
	struct rh_socket	*s = rh_registry_find(job->srv, job->socket_id);

	if (s != NULL && s->provider != NULL && job->provider_state != NULL)
		s->provider->stop(job);
	job_free(job);
}

/* Cancels the running replies to write_id on origin. */
int
rh_delivery_cancel(struct rh_server *srv, struct rh_socket *origin,
    const char *write_id)
{
	struct rh_job		*job, *next;
	struct rh_socket	*s;
	int			 n = 0;

	for (job = srv->jobs; job != NULL; job = next) {
		next = job->next;
		if (strcmp(job->origin, origin->id) != 0 ||
		    strcmp(job->write_id, write_id) != 0)
			continue;
		s = rh_registry_find(srv, job->socket_id);
		if (s != NULL && s->provider != NULL)
			s->provider->stop(job);
		n++;
		rh_job_fail(job, AISH_ERR_CANCELLED, "cancelled by the client");
		next = srv->jobs;	/* the list changed under us */
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
			job_drop(job);
	}
}

/* Store callback: restarts one unanswered job. */
static void
resume_one(void *ud, const struct rh_job_row *row)
{
	struct rh_server	*srv = ud;

	job_new(srv, row->job_id, row->origin, row->write_id, row->socket_id,
	    row->content, NULL);
}

/* Restarts the jobs that were accepted but never answered. */
int
rh_delivery_resume(struct rh_server *srv)
{
	struct rh_job	*job, **todo;
	size_t		 n = 0, i;

	if (rh_store_job_each(srv->store, resume_one, srv) != 0) {
		rh_log("cannot read unfinished jobs: %s",
		    rh_store_error(srv->store));
		return -1;
	}
	for (job = srv->jobs; job != NULL; job = job->next)
		n++;
	if (n == 0)
		return 0;
	rh_log("resuming %zu unanswered writes", n);
	/* Start them only once all are loaded: a provider that fails at once
	 * frees its job and changes the list. */
	todo = xcalloc(n, sizeof *todo);
	for (job = srv->jobs, i = 0; job != NULL; job = job->next)
		todo[i++] = job;
	for (i = 0; i < n; i++)
		job_start(todo[i]);
	free(todo);
	return 0;
}

/* Stops the jobs of a socket being deleted (answering it or written to
 * it); a team chat waiting for one is told. */
void
rh_delivery_socket_gone(struct rh_server *srv, struct rh_socket *s)
{
	struct rh_job	*job, *next;
	struct rh_err	 err;

	for (job = srv->jobs; job != NULL; job = next) {
		next = job->next;
		if (strcmp(job->socket_id, s->id) != 0 &&
		    strcmp(job->origin, s->id) != 0)
			continue;
		if (job->job_id > 0)
			rh_store_job_delete(srv->store, job->job_id);
		if (job->team != NULL) {
			rh_err_set(&err, 404, AISH_ERR_UNKNOWN_SOCKET,
			    "socket '%s' was deleted", s->id);
			rh_team_result(job->team, job, NULL, &err);
		}
		job_drop(job);
	}
}

/* Stops every job at shutdown; the store keeps them. */
void
rh_delivery_stop_all(struct rh_server *srv)
{
	while (srv->jobs != NULL)
		job_drop(srv->jobs);
}
