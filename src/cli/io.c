/*
 * io.c: reading inputs and pointed error messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "names.h"
#include "xalloc.h"
#include "cli.h"
#include "io.h"

/* Reads f to its end into b; -1 on a read error. */
static int
read_all(FILE *f, struct ac_buf *b)
{
	char	chunk[65536];
	size_t	n;

	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		ac_buf_add(b, chunk, n);
	ac_buf_add(b, "", 0);
	return ferror(f) ? -1 : 0;
}

/* The whole input of a command, without one trailing newline. */
char *
io_read_input(const char *path, size_t *len, int *binary)
{
	struct ac_buf	 b = { NULL, 0, 0 };
	FILE		*f = stdin;
	const char	*name = path ? path : "stdin";

	if (path != NULL && (f = fopen(path, "r")) == NULL) {
		cli_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (read_all(f, &b) == -1) {
		if (!cli_interrupted)	/* Ctrl-C is no read error */
			cli_error("%s: %s", name, strerror(errno));
		goto fail;
	}
	if (binary != NULL)
		*binary = !ac_utf8_valid(b.data, b.len);
	if (binary != NULL && *binary) {
		/* Sent as a binary stream, whole. */
	} else if (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	if ((binary == NULL || !*binary) && !ac_utf8_valid(b.data, b.len)) {
		cli_error("%s: not UTF-8 text (or holds a NUL byte)", name);
		goto fail;
	}
	if (path != NULL)
		fclose(f);
	*len = b.len;
	return b.data;
fail:
	if (path != NULL)
		fclose(f);
	ac_buf_free(&b);
	return NULL;
}

/* Magic numbers of the media types a binary input may be. */
static const struct {
	size_t		 at;
	const char	*magic;
	size_t		 len;
	const char	*mime;
} magics[] = {
	{ 8, "WAVE", 4, "audio/wav" },
	{ 0, "OggS", 4, "audio/ogg" },
	{ 0, "fLaC", 4, "audio/flac" },
	{ 0, "ID3", 3, "audio/mpeg" },
	{ 0, "\x89PNG", 4, "image/png" },
	{ 0, "\xff\xd8\xff", 3, "image/jpeg" },
	{ 0, "GIF8", 4, "image/gif" },
	{ 0, "%PDF", 4, "application/pdf" },
	{ 4, "ftyp", 4, "video/mp4" },
};

/* The media type of binary data, from its first bytes. */
const char *
io_guess_mime(const char *data, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof magics / sizeof magics[0]; i++) {
		if (len >= magics[i].at + magics[i].len &&
		    memcmp(data + magics[i].at, magics[i].magic,
		    magics[i].len) == 0)
			return magics[i].mime;
	}
	return "application/octet-stream";
}

/* A parse error with the line and a caret under the culprit. */
void
io_parse_error(const char *where, const char *line, size_t column,
    const char *reason)
{
	size_t	len = strcspn(line, "\r\n"), i;

	if (column > len)
		column = len;
	fprintf(stderr, "aish: %sparse error at column %zu: %s\n",
	    where ? where : "", column + 1, reason);
	fprintf(stderr, "  %.*s\n  ", (int)len, line);
	/* The caret goes under the character: one blank per character
	 * (UTF-8 continuation bytes skipped), tabs kept. */
	for (i = 0; i < column; i++) {
		if (((unsigned char)line[i] & 0xc0) != 0x80)
			fputc(line[i] == '\t' ? '\t' : ' ', stderr);
	}
	fputs("^\n", stderr);
}

/* Writes text and a newline unless it ends with one. */
int
io_put_line(FILE *f, const char *text, size_t len)
{
	if (len > 0 && fwrite(text, 1, len, f) != len)
		return -1;
	if ((len == 0 || text[len - 1] != '\n') && fputc('\n', f) == EOF)
		return -1;
	return fflush(f) == 0 ? 0 : -1;
}
