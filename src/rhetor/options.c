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
#include "conf.h"
#include "options.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: aish-rhetor [--host HOST] [--port PORT] [--config FILE]\n"
    "                   [--state-dir DIR] [--token TOKEN] [--help] [--version]\n"
    "\n"
    "  --host HOST       address to listen on (default 127.0.0.1)\n"
    "  --port PORT       port to listen on, 0 for any free one (default 8300)\n"
    "  --config FILE     JSON config: listen address, providers, roster AIs\n"
    "  --state-dir DIR   where the state database lives\n"
    "                    (default $XDG_STATE_HOME/aish or ~/.local/state/aish)\n"
    "  --token TOKEN     require 'Authorization: Bearer TOKEN' (or AISH_TOKEN)\n"
    "  --abandon-ms MS   stop the AIs' work for a WebSocket writer gone\n"
    "                    this long, 0 for never (default 30000)\n";

/* How long the work for a WebSocket writer that went away goes on. */
#define DEFAULT_ABANDON_MS	30000

/* Parses a number of milliseconds up to AISH_MAX_WAIT_MS; -1 if bad. */
static int
parse_ms(const char *s)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 ||
	    v > AISH_MAX_WAIT_MS)
		return -1;
	return (int)v;
}

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

/* Reads and checks the config file; its listen address fills what the
 * command line left unset.  Returns 0, or -1 after saying why. */
static int
load_config(struct rh_options *opt, const char *path, int port_given)
{
	char	err[1024];

	if ((opt->config = rh_conf_load(path, err, sizeof err)) == NULL) {
		fprintf(stderr, "aish-rhetor: bad config: %s\n", err);
		return -1;
	}
	if (opt->host == NULL && opt->config->host != NULL)
		opt->host = xstrdup(opt->config->host);
	if (!port_given && opt->config->port >= 0)
		opt->port = opt->config->port;
	return 0;
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
		{ "config",	required_argument, NULL, 'c' },
		{ "abandon-ms",	required_argument, NULL, 'a' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*env_token = getenv("AISH_TOKEN");
	char		*config = NULL;
	int		 c, port_given = 0, rc;

	memset(opt, 0, sizeof *opt);
	opt->port = AISH_DEFAULT_PORT;
	opt->abandon_ms = DEFAULT_ABANDON_MS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			free(opt->host);
			opt->host = xstrdup(optarg);
			break;
		case 'p':
			port_given = 1;
			if ((opt->port = parse_port(optarg)) < 0) {
				fprintf(stderr, "aish-rhetor: bad port '%s': "
				    "expected 0 to 65535\n", optarg);
				goto bad;
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
		case 'a':
			if ((opt->abandon_ms = parse_ms(optarg)) < 0) {
				fprintf(stderr, "aish-rhetor: bad --abandon-ms "
				    "'%s': expected 0 to %d\n", optarg,
				    AISH_MAX_WAIT_MS);
				goto bad;
			}
			break;
		case 'c':
			free(config);
			config = xstrdup(optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			rc = 1;
			goto fail;
		case 'V':
			printf("aish-rhetor %s\n", PACKAGE_VERSION);
			rc = 1;
			goto fail;
		default:
			fprintf(stderr, "aish-rhetor: unknown or incomplete "
			    "option '%s'\n%s", argv[optind - 1], usage_text);
			goto bad;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "aish-rhetor: unexpected argument '%s'\n%s",
		    argv[optind], usage_text);
		goto bad;
	}
	if (config != NULL) {
		rc = load_config(opt, config, port_given);
		free(config);
		config = NULL;
		if (rc != 0)
			goto bad;
	}
	if (opt->host == NULL)
		opt->host = xstrdup(AISH_DEFAULT_HOST);
	if (opt->state_dir == NULL)
		opt->state_dir = default_state_dir();
	if (opt->token == NULL && env_token != NULL && *env_token != '\0')
		opt->token = xstrdup(env_token);
	if (opt->token != NULL && *opt->token == '\0') {
		fprintf(stderr, "aish-rhetor: the token may not be empty\n");
		goto bad;
	}
	return 0;
bad:
	rc = 2;
fail:
	/* Nothing half-parsed outlives a refusal. */
	free(config);
	rh_options_free(opt);
	return rc;
}

/* Frees what rh_options_parse allocated. */
void
rh_options_free(struct rh_options *opt)
{
	free(opt->host);
	free(opt->state_dir);
	free(opt->token);
	rh_conf_free(opt->config);
	memset(opt, 0, sizeof *opt);
}
