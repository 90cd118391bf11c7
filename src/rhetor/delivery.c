/*
 * delivery.c: accepted writes, the jobs that answer them, and the fan-out
 * of their replies (see delivery.h for the rules).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "delivery.h"
#include "groups.h"
#include "http.h"
#include "json-build.h"
#include "metrics.h"
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

/* True for the job that writes the synthesis of a moderated team-chat
 * write: rhetor answering a write made on a team-chat socket (rhetor is
 * never a team member otherwise). */
static int
job_is_synthesis(const struct rh_job *job)
{
	return strcmp(job->socket_id, AISH_RHETOR_SOCKET) == 0 &&
	    strncmp(job->origin, AISH_TEAM_CHAT_PREFIX,
	    strlen(AISH_TEAM_CHAT_PREFIX)) == 0;
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
	free(job->media);
	free(job->mime);
	cJSON_Delete(job->collected);
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
	job->started_ms = rh_mono_ms();
	memset(&err, 0, sizeof err);
	if (s->provider->start(job, s, &err) != 0)
		rh_job_fail(job, err.code ? err.code : AISH_ERR_PROVIDER,
		    err.message);
}

/* Stores the write and its jobs (members NULL: none yet) in one
 * transaction.  Returns 1 when new, 0 for a repeated id, -1 on a storage
 * error. */
static int
store_write(struct rh_server *srv, struct rh_socket *origin, const char *id,
    const char *content, cJSON *members, int64_t *job_ids)
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

/* The synthesis job waiting for the replies to write_id on origin, or
 * NULL. */
static struct rh_job *
synthesis_find(struct rh_server *srv, const char *origin,
    const char *write_id)
{
	struct rh_job	*job;

	for (job = srv->jobs; job != NULL; job = job->next) {
		if (job->deferred && strcmp(job->origin, origin) == 0 &&
		    strcmp(job->write_id, write_id) == 0)
			return job;
	}
	return NULL;
}

/* True while a member still owes a reply to write_id on origin. */
static int
write_running(struct rh_server *srv, const char *origin,
    const char *write_id)
{
	struct rh_job	*job;

	for (job = srv->jobs; job != NULL; job = job->next) {
		if (!job->deferred && !job_is_synthesis(job) &&
		    strcmp(job->origin, origin) == 0 &&
		    strcmp(job->write_id, write_id) == 0)
			return 1;
	}
	return 0;
}

/* The moderator's prompt: the question and every reply (see delivery.h). */
char *
rh_synthesis_prompt(const char *question, const cJSON *replies)
{
	const cJSON	*r, *content, *e;
	const char	*who;
	char		*text, *next;

	text = xasprintf("Question: %s\n\nReplies:", question);
	cJSON_ArrayForEach(r, replies) {
		who = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r,
		    "socket_id"));
		content = cJSON_GetObjectItemCaseSensitive(r, "content");
		e = cJSON_GetObjectItemCaseSensitive(r, "error");
		if (cJSON_IsString(content))
			next = xasprintf("%s\n[%s] %s", text, who ? who : "?",
			    content->valuestring);
		else
			next = xasprintf("%s\n[%s] (no reply: %s)", text,
			    who ? who : "?", cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(e, "message")) ?
			    cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(e, "message")) :
			    "none in time");
		free(text);
		text = next;
	}
	if (cJSON_GetArraySize(replies) == 0) {
		next = xasprintf("%s\n(none)", text);
		free(text);
		text = next;
	}
	next = xasprintf("%s\n\nWrite one synthesis of these replies.", text);
	free(text);
	return next;
}

/* Adds a member's reply (or error) to a synthesis's collection. */
static void
synthesis_collect(struct rh_job *synthesis, const char *socket_id,
    const char *text, const char *code)
{
	cJSON	*r = cJSON_CreateObject(), *e;

	cJSON_AddStringToObject(r, "socket_id", socket_id);
	if (code == NULL)
		cJSON_AddStringToObject(r, "content", text);
	else {
		e = cJSON_AddObjectToObject(r, "error");
		cJSON_AddStringToObject(e, "code", code);
		cJSON_AddStringToObject(e, "message", text);
	}
	cJSON_AddItemToArray(synthesis->collected, r);
}

/* Starts the synthesis of write_id on origin once no member owes a reply
 * any more. */
static void
synthesis_maybe_start(struct rh_server *srv, const char *origin,
    const char *write_id)
{
	struct rh_job	*job = synthesis_find(srv, origin, write_id);
	char		*prompt;

	if (job == NULL || write_running(srv, origin, write_id))
		return;
	prompt = rh_synthesis_prompt(job->content, job->collected);
	free(job->content);
	job->content = prompt;
	job->deferred = 0;
	job_start(job);
}

/* Checks that a moderated write can be: on a team-chat socket, with
 * rhetor there and active.  0, or -1 with err filled. */
static int
synthesis_check(struct rh_server *srv, struct rh_socket *origin,
    struct rh_team *team, struct rh_err *err)
{
	struct rh_socket	*rhetor = rh_registry_find(srv,
	    AISH_RHETOR_SOCKET);

	if (origin->kind != RH_KIND_TEAM_CHAT || team != NULL) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "moderation is "
		    "for writes to team-chat sockets");
		return -1;
	}
	if (rhetor == NULL || rhetor->provider == NULL ||
	    rhetor->unresponsive) {
		rh_err_set(err, 409, AISH_ERR_NOT_ACTIVE, "the moderator "
		    "'%s' is not active%s%s", AISH_RHETOR_SOCKET,
		    rhetor && rhetor->reason ? ": " : "",
		    rhetor && rhetor->reason ? rhetor->reason : "");
		return -1;
	}
	return 0;
}

/* Starts the jobs of one write, except a synthesis, which waits for the
 * others (at once when there are none).  The jobs are started only once
 * all exist: a provider that answers at once (or fails to start) finishes
 * its job then, and the last such member may start and finish the
 * synthesis before this loop is over, so jobs[] is not read again. */
static void
start_all(struct rh_server *srv, struct rh_job **jobs, int n)
{
	char	*origin = NULL, *write_id = NULL;
	int	 i, synthesis = -1;

	for (i = 0; i < n; i++) {
		if (jobs[i]->deferred) {
			synthesis = i;
			origin = xstrdup(jobs[i]->origin);
			write_id = xstrdup(jobs[i]->write_id);
		}
	}
	for (i = 0; i < n; i++) {
		if (i != synthesis)
			job_start(jobs[i]);
	}
	if (synthesis >= 0)
		synthesis_maybe_start(srv, origin, write_id);
	free(origin);
	free(write_id);
}

static void	job_drop(struct rh_job *);
static void	send_held(struct rh_server *, const struct rh_held *);

/* Stops the jobs still running for write_id on origin, without a frame. */
static void
drop_write_jobs(struct rh_server *srv, const char *origin,
    const char *write_id)
{
	struct rh_job	*job, *next;

	for (job = srv->jobs; job != NULL; job = next) {
		next = job->next;
		if (strcmp(job->origin, origin) == 0 &&
		    strcmp(job->write_id, write_id) == 0) {
			job_drop(job);
			next = srv->jobs;
		}
	}
}

/* The job of write_id on origin still running, or NULL. */
static struct rh_job *
job_of_write(struct rh_server *srv, const char *origin, const char *write_id)
{
	struct rh_job	*job;

	for (job = srv->jobs; job != NULL; job = job->next) {
		if (strcmp(job->origin, origin) == 0 &&
		    strcmp(job->write_id, write_id) == 0)
			return job;
	}
	return NULL;
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
    const struct rh_write_result *res, rh_accepted_cb accepted, void *ud,
    struct rh_err *err)
{
	char	*origin = xstrdup(job->origin);
	int	 rc = 0;

	rh_held_start(&srv->held);
	job_start(job);		/* job may be finished and freed after this */
	srv->held.holding = 0;
	if ((job = job_of_write(srv, origin, res->id)) != NULL &&
	    (job->job_id = rh_store_job_add(srv->store, job->origin,
	    job->write_id, job->socket_id, job->content)) < 0)
		rc = -1;
	if (srv->held.unstored || rc != 0 ||
	    rh_store_commit(srv->store) != 0) {
		rh_err_set(err, 500, AISH_ERR_STORAGE, "cannot store the "
		    "write: %s", srv->held.unstored ? "its reply could not be "
		    "stored" : rh_store_error(srv->store));
		rh_store_rollback(srv->store);
		rh_held_stop(&srv->held, srv, NULL);
		drop_write_jobs(srv, origin, res->id);
		free(origin);
		return -1;
	}
	free(origin);
	if (accepted != NULL)
		accepted(ud, res);
	rh_held_stop(&srv->held, srv, send_held);
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
	if ((flags & RH_WRITE_SYNTHESIS) && synthesis_check(srv, origin,
	    team, err) != 0)
		return -1;
	res->id = id ? xstrdup(id) : make_write_id();
	res->members = members_of(srv, origin);
	if (flags & RH_WRITE_SYNTHESIS)
		cJSON_AddItemToArray(res->members,
		    cJSON_CreateString(AISH_RHETOR_SOCKET));
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
		rc = store_write(srv, origin, res->id, content, batch ? NULL :
		    res->members, job_ids);
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
		jobs[0] = job_new(srv, job_ids[0], origin->id, res->id,
		    origin->id, content, NULL);
		jobs[0]->abandonable = (flags & RH_WRITE_FROM_WS) != 0;
		if (start_batched(srv, jobs[0], res, accepted, ud, err) != 0) {
			srv->messages_in--;
			rh_write_result_free(res);
			rc = -1;
		}
	} else {
		if (accepted != NULL)
			accepted(ud, res);
		srv->messages_in++;
		cJSON_ArrayForEach(m, res->members) {
			jobs[i] = job_new(srv, job_ids[i], origin->id, res->id,
			    m->valuestring, content, team);
			jobs[i]->abandonable = (flags & RH_WRITE_FROM_WS) != 0;
			if (job_is_synthesis(jobs[i])) {
				jobs[i]->deferred = 1;
				jobs[i]->collected = cJSON_CreateArray();
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

/* The most sockets one reply reaches: origin, the AI, team-chat-all and
 * the AI's groups beyond which a reply is not fanned out. */
#define RH_MAX_FANOUT	256

/* Sends a frame from the AI of socket_id, about a write made on origin, to
 * every connection on the sockets that hear from it.  Connections on
 * queue_socket are told the frame's queue seq. */
static void
fan_out_now(struct rh_server *srv, const char *socket_id, const char *origin,
    const char *json, size_t len, struct rh_socket *queue_socket, int64_t seq)
{
	struct rh_socket	*targets[RH_MAX_FANOUT];
	struct rh_socket	*ai = rh_registry_find(srv, socket_id);
	struct rh_group		*g;
	struct rh_conn		*c;
	int			 n = 0, i, j;

	if (ai != NULL)
		targets[n++] = ai;
	if (ai != NULL && rh_registry_is_ai(ai)) {
		targets[n++] = rh_registry_find(srv, AISH_TEAM_CHAT_ALL);
		for (g = srv->groups; g != NULL && n < RH_MAX_FANOUT - 1;
		    g = g->next) {
			if (rh_group_has(g, ai->id))
				targets[n++] = rh_registry_find(srv,
				    g->socket_id);
		}
	}
	targets[n++] = rh_registry_find(srv, origin);
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

/* Sends a held frame now that what it announces is stored; a final frame
 * also wakes the HTTP readers of the queue that holds it. */
static void
send_held(struct rh_server *srv, const struct rh_held *h)
{
	struct rh_socket	*q = h->queue_socket ?
	    rh_registry_find(srv, h->queue_socket) : NULL;

	fan_out_now(srv, h->socket_id, h->origin, h->json, h->len, q, h->seq);
	if (q != NULL)
		rh_http_wake_readers(srv, q);
}

/* Fans out a frame of job's AI, or holds it while a batched write's
 * transaction is open (see rh_delivery_write); a final frame (seq > 0)
 * with a queue also wakes that queue's HTTP readers. */
static void
fan_out(struct rh_job *job, const char *json, size_t len,
    struct rh_socket *queue_socket, int64_t seq)
{
	struct rh_server	*srv = job->srv;

	if (srv->held.holding) {
		rh_held_add(&srv->held, job->socket_id, job->origin,
		    queue_socket ? queue_socket->id : NULL, seq, json, len);
		return;
	}
	fan_out_now(srv, job->socket_id, job->origin, json, len,
	    queue_socket, seq);
	if (queue_socket != NULL)
		rh_http_wake_readers(srv, queue_socket);
}

static void	after_member(struct rh_server *, struct rh_job *,
		    const char *, const char *);

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

	aish_json_add_ref(obj, "type", AISH_FRAME_DELTA);
	aish_json_add_ref(obj, "content", piece);
	aish_json_add_ref(obj, "socket_id", job->socket_id);
	aish_json_add_ref(obj, "in_reply_to", job->write_id);
	/* A client hearing the AI on two connections drops the copies. */
	aish_json_add_int(obj, "index", job->deltas++);
	json = frame_text(obj);
	free(piece);
	fan_out(job, json, strlen(json), NULL, 0);
	cJSON_free(json);
}

/* The final frame of a job as JSON text: a read frame, or an error frame
 * when code is not NULL. */
static char *
final_frame(struct rh_job *job, const char *ai_name, const char *content,
    const char *code, int64_t seq)
{
	cJSON	*obj = cJSON_CreateObject();
	cJSON	*headers = cJSON_CreateArray();
	char	*from = xstrcat3(AISH_FROM_HEADER_PREFIX, job->socket_id, ""),
		*json;
	char	 when[32];

	aish_json_add_ref(obj, "type", code ? AISH_FRAME_ERROR :
	    AISH_FRAME_READ);
	if (code != NULL) {
		aish_json_add_ref(obj, "code", code);
		aish_json_add_ref(obj, "message", content);
	} else
		aish_json_add_ref(obj, "content", content);
	cJSON_AddItemToArray(headers, cJSON_CreateStringReference(from));
	aish_json_add_item(obj, "headers", headers);
	aish_json_add_ref(obj, "socket_id", job->socket_id);
	aish_json_add_ref(obj, "ai_name", ai_name);
	aish_json_add_ref(obj, "in_reply_to", job->write_id);
	aish_json_add_int(obj, "seq", seq);
	rh_format_time(rh_now_ms(), when, sizeof when);
	aish_json_add_ref(obj, "timestamp", when);
	json = frame_text(obj);
	free(from);
	return json;
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
	/* A batched write's transaction fails whole if this fails: no
	 * savepoint (which copies every page it changes) of its own. */
	int		 own = !job->srv->held.holding;

	*json = NULL;
	if (own && rh_store_begin(st) != 0)
		return -1;
	seq = rh_store_next_seq(st);
	if (seq < 0)
		goto fail;
	*json = final_frame(job, ai ? ai->ai_name : job->socket_id, text,
	    code, seq);
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

/* Counts a provider call for /metrics and keeps the tally of failures in
 * a row: after RH_FAILURES_UNRESPONSIVE of them the socket becomes
 * unresponsive, with the last error as its reason; a success clears it. */
static void
account_failure(struct rh_server *srv, struct rh_job *job,
    struct rh_socket *ai, const char *text, const char *code)
{
	int	failed = code != NULL && strcmp(code, AISH_ERR_PROVIDER) == 0;

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

	account_failure(srv, job, ai, text, code);
	seq = store_final(job, ai, origin, text, code, &json);
	if (seq < 0 && !srv->held.holding &&
	    (code == NULL || strcmp(code, AISH_ERR_STORAGE) != 0)) {
		/* The reply could not be stored (a full disk, say): the
		 * smaller error frame, without history, may still fit, and
		 * tells the writer why. */
		text = "the reply could not be stored (is the disk full?); "
		    "write again once there is room";
		code = AISH_ERR_STORAGE;
		seq = store_final(job, ai, origin, text, code, &json);
	}
	if (seq < 0) {
		/* Not stored at all: the job stays in the store and runs
		 * again at the next start rather than being lost; a batched
		 * write, whose job has no row yet, fails instead. */
		if (srv->held.holding)
			srv->held.unstored = 1;
		job_free(job);
		return;
	}
	queue_socket = job->team == NULL ? origin : NULL;
	fan_out(job, json, strlen(json), queue_socket, seq);
	cJSON_free(json);
	if (job->team != NULL) {
		if (code != NULL)
			rh_err_set(&err, 502, code, "%s", text);
		rh_team_result(job->team, job, code ? NULL : text,
		    code ? &err : NULL);
	}
	after_member(srv, job, text, code);
}

/* A job of a write has ended: a synthesis waiting for it collects its
 * reply and starts once no member is left.  Frees the job. */
static void
after_member(struct rh_server *srv, struct rh_job *job, const char *text,
    const char *code)
{
	struct rh_job	*synthesis;
	char		*origin, *write_id;

	if (job->team != NULL || job_is_synthesis(job)) {
		job_free(job);
		return;
	}
	synthesis = synthesis_find(srv, job->origin, job->write_id);
	if (synthesis == NULL) {
		job_free(job);
		return;
	}
	synthesis_collect(synthesis, job->socket_id, text, code);
	origin = xstrdup(job->origin);
	write_id = xstrdup(job->write_id);
	job_free(job);
	synthesis_maybe_start(srv, origin, write_id);
	free(origin);
	free(write_id);
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

	if (s != NULL && s->provider != NULL && job->provider_state != NULL &&
	    !job->deferred)
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

	/* A synthesis waiting for this write ends first, so that the
	 * members' cancelled replies do not start it. */
	if ((job = synthesis_find(srv, origin->id, write_id)) != NULL) {
		n++;
		rh_job_fail(job, AISH_ERR_CANCELLED, "cancelled by the client");
	}
	for (job = srv->jobs; job != NULL; job = next) {
		next = job->next;
		if (strcmp(job->origin, origin->id) != 0 ||
		    strcmp(job->write_id, write_id) != 0)
			continue;
		s = rh_registry_find(srv, job->socket_id);
		if (s != NULL && s->provider != NULL && !job->deferred)
			s->provider->stop(job);
		n++;
		rh_job_fail(job, AISH_ERR_CANCELLED, "cancelled by the client");
		next = srv->jobs;	/* the list changed under us */
	}
	return n;
}

/* Cancels the running replies to WebSocket writes made on origin. */
int
rh_delivery_abandon(struct rh_server *srv, struct rh_socket *origin)
{
	struct rh_job	*job;
	char		*write_id;
	int		 n = 0;

	for (;;) {
		for (job = srv->jobs; job != NULL; job = job->next) {
			if (job->abandonable &&
			    strcmp(job->origin, origin->id) == 0)
				break;
		}
		if (job == NULL)
			return n;
		write_id = xstrdup(job->write_id);
		n += rh_delivery_cancel(srv, origin, write_id);
		free(write_id);
	}
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
	for (i = 0; i < n; i++) {
		/* The replies a synthesis was collecting were in memory. */
		if (job_is_synthesis(todo[i]))
			rh_job_fail(todo[i], AISH_ERR_INTERNAL, "the server "
			    "restarted before the synthesis was written; ask "
			    "again");
		else
			job_start(todo[i]);
	}
	free(todo);
	return 0;
}

/* Stops the jobs of a socket being deleted (answering it or written to
 * it); a team chat waiting for one is told. */
void
rh_delivery_socket_gone(struct rh_server *srv, struct rh_socket *s)
{
	struct rh_job	*job, *next, *synthesis;
	struct rh_err	 err;
	char		*origin, *write_id;

	for (job = srv->jobs; job != NULL; job = next) {
		next = job->next;
		if (strcmp(job->socket_id, s->id) != 0 &&
		    strcmp(job->origin, s->id) != 0)
			continue;
		if (job->job_id > 0)
			rh_store_job_delete(srv->store, job->job_id);
		rh_err_set(&err, 404, AISH_ERR_UNKNOWN_SOCKET,
		    "socket '%s' was deleted", s->id);
		if (job->team != NULL)
			rh_team_result(job->team, job, NULL, &err);
		synthesis = strcmp(job->origin, s->id) != 0 ?
		    synthesis_find(srv, job->origin, job->write_id) : NULL;
		if (synthesis != NULL && synthesis != job)
			synthesis_collect(synthesis, job->socket_id,
			    err.message, err.code);
		origin = xstrdup(job->origin);
		write_id = xstrdup(job->write_id);
		job_drop(job);
		if (synthesis != NULL && synthesis != job)
			synthesis_maybe_start(srv, origin, write_id);
		free(origin);
		free(write_id);
		next = srv->jobs;	/* a synthesis may have started */
	}
}

/* Stops every job at shutdown; the store keeps them. */
void
rh_delivery_stop_all(struct rh_server *srv)
{
	while (srv->jobs != NULL)
		job_drop(srv->jobs);
}

/* Asks one AI for one reply on behalf of an HTTP team chat (see
 * delivery.h). */
int
rh_delivery_ask(struct rh_server *srv, struct rh_socket *ai,
    const char *origin, const char *write_id, const char *content,
    struct rh_team *team, struct rh_err *err)
{
	if (ai->provider == NULL || ai->unresponsive) {
		rh_err_set(err, 409, AISH_ERR_NOT_ACTIVE, "socket '%s' is not "
		    "active%s%s", ai->id, ai->reason ? ": " : "",
		    ai->reason ? ai->reason : "");
		return -1;
	}
	job_start(job_new(srv, 0, origin, write_id, ai->id, content, team));
	return 0;
}

/* Accepts a binary stream written to an AI socket (see delivery.h). */
int
rh_delivery_stream(struct rh_server *srv, struct rh_socket *ai,
    const char *id, const char *mime, const unsigned char *data, size_t len,
    rh_accepted_cb accepted, void *ud, struct rh_write_result *res,
    struct rh_err *err)
{
	struct rh_job	*job;
	char		*about;

	memset(res, 0, sizeof res[0]);
	if (!rh_registry_is_ai(ai) && ai->kind != RH_KIND_RHETOR) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "streams go to AI "
		    "sockets, not to '%s'", ai->id);
		return -1;
	}
	if (ai->unresponsive) {
		rh_err_set(err, 409, AISH_ERR_NOT_ACTIVE, "socket '%s' is "
		    "unresponsive (%s); reset it first", ai->id,
		    ai->reason ? ai->reason : "provider failing");
		return -1;
	}
	if (ai->provider == NULL || !ai->provider->type->media) {
		rh_err_set(err, 415, AISH_ERR_UNSUPPORTED_MEDIA, "the provider "
		    "of '%s' (%s) takes text only; media go to providers such "
		    "as exec", ai->id, ai->provider ? ai->provider->type->name :
		    "none");
		return -1;
	}
	res->id = id ? xstrdup(id) : make_write_id();
	res->members = cJSON_CreateArray();
	cJSON_AddItemToArray(res->members, cJSON_CreateString(ai->id));
	if (accepted != NULL)
		accepted(ud, res);
	srv->messages_in++;
	srv->streams_in++;
	about = xasprintf("[%s stream, %zu bytes]", mime, len);
	job = job_new(srv, 0, ai->id, res->id, ai->id, about, NULL);
	free(about);
	job->media = xmalloc(len ? len : 1);
	memcpy(job->media, data, len);
	job->media_len = len;
	job->mime = xstrdup(mime);
	job_start(job);
	return 0;
}
