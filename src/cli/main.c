/*
 * main.c: aish, the command line of aish.
 *
 *	aish                          interactive, prompt "aish> "
 *	aish -c 'echo "Hi" | apollo'  one command
 *	aish FILE                     a script, one command a line
 *	echo Hi | aish apollo         arguments are a pipeline fed by stdin
 *	aish -l                       list AIs and sockets
 *
 * main() does four things: read the options, pick the server (starting
 * the embedded one when the default URL has nobody behind it), make the
 * libaish handle, and hand over to the mode the arguments ask for.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libwebsockets.h>

#include <aish/protocol.h>
#include "spawn-rhetor.h"
#include "token-file.h"
#include "xalloc.h"
#include "cli.h"
#include "repl.h"
#include "run.h"
#include "sockets.h"

/* What the command line asked for. */
struct options {
	const char	*command;	/* -c */
	int		 list;		/* -l */
	const char	*url;		/* -r */
	const char	*token;		/* --token */
	char		*token_file;	/* read from --token-file, or NULL */
	int		 raw;		/* -o */
	long		 timeout_ms;	/* --timeout-ms */
	int		 no_spawn;	/* --no-spawn */
	int		 fresh;		/* --fresh */
};

enum { OPT_TOKEN = 256, OPT_TOKEN_FILE, OPT_TIMEOUT, OPT_NO_SPAWN,
    OPT_VERSION, OPT_FRESH };

static const struct option long_options[] = {
	{ "command",	required_argument,	NULL,	'c' },
	{ "list",	no_argument,		NULL,	'l' },
	{ "raw",	no_argument,		NULL,	'o' },
	{ "rhetor",	required_argument,	NULL,	'r' },
	{ "help",	no_argument,		NULL,	'h' },
	{ "token",	required_argument,	NULL,	OPT_TOKEN },
	{ "token-file",	required_argument,	NULL,	OPT_TOKEN_FILE },
	{ "timeout-ms",	required_argument,	NULL,	OPT_TIMEOUT },
	{ "no-spawn",	no_argument,		NULL,	OPT_NO_SPAWN },
	{ "fresh",	no_argument,		NULL,	OPT_FRESH },
	{ "version",	no_argument,		NULL,	OPT_VERSION },
	{ NULL,		0,			NULL,	0 }
};

/* Prints a message about a failure, after what stdout holds. */
void
cli_error(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fputs("aish: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Says in one line on stderr that the handle moved to another node of
 * its URL list, once per move. */
void
cli_note_node(struct cli *c)
{
	const char	*now = aish_node_url(c->h);

	if (now == NULL || c->node_url == NULL ||
	    strcmp(now, c->node_url) == 0)
		return;
	fflush(stdout);
	fprintf(stderr, "aish: %s is away: now using %s\n", c->node_url, now);
	c->node_url = now;
}

/* Prints how to use aish to f. */
static void
usage(FILE *f)
{
	fprintf(f,
"usage: aish [-o] [-r URL] [--token T | --token-file F] [--timeout-ms N]\n"
"            [--fresh] [--no-spawn] [-c COMMAND | -l | FILE | AI...]\n"
"\n"
"  aish                          interactive, prompt \"aish> \"\n"
"  aish -c 'echo \"Hi\" | apollo'  run one command\n"
"  aish FILE                     run a script, one command a line\n"
"  echo Hi | aish apollo         the arguments are a pipeline fed by stdin\n"
"  aish -l                       list AIs and sockets\n"
"\n"
"  -o              print only the last stage's raw text\n"
"  -r URL          the aish-rhetor to use (default $AISH_RHETOR_URL or\n"
"                  %s); URL,URL,...: the nodes of a cluster,\n"
"                  the next one used when one goes away\n"
"  --token T       bearer token (default $AISH_TOKEN)\n"
"  --token-file F  the bearer token, read from file F\n"
"  --timeout-ms N  give up on a reply after N ms with nothing new\n"
"                  (team chat: 60000)\n"
"  --fresh         one-shot requests: each AI answers from its prompt and\n"
"                  the text alone, and its history is left as it was\n"
"  --no-spawn      never start aish-rhetor\n"
"\n"
"Commands: echo \"text\" | ai1 | ai2, ai < file, ... > file, ... >> file,\n"
"team-chat \"msg\", team-chat -g GROUP \"msg\".  Words after an AI's name are\n"
"its instruction: echo \"text\" | athena list the risks | apollo.  See aish(1).\n",
	    AISH_DEFAULT_URL);
}

/* Reads a positive number of milliseconds; -1 when it is not one. */
static long
parse_ms(const char *s)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0 ||
	    v > AISH_MAX_WAIT_MS)
		return -1;
	return v;
}

/* Fills o from argv; returns the index of the first operand, or -1
 * after a message (*status: the exit status). */
static int
parse_options(int argc, char **argv, struct options *o, int *status)
{
	char	why[1024];
	int	ch;

	*status = CLI_USAGE;
	while ((ch = getopt_long(argc, argv, "+c:lor:h", long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':	o->command = optarg; break;
		case 'l':	o->list = 1; break;
		case 'o':	o->raw = 1; break;
		case 'r':	o->url = optarg; break;
		case OPT_TOKEN:	o->token = optarg; break;
		case OPT_TOKEN_FILE:
			free(o->token_file);
			if ((o->token_file = ac_token_file_read(optarg, why,
			    sizeof why)) == NULL) {
				cli_error("bad --token-file: %s", why);
				return -1;
			}
			o->token = o->token_file;
			break;
		case OPT_NO_SPAWN: o->no_spawn = 1; break;
		case OPT_FRESH:	o->fresh = 1; break;
		case OPT_TIMEOUT:
			if ((o->timeout_ms = parse_ms(optarg)) == -1) {
				cli_error("--timeout-ms wants 1 to %d, not "
				    "'%s'", AISH_MAX_WAIT_MS, optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			*status = CLI_OK;
			return -1;
		case OPT_VERSION:
			printf("aish %s\n", AISH_VERSION);
			*status = CLI_OK;
			return -1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if ((o->command != NULL || o->list) && optind < argc) {
		cli_error("-c and -l take no other arguments");
		return -1;
	}
	if (o->command != NULL && o->list) {
		cli_error("-c and -l cannot be used together");
		return -1;
	}
	return optind;
}

/* Sets cli_interrupted on SIGINT (and lets poll() return early). */
static void
on_sigint(int sig)
{
	cli_interrupted = 1;
}

/* Installs the signal handlers. */
static void
setup_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The server URL; *spawn is set when it is the default one. */
static const char *
pick_url(const struct options *o, int *spawn)
{
	const char	*env = getenv("AISH_RHETOR_URL");

	*spawn = 0;
	if (o->url != NULL)
		return o->url;
	if (env != NULL && *env != '\0')
		return env;
	*spawn = !o->no_spawn;
	return AISH_DEFAULT_URL;
}

/* Makes the libaish handle; CLI_OK or an exit status. */
static int
connect_cli(struct cli *c, const struct options *o)
{
	aish_options_t	 ao;
	const char	*token = o->token ? o->token : getenv("AISH_TOKEN");
	const char	*cred;
	char		 why[256];
	int		 spawn;
	aish_error_t	 err;

	c->url = pick_url(o, &spawn);
	if ((cred = ac_url_credentials(c->url)) != NULL) {
		cli_error("%s: %s", c->url, cred);
		return CLI_USAGE;
	}
	if (spawn && ac_spawn_rhetor(c->url, why, sizeof why) == -1) {
		cli_error("cannot reach aish-rhetor at %s: %s", c->url, why);
		return CLI_UNREACHABLE;
	}
	memset(&ao, 0, sizeof ao);
	ao.url = c->url;
	ao.token = token && *token ? token : NULL;
	ao.on_message = run_on_message;
	ao.on_state = run_on_state;
	ao.user = c;
	ao.http_timeout_ms = 10000;
	ao.retry_max_ms = 1000;
	if ((err = aish_new(&ao, &c->h)) != AISH_OK) {
		if (err == AISH_E_INVALID && ao.token != NULL &&
		    strpbrk(ao.token, "\r\n") != NULL)
			cli_error("the token holds a line break");
		else if (err == AISH_E_INVALID)
			cli_error("%s: not a server URL (http://HOST:PORT, or "
			    "up to %d of them separated by commas)", c->url,
			    AISH_MAX_URLS);
		else
			cli_error("%s: %s", c->url, aish_strerror(err));
		return err == AISH_E_INVALID ? CLI_USAGE : CLI_UNREACHABLE;
	}
	c->node_url = aish_node_url(c->h);
	return CLI_OK;
}

/* True when path names an existing file (a script). */
static int
is_script(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* The operands joined with blanks, to be parsed as one command. */
static char *
join_args(int argc, char **argv)
{
	char	*line = xstrdup(""), *next;
	int	 i;

	for (i = 0; i < argc; i++) {
		next = xasprintf("%s%s%s", line, i ? " " : "", argv[i]);
		free(line);
		line = next;
	}
	return line;
}

/* Runs the mode the arguments ask for. */
static int
run_mode(struct cli *c, const struct options *o, int argc, char **argv)
{
	char	*line;
	int	 rc;

	if (o->list)
		return sockets_print(c);
	if (o->command != NULL)
		return run_line(c, o->command, NULL, 1);
	if (argc == 1 && is_script(argv[0]))
		return repl_script(c, argv[0]);
	if (argc > 0) {
		line = join_args(argc, argv);
		rc = run_line(c, line, NULL, 1);
		free(line);
		return rc;
	}
	return repl_run(c);
}

int
main(int argc, char **argv)
{
	struct options	o;
	struct cli	c;
	int		first, rc;

	memset(&o, 0, sizeof o);
	memset(&c, 0, sizeof c);
	if ((first = parse_options(argc, argv, &o, &rc)) == -1)
		return rc;
	setup_signals();
	setlocale(LC_CTYPE, "");	/* line editing of UTF-8 text */
	/* libwebsockets logs to stderr, which belongs to aish's own messages;
	 * AISH_DEBUG turns its logs back on. */
	lws_set_log_level(getenv("AISH_DEBUG") ? LLL_ERR | LLL_WARN |
	    LLL_NOTICE : 0, NULL);
	c.raw = o.raw;
	c.timeout_ms = o.timeout_ms;
	c.fresh = o.fresh;
	if ((rc = connect_cli(&c, &o)) != CLI_OK) {
		free(o.token_file);
		return rc;
	}
	rc = run_mode(&c, &o, argc - first, argv + first);
	aish_free(c.h);
	free(o.token_file);
	if (fflush(stdout) != 0 && rc == CLI_OK)
		rc = CLI_FAIL;
	return rc;
}
