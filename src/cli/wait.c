/*
 * wait.c: waiting on libaish from straight-line code.
 *
 * libaish is asynchronous; the command line is not.  These helpers run
 * the handle's own loop until an answer comes or the user presses
 * Ctrl-C, and turn a failed request into a message and an exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xalloc.h"
#include "cli.h"

volatile sig_atomic_t cli_interrupted;

/* Milliseconds on the monotonic clock. */
long long
cli_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the loop once for at most timeout_ms; CLI_UNREACHABLE when the
 * loop itself failed. */
int
cli_service(struct cli *c, int timeout_ms)
{
	aish_error_t	err = aish_service(c->h, timeout_ms);

	if (err != AISH_OK && err != AISH_E_TIMEOUT) {
		cli_error("event loop failed: %s", aish_strerror(err));
		return CLI_UNREACHABLE;
	}
	return CLI_OK;
}

/* A new, empty result to wait on. */
struct cli_http *
cli_http_new(void)
{
	return xcalloc(1, sizeof(struct cli_http));
}

/* Frees a result, unless its request is still out (then it frees itself
 * when the answer comes). */
void
cli_http_free(struct cli_http *r)
{
	if (r == NULL || r->abandoned)
		return;
	free(r->body);
	free(r->message);
	free(r);
}

/* Stores an HTTP result (the callback of every request aish makes). */
void
cli_http_cb(aish_t *h, const aish_result_t *res, void *user)
{
	struct cli_http	*r = user;

	if (r->abandoned) {
		r->abandoned = 0;
		cli_http_free(r);
		return;
	}
	r->done = 1;
	r->err = res->err;
	r->status = res->status;
	if (res->body != NULL)
		r->body = xstrndup(res->body, res->body_len);
	if (res->message != NULL)
		r->message = xstrdup(res->message);
}

/* Runs the loop until r is answered (CLI_OK) or Ctrl-C is pressed
 * (CLI_INTERRUPTED: r then belongs to its request). */
int
cli_http_wait(struct cli *c, struct cli_http *r)
{
	int	rc;

	while (!r->done) {
		if (cli_interrupted) {
			r->abandoned = 1;
			return CLI_INTERRUPTED;
		}
		if ((rc = cli_service(c, 100)) != CLI_OK)
			return rc;
	}
	if (r->err == AISH_OK)
		cli_note_node(c);
	return CLI_OK;
}

/* CLI_OK for a successful answer; else says what failed (what: the
 * request, for the message) and gives the exit status that fits. */
int
cli_http_status(struct cli *c, const struct cli_http *r, const char *what)
{
	const char	*why = r->message ? r->message : aish_strerror(r->err);

	switch (r->err) {
	case AISH_OK:
		return CLI_OK;
	case AISH_E_UNREACHABLE:
	case AISH_E_TIMEOUT:
		cli_error("cannot reach aish-rhetor at %s: %s", c->url, why);
		return CLI_UNREACHABLE;
	case AISH_E_UNAUTHORIZED:
		cli_error("aish-rhetor at %s refused the token (set AISH_TOKEN "
		    "or --token): %s", c->url, why);
		return CLI_UNREACHABLE;
	default:
		cli_error("%s: %s", what, why);
		return CLI_FAIL;
	}
}
