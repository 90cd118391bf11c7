/*
 * route-read.c: GET /api/ai/socket/{id}/read?wait_ms=N, a socket's queued
 * replies.  A read with wait_ms on an empty queue waits (http.c) until a
 * reply is queued or the time is up; the replies an answer carries are
 * held by it until its reader got them (read-held.h, sent.h).
 */
#include "routes.h"
#include "sent.h"

/* What collect_queued fills. */
struct collect {
	struct rh_http_req	*req;
	struct rh_socket	*sock;
	cJSON			*messages;
};

/* Store callback: adds one queued reply to a /read answer, which holds
 * it from now on, unless another reader holds it (sent.h). */
static void
collect_queued(void *ud, const struct rh_queued_row *row)
{
	struct collect	*co = ud;
	cJSON		*msg;

	if (rh_sent_is_held(co->sock, row->seq))
		return;
	if ((msg = cJSON_Parse(row->json)) == NULL)
		return;
	cJSON_AddItemToArray(co->messages, msg);
	rh_read_take_add(co->req->srv, &co->req->take, co->sock->id,
	    row->seq);
}

/* Answers a /read with the socket's queue: the replies no other reader
 * holds, held by this answer until its reader got them (read-held.h). */
void
rh_route_read_answer(struct rh_http_req *req, struct rh_socket *s)
{
	cJSON		*obj = cJSON_CreateObject();
	cJSON		*messages = cJSON_AddArrayToObject(obj, "messages");
	struct collect	 co = { req, s, messages };

	if (rh_store_queue_each(req->srv->store, s->id, collect_queued,
	    &co) != 0) {
		rh_read_take_drop(req->srv, &req->take);
		cJSON_Delete(obj);
		rh_http_error(req, 500, AISH_ERR_STORAGE, "cannot read the "
		    "queue: %s", rh_store_error(req->srv->store));
		return;
	}
	rh_http_reply(req, 200, obj);
}

/* Parses ?wait_ms=N; returns N, or -1 after answering 400. */
static int
wait_ms_arg(struct rh_http_req *req)
{
	int64_t	ms = 0;

	if (rh_route_number_arg(req, "wait_ms", &ms) < 0 || ms > 999999999) {
		rh_http_error(req, 400, AISH_ERR_BAD_REQUEST, "wait_ms must "
		    "be a number of milliseconds up to %d", AISH_MAX_WAIT_MS);
		return -1;
	}
	return ms > AISH_MAX_WAIT_MS ? AISH_MAX_WAIT_MS : (int)ms;
}

/* GET /api/ai/socket/{id}/read?wait_ms=N */
void
rh_route_socket_read(struct rh_http_req *req, struct rh_socket *s)
{
	int	wait_ms = wait_ms_arg(req);

	if (wait_ms < 0)
		return;
	if (wait_ms > 0 && rh_sent_available(req->srv, s) == 0)
		rh_http_wait(req, s, wait_ms);
	else
		rh_route_read_answer(req, s);
}
