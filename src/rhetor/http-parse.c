/*
 * http-parse.c: HTTP/1.1 requests read with http-parser (see
 * http-parse.h), strict where leniency lets two parsers disagree.
 *
 * http-parser does the reading: the request line, header names and
 * values (a control byte in a value refused), Content-Length (digits
 * only, once, never beside Transfer-Encoding), chunked bodies with their
 * extensions and trailers, keep-alive.  It is paused at the end of each
 * head, so that the server checks the head before the body is read, and
 * at the end of each request, so that a request pipelined behind it
 * waits until it is answered.
 *
 * Debian builds the library without HTTP_PARSER_STRICT, and then it lets
 * through what this file checks itself, since each is how requests are
 * smuggled past a proxy or a guard that reads them otherwise:
 *
 * - a CR followed by anything but LF at the end of a head, a trailer, a
 *   chunk's size line or its data (it takes the byte for the LF), and a
 *   folded header line (obs-fold, which it joins to the line before):
 *   the head and the trailer are kept as sent and looked at whole, the
 *   two bytes after a chunk's size and data when the parser stops there;
 * - a space in a header name ("Content-Length : 5"), a space, control
 *   or non-ASCII byte in the target, a request line with more than one
 *   space between its parts or a version that is not "HTTP/1.0" or
 *   "HTTP/1.1";
 * - a header the server reads twice (Host, Origin, ...), a transfer
 *   coding other than chunked alone, chunked in HTTP/1.0.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include <aish/protocol.h>
#include "http-parse.h"
#include "xalloc.h"

/* Where a header's name and value are in the kept text. */
struct span {
	size_t	name_off, name_len;
	size_t	value_off, value_len;
};

/* A reader's own state. */
struct rh_http_parsing {
	http_parser	 parser;
	size_t		 max_body;
	size_t		 body_size;	/* allocated */
	int		 stop;		/* why the parser paused */
	int		 refused;
	int		 in_body;	/* past the head */
	int		 in_trailer;	/* past the last chunk */
	int		 complete;	/* the request is whole */
	char		*text;		/* the head (or trailer) as sent */
	size_t		 text_len;
	size_t		 text_size;
	char		 tail[2];	/* the last two bytes taken */
	size_t		 url_off, url_len;	/* in text */
	int		 field;		/* reading a name or a value */
	size_t		 nheaders;	/* of the head, or of the trailer */
	struct span	 hdr[RH_HTTP_MAX_HEADERS + 1];	/* the first ones */
	char		*te;		/* Transfer-Encoding, joined */
};

/* Why the parser paused. */
enum {
	STOP_NONE,
	STOP_HEAD,		/* on the head's last LF, not yet taken */
	STOP_MESSAGE,		/* after the request's last byte */
	STOP_CHUNK,		/* after a chunk's size line */
	STOP_CHUNK_DONE		/* after the CRLF behind a chunk's data */
};

/* What the header callbacks are reading. */
enum {
	FIELD_NONE,
	FIELD_NAME,
	FIELD_VALUE
};

/* Fills the reader's refusal; returns -1. */
static int
refuse(struct rh_http_reader *r, int status, const char *code,
    const char *message)
{
	r->why.status = status;
	r->why.code = code;
	r->why.message = message;
	r->own->refused = 1;
	return -1;
}

/* The slot of the headers the server keeps, or NULL for the others. */
static char **
kept_header(struct rh_http_head *h, const char *name, size_t len)
{
	static const struct {
		const char	*name;
		size_t		 offset;
	} kept[] = {
		{ "host", offsetof(struct rh_http_head, host) },
		{ "origin", offsetof(struct rh_http_head, origin) },
		{ "sec-fetch-site", offsetof(struct rh_http_head,
		    sec_fetch_site) },
		{ "content-type", offsetof(struct rh_http_head,
		    content_type) },
		{ "authorization", offsetof(struct rh_http_head,
		    authorization) },
		{ "expect", offsetof(struct rh_http_head, expect) },
		{ "upgrade", offsetof(struct rh_http_head, upgrade) },
	};
	size_t	i;

	for (i = 0; i < sizeof kept / sizeof kept[0]; i++) {
		if (strlen(kept[i].name) == len &&
		    strncasecmp(kept[i].name, name, len) == 0)
			return (char **)((char *)h + kept[i].offset);
	}
	return NULL;
}

/* Keeps the value of a header the server reads (Transfer-Encoding
 * joined, the others once). */
static int
header_keep(struct rh_http_reader *r, const struct span *sp)
{
	struct rh_http_parsing	*o = r->own;
	const char		*name = o->text + sp->name_off;
	const char		*v = o->text + sp->value_off;
	size_t			 n = sp->value_len;
	char			**slot, *value, *joined;

	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (sp->name_len == 17 && strncasecmp(name, "transfer-encoding",
	    17) == 0) {
		/* Repeated, a list joins (and is then refused). */
		value = xstrndup(v, n);
		joined = o->te ? xstrcat3(o->te, ",", value) : value;
		if (joined != value)
			free(value);
		free(o->te);
		o->te = joined;
		return 0;
	}
	if ((slot = kept_header(&r->head, name, sp->name_len)) == NULL)
		return 0;
	if (*slot != NULL)
		return refuse(r, 400, AISH_ERR_BAD_REQUEST, "a header that "
		    "may appear once (Host, Origin, Content-Type, ...) appears "
		    "twice");
	*slot = xstrndup(v, n);
	return 0;
}

/* Checks the headers of the head (keeping what the server reads) or of
 * the trailer, once it is whole: the parser has then seen the same bytes
 * however they came, so the same request meets the same refusal. */
static int
headers_ok(struct rh_http_reader *r, int keep)
{
	struct rh_http_parsing	*o = r->own;
	size_t			 i;

	if (o->nheaders > RH_HTTP_MAX_HEADERS)
		return refuse(r, 431, AISH_ERR_TOO_LARGE, "requests are "
		    "limited to 100 headers");
	for (i = 0; i < o->nheaders; i++) {
		/* Without HTTP_PARSER_STRICT, a name may hold spaces. */
		if (memchr(o->text + o->hdr[i].name_off, ' ',
		    o->hdr[i].name_len) != NULL)
			return refuse(r, 400, AISH_ERR_BAD_REQUEST, "a header "
			    "name holds a space");
		if (keep && header_keep(r, &o->hdr[i]) != 0)
			return -1;
	}
	return 0;
}

/* Callback: a piece of the request target. */
static int
on_url(http_parser *p, const char *at, size_t n)
{
	struct rh_http_parsing	*o = ((struct rh_http_reader *)p->data)->own;

	if (o->url_len == 0)
		o->url_off = (size_t)(at - o->text);
	o->url_len = (size_t)(at - o->text) + n - o->url_off;
	return 0;
}

/* The span of the header being read, or NULL past the first ones. */
static struct span *
current(struct rh_http_parsing *o)
{
	return o->nheaders <= RH_HTTP_MAX_HEADERS + 1 ?
	    &o->hdr[o->nheaders - 1] : NULL;
}

/* Callback: a piece of a header name (of the head or of a trailer). */
static int
on_header_field(http_parser *p, const char *at, size_t n)
{
	struct rh_http_parsing	*o = ((struct rh_http_reader *)p->data)->own;
	struct span		*sp;

	if (o->field != FIELD_NAME) {
		o->field = FIELD_NAME;
		o->nheaders++;
		if ((sp = current(o)) != NULL) {
			sp->name_off = (size_t)(at - o->text);
			sp->value_off = sp->value_len = 0;
		}
	}
	if ((sp = current(o)) != NULL)
		sp->name_len = (size_t)(at - o->text) + n - sp->name_off;
	return 0;
}

/* Callback: a piece of a header value. */
static int
on_header_value(http_parser *p, const char *at, size_t n)
{
	struct rh_http_parsing	*o = ((struct rh_http_reader *)p->data)->own;
	struct span		*sp = current(o);

	if (o->field != FIELD_VALUE) {
		o->field = FIELD_VALUE;
		if (sp != NULL)
			sp->value_off = (size_t)(at - o->text);
	}
	if (sp != NULL)
		sp->value_len = (size_t)(at - o->text) + n - sp->value_off;
	return 0;
}

/* Callback: the head is whole; stop, for it to be checked. */
static int
on_headers_complete(http_parser *p)
{
	struct rh_http_reader	*r = p->data;

	r->own->stop = STOP_HEAD;
	http_parser_pause(p, 1);
	return 0;
}

/* Callback: a piece of the body, kept up to max_body bytes. */
static int
on_body(http_parser *p, const char *at, size_t n)
{
	struct rh_http_reader	*r = p->data;
	size_t			 want;

	if (n > r->own->max_body - r->body_len)
		return refuse(r, 413, AISH_ERR_TOO_LARGE, "request bodies "
		    "are limited to 8 MiB");
	if (r->body_len + n + 1 > r->own->body_size) {
		want = r->own->body_size ? r->own->body_size * 2 : 1024;
		if (want < r->body_len + n + 1)
			want = r->body_len + n + 1;
		if (want > r->own->max_body + 1)
			want = r->own->max_body + 1;
		r->body = xrealloc(r->body, want);
		r->own->body_size = want;
	}
	memcpy(r->body + r->body_len, at, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

/* Callback: a chunk's size line was read; stop, for its end to be
 * checked. */
static int
on_chunk_header(http_parser *p)
{
	struct rh_http_reader	*r = p->data;

	if (p->content_length > r->own->max_body - r->body_len)
		return refuse(r, 413, AISH_ERR_TOO_LARGE, "request bodies "
		    "are limited to 8 MiB");
	r->own->stop = STOP_CHUNK;
	http_parser_pause(p, 1);
	return 0;
}

/* Callback: a chunk's data and the CRLF behind it were read; stop, for
 * them to be checked.  After the trailer, nothing is left to check. */
static int
on_chunk_complete(http_parser *p)
{
	struct rh_http_reader	*r = p->data;

	if (r->own->in_trailer)
		return 0;
	r->own->stop = STOP_CHUNK_DONE;
	http_parser_pause(p, 1);
	return 0;
}

/* Callback: the request is whole; stop until it is answered. */
static int
on_message_complete(http_parser *p)
{
	struct rh_http_reader	*r = p->data;

	r->own->stop = STOP_MESSAGE;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
	.on_chunk_header = on_chunk_header,
	.on_chunk_complete = on_chunk_complete,
};

/* Starts a reader (see http-parse.h). */
void
rh_http_reader_init(struct rh_http_reader *r, size_t max_body)
{
	memset(r, 0, sizeof *r);
	r->own = xcalloc(1, sizeof *r->own);
	/* Process-wide: this reader is the server's only use of it. */
	http_parser_set_max_header_size(RH_HTTP_MAX_HEAD);
	http_parser_init(&r->own->parser, HTTP_REQUEST);
	r->own->parser.data = r;
	r->own->max_body = max_body;
}

/* Runs the parser on up to n bytes and returns how many it took.  The
 * bytes of a head or a trailer are kept in text first, so that what the
 * callbacks point at stays in one piece. */
static size_t
execute(struct rh_http_reader *r, const char *in, size_t n)
{
	const char	*data = in;
	size_t		 base = r->own->text_len, took;
	int		 keep = !r->own->in_body || r->own->in_trailer;

	if (keep) {
		if (base >= RH_HTTP_MAX_HEAD + 2) {
			refuse(r, 431, AISH_ERR_TOO_LARGE, "request heads are "
			    "limited to 16 KiB");
			return 0;
		}
		if (n > RH_HTTP_MAX_HEAD + 2 - base)
			n = RH_HTTP_MAX_HEAD + 2 - base;
		if (base + n > r->own->text_size) {
			r->own->text_size = base + n > 1024 ? base + n : 1024;
			r->own->text = xrealloc(r->own->text, r->own->text_size);
		}
		memcpy(r->own->text + base, in, n);
		data = r->own->text + base;
	}
	took = http_parser_execute(&r->own->parser, &settings, data, n);
	if (keep)
		r->own->text_len = base + took;
	if (took >= 2) {
		r->own->tail[0] = data[took - 2];
		r->own->tail[1] = data[took - 1];
	} else if (took == 1) {
		r->own->tail[0] = r->own->tail[1];
		r->own->tail[1] = data[0];
	}
	return took;
}

/* Checks a head or a trailer as sent, for what http-parser without
 * HTTP_PARSER_STRICT lets through: a CR not followed by LF (its LF taken
 * from whatever comes next) and a folded line (one starting with a space
 * or a tab, joined to the line before). */
static int
text_ok(struct rh_http_reader *r)
{
	const char	*s = r->own->text, *end = s + r->own->text_len, *p;

	if (r->own->text_len == 0 || end[-1] != '\n')
		return refuse(r, 400, AISH_ERR_BAD_REQUEST, "a request head "
		    "or trailer that does not end in CRLF");
	for (p = s; (p = memchr(p, '\r', (size_t)(end - p))) != NULL; p++) {
		if (p + 1 == end || p[1] != '\n')
			return refuse(r, 400, AISH_ERR_BAD_REQUEST, "a bare CR "
			    "(not followed by LF) in a request head or trailer");
	}
	for (p = s; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
		if (p + 1 < end && (p[1] == ' ' || p[1] == '\t'))
			return refuse(r, 400, AISH_ERR_BAD_REQUEST, "folded "
			    "header lines are not accepted");
	}
	return 0;
}

/* True when the request line is "METHOD SP TARGET SP HTTP/1.x", one space
 * between the parts (http-parser skips runs of them, and reads any
 * "H???/" as "HTTP/"). */
static int
request_line_ok(const struct rh_http_reader *r)
{
	const char	*s = r->own->text, *end = s + r->own->text_len, *eol;
	size_t		 mlen = strlen(http_method_str(r->own->parser.method)), n;

	while (s < end && (*s == '\r' || *s == '\n'))
		s++;
	if ((eol = memchr(s, '\n', (size_t)(end - s))) == NULL)
		return 0;
	n = (size_t)(eol - s);
	if (n > 0 && s[n - 1] == '\r')
		n--;
	return n == mlen + r->own->url_len + 10 &&
	    s + mlen + 1 == r->own->text + r->own->url_off &&
	    memcmp(s + n - 8, "HTTP/", 5) == 0;
}

/* The server's name for a method. */
static enum rh_method
method_of(unsigned int method)
{
	switch (method) {
	case HTTP_GET:
		return RH_GET;
	case HTTP_POST:
		return RH_POST;
	case HTTP_PUT:
		return RH_PUT;
	case HTTP_DELETE:
		return RH_DELETE;
	case HTTP_HEAD:
		return RH_HEAD;
	default:
		return RH_OTHER;
	}
}

/* Fills the head from what the parser read, and checks what it does
 * not. */
static int
head_fill(struct rh_http_reader *r)
{
	struct rh_http_head	*h = &r->head;
	http_parser		*p = &r->own->parser;
	size_t			 i;

	if (text_ok(r) != 0)
		return -1;
	if (!request_line_ok(r))
		return refuse(r, 400, AISH_ERR_BAD_REQUEST, "the request line "
		    "must be METHOD PATH HTTP/1.1");
	if (p->http_major != 1 || p->http_minor > 1)
		return refuse(r, 505, AISH_ERR_BAD_REQUEST, "only HTTP/1.0 "
		    "and HTTP/1.1 are spoken here");
	for (i = 0; i < r->own->url_len; i++) {
		unsigned char c = (unsigned char)r->own->text[r->own->url_off + i];

		if (c <= ' ' || c >= 0x7f)
			return refuse(r, 400, AISH_ERR_BAD_REQUEST, "the "
			    "request target holds a space, a control or a "
			    "non-ASCII byte");
	}
	if (headers_ok(r, 1) != 0)
		return -1;
	h->target = xstrndup(r->own->text + r->own->url_off, r->own->url_len);
	h->method = method_of(p->method);
	h->minor = p->http_minor;
	if (r->own->te != NULL) {
		size_t n = strlen(r->own->te);

		while (n > 0 && (r->own->te[n - 1] == ' ' || r->own->te[n - 1] == '\t'))
			n--;
		if (n != 7 || strncasecmp(r->own->te, "chunked", 7) != 0)
			return refuse(r, 501, AISH_ERR_BAD_REQUEST, "the only "
			    "transfer coding accepted is chunked");
		if (h->minor == 0)
			return refuse(r, 400, AISH_ERR_BAD_REQUEST, "HTTP/1.0 "
			    "has no chunked bodies");
	}
	h->chunked = (p->flags & F_CHUNKED) != 0;
	h->content_length = !(p->flags & F_CONTENTLENGTH) ? -1 :
	    p->content_length > LLONG_MAX ? LLONG_MAX :
	    (long long)p->content_length;
	h->has_body = h->chunked || h->content_length > 0;
	/* A request to switch protocols that is not handed over ends the
	 * connection: what follows may be in the other protocol. */
	h->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	h->head_len = r->own->text_len;
	return 0;
}

/* The refusal for what the parser itself refused. */
static enum rh_http_event
parser_refusal(struct rh_http_reader *r)
{
	enum http_errno	e = HTTP_PARSER_ERRNO(&r->own->parser);

	if (r->own->refused)		/* a callback said why */
		return RH_HTTP_REFUSED;
	switch (e) {
	case HPE_HEADER_OVERFLOW:
		refuse(r, 431, AISH_ERR_TOO_LARGE, r->own->in_body ? "a chunk's "
		    "size line or the trailer is too long" : "request heads "
		    "are limited to 16 KiB");
		break;
	case HPE_INVALID_VERSION:
		refuse(r, 505, AISH_ERR_BAD_REQUEST, "only HTTP/1.0 and "
		    "HTTP/1.1 are spoken here");
		break;
	case HPE_INVALID_CONTENT_LENGTH:
		refuse(r, 400, AISH_ERR_BAD_REQUEST, "Content-Length must be "
		    "a number");
		break;
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		refuse(r, 400, AISH_ERR_BAD_REQUEST, "a request may have one "
		    "Content-Length, and not beside Transfer-Encoding");
		break;
	case HPE_INVALID_TRANSFER_ENCODING:
		refuse(r, 501, AISH_ERR_BAD_REQUEST, "the only transfer "
		    "coding accepted is chunked");
		break;
	case HPE_INVALID_CHUNK_SIZE:
		refuse(r, 400, AISH_ERR_BAD_REQUEST, "a chunk must start with "
		    "its size in hex");
		break;
	default:
		refuse(r, 400, AISH_ERR_BAD_REQUEST, http_errno_description(e));
		break;
	}
	return RH_HTTP_REFUSED;
}

/* The head is whole: checks it and lets the parser go on to the body
 * (or to the request's end, when there is none). */
static enum rh_http_event
head_done(struct rh_http_reader *r)
{
	/* The parser stopped on the head's last byte: it is in text, and
	 * goes through the parser again once the head is checked. */
	r->own->text_len++;
	if (head_fill(r) != 0)
		return RH_HTTP_REFUSED;
	r->own->in_body = 1;
	r->own->stop = STOP_NONE;
	http_parser_pause(&r->own->parser, 0);
	execute(r, "\n", 1);
	if (HTTP_PARSER_ERRNO(&r->own->parser) == HPE_PAUSED &&
	    r->own->stop == STOP_MESSAGE)
		r->own->complete = 1;
	else if (HTTP_PARSER_ERRNO(&r->own->parser) != HPE_OK)
		return parser_refusal(r);
	return RH_HTTP_HEAD;
}

/* Checks the bytes where the parser stopped inside a chunked body; 0 to
 * go on. */
static int
chunk_stop(struct rh_http_reader *r)
{
	if (r->own->tail[0] != '\r' || r->own->tail[1] != '\n')
		return refuse(r, 400, AISH_ERR_BAD_REQUEST, r->own->stop ==
		    STOP_CHUNK ? "a chunk's size line must end in CRLF" :
		    "chunk data must end in CRLF");
	if (r->own->stop == STOP_CHUNK && r->own->parser.content_length == 0) {
		r->own->in_trailer = 1;	/* the trailer is kept, and checked */
		r->own->text_len = 0;
		r->own->nheaders = 0;
		r->own->field = FIELD_NONE;
	}
	r->own->stop = STOP_NONE;
	http_parser_pause(&r->own->parser, 0);
	return 0;
}

/* Reads bytes (see http-parse.h). */
enum rh_http_event
rh_http_read(struct rh_http_reader *r, const char *in, size_t len,
    size_t *used)
{
	size_t	took;

	*used = 0;
	if (r->own->refused)
		return RH_HTTP_REFUSED;
	if (r->own->complete)
		return RH_HTTP_REQUEST;
	while (*used < len) {
		took = execute(r, in + *used, len - *used);
		*used += took;
		if (r->own->refused)
			return RH_HTTP_REFUSED;
		if (HTTP_PARSER_ERRNO(&r->own->parser) == HPE_OK && took > 0)
			continue;
		if (HTTP_PARSER_ERRNO(&r->own->parser) == HPE_OK) {
			refuse(r, 400, AISH_ERR_BAD_REQUEST, "the request "
			    "cannot be read");
			return RH_HTTP_REFUSED;
		}
		if (HTTP_PARSER_ERRNO(&r->own->parser) != HPE_PAUSED)
			return parser_refusal(r);
		switch (r->own->stop) {
		case STOP_HEAD:
			(*used)++;	/* the head's last byte */
			return head_done(r);
		case STOP_MESSAGE:
			if (r->own->in_trailer && (text_ok(r) != 0 ||
			    headers_ok(r, 0) != 0))
				return RH_HTTP_REFUSED;
			r->own->complete = 1;
			return RH_HTTP_REQUEST;
		default:
			if (chunk_stop(r) != 0)
				return RH_HTTP_REFUSED;
			break;
		}
	}
	return RH_HTTP_MORE;
}

/* Frees what the reader holds for one request. */
static void
request_free(struct rh_http_reader *r)
{
	struct rh_http_head	*h = &r->head;

	free(h->target);
	free(h->host);
	free(h->origin);
	free(h->sec_fetch_site);
	free(h->content_type);
	free(h->authorization);
	free(h->expect);
	free(h->upgrade);
	memset(h, 0, sizeof *h);
	free(r->body);
	r->body = NULL;
	r->body_len = r->own->body_size = 0;
	free(r->own->te);
	r->own->te = NULL;
}

/* Starts on the connection's next request (see http-parse.h). */
void
rh_http_next(struct rh_http_reader *r)
{
	request_free(r);
	r->own->text_len = 0;
	r->own->url_off = r->own->url_len = 0;
	r->own->field = FIELD_NONE;
	r->own->nheaders = 0;
	r->own->in_body = r->own->in_trailer = r->own->complete = 0;
	r->own->stop = STOP_NONE;
	if (HTTP_PARSER_ERRNO(&r->own->parser) == HPE_PAUSED)
		http_parser_pause(&r->own->parser, 0);
}

/* Frees a reader. */
void
rh_http_reader_free(struct rh_http_reader *r)
{
	if (r->own == NULL)
		return;
	request_free(r);
	free(r->own->text);
	free(r->own);
	r->own = NULL;
}

/* ---- paths and queries ---- */

/* The value of a hex digit, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes %XX escapes of n bytes at s into a new string; NULL when an
 * escape is bad or decodes to NUL.  libwebsockets 4.1's lws_urldecode()
 * does not fit: it turns '+' into a space (wrong in a path), decodes
 * "%00" to a NUL that silently cuts the string short, takes a cut escape
 * at the end ("%4") and truncates at its buffer's size, all without a
 * word; and lws_get_urlarg_by_name() reads the arguments of a request
 * libwebsockets parsed itself, which these are not. */
static char *
percent_decode(const char *s, size_t n)
{
	char	*out = xmalloc(n + 1);
	size_t	 i, o = 0;
	int	 hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n) {
			free(out);
			return NULL;
		}
		hi = hexval(s[i + 1]);
		lo = hexval(s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		out[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	out[o] = '\0';
	return out;
}

/* Turns each run of '/' into one, as libwebsockets' clients expect of a
 * server ("//api/ai/sockets" is "/api/ai/sockets"). */
static void
collapse_slashes(char *path)
{
	char	*r, *w = path;

	for (r = path; *r != '\0'; r++) {
		if (*r == '/' && w > path && w[-1] == '/')
			continue;
		*w++ = *r;
	}
	*w = '\0';
}

/* Splits and decodes a request target (see http-parse.h). */
char *
rh_http_path(const char *target, const char **query,
    struct rh_http_refusal *why)
{
	struct http_parser_url	 u;
	size_t			 len = strlen(target);
	char			*path;

	*query = NULL;
	why->status = 400;
	why->code = AISH_ERR_BAD_REQUEST;
	http_parser_url_init(&u);
	/* The parser's offsets are 16 bits; heads are smaller anyway. */
	if (target[0] != '/' || len > RH_HTTP_MAX_HEAD ||
	    http_parser_parse_url(target, len, 0, &u) != 0 ||
	    !(u.field_set & (1 << UF_PATH))) {
		why->message = "the request target must be a path starting "
		    "with /";
		return NULL;
	}
	if ((path = percent_decode(target + u.field_data[UF_PATH].off,
	    u.field_data[UF_PATH].len)) == NULL) {
		why->message = "a bad %-escape (or an escaped NUL) in the path";
		return NULL;
	}
	collapse_slashes(path);
	if (u.field_set & (1 << UF_QUERY))
		*query = target + u.field_data[UF_QUERY].off;
	return path;
}

/* Looks a name up in a query (see http-parse.h). */
int
rh_http_query_get(const char *query, const char *name, char *out,
    size_t outlen)
{
	size_t		 nlen = strlen(name), vlen, i;
	const char	*p = query;
	char		*v;
	int		 len;

	while (p != NULL && *p != '\0' && *p != '#') {
		size_t	 plen = strcspn(p, "&#");

		if (plen > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			vlen = plen - nlen - 1;
			if ((v = percent_decode(p + nlen + 1, vlen)) == NULL)
				return -1;
			for (i = 0; v[i] != '\0'; i++) {
				if (v[i] == '+')
					v[i] = ' ';
			}
			len = (int)strlen(v);
			if ((size_t)len + 1 > outlen) {
				free(v);
				return -1;
			}
			memcpy(out, v, (size_t)len + 1);
			free(v);
			return len;
		}
		p += plen;
		if (*p == '&')
			p++;
	}
	return -1;
}
