/*
 * fuzz-frames.c: fuzzes the server's handling of WebSocket text frames,
 * rh_frame_parse() in src/rhetor/frame.c, the step of ws.c that turns a
 * client's bytes into a checked frame.
 *
 * A frame either parses into one of the frame types with the fields that
 * type needs, or fails with an error code of SPEC section 3 and a text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"

/* Checks what a frame that parsed promises. */
static void
check_frame(const struct rh_frame *f)
{
	size_t	n;

	switch (f->type) {
	case RH_FRAME_WRITE:
		FUZZ_CHECK(f->content != NULL);
		break;
	case RH_FRAME_CANCEL:
		FUZZ_CHECK(f->id != NULL);
		break;
	case RH_FRAME_STREAM_START:
		FUZZ_CHECK(f->mime != NULL);
		n = strlen(f->mime);
		FUZZ_CHECK(n >= 3 && n <= 127);
		FUZZ_CHECK(strpbrk(f->mime, "\"\\ ") == NULL);
		FUZZ_CHECK(f->id == NULL || (*f->id != '\0' &&
		    strlen(f->id) <= AISH_MAX_WRITE_ID));
		break;
	case RH_FRAME_STREAM_END:
		FUZZ_CHECK(f->id == NULL || f->has_id);
		break;
	case RH_FRAME_PING:
		break;
	default:
		FUZZ_CHECK(!"unknown frame type");
	}
}

/* One input: the bytes of one text message. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct rh_frame	f;
	struct rh_err	err;

	memset(&err, 0, sizeof err);
	if (rh_frame_parse((const char *)data, len, &f, &err) == 0)
		check_frame(&f);
	else {
		FUZZ_CHECK(err.code != NULL && err.message[0] != '\0');
		FUZZ_CHECK(err.status == 400);
		FUZZ_CHECK(f.in_reply_to == NULL || f.json != NULL);
	}
	rh_frame_free(&f);
	return 0;
}
