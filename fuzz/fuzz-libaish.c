/*
 * fuzz-libaish.c: fuzzes libaish's reading of what a server answers
 * (src/libaish/reply.c): WebSocket frames into aish_msg_t, as every
 * client of libaish gets them, with the filters that drop a reply heard
 * twice (src/libaish/seen.c), and HTTP answers into aish_result_t.
 *
 * The first byte picks which: even, a frame (the rest); odd, an HTTP
 * answer whose status it picks, with the rest as its body.  A frame read
 * has a known type, strings that end, a content_len that is its
 * content's, headers and members lists of the size said and ending in
 * NULL; a final frame or piece is seen once, never twice.  An answer's
 * error is AISH_OK exactly when the status is 2xx and the body JSON (or
 * empty), always has a text, and its code, message and socket_id point
 * into the body that was parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aish-private.h"
#include "fuzz.h"

static const long statuses[] = {
	200, 201, 202, 204, 0, 400, 401, 403, 404, 405, 408, 409, 413, 415,
	431, 500, 502, 503, 504, 302, 418, 599, -1, 100
};
#define NSTATUSES	(sizeof statuses / sizeof statuses[0])

/* Checks a string a result may hold: NULL, or a text that ends. */
static void
check_str(const char *s)
{
	if (s != NULL)
		FUZZ_CHECK(strlen(s) < (size_t)1 << 30);
}

/* Checks a list of n strings that ends in NULL. */
static void
check_list(const char *const *v, size_t n)
{
	size_t	i;

	if (v == NULL) {
		FUZZ_CHECK(n == 0);
		return;
	}
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(v[i] != NULL);
		check_str(v[i]);
	}
	FUZZ_CHECK(v[n] == NULL);
}

/* A frame, read and filtered as handle_frame does (src/libaish/ws.c). */
static void
one_frame(const char *json, size_t len)
{
	struct aish	*h = calloc(1, sizeof *h);
	const char	**headers, **members;
	aish_msg_t	 m;
	cJSON		*f;

	FUZZ_CHECK(h != NULL);
	if ((f = cJSON_ParseWithLength(json, len)) == NULL)
		goto out;
	if (!aishi_msg_read(&m, f, "fuzz-1", &headers, &members)) {
		FUZZ_CHECK(headers == NULL && members == NULL);
		goto out;
	}
	FUZZ_CHECK(m.type == AISH_MSG_ACK || m.type == AISH_MSG_DELTA ||
	    m.type == AISH_MSG_READ || m.type == AISH_MSG_ERROR ||
	    m.type == AISH_MSG_PONG || m.type == AISH_MSG_TURN);
	FUZZ_CHECK(m.socket_id != NULL || m.type == AISH_MSG_ERROR);
	FUZZ_CHECK(strcmp(m.conn_socket_id, "fuzz-1") == 0);
	check_str(m.socket_id);
	check_str(m.ai_name);
	check_str(m.in_reply_to);
	check_str(m.timestamp);
	check_str(m.code);
	check_str(m.message);
	FUZZ_CHECK(m.content == NULL ? m.content_len == 0 :
	    m.content_len == strlen(m.content));
	check_list(m.headers, m.n_headers);
	check_list(m.members, m.n_members);
	if ((m.type == AISH_MSG_READ || m.type == AISH_MSG_ERROR) &&
	    m.seq >= 0) {
		(void)aishi_final_seen(h, m.socket_id ? m.socket_id : "fuzz-1",
		    m.seq);
		FUZZ_CHECK(aishi_final_seen(h, m.socket_id ? m.socket_id :
		    "fuzz-1", m.seq));
	}
	if (m.type == AISH_MSG_DELTA && m.index >= 0 && m.socket_id != NULL &&
	    m.in_reply_to != NULL) {
		(void)aishi_delta_seen(h, m.socket_id, m.in_reply_to, m.index);
		FUZZ_CHECK(aishi_delta_seen(h, m.socket_id, m.in_reply_to,
		    m.index));
	}
	free(headers);
	free(members);
out:
	cJSON_Delete(f);
	free(h->seen);
	free(h->streamed);
	free(h);
}

/* True when p is one of the strings of the tree root. */
static int
in_tree(const cJSON *root, const char *p)
{
	const cJSON	*c;

	if (root == NULL)
		return 0;
	if (root->valuestring == p)
		return 1;
	for (c = root->child; c != NULL; c = c->next) {
		if (in_tree(c, p))
			return 1;
	}
	return 0;
}

/* An HTTP answer with the given status, read as report() does
 * (src/libaish/http.c). */
static void
one_answer(long status, const char *body, size_t len)
{
	aish_result_t	 res;
	cJSON		*root, *check;
	int		 json;

	memset(&res, 0, sizeof res);
	root = aishi_result_read(&res, status, len ? body : NULL, len);
	check = len ? cJSON_ParseWithLength(body, len) : NULL;
	json = len == 0 || check != NULL;
	cJSON_Delete(check);
	FUZZ_CHECK(res.status == status && res.body_len == len);
	FUZZ_CHECK((res.err == AISH_OK) == (status >= 200 && status < 300 &&
	    json));
	FUZZ_CHECK(aish_strerror(res.err) != NULL);
	FUZZ_CHECK(res.code == NULL || in_tree(root, res.code));
	FUZZ_CHECK(res.socket_id == NULL || (res.err == AISH_OK &&
	    in_tree(root, res.socket_id)));
	FUZZ_CHECK(res.message == NULL || in_tree(root, res.message) ||
	    res.err == AISH_E_PROTOCOL);
	cJSON_Delete(root);
}

/* One input: a frame, or an HTTP answer. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	*text;

	if (len == 0)
		return 0;
	/* cJSON reads within the length; the copy ends in NUL all the same,
	 * as libaish's receive buffer does. */
	text = malloc(len);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data + 1, len - 1);
	text[len - 1] = '\0';
	if ((data[0] & 1) == 0)
		one_frame(text, len - 1);
	else
		one_answer(statuses[(data[0] >> 1) % NSTATUSES], text, len - 1);
	free(text);
	return 0;
}
