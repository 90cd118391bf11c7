/*
 * binary-stream.c: a binary stream written to an AI socket (SPEC section
 * 2): checked, acknowledged, and handed to the provider as one job whose
 * content describes the bytes.  Not stored: a restart forgets it.
 */
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "job.h"
#include "provider.h"
#include "registry.h"
#include "xalloc.h"

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
	res->id = id ? xstrdup(id) : rh_write_id_new();
	res->members = cJSON_CreateArray();
	cJSON_AddItemToArray(res->members, cJSON_CreateString(ai->id));
	if (accepted != NULL)
		accepted(ud, res);
	srv->messages_in++;
	srv->streams_in++;
	about = xasprintf("[%s stream, %zu bytes]", mime, len);
	job = rh_job_new(srv, 0, ai->id, res->id, ai->id, about, NULL);
	free(about);
	job->media = xmalloc(len ? len : 1);
	memcpy(job->media, data, len);
	job->media_len = len;
	job->mime = xstrdup(mime);
	rh_job_start(job);
	return 0;
}
