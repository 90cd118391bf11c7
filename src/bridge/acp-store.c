/*
 * acp-store.c: ACP session ids, and the file that keeps each session so
 * that a new bridge process can load it: $XDG_STATE_HOME/aish/acp/ID.json
 * (else ~/.local/state/aish/acp/), mode 0600,
 * {"session_id","cwd","target","sockets":{target: socket},"next_socket"}.
 * The conversation itself is the server's (each socket's history); the
 * file only says which sockets are the session's.  A file is written
 * whole to a temporary name and renamed, so a crash leaves the old one
 * or the new one, never half of either.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acp.h"
#include "json-parse.h"
#include "state-dir.h"
#include "xalloc.h"

#define ACP_FILE_MAX	(1024 * 1024)

/* True for an id that acp_new_id() may have made: "acp-" and 16
 * lower-case hex digits (so an id never names another file). */
int
acp_id_valid(const char *id)
{
	size_t	i, n = strlen(ACP_SESSION_PREFIX);

	if (strlen(id) != ACP_SESSION_ID_LEN ||
	    strncmp(id, ACP_SESSION_PREFIX, n) != 0)
		return 0;
	for (i = n; id[i] != '\0'; i++) {
		if (strchr("0123456789abcdef", id[i]) == NULL)
			return 0;
	}
	return 1;
}

/* True for a socket that a session made: "<session id>-<n>". */
int
acp_socket_of_session(const char *socket_id)
{
	char		 id[ACP_SESSION_ID_LEN + 1];
	const char	*p = socket_id + ACP_SESSION_ID_LEN;

	if (strlen(socket_id) < ACP_SESSION_ID_LEN + 2 || *p != '-')
		return 0;
	memcpy(id, socket_id, ACP_SESSION_ID_LEN);
	id[ACP_SESSION_ID_LEN] = '\0';
	if (!acp_id_valid(id))
		return 0;
	for (p++; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
	}
	return 1;
}

/* Makes a new session id in id (ACP_SESSION_ID_LEN + 1 bytes). */
void
acp_new_id(char *id)
{
	unsigned char	b[8];
	size_t		i;

	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		/* Never expected; the time and pid still make it unique. */
		uint64_t v = (uint64_t)lws_now_usecs() ^
		    ((uint64_t)getpid() << 40);
		memcpy(b, &v, sizeof b);
	}
	memcpy(id, ACP_SESSION_PREFIX, strlen(ACP_SESSION_PREFIX));
	for (i = 0; i < sizeof b; i++)
		snprintf(id + strlen(ACP_SESSION_PREFIX) + 2 * i, 3, "%02x",
		    b[i]);
}

/* The path of session id's file (caller frees), its directory made;
 * NULL when there is no state directory. */
static char *
session_path(const char *id, const char *suffix)
{
	char	*dir = ac_state_dir("acp"), *p;

	if (dir == NULL)
		return NULL;
	p = xasprintf("%s/%s.json%s", dir, id, suffix);
	free(dir);
	return p;
}

/* Writes s's file; 0, or -1 (logged) when it cannot be written. */
int
acp_store_save(const struct acp_session *s)
{
	char	*path = session_path(s->id, ""), *tmp = NULL, *text = NULL;
	cJSON	*o;
	size_t	 len;
	int	 fd = -1, rc = -1;

	if (path == NULL) {
		logmsg("acp: no state directory: session %s is not kept",
		    s->id);
		return -1;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "session_id", s->id);
	cJSON_AddStringToObject(o, "cwd", s->cwd ? s->cwd : "");
	cJSON_AddStringToObject(o, "target", s->target ? s->target : "");
	cJSON_AddItemToObject(o, "sockets", cJSON_Duplicate(s->sockets, 1));
	cJSON_AddNumberToObject(o, "next_socket", (double)s->next_socket);
	text = cJSON_Print(o);
	cJSON_Delete(o);
	tmp = session_path(s->id, ".tmp");
	len = strlen(text);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    write(fd, text, len) != (ssize_t)len || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		logmsg("acp: %s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	} else
		rc = 0;
	cJSON_free(text);
	free(tmp);
	free(path);
	return rc;
}

/* Reads the text of the file at path (at most ACP_FILE_MAX bytes), or
 * NULL. */
static char *
read_small(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "re");
	char	*buf;

	if (f == NULL)
		return NULL;
	buf = xmalloc(ACP_FILE_MAX + 1);
	*len = fread(buf, 1, ACP_FILE_MAX + 1, f);
	fclose(f);
	if (*len > ACP_FILE_MAX) {
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

/* The session of id from its file, in new memory, or NULL when there is
 * none (or it is unreadable: logged). */
struct acp_session *
acp_store_load(const char *id)
{
	struct acp_session	*s;
	char			*path, *text;
	size_t			 len;
	cJSON			*o;
	const cJSON		*socks, *v;

	if (!acp_id_valid(id) || (path = session_path(id, "")) == NULL)
		return NULL;
	text = read_small(path, &len);
	o = text ? ac_json_parse(text, len) : NULL;
	free(text);
	socks = cJSON_GetObjectItemCaseSensitive(o, "sockets");
	if (o == NULL || !cJSON_IsObject(socks)) {
		if (o != NULL || access(path, F_OK) == 0)
			logmsg("acp: %s: not a session file", path);
		cJSON_Delete(o);
		free(path);
		return NULL;
	}
	free(path);
	s = xcalloc(1, sizeof *s);
	snprintf(s->id, sizeof s->id, "%s", id);
	v = cJSON_GetObjectItemCaseSensitive(o, "cwd");
	s->cwd = xstrdup(cJSON_IsString(v) ? v->valuestring : "");
	v = cJSON_GetObjectItemCaseSensitive(o, "target");
	s->target = cJSON_IsString(v) && *v->valuestring ?
	    xstrdup(v->valuestring) : NULL;
	s->sockets = cJSON_CreateObject();
	cJSON_ArrayForEach(v, socks) {
		if (cJSON_IsString(v) && acp_socket_of_session(v->valuestring))
			cJSON_AddStringToObject(s->sockets, v->string,
			    v->valuestring);
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "next_socket");
	s->next_socket = cJSON_IsNumber(v) && v->valuedouble >= 1 &&
	    v->valuedouble < 1e9 ? (long)v->valuedouble : 1;
	cJSON_Delete(o);
	return s;
}

/* Frees a session. */
void
acp_session_free(struct acp_session *s)
{
	if (s == NULL)
		return;
	free(s->cwd);
	free(s->target);
	cJSON_Delete(s->sockets);
	cJSON_Delete(s->targets);
	free(s);
}
