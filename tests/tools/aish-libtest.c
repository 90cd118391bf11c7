/*
 * aish-libtest.c: a small libaish client for the integration tests.
 *
 *	aish-libtest [-u URL] [-t TIMEOUT_MS] [-k TOKEN] COMMAND ...
 *
 * Commands:
 *	write SOCKET TEXT...	writes each TEXT, waits for every final
 *	team-chat [-g GROUP] MSG	writes to the team, waits for every member
 *	create AI [CONTEXT_JSON]	prints the new socket id
 *	list			prints GET /api/ai/sockets
 *
 * Every message is printed as one line: "<type> <conn> <socket> <id>
 * <seq> <content or code>".  Exit status: 0 when every write finished, 1
 * when a write ended with an error, 2 usage, 3 timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "aish/aish.h"

static const char *const type_names[] = {
	"ack", "delta", "read", "error", "pong", "turn"
};

static int	 outstanding;	/* writes not finished */
static int	 failed;	/* a write ended with an error */
static int	 done;		/* the run is over */
static int	 team;		/* team chat: finals expected from members */
static int	 team_acked;	/* the team's ack came */
static int	 quiet_deltas = 1;

/* Prints a message; counts the finals. */
static void
on_message(aish_t *h, const aish_msg_t *m, void *user)
{
	if (m->type == AISH_MSG_DELTA && quiet_deltas)
		return;
	printf("%s %s %s %s %lld %s\n", type_names[m->type],
	    m->conn_socket_id ? m->conn_socket_id : "-",
	    m->socket_id ? m->socket_id : "-",
	    m->in_reply_to ? m->in_reply_to : "-", (long long)m->seq,
	    m->type == AISH_MSG_ERROR ? (m->code ? m->code : "-") :
	    m->content ? m->content : "");
	fflush(stdout);
	if (m->type == AISH_MSG_ACK && team && !team_acked) {
		/* A repeated ack (after a reconnect) names the same team. */
		team_acked = 1;
		outstanding += (int)m->n_members - 1;
	}
	if (m->in_reply_to == NULL)
		return;
	if (m->type == AISH_MSG_ERROR)
		failed = 1;
	if (m->type == AISH_MSG_READ || m->type == AISH_MSG_ERROR)
		outstanding--;
	if (m->type == AISH_MSG_ACK && team && m->n_members == 0 &&
	    !m->duplicate)
		outstanding--;
	if (outstanding <= 0)
		done = 1;
}

/* Prints connection changes on stderr. */
static void
on_state(aish_t *h, const char *socket_id, aish_conn_state_t state,
    unsigned failures, int64_t down_ms, void *user)
{
	fprintf(stderr, "state %s %d failures=%u down_ms=%lld\n", socket_id,
	    (int)state, failures, (long long)down_ms);
}

/* Prints an HTTP result and ends the run. */
static void
on_result(aish_t *h, const aish_result_t *res, void *user)
{
	const char	*what = user;

	if (res->err != AISH_OK) {
		fprintf(stderr, "%s: %s (%s)\n", what, aish_strerror(res->err),
		    res->message ? res->message : "-");
		failed = 1;
	} else if (strcmp(what, "create") == 0)
		printf("%s\n", res->socket_id ? res->socket_id : "?");
	else
		printf("%.*s\n", (int)res->body_len, res->body ? res->body : "");
	done = 1;
}

/* Prints how to call the program and exits 2. */
static void
usage(void)
{
	fprintf(stderr, "usage: aish-libtest [-u URL] [-t MS] [-k TOKEN] "
	    "write SOCKET TEXT... | team-chat [-g GROUP] MSG | "
	    "create AI [CONTEXT] | list\n");
	exit(2);
}

/* Starts the command; returns an aish error. */
static aish_error_t
start_command(aish_t *h, int argc, char **argv)
{
	aish_create_opts_t	 co;
	aish_error_t		 err = AISH_E_INVALID;
	int			 i;

	if (strcmp(argv[0], "write") == 0 && argc >= 3) {
		for (i = 2; i < argc; i++) {
			if ((err = aish_write(h, argv[1], argv[i], NULL,
			    NULL)) != AISH_OK)
				return err;
			outstanding++;
		}
	} else if (strcmp(argv[0], "team-chat") == 0 && argc >= 2) {
		team = 1;
		outstanding = 1;
		if (strcmp(argv[1], "-g") == 0 && argc == 4)
			err = aish_team_chat(h, argv[3], argv[2], NULL);
		else
			err = aish_team_chat(h, argv[1], NULL, NULL);
	} else if (strcmp(argv[0], "create") == 0 && argc >= 2) {
		memset(&co, 0, sizeof co);
		co.ai_name = argv[1];
		co.context_json = argc > 2 ? argv[2] : NULL;
		err = aish_create(h, &co, on_result, "create");
	} else if (strcmp(argv[0], "list") == 0)
		err = aish_list(h, on_result, "list");
	else
		usage();
	return err;
}

int
main(int argc, char **argv)
{
	aish_options_t	 o;
	aish_t		*h;
	aish_error_t	 err;
	int		 c, timeout_ms = 20000;

	memset(&o, 0, sizeof o);
	o.token = getenv("AISH_TOKEN");
	while ((c = getopt(argc, argv, "+u:t:k:d")) != -1) {
		switch (c) {
		case 'u': o.url = optarg; break;
		case 't': timeout_ms = atoi(optarg); break;
		case 'k': o.token = optarg; break;
		case 'd': quiet_deltas = 0; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	lws_set_log_level(LLL_ERR, NULL);
	o.on_message = on_message;
	o.on_state = getenv("AISH_LIBTEST_STATES") ? on_state : NULL;
	if ((err = aish_new(&o, &h)) != AISH_OK) {
		fprintf(stderr, "aish_new: %s\n", aish_strerror(err));
		return 2;
	}
	if ((err = start_command(h, argc, argv)) != AISH_OK) {
		fprintf(stderr, "%s: %s\n", argv[0], aish_strerror(err));
		aish_free(h);
		return 2;
	}
	err = aish_run_until(h, &done, timeout_ms);
	aish_free(h);
	if (err == AISH_E_TIMEOUT) {
		fprintf(stderr, "timed out\n");
		return 3;
	}
	return failed ? 1 : 0;
}
