/*
 * http-parse.h: HTTP/1.1 requests read with http-parser (Debian's
 * libhttp-parser, <http_parser.h>): a reader that takes a connection's
 * bytes as they come and stops after each request head and after each
 * whole request, in order, and the path and query of a request target.
 *
 * No server state and no I/O, so that the reader can be tested and
 * fuzzed alone (tests/check_http_read.c, fuzz/fuzz-http-head.c).  http.c
 * feeds it what a connection has read and answers what it refuses.
 *
 * <http_parser.h> is not included here: it and libwebsockets.h both
 * define enum http_status, so the parser lives in http-parse.c alone.
 *
 * Ownership: a reader owns its head's strings and the body it collects
 * until rh_http_next() or rh_http_reader_free(); a caller that keeps the
 * body takes it and sets body to NULL.
 */
#ifndef RH_HTTP_PARSE_H
#define RH_HTTP_PARSE_H

#include <stddef.h>

/* Longest request head (request line and headers), or trailer, and most
 * headers. */
#define RH_HTTP_MAX_HEAD	(16 * 1024)
#define RH_HTTP_MAX_HEADERS	100

enum rh_method {
	RH_GET,
	RH_POST,
	RH_PUT,
	RH_DELETE,
	RH_HEAD,
	RH_OTHER
};

/* Why a request was refused: status, error code, fixed text. */
struct rh_http_refusal {
	int		 status;
	const char	*code;
	const char	*message;
};

/* A request head, with the headers the server looks at. */
struct rh_http_head {
	enum rh_method	 method;
	char		*target;	/* as sent: /path?query */
	int		 minor;		/* HTTP/1.<minor> */
	char		*host;		/* each header: NULL when absent */
	char		*origin;
	char		*sec_fetch_site;
	char		*content_type;
	char		*authorization;
	char		*expect;
	char		*upgrade;
	long long	 content_length;	/* -1: none */
	int		 chunked;	/* Transfer-Encoding: chunked */
	int		 keep_alive;	/* the connection may serve another */
	int		 has_body;	/* a body follows the head */
	size_t		 head_len;	/* bytes of the head, blank line too */
};

/* What rh_http_read() came to. */
enum rh_http_event {
	RH_HTTP_MORE,		/* every byte taken; more are needed */
	RH_HTTP_HEAD,		/* a head is whole (head); without a body,
				 * the request is whole too */
	RH_HTTP_REQUEST,	/* the body is whole too (body, body_len) */
	RH_HTTP_REFUSED		/* why says why; the reader reads no more */
};

/* One connection's reader. */
struct rh_http_reader {
	struct rh_http_head	 head;
	char			*body;		/* NUL-terminated */
	size_t			 body_len;
	struct rh_http_refusal	 why;
	struct rh_http_parsing	*own;		/* the reader's own state */
};

/* Starts a reader for requests whose bodies are up to max_body bytes. */
void	rh_http_reader_init(struct rh_http_reader *r, size_t max_body);
/* Takes bytes from in, up to the end of a head or of a request: sets
 * *used to the bytes taken (all unless it returns RH_HTTP_HEAD or
 * RH_HTTP_REQUEST) and returns what it came to. */
enum rh_http_event	rh_http_read(struct rh_http_reader *r, const char *in,
	    size_t len, size_t *used);
/* Lets the head and body of the request just read go and starts on the
 * next request of the connection. */
void	rh_http_next(struct rh_http_reader *r);
void	rh_http_reader_free(struct rh_http_reader *r);

/* Splits a request target into its decoded path (a new string) and its
 * query (a pointer into target after '?', or NULL).  Returns NULL with why
 * filled when the target is not a path or its escapes are bad (an escaped
 * NUL included). */
char	*rh_http_path(const char *target, const char **query,
	    struct rh_http_refusal *why);
/* The decoded value of name in a query ("a=1&b=2"), copied into out;
 * returns its length, or -1 when absent or longer than outlen - 1. */
int	rh_http_query_get(const char *query, const char *name, char *out,
	    size_t outlen);

#endif
