/*
 * synthesis.c: a moderated team-chat write.  rhetor is one more member
 * of the write, whose job waits (deferred) while it collects the other
 * members' replies; once none owes one any more, it gets the question
 * and the replies as its prompt, and its reply ends the write.
 */
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "job.h"
#include "provider.h"
#include "registry.h"
#include "xalloc.h"

/* The synthesis job of write w still waiting for the members' replies,
 * or NULL. */
struct rh_job *
rh_synthesis_waiting(const struct rh_write_jobs *w)
{
	if (w == NULL || w->synthesis == NULL || !w->synthesis->deferred ||
	    w->synthesis->finished)
		return NULL;
	return w->synthesis;
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
void
rh_synthesis_collect(struct rh_job *synthesis, const char *socket_id,
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

/* Starts a synthesis once no member of its write owes a reply any
 * more. */
void
rh_synthesis_maybe_start(struct rh_job *job)
{
	char	*prompt;

	if (job->ended || rh_synthesis_waiting(job->write) != job ||
	    job->write->members > 0)
		return;
	prompt = rh_synthesis_prompt(job->content, job->collected);
	free(job->content);
	job->content = prompt;
	job->deferred = 0;
	rh_job_start(job);
}

/* Checks that a moderated write can be: on a team-chat socket, with
 * rhetor there and active.  0, or -1 with err filled. */
int
rh_synthesis_check(struct rh_server *srv, struct rh_socket *origin,
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
