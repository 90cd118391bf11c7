/*
 * fuzz-http-head.c: fuzzes how the server reads requests before any
 * route sees them: the reader over http-parser (src/rhetor/http-parse.c)
 * fed a connection's bytes whole, a byte at a time and in pieces of
 * three, request after request as http.c feeds it; the path and query of
 * each head; and the browser guard (src/rhetor/guard.c) on what was read.
 *
 * However the bytes are cut, the reader comes to the same requests, heads
 * and bodies, and the same refusal; it takes every byte it is given
 * unless it stops at a head or a request's end; a refusal has a 4xx/5xx
 * and a text; a head has a target of printable ASCII, header values with
 * no CR or LF, never both chunked and a Content-Length; a body is within
 * its limit and as long as its Content-Length; a decoded path holds no
 * "//"; the guard either passes or refuses with 400, 401, 403 or 415,
 * and never passes a foreign Origin, a cross-site fetch or a Host that is
 * not the server's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "guard.h"
#include "http-parse.h"

#define MAX_BODY	4096

/* What a reading came to, as text, for comparing readings. */
struct transcript {
	char	*s;
	size_t	 len;
};

/* Appends a formatted line to t. */
static void __attribute__((format(printf, 2, 3)))
note(struct transcript *t, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	t->s = realloc(t->s, t->len + (size_t)n + 1);
	FUZZ_CHECK(t->s != NULL);
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* Checks a refusal. */
static void
check_refusal(const struct rh_http_refusal *why)
{
	FUZZ_CHECK(why->status >= 400 && why->status < 600);
	FUZZ_CHECK(why->code != NULL && why->message != NULL &&
	    why->message[0] != '\0');
}

/* Checks the path and the query of a head. */
static void
check_path(const struct rh_http_head *h)
{
	struct rh_http_refusal	 why;
	const char		*query;
	char			*path, value[64];

	if ((path = rh_http_path(h->target, &query, &why)) == NULL) {
		check_refusal(&why);
		return;
	}
	FUZZ_CHECK(path[0] == '/');
	FUZZ_CHECK(strstr(path, "//") == NULL);
	if (query != NULL)
		FUZZ_CHECK(rh_http_query_get(query, "wait_ms", value,
		    sizeof value) < (int)sizeof value);
	free(path);
}

/* Runs the guard on a head and checks what it let through. */
static void
check_guard(const struct rh_http_head *h)
{
	struct rh_guard_self	self = { "127.0.0.1", 8300, 0, "s3cret" };
	struct rh_http_refusal	why;

	if (rh_guard_check(&self, h, "/api/ai/sockets", &why) != 0) {
		FUZZ_CHECK(why.status == 400 || why.status == 401 ||
		    why.status == 403 || why.status == 415);
		return;
	}
	FUZZ_CHECK(h->host != NULL && rh_guard_host_ok(&self, h->host));
	FUZZ_CHECK(h->origin == NULL || strncasecmp(h->origin, "http", 4) == 0);
	FUZZ_CHECK(h->sec_fetch_site == NULL ||
	    strcasecmp(h->sec_fetch_site, "cross-site") != 0);
	FUZZ_CHECK(h->authorization != NULL &&
	    strstr(h->authorization, "s3cret") != NULL);
	FUZZ_CHECK(!h->has_body || h->content_type != NULL);
}

/* True when a header value holds no line end. */
static int
one_line(const char *v)
{
	return v == NULL || strpbrk(v, "\r\n") == NULL;
}

/* Checks a head and notes it. */
static void
take_head(const struct rh_http_head *h, struct transcript *t)
{
	size_t	i;

	FUZZ_CHECK(h->target != NULL && h->target[0] != '\0');
	for (i = 0; h->target[i] != '\0'; i++)
		FUZZ_CHECK(h->target[i] > ' ' && h->target[i] < 0x7f);
	FUZZ_CHECK(h->minor == 0 || h->minor == 1);
	FUZZ_CHECK(!(h->chunked && h->content_length >= 0));
	FUZZ_CHECK(h->has_body == (h->chunked || h->content_length > 0));
	FUZZ_CHECK(h->head_len > 0);
	FUZZ_CHECK(one_line(h->host) && one_line(h->origin) &&
	    one_line(h->sec_fetch_site) && one_line(h->content_type) &&
	    one_line(h->authorization) && one_line(h->expect) &&
	    one_line(h->upgrade));
	check_path(h);
	check_guard(h);
	note(t, "head %d %s 1.%d host=%s cl=%lld ch=%d ka=%d len=%zu\n",
	    h->method, h->target, h->minor, h->host ? h->host : "-",
	    h->content_length, h->chunked, h->keep_alive, h->head_len);
}

/* Reads data as a connection gives it, piece bytes at a time, request
 * after request, and notes what the reader came to. */
static void
read_all(const uint8_t *data, size_t len, size_t piece,
    struct transcript *t)
{
	struct rh_http_reader	r;
	const char		*in = (const char *)data;
	size_t			 off = 0, end, used;
	int			 going = 1;

	end = piece < len ? piece : len;
	rh_http_reader_init(&r, MAX_BODY);
	while (going) {
		switch (rh_http_read(&r, in + off, end - off, &used)) {
		case RH_HTTP_MORE:
			FUZZ_CHECK(used == end - off);
			off = end;
			if (end == len)
				going = 0;
			end = end + piece < len ? end + piece : len;
			break;
		case RH_HTTP_HEAD:
			FUZZ_CHECK(used <= end - off);
			off += used;
			take_head(&r.head, t);
			if (!r.head.has_body) {
				note(t, "request\n");
				rh_http_next(&r);
			}
			break;
		case RH_HTTP_REQUEST:
			FUZZ_CHECK(used <= end - off);
			off += used;
			FUZZ_CHECK(r.body_len <= MAX_BODY);
			FUZZ_CHECK(r.head.chunked ||
			    (long long)r.body_len == r.head.content_length);
			FUZZ_CHECK(r.body_len == 0 ||
			    (r.body != NULL && r.body[r.body_len] == '\0'));
			note(t, "body %zu %.*s\n", r.body_len, (int)r.body_len,
			    r.body ? r.body : "");
			rh_http_next(&r);
			break;
		case RH_HTTP_REFUSED:
			check_refusal(&r.why);
			note(t, "refused %d %s\n", r.why.status, r.why.message);
			going = 0;
			break;
		}
	}
	rh_http_reader_free(&r);
}

/* One input: the bytes a connection received. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct transcript	whole = { NULL, 0 }, bytes = { NULL, 0 };
	struct transcript	threes = { NULL, 0 };

	read_all(data, len, len ? len : 1, &whole);
	read_all(data, len, 1, &bytes);
	read_all(data, len, 3, &threes);
	FUZZ_CHECK(whole.len == bytes.len && whole.len == threes.len);
	FUZZ_CHECK(whole.len == 0 ||
	    (memcmp(whole.s, bytes.s, whole.len) == 0 &&
	    memcmp(whole.s, threes.s, whole.len) == 0));
	free(whole.s);
	free(bytes.s);
	free(threes.s);
	return 0;
}
