/*
 * options.c: aish-rhetor's command line and environment.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aish/protocol.h>
#include "config.h"
#include "conf.h"
#include "options.h"
#include "state-dir.h"
#include "token-file.h"
#include "xalloc.h"

static const char usage_text[] =
    "usage: aish-rhetor [--host HOST] [--port PORT] [--config FILE]\n"
    "                   [--state-dir DIR] [--token TOKEN | --token-file FILE]\n"
    "                   [--cluster URLS --node NAME] [--help] [--version]\n"
    "\n"
    "  --host HOST       address to listen on (default 127.0.0.1)\n"
    "  --port PORT       port to listen on, 0 for any free one (default 8300)\n"
    "  --config FILE     JSON config: listen address, providers, roster AIs\n"
    "  --state-dir DIR   where the state database lives\n"
    "                    (default $XDG_STATE_HOME/aish or ~/.local/state/aish)\n"
    "  --token TOKEN     require 'Authorization: Bearer TOKEN' (or AISH_TOKEN)\n"
    "  --token-file FILE the same, with the token read from FILE, so that it\n"
    "                    does not show in the process list\n"
    "  --abandon-ms MS   stop the AIs' work for a WebSocket writer gone\n"
    "                    this long, 0 for never (default 30000)\n"
    "  --max-state-bytes N  keep the state database within N bytes, the\n"
    "                    oldest history and queued replies trimmed first;\n"
    "                    0 for no bound (default 1073741824, 1 GiB)\n"
    "  --cluster URLS    run as a node of a cluster on NATS JetStream:\n"
    "                    nats://HOST:PORT[,nats://HOST:PORT...]\n"
    "  --node NAME       this node's name in the cluster\n"
    "                    ([A-Za-z0-9_-], 1 to 64; needed with --cluster)\n";

/* How long the work for a WebSocket writer that went away goes on. */
#define DEFAULT_ABANDON_MS	30000

/* Parses max_state_bytes: 0, or 1 MiB to 1 TiB; -1 if bad. */
static int64_t
parse_state_bytes(const char *s)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 ||
	    (v > 0 && v < RH_CONF_MIN_STATE_BYTES) ||
	    v > RH_CONF_MAX_STATE_BYTES)
		return -1;
	return v;
}

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

/* The default state directory: the one the clients use too (an
 * absolute XDG_STATE_HOME or HOME), else .aish-state here. */
static char *
default_state_dir(void)
{
	char	*dir = ac_state_path(NULL);

	return dir != NULL ? dir : xstrdup(".aish-state");
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
	if (opt->max_state_bytes < 0)
		opt->max_state_bytes = opt->config->max_state_bytes;
	return 0;
}

/* Checks one element of --cluster: nats://[USER:PASSWORD@]HOST:PORT
 * (tls:// too), with a port of 1 to 65535.  Returns NULL, or why it is
 * not one. */
static const char *
cluster_url_invalid(const char *url, size_t len)
{
	const char	*p, *end = url + len, *colon = NULL;
	size_t		 scheme;
	long		 port = 0;

	if (len > 7 && strncmp(url, "nats://", 7) == 0)
		scheme = 7;
	else if (len > 6 && strncmp(url, "tls://", 6) == 0)
		scheme = 6;
	else
		return "expected nats://HOST:PORT";
	for (p = end; p > url + scheme; p--) {
		if (p[-1] == '@') {
			/* USER:PASSWORD@ */
			scheme = (size_t)(p - url);
			break;
		}
	}
	for (p = url + scheme; p < end; p++) {
		if (*p == '/' || *p == ' ')
			return "expected nats://HOST:PORT, nothing more";
		if (*p == ':')
			colon = p;
	}
	if (colon == NULL || colon == url + scheme || colon + 1 == end)
		return "expected nats://HOST:PORT, with a host and a port";
	for (p = colon + 1; p < end; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return "the port is not a number of 1 to 65535";
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535)
		return "the port is not a number of 1 to 65535";
	return NULL;
}

/* Checks --cluster and --node together; 0, or -1 after saying why. */
static int
cluster_check(const struct rh_options *opt)
{
	const char	*p, *comma, *why;
	size_t		 n;

	if (opt->cluster == NULL) {
		if (opt->node != NULL) {
			fprintf(stderr, "aish-rhetor: --node needs --cluster\n");
			return -1;
		}
		return 0;
	}
#ifndef HAVE_NATS
	fprintf(stderr, "aish-rhetor: --cluster: this aish-rhetor was built "
	    "without NATS; install libnats-dev and run ./configure "
	    "--with-nats\n");
	return -1;
#endif
	for (p = opt->cluster;; p = comma + 1) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if ((why = cluster_url_invalid(p, n)) != NULL) {
			fprintf(stderr, "aish-rhetor: bad --cluster URL "
			    "'%.*s': %s\n", (int)n, p, why);
			return -1;
		}
		if (comma == NULL)
			break;
	}
	if (opt->node == NULL) {
		fprintf(stderr, "aish-rhetor: --cluster needs --node NAME, "
		    "this node's name in the cluster\n");
		return -1;
	}
	n = strlen(opt->node);
	if (n < 1 || n > 64 || strspn(opt->node, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n) {
		fprintf(stderr, "aish-rhetor: bad --node '%s': expected 1 to "
		    "64 of A-Z a-z 0-9 _ -\n", opt->node);
		return -1;
	}
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
		{ "token-file",	required_argument, NULL, 'T' },
		{ "config",	required_argument, NULL, 'c' },
		{ "abandon-ms",	required_argument, NULL, 'a' },
		{ "max-state-bytes", required_argument, NULL, 'm' },
		{ "cluster",	required_argument, NULL, 'C' },
		{ "node",	required_argument, NULL, 'N' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*env_token = getenv("AISH_TOKEN");
	char		*config = NULL, err[1024];
	const char	*why;
	int		 c, port_given = 0, rc;

	memset(opt, 0, sizeof *opt);
	opt->port = AISH_DEFAULT_PORT;
	opt->abandon_ms = DEFAULT_ABANDON_MS;
	opt->max_state_bytes = -1;
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
		case 'T':
			free(opt->token);
			if ((opt->token = ac_token_file_read(optarg, err,
			    sizeof err)) == NULL) {
				fprintf(stderr, "aish-rhetor: bad --token-file: "
				    "%s\n", err);
				goto bad;
			}
			break;
		case 'a':
			if ((opt->abandon_ms = parse_ms(optarg)) < 0) {
				fprintf(stderr, "aish-rhetor: bad --abandon-ms "
				    "'%s': expected 0 to %d\n", optarg,
				    AISH_MAX_WAIT_MS);
				goto bad;
			}
			break;
		case 'm':
			if ((opt->max_state_bytes = parse_state_bytes(optarg)) <
			    0) {
				fprintf(stderr, "aish-rhetor: bad "
				    "--max-state-bytes '%s': expected 0 (no "
				    "bound) or %lld to %lld\n", optarg,
				    (long long)RH_CONF_MIN_STATE_BYTES,
				    (long long)RH_CONF_MAX_STATE_BYTES);
				goto bad;
			}
			break;
		case 'C':
			free(opt->cluster);
			opt->cluster = xstrdup(optarg);
			break;
		case 'N':
			free(opt->node);
			opt->node = xstrdup(optarg);
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
	if (cluster_check(opt) != 0)
		goto bad;
	if (opt->max_state_bytes < 0)
		opt->max_state_bytes = RH_CONF_DEFAULT_STATE_BYTES;
	if (opt->host == NULL)
		opt->host = xstrdup(AISH_DEFAULT_HOST);
	if (opt->state_dir == NULL)
		opt->state_dir = default_state_dir();
	if (opt->token == NULL && env_token != NULL && *env_token != '\0')
		opt->token = xstrdup(env_token);
	if (opt->token != NULL && (why = ac_token_invalid(opt->token)) !=
	    NULL) {
		fprintf(stderr, "aish-rhetor: bad token: %s\n", why);
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
	free(opt->cluster);
	free(opt->node);
	rh_conf_free(opt->config);
	memset(opt, 0, sizeof *opt);
}
