/*
 * cli.h: what the parts of the aish command line share: the options, the
 * libaish handle, the exit statuses and the event-loop helpers.
 */
#ifndef AISH_CLI_H
#define AISH_CLI_H

#include <signal.h>
#include <stddef.h>

#include "aish/aish.h"

/* Exit statuses (SPEC section 5). */
#define CLI_OK		0	/* done */
#define CLI_FAIL	1	/* an AI failed or is unknown, a file error */
#define CLI_USAGE	2	/* usage or parse error */
#define CLI_UNREACHABLE	3	/* the server cannot be reached or used */
#define CLI_INTERRUPTED	130	/* stopped by SIGINT */

/* How long a lost server may stay away before a command gives up. */
#define CLI_DOWN_LIMIT_MS	15000
/* Default wait for a team chat's replies. */
#define CLI_TEAM_TIMEOUT_MS	60000
/* How long a cancel may take to be confirmed. */
#define CLI_CANCEL_WAIT_MS	1000

struct cli_run;

/* The state of one aish process. */
struct cli {
	aish_t		*h;
	const char	*url;		/* one URL, or several (nodes) */
	const char	*node_url;	/* the node last used */
	int		 raw;		/* -o: raw text only */
	long		 timeout_ms;	/* --timeout-ms; 0: the defaults */
	int		 fresh;		/* --fresh: one-shot writes */
	int		 interactive;	/* commands come from a terminal */
	/* The command running now, which gets the libaish messages. */
	struct cli_run	*run;
};

/* Set by the SIGINT handler; cleared by whoever handles it. */
extern volatile sig_atomic_t cli_interrupted;

/* Result of waiting for an HTTP request. */
struct cli_http {
	int		 done;
	int		 abandoned;	/* the waiter left: free on arrival */
	aish_error_t	 err;
	long		 status;
	char		*body;		/* the answer's JSON, or NULL */
	char		*message;	/* what failed, or NULL */
};

/* main.c */
void	cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	cli_note_node(struct cli *c);

/* wait.c */
long long cli_now_ms(void);
struct cli_http *cli_http_new(void);
void	cli_http_cb(aish_t *h, const aish_result_t *res, void *user);
int	cli_http_wait(struct cli *c, struct cli_http *r);
void	cli_http_free(struct cli_http *r);
int	cli_http_status(struct cli *c, const struct cli_http *r,
	    const char *what);
int	cli_service(struct cli *c, int timeout_ms);

#endif
