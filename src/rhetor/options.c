/*
 * options.c: aish-rhetor's command line and environment.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aish-protocol.h"
#include "config.h"
#include "options.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: aish-rhetor [--host HOST] [--port PORT] [--state-dir DIR]\n"
    "                   [--token TOKEN] [--help] [--version]\n"
    "\n"
    "  --host HOST       address to listen on (default 127.0.0.1)\n"
    "  --port PORT       port to listen on, 0 for any free one (default 8300)\n"
    "  --state-dir DIR   where the state database lives\n"
    "                    (default $XDG_STATE_HOME/aish or ~/.local/state/aish)\n"
    "  --token TOKEN     require 'Authorization: Bearer TOKEN' (or AISH_TOKEN)\n";

/* The default state directory, from XDG_STATE_HOME or HOME. */
static char *
default_state_dir(void)
{
	const char	*xdg = getenv("XDG_STATE_HOME");
	const char	*home = getenv("HOME");

	if (xdg != NULL && *xdg == '/')
		return xasprintf("%s/aish", xdg);
	if (home != NULL && *home != '\0')
		return xasprintf("%s/.local/state/aish", home);
	return xstrdup(".aish-state");
}

/* Parses a port number; returns -1 when s is not one. */
static int
parse_port(const char *s)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

/* Fills opt from argv and the environment (see options.h). */
int
rh_options_parse(struct rh_options *opt, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host",	required_argument, NULL, 'H' },
		{ "port",	required_argument, NULL, 'p' },
		{ "state-dir",	required_argument, NULL, 's' },
		{ "token",	required_argument, NULL, 't' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*env_token = getenv("AISH_TOKEN");
	int		 c;

	memset(opt, 0, sizeof *opt);
	opt->port = AISH_DEFAULT_PORT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			free(opt->host);
			opt->host = xstrdup(optarg);
			break;
		case 'p':
			if ((opt->port = parse_port(optarg)) < 0) {
				fprintf(stderr, "aish-rhetor: bad port '%s': "
				    "expected 0 to 65535\n", optarg);
				return 2;
			}
			break;
		case 's':
			free(opt->state_dir);
			opt->state_dir = xstrdup(optarg);
			break;
		case 't':
			free(opt->token);
			opt->token = xstrdup(optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'V':
			printf("aish-rhetor %s\n", PACKAGE_VERSION);
			return 1;
		default:
			fprintf(stderr, "aish-rhetor: unknown or incomplete "
			    "option '%s'\n%s", argv[optind - 1], usage_text);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "aish-rhetor: unexpected argument '%s'\n%s",
		    argv[optind], usage_text);
		return 2;
	}
	if (opt->host == NULL)
		opt->host = xstrdup(AISH_DEFAULT_HOST);
	if (opt->state_dir == NULL)
		opt->state_dir = default_state_dir();
	if (opt->token == NULL && env_token != NULL && *env_token != '\0')
		opt->token = xstrdup(env_token);
	if (opt->token != NULL && *opt->token == '\0') {
		fprintf(stderr, "aish-rhetor: the token may not be empty\n");
		return 2;
	}
	return 0;
}

/* Frees what rh_options_parse allocated. */
void
rh_options_free(struct rh_options *opt)
{
	free(opt->host);
	free(opt->state_dir);
	free(opt->token);
	memset(opt, 0, sizeof *opt);
}
