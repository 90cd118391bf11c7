/*
 * main.c: aish-rhetor, the AI socket server.
 *
 * 1. Read the command line.
 * 2. Open the state, bring back sockets and unfinished jobs, listen.
 * 3. Say where we listen (the first line on stdout, which scripts wait for).
 * 4. Run the event loop until SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "server.h"

static struct rh_server server;

/* Asks the loop to stop; the loop notices at its next wake-up. */
static void
on_signal(int sig)
{
	(void)sig;
	server.interrupted = 1;
	if (server.context != NULL)
		lws_cancel_service(server.context);
}

int
main(int argc, char **argv)
{
	struct rh_options	opt;
	struct sigaction	sa;
	int			rc;

	if ((rc = rh_options_parse(&opt, argc, argv)) != 0)
		return rc == 1 ? 0 : 2;
	umask(077);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (rh_server_init(&server, &opt) != 0) {
		rh_options_free(&opt);
		rh_server_free(&server);
		return 1;
	}
	rh_options_free(&opt);
	printf("listening on http://%s%s%s:%d\n",
	    strchr(server.listen_addr, ':') ? "[" : "", server.listen_addr,
	    strchr(server.listen_addr, ':') ? "]" : "", server.port);
	fflush(stdout);
	rc = rh_server_run(&server);
	rh_server_free(&server);
	return rc;
}
