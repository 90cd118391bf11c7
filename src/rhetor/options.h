/*
 * options.h: aish-rhetor's command line.
 */
#ifndef RH_OPTIONS_H
#define RH_OPTIONS_H

#include <stdint.h>

struct rh_conf;

/* What the command line (and AISH_TOKEN) asked for. */
struct rh_options {
	char	*host;		/* listen address, 127.0.0.1 unless told */
	int	 port;		/* 0 picks a free port */
	char	*state_dir;	/* where aish.db lives */
	char	*token;		/* bearer token, or NULL for none */
	struct rh_conf *config;	/* --config FILE, checked; or NULL */
	int	 abandon_ms;	/* stop the AIs' work for a WebSocket writer
				 * gone this long; 0: never */
	int64_t	 max_state_bytes;	/* the disk bound; 0: none */
	char	*cluster;	/* --cluster: NATS URLs, comma-separated, or
				 * NULL for the single-process server */
	char	*node;		/* --node: this node's name in the cluster */
};

/* Fills opt from argv and the environment, and reads the config file;
 * the command line wins over the config's listen address.  Returns 0 to
 * go on, 1 when the program should exit 0 (--help, --version), 2 on a
 * usage error or a bad config (already reported on stderr). */
int	rh_options_parse(struct rh_options *opt, int argc, char **argv);
void	rh_options_free(struct rh_options *opt);

#endif
