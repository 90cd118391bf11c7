/*
 * io.h: text in and out of the command line: whole inputs and error
 * messages that point at a column.
 */
#ifndef AISH_CLI_IO_H
#define AISH_CLI_IO_H

#include <stdio.h>
#include <stddef.h>

/*
 * Reads the whole input of a command: from path, or stdin when path is
 * NULL, without one trailing newline.  Returns the text (caller frees) and
 * its length in *len, or NULL after a message.  Input that is not UTF-8
 * text is an error, unless binary is not NULL: then it is returned whole,
 * byte for byte, and *binary is set (else cleared).
 */
char	*io_read_input(const char *path, size_t *len, int *binary);
/* The media type of binary data, from its first bytes ("audio/wav", ...;
 * "application/octet-stream" when unknown). */
const char *io_guess_mime(const char *data, size_t len);
/* Prints "aish: WHERE parse error at column N: REASON", the line and a
 * caret under the column (a byte offset). */
void	io_parse_error(const char *where, const char *line, size_t column,
	    const char *reason);
/* Writes text and, when it lacks one, a final newline; -1 on error. */
int	io_put_line(FILE *f, const char *text, size_t len);

#endif
