/*
 * route-history.c: GET /api/ai/socket/{id}/history?limit=N&before=SEQ, a
 * socket's conversation as its provider sees it (the turns within the
 * history caps), oldest first, a page at a time.
 *
 * Each turn has the seq of the reply counter (store.h): an answer the seq
 * of its read frame, a question the seq of its turn frame (turn.h), given
 * when its write was accepted.
 * So "before" pages back through a conversation: a client that got turns
 * from seq S on asks again with before=S.  A page holds the newest
 * "limit" turns below "before", and no more of them than fit in
 * HISTORY_PAGE_BYTES of content (the newest always does), so that the
 * answer stays within what a client takes in.  Team-chat sockets keep no
 * conversation of their own (each member keeps its turns): theirs is
 * empty.
 */
#include <stdlib.h>
#include <string.h>

#include "json-build.h"
#include "provider.h"
#include "routes.h"

/* Turns in a page unless the request says otherwise, and at most. */
#define HISTORY_DEFAULT_LIMIT	100
#define HISTORY_MAX_LIMIT	1000
/* The most content in one page, whatever the limit. */
#define HISTORY_PAGE_BYTES	AISH_MAX_CONTENT

/* A page being built, newest turn first. */
struct page {
	cJSON	*turns;
	size_t	 bytes;
};

/* Store callback: puts a turn before the newer ones; stops once the page
 * is full. */
static int
add_turn(void *ud, const struct rh_turn_row *row)
{
	struct page	*pg = ud;
	size_t		 len = strlen(row->content);
	cJSON		*t;
	char		 when[32];

	if (pg->bytes > 0 && pg->bytes + len > HISTORY_PAGE_BYTES)
		return 1;
	pg->bytes += len;
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "role", row->role);
	cJSON_AddStringToObject(t, "content", row->content);
	ac_json_add_int(t, "seq", row->seq);
	if (row->at > 0) {
		rh_format_time(row->at, when, sizeof when);
		cJSON_AddStringToObject(t, "timestamp", when);
	} else
		cJSON_AddNullToObject(t, "timestamp");
	if (cJSON_GetArraySize(pg->turns) == 0)
		cJSON_AddItemToArray(pg->turns, t);
	else
		cJSON_InsertItemInArray(pg->turns, 0, t);
	return 0;
}

/* GET /api/ai/socket/{id}/history?limit=N&before=SEQ */
void
rh_route_socket_history(struct rh_http_req *req, struct rh_socket *s)
{
	struct page	 pg;
	cJSON		*obj;
	int64_t		 limit = HISTORY_DEFAULT_LIMIT, before = 0;
	int		 rc;

	if ((rc = rh_route_number_arg(req, "limit", &limit)) < 0 ||
	    (rc > 0 && (limit < 1 || limit > HISTORY_MAX_LIMIT))) {
		rh_http_error(req, 400, AISH_ERR_BAD_REQUEST, "limit must be "
		    "a number of turns from 1 to %d", HISTORY_MAX_LIMIT);
		return;
	}
	if ((rc = rh_route_number_arg(req, "before", &before)) < 0 ||
	    (rc > 0 && before < 1)) {
		rh_http_error(req, 400, AISH_ERR_BAD_REQUEST, "before must be "
		    "a seq: a whole number from 1");
		return;
	}
	obj = cJSON_CreateObject();
	pg.turns = cJSON_AddArrayToObject(obj, "turns");
	pg.bytes = 0;
	if (rh_store_history_page(req->srv->store, s->id,
	    rh_provider_history_rows(s->provider),
	    rh_provider_history_bytes(s->provider), before, (int)limit,
	    add_turn, &pg) != 0) {
		cJSON_Delete(obj);
		rh_http_error(req, 500, AISH_ERR_STORAGE, "cannot read the "
		    "history: %s", rh_store_error(req->srv->store));
		return;
	}
	rh_http_reply(req, 200, obj);
}
