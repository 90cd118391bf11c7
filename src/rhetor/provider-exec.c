/*
 * provider-exec.c: a local command as an AI.  The message goes to the
 * command's stdin, its stdout comes back as deltas as it is written, and
 * its exit status decides: 0 is the reply, anything else an error frame
 * carrying the last lines of its stderr.
 *
 * The command runs in a process group of its own, started with
 * posix_spawnp (no fork of a threaded process).  Its pipes are
 * non-blocking.  Its stdout and stderr are adopted into the loop (on a
 * vhost of their own that listens nowhere, so no client can ask for their
 * protocol) and read as soon as they are written; a timer feeds stdin
 * what did not fit in the pipe at once (a large binary stream) and
 * watches for the exit and the idle timeout.  No read, write or wait
 * ever blocks the loop.  The child also finds the
 * socket in its environment: AISH_SOCKET_ID, AISH_AI_NAME, AISH_MODEL and
 * AISH_PROMPT.  A binary stream reaches stdin as its raw bytes, with its
 * type in AISH_MIME.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "delivery.h"
#include "provider.h"
#include "provider-stream.h"
#include "xalloc.h"

extern char **environ;

/* How often a running command is checked for its exit and idle time,
 * and how often once its output has ended and its exit is awaited (ms). */
#define WATCH_MS	100
#define WAIT_MS		2
/* How much of stderr is kept, and how many of its last lines are shown. */
#define STDERR_KEEP	4096
#define STDERR_LINES	5
/* How long to wait for stdout to close after the command exited (ms):
 * a child it left behind may hold it open. */
#define EXIT_GRACE_MS	200

/* One command in progress. */
struct exec_state {
	lws_sorted_usec_list_t	 sul;		/* first: see from_sul() */
	struct rh_job		*job;
	const struct rh_provider *prov;
	pid_t			 pid;		/* 0 once reaped */
	int			 in_fd;		/* -1 once closed */
	/* stdout and stderr in the loop, NULL once closed (the loop owns
	 * their fds). */
	struct lws		*out_wsi, *err_wsi;
	size_t			 in_off;
	struct ac_buf		 text;
	struct ac_buf		 piece;
	struct sp_utf8		 utf8;
	struct ac_buf		 err;		/* the end of stderr */
	int			 wstatus;
	int64_t			 exited_ms;	/* 0 while running */
	int64_t			 started_ms;
	int64_t			 last_output_ms;	/* on stdout or stderr */
};

/* Commands killed by stop, waiting to be reaped without blocking. */
static pid_t			 orphans[256];
static size_t			 norphans;
static lws_sorted_usec_list_t	 orphan_sul;
static struct lws_context	*orphan_context;

/* The state a timer belongs to. */
static struct exec_state *
from_sul(lws_sorted_usec_list_t *sul)
{
	return lws_container_of(sul, struct exec_state, sul);
}

/* Timer: reaps the killed commands that have ended. */
static void
orphans_reap(lws_sorted_usec_list_t *sul)
{
	size_t	i = 0;

	(void)sul;
	while (i < norphans) {
		if (waitpid(orphans[i], NULL, WNOHANG) != 0)
			orphans[i] = orphans[--norphans];
		else
			i++;
	}
	if (norphans > 0)
		lws_sul_schedule(orphan_context, 0, &orphan_sul, orphans_reap,
		    20 * LWS_US_PER_MS);
}

/* Kills a command's process group and reaps it later. */
static void
kill_and_forget(struct lws_context *context, pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	if (waitpid(pid, NULL, WNOHANG) != 0)
		return;
	if (norphans == sizeof orphans / sizeof orphans[0])
		return;		/* left as a zombie rather than blocking */
	orphans[norphans++] = pid;
	orphan_context = context;
	lws_sul_schedule(context, 0, &orphan_sul, orphans_reap,
	    20 * LWS_US_PER_MS);
}

/* Reads what the pipe of wsi has into buf: the byte count, 0 when nothing
 * is there now, -1 when it ended. */
static ssize_t
read_some(struct lws *wsi, char *buf, size_t len)
{
	ssize_t	n;

	do
		n = read(lws_get_socket_fd(wsi), buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	return n > 0 ? n : -1;
}

/* Lets go of a pipe: the loop closes it soon, and its last callbacks
 * find no command to act on. */
static void
pipe_drop(struct lws **wsi)
{
	if (*wsi == NULL)
		return;
	lws_set_opaque_user_data(*wsi, NULL);
	lws_set_timeout(*wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	*wsi = NULL;
}

/* Frees what is left of a command once its job is answered or stopped. */
static void
exec_release(struct exec_state *es)
{
	lws_sul_cancel(&es->sul);
	if (es->in_fd >= 0)
		close(es->in_fd);
	pipe_drop(&es->out_wsi);
	pipe_drop(&es->err_wsi);
	ac_buf_free(&es->text);
	ac_buf_free(&es->piece);
	ac_buf_free(&es->err);
	free(es);
}

/* Stops a command: its process group is killed and reaped later. */
static void
exec_free(struct exec_state *es)
{
	if (es->pid > 0)
		kill_and_forget(rh_job_context(es->job), es->pid);
	es->job->provider_state = NULL;
	exec_release(es);
}

/* Feeds the message (or a stream's raw bytes) to stdin as far as the
 * pipe takes it; closes it once it is all written or the command stopped
 * reading. */
static void
pump_stdin(struct exec_state *es)
{
	const char	*msg = es->job->media ? (const char *)es->job->media :
	    es->job->content;
	size_t		 len = es->job->media ? es->job->media_len :
	    strlen(msg);
	ssize_t		 n;

	while (es->in_fd >= 0 && es->in_off < len) {
		n = write(es->in_fd, msg + es->in_off, len - es->in_off);
		if (n > 0)
			es->in_off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN)
			return;
		else
			break;	/* EPIPE: the command does not read it */
	}
	if (es->in_fd >= 0)
		close(es->in_fd);
	es->in_fd = -1;
}

/* Reads what stdout has and streams it in whole characters; -1 once it
 * ended. */
static int
pump_stdout(struct exec_state *es)
{
	char	buf[16384];
	ssize_t	n;
	size_t	start;

	while ((n = read_some(es->out_wsi, buf, sizeof buf)) > 0) {
		es->last_output_ms = rh_mono_ms();
		ac_buf_reset(&es->piece);
		sp_utf8_feed(&es->utf8, buf, (size_t)n, &es->piece);
		if (es->piece.len == 0)
			continue;
		start = es->text.len;
		ac_buf_add(&es->text, es->piece.data, es->piece.len);
		rh_job_delta(es->job, es->text.data + start, es->piece.len);
	}
	return n < 0 ? -1 : 0;
}

/* Keeps the last STDERR_KEEP bytes of stderr; -1 once it ended. */
static int
pump_stderr(struct exec_state *es)
{
	char	buf[4096];
	ssize_t	n;
	size_t	drop;

	while ((n = read_some(es->err_wsi, buf, sizeof buf)) > 0) {
		es->last_output_ms = rh_mono_ms();
		ac_buf_add(&es->err, buf, (size_t)n);
		if (es->err.len > STDERR_KEEP) {
			drop = es->err.len - STDERR_KEEP;
			memmove(es->err.data, es->err.data + drop,
			    es->err.len - drop + 1);
			es->err.len -= drop;
		}
	}
	return n < 0 ? -1 : 0;
}

/* The last lines of stderr, as valid text (allocated). */
static char *
stderr_tail(struct exec_state *es)
{
	struct ac_buf	 out = { NULL, 0, 0 };
	struct sp_utf8	 u = { { 0 }, 0 };
	size_t		 end = es->err.len, start;
	int		 lines = 0;
	char		*text;

	while (end > 0 && (es->err.data[end - 1] == '\n' ||
	    es->err.data[end - 1] == '\r' || es->err.data[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && lines < STDERR_LINES) {
		if (es->err.data[start - 1] == '\n' && ++lines == STDERR_LINES)
			break;
		start--;
	}
	sp_utf8_feed(&u, es->err.data ? es->err.data + start : "",
	    end - start, &out);
	sp_utf8_finish(&u, &out);
	text = out.data ? out.data : xstrdup("");
	return text;
}

/* Ends the job by the command's exit status. */
static void
exec_finish(struct exec_state *es)
{
	struct rh_job			*job = es->job;
	const struct rh_provider	*prov = es->prov;
	char				*tail, how[64];
	int				 st = es->wstatus;

	ac_buf_reset(&es->piece);
	sp_utf8_finish(&es->utf8, &es->piece);
	if (es->piece.len > 0) {
		ac_buf_add(&es->text, es->piece.data, es->piece.len);
		rh_job_delta(job, es->piece.data, es->piece.len);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		job->provider_state = NULL;
		rh_job_done(job, es->text.data ? es->text.data : "",
		    es->text.len);
		es->job = NULL;
	} else {
		if (WIFEXITED(st))
			snprintf(how, sizeof how, "exit status %d",
			    WEXITSTATUS(st));
		else
			snprintf(how, sizeof how, "killed by signal %d",
			    WTERMSIG(st));
		if (es->err_wsi != NULL)
			(void)pump_stderr(es);
		tail = stderr_tail(es);
		job->provider_state = NULL;
		rh_provider_fail(job, prov, "%s%s%s", how, *tail ? ": " : "",
		    tail);
		free(tail);
		es->job = NULL;
	}
}

/* Answers the job once the command has exited and its output ended (or,
 * when a child it left holds the output open, EXIT_GRACE_MS after the
 * exit); returns 1 when it did, and es is gone. */
static int
exec_check(struct exec_state *es, int64_t now)
{
	if (es->pid > 0 && waitpid(es->pid, &es->wstatus, WNOHANG) == es->pid) {
		es->pid = 0;
		es->exited_ms = now;
	}
	if (es->exited_ms == 0 || ((es->out_wsi != NULL ||
	    es->err_wsi != NULL) && now - es->exited_ms < EXIT_GRACE_MS))
		return 0;
	if (es->out_wsi != NULL)
		(void)pump_stdout(es);
	exec_finish(es);
	exec_release(es);
	return 1;
}

/* Timer: feeds stdin, notices the exit, enforces timeout_ms (silence on
 * stdout and stderr) and max_ms (the whole reply). */
static void
exec_watch(lws_sorted_usec_list_t *sul)
{
	struct exec_state	*es = from_sul(sul);
	struct rh_job		*job = es->job;
	const struct rh_provider *prov = es->prov;
	int64_t			 now = rh_mono_ms(), next;

	pump_stdin(es);
	if (exec_check(es, now))
		return;
	if (es->exited_ms == 0 && now - es->last_output_ms >=
	    prov->timeout_ms) {
		exec_free(es);
		rh_provider_timeout(job, prov, "no output for %d ms "
		    "(timeout_ms); the command was killed", prov->timeout_ms);
		return;
	}
	if (prov->max_ms > 0 && now - es->started_ms >= prov->max_ms) {
		exec_free(es);
		rh_provider_timeout(job, prov, "the reply took more than %d ms "
		    "(max_ms); the command was killed", prov->max_ms);
		return;
	}
	/* Soon while stdin waits or only the exit is awaited; else at the
	 * first deadline, looking in on the command every WATCH_MS. */
	if (es->in_fd >= 0 || es->exited_ms > 0 ||
	    (es->out_wsi == NULL && es->err_wsi == NULL))
		next = WAIT_MS;
	else {
		next = es->last_output_ms + prov->timeout_ms - now;
		if (prov->max_ms > 0 &&
		    es->started_ms + prov->max_ms - now < next)
			next = es->started_ms + prov->max_ms - now;
		if (next > WATCH_MS)
			next = WATCH_MS;
	}
	lws_sul_schedule(rh_job_context(job), 0, &es->sul, exec_watch,
	    next * LWS_US_PER_MS);
}

/* The loop's events on a command's pipes. */
static int
pipe_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct exec_state	*es = lws_get_opaque_user_data(wsi);

	(void)user;
	(void)in;
	(void)len;
	if (es == NULL)		/* not a pipe, or one let go of (pipe_drop) */
		return reason == LWS_CALLBACK_RAW_RX_FILE ? -1 : 0;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (wsi == es->out_wsi)
			return pump_stdout(es);
		if (wsi == es->err_wsi)
			return pump_stderr(es);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (wsi == es->out_wsi)
			es->out_wsi = NULL;
		else if (wsi == es->err_wsi)
			es->err_wsi = NULL;
		if (exec_check(es, rh_mono_ms()))
			return 0;
		/* The output ended just before the exit: look again soon. */
		if (es->out_wsi == NULL && es->err_wsi == NULL)
			lws_sul_schedule(rh_job_context(es->job), 0, &es->sul,
			    exec_watch, WAIT_MS * LWS_US_PER_MS);
		return 0;
	default:
		return 0;
	}
}

/* The protocol of the pipes' vhost. */
const struct lws_protocols rh_exec_protocols[] = {
	{ "aish-exec-pipe", pipe_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Puts a pipe into the loop; NULL (and the fd closed) when it cannot. */
static struct lws *
pipe_adopt(struct exec_state *es, int fd)
{
	lws_adopt_desc_t	info;

	memset(&info, 0, sizeof info);
	info.vh = es->job->srv->pipes_vhost;
	info.type = LWS_ADOPT_RAW_FILE_DESC;
	info.fd.filefd = fd;
	info.vh_prot_name = rh_exec_protocols[0].name;
	info.opaque = es;
	return lws_adopt_descriptor_vhost_via_info(&info);
}

/* The environment of the command: ours, with the socket's variables. */
static char **
child_env(struct rh_socket *s, const char *mime)
{
	static const char *const ours[] = {
		"AISH_SOCKET_ID=", "AISH_AI_NAME=", "AISH_MODEL=",
		"AISH_PROMPT=", "AISH_MIME=", NULL
	};
	char	**env;
	size_t	  n = 0, i, j, k = 0;

	while (environ[n] != NULL)
		n++;
	env = xcalloc(n + 6, sizeof *env);
	for (i = 0; i < n; i++) {
		for (j = 0; ours[j] != NULL; j++) {
			if (strncmp(environ[i], ours[j], strlen(ours[j])) == 0)
				break;
		}
		if (ours[j] == NULL)
			env[k++] = xstrdup(environ[i]);
	}
	env[k++] = xasprintf("AISH_SOCKET_ID=%s", s->id);
	env[k++] = xasprintf("AISH_AI_NAME=%s", s->ai_name);
	if (s->model != NULL)
		env[k++] = xasprintf("AISH_MODEL=%s", s->model);
	if (s->prompt != NULL)
		env[k++] = xasprintf("AISH_PROMPT=%s", s->prompt);
	if (mime != NULL)
		env[k++] = xasprintf("AISH_MIME=%s", mime);
	return env;
}

/* Frees a NULL-ended array of strings. */
static void
strv_free(char **v)
{
	size_t	i;

	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Spawn attributes: a process group of its own, and the signal
 * dispositions and mask of a fresh process (the server ignores SIGPIPE). */
static void
spawn_attr(posix_spawnattr_t *attr)
{
	sigset_t	all, none;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(attr);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(attr, 0);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &all);
}

/* Starts the command with its three pipes; returns 0 or an errno. */
static int
spawn(struct exec_state *es, struct rh_socket *s)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	int				 in[2], out[2], err[2], rc;
	char				**env;

	if (pipe2(in, O_CLOEXEC) != 0)
		return errno;
	if (pipe2(out, O_CLOEXEC) != 0) {
		rc = errno;
		close(in[0]);
		close(in[1]);
		return rc;
	}
	if (pipe2(err, O_CLOEXEC) != 0) {
		rc = errno;
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return rc;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	spawn_attr(&attr);
	env = child_env(s, es->job->mime);
	rc = posix_spawnp(&es->pid, es->prov->command[0], &fa, &attr,
	    es->prov->command, env);
	strv_free(env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (rc != 0) {
		es->pid = 0;
		close(in[1]);
		close(out[0]);
		close(err[0]);
		return rc;
	}
	es->in_fd = in[1];
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	es->out_wsi = pipe_adopt(es, out[0]);
	es->err_wsi = pipe_adopt(es, err[0]);
	if (es->out_wsi == NULL || es->err_wsi == NULL)
		return EMFILE;
	pump_stdin(es);		/* what fits in the pipe goes now */
	return 0;
}

/* Starts the command of the socket's provider. */
static int
exec_start(struct rh_job *job, struct rh_socket *s, struct rh_err *err)
{
	struct exec_state	*es;
	int			 rc;

	if (s->provider->command == NULL || s->provider->command[0] == NULL) {
		rh_provider_err(err, s->provider, "no command configured");
		return -1;
	}
	es = xcalloc(1, sizeof *es);
	es->job = job;
	es->prov = s->provider;
	es->in_fd = -1;
	es->started_ms = es->last_output_ms = rh_mono_ms();
	if ((rc = spawn(es, s)) != 0) {
		rh_provider_err(err, s->provider, "cannot run %s: %s",
		    s->provider->command[0], strerror(rc));
		if (es->pid > 0)
			kill_and_forget(rh_job_context(job), es->pid);
		exec_release(es);
		return -1;
	}
	job->provider_state = es;
	lws_sul_schedule(rh_job_context(job), 0, &es->sul, exec_watch,
	    WAIT_MS * LWS_US_PER_MS);
	return 0;
}

/* Stops a command: it is killed with its process group. */
static void
exec_stop(struct rh_job *job)
{
	struct exec_state	*es = job->provider_state;

	if (es != NULL)
		exec_free(es);
}

const struct rh_provider_type rh_type_exec = {
	.name = "exec",
	.start = exec_start,
	.stop = exec_stop,
	.media = 1,
};
