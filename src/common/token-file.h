/*
 * token-file.h: reading a bearer token from a file (--token-file), so
 * that the token never shows in a process's command line.
 */
#ifndef AC_TOKEN_FILE_H
#define AC_TOKEN_FILE_H

#include <stddef.h>

/* The longest token (SPEC section 1). */
#define AISH_MAX_TOKEN	4096

/* Reads the token in path: the whole file, less one line end.  Returns a
 * new string, or NULL with err holding "PATH: REASON". */
char		*ac_token_file_read(const char *path, char *err, size_t errlen);
/* NULL when token can be a bearer token, else why not. */
const char	*ac_token_invalid(const char *token);
/* NULL, or why url (one URL, or several separated by commas) cannot name
 * the server (one holds user:password@). */
const char	*ac_url_credentials(const char *url);

#endif
