/*
 * fuzz-http-body.c: fuzzes the server's checks of HTTP request bodies
 * (src/rhetor/body.c): the JSON parse, then the fields of a create, a
 * write and a team chat, all three on every body.
 *
 * A body either passes a check with the fields that request needs, or
 * fails it with a 400, an error code and a text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "delivery.h"
#include "fuzz.h"

/* Checks a failed check's error. */
static void
check_err(const struct rh_err *err)
{
	FUZZ_CHECK(err->status == 400);
	FUZZ_CHECK(err->code != NULL && err->message[0] != '\0');
}

/* Runs the three field checks on a parsed body. */
static void
check_fields(const cJSON *body)
{
	struct rh_create_req	cr;
	struct rh_write_fields	w;
	struct rh_team_fields	t;
	struct rh_err		err;

	if (rh_body_create(body, &cr, &err) == 0) {
		FUZZ_CHECK(cr.ai_name != NULL);
		FUZZ_CHECK(cr.context == NULL || cJSON_IsObject(cr.context));
	} else
		check_err(&err);
	if (rh_body_write(body, &w, &err) == 0) {
		FUZZ_CHECK(w.content != NULL);
		FUZZ_CHECK((w.flags & ~RH_WRITE_SYNTHESIS) == 0);
	} else
		check_err(&err);
	if (rh_body_team_chat(body, 60000, &t, &err) == 0) {
		FUZZ_CHECK(t.message != NULL);
		FUZZ_CHECK(t.timeout_ms >= 0 &&
		    t.timeout_ms <= AISH_MAX_WAIT_MS + 60000);
	} else
		check_err(&err);
}

/* One input: a request body. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct rh_err	 err;
	cJSON		*body;

	memset(&err, 0, sizeof err);
	if ((body = rh_body_parse((const char *)data, len, &err)) == NULL) {
		check_err(&err);
		return 0;
	}
	FUZZ_CHECK(cJSON_IsObject(body));
	check_fields(body);
	cJSON_Delete(body);
	return 0;
}
