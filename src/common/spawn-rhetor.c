/*
 * spawn-rhetor.c: starts aish-rhetor when nothing answers at its URL.
 *
 * A client with the default URL should just work on a fresh machine, so
 * when GET /health gets no answer it starts the server itself: found next
 * to the running program (a build tree or an install puts both in one
 * directory), else on PATH.  The server is double-forked into a session
 * of its own so that it outlives the client, never holds its terminal,
 * and leaves no zombie behind.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spawn-rhetor.h"
#include "state-dir.h"

#define RHETOR_PROGRAM	"aish-rhetor"
#define POLL_MS		50

/* Splits http://HOST:PORT/... into host and port; -1 when it is not an
 * http URL with a numeric host the server can listen on. */
static int
url_host_port(const char *url, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char	*p, *end, *colon;
	size_t		 n;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	p = url + 7;
	end = p + strcspn(p, "/?#");
	colon = memchr(p, ':', (size_t)(end - p));
	n = (size_t)((colon ? colon : end) - p);
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, p, n);
	host[n] = '\0';
	if (colon == NULL) {
		snprintf(port, portlen, "80");
		return 0;
	}
	n = (size_t)(end - colon - 1);
	if (n == 0 || n >= portlen || strspn(colon + 1, "0123456789") < n)
		return -1;
	memcpy(port, colon + 1, n);
	port[n] = '\0';
	return 0;
}

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes; 1 when it
 * is ready (or has an error to report), 0 otherwise. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd	pfd;
	long long	left;
	int		n;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		pfd.revents = 0;
		if ((left = deadline - now_ms()) <= 0)
			return 0;
		if ((n = poll(&pfd, 1, (int)left)) > 0)
			return 1;
		if (n == 0 || errno != EINTR)
			return 0;
	}
}

/* A TCP connection to host:port made before the deadline; -1 when none. */
static int
connect_before(const char *host, const char *port, long long deadline)
{
	struct addrinfo	 hints, *res, *ai;
	socklen_t	 len;
	int		 fd = -1, error;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		len = sizeof error;
		if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 &&
		    error == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Reads the start of the answer on fd until its status line is whole;
 * the status, or 0 when none came before the deadline. */
static int
read_status(int fd, long long deadline)
{
	char	buf[256];
	size_t	have = 0;
	ssize_t	n;
	int	status;

	while (have < sizeof buf - 1 && wait_fd(fd, POLLIN, deadline)) {
		n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if (strchr(buf, '\n') != NULL)
			break;
	}
	buf[have] = '\0';
	if (sscanf(buf, "HTTP/%*d.%*d %3d", &status) != 1)
		return 0;
	return status;
}

/* True when GET url/health answers 200 within timeout_ms: a plain
 * HTTP/1.0 request on a TCP connection of its own, with every wait
 * bounded by the timeout (it runs before any event loop starts). */
int
ac_rhetor_healthy(const char *url, long timeout_ms)
{
	char		 host[256], port[16], request[640];
	const char	*path;
	long long	 deadline = now_ms() + timeout_ms;
	size_t		 n;
	int		 fd, len, status = 0;

	if (url_host_port(url, host, sizeof host, port, sizeof port) == -1)
		return 0;
	path = url + 7 + strcspn(url + 7, "/?#");
	n = *path == '/' ? strcspn(path, "?#") : 0;
	while (n > 0 && path[n - 1] == '/')
		n--;
	len = snprintf(request, sizeof request, "GET %.*s/health HTTP/1.0\r\n"
	    "Host: %s:%s\r\n\r\n", (int)n, path, host, port);
	if (len < 0 || (size_t)len >= sizeof request)
		return 0;
	if ((fd = connect_before(host, port, deadline)) == -1)
		return 0;
	if (send(fd, request, (size_t)len, MSG_NOSIGNAL) == len)
		status = read_status(fd, deadline);
	close(fd);
	return status == 200;
}

/* The aish-rhetor next to the running program, or the bare name (found
 * on PATH by execvp). */
static void
rhetor_path(char *out, size_t len)
{
	char	 self[PATH_MAX];
	ssize_t	 n;
	char	*slash;

	snprintf(out, len, "%s", RHETOR_PROGRAM);
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return;
	*slash = '\0';
	/* In a build tree, libtool runs programs from .libs/: the server is
	 * one directory up. */
	if ((slash = strrchr(self, '/')) != NULL && strcmp(slash, "/.libs") == 0)
		*slash = '\0';
	if ((size_t)snprintf(out, len, "%s/%s", self, RHETOR_PROGRAM) >= len ||
	    access(out, X_OK) != 0)
		snprintf(out, len, "%s", RHETOR_PROGRAM);
}

/* In the detached grandchild: writes the pid file, points stdio at the
 * log and becomes aish-rhetor.  Never returns. */
static void
become_rhetor(const char *program, const char *host, const char *port,
    const char *dir)
{
	char	 path[PATH_MAX];
	int	 fd, log = -1;

	if (dir != NULL) {
		snprintf(path, sizeof path, "%s/aish-rhetor.pid", dir);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600)) != -1) {
			dprintf(fd, "%ld\n", (long)getpid());
			close(fd);
		}
		snprintf(path, sizeof path, "%s/aish-rhetor.log", dir);
		log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0600);
	}
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(log != -1 ? log : fd, STDOUT_FILENO);
		dup2(log != -1 ? log : fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	execlp(program, program, "--host", host, "--port", port, (char *)NULL);
	_exit(127);
}

/* Starts aish-rhetor detached; -1 when fork fails. */
static int
start_detached(const char *host, const char *port)
{
	char	 program[PATH_MAX], *dir;
	pid_t	 pid;
	int	 status;

	rhetor_path(program, sizeof program);
	dir = ac_state_dir(NULL);
	if ((pid = fork()) == -1) {
		free(dir);
		return -1;
	}
	if (pid == 0) {
		setsid();
		if (fork() == 0)
			become_rhetor(program, host, port, dir);
		_exit(0);
	}
	free(dir);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return 0;
}

/* Sleeps for ms milliseconds. */
static void
sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Makes sure a server answers at url, starting one when none does. */
int
ac_spawn_rhetor(const char *url, char *err, size_t errlen)
{
	char		host[256], port[16];
	long long	deadline;

	if (ac_rhetor_healthy(url, 500))
		return 0;
	if (url_host_port(url, host, sizeof host, port, sizeof port) == -1) {
		snprintf(err, errlen, "cannot start a server for this URL");
		return -1;
	}
	if (start_detached(host, port) == -1) {
		snprintf(err, errlen, "cannot start %s: %s", RHETOR_PROGRAM,
		    strerror(errno));
		return -1;
	}
	deadline = now_ms() + AC_SPAWN_RHETOR_WAIT_MS;
	while (now_ms() < deadline) {
		sleep_ms(POLL_MS);
		if (ac_rhetor_healthy(url, 250))
			return 0;
	}
	snprintf(err, errlen, "started %s, but it did not answer within %d ms",
	    RHETOR_PROGRAM, AC_SPAWN_RHETOR_WAIT_MS);
	return -1;
}
