/*
 * lsp-docs.c: the documents an LSP client has open: textDocument/didOpen,
 * didChange (incremental ranges or the whole text) and didClose, and the
 * positions of LSP ({line, character}) as byte offsets in them.
 *
 * Lines end at "\n", "\r\n" or "\r", as LSP says.  A character counts
 * UTF-16 code units (a code point above U+FFFF is two), or bytes when
 * the client chose UTF-8.  A character past the end of its line means
 * the line's end, a line past the last one the document's end, as LSP
 * asks; a position that is no pair of integers from 0 is an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsp.h"
#include "xalloc.h"

static struct lsp_doc	*docs;

/* The open document uri, or NULL. */
struct lsp_doc *
lsp_doc_find(const char *uri)
{
	struct lsp_doc	*d;

	for (d = docs; d != NULL; d = d->next) {
		if (strcmp(d->uri, uri) == 0)
			return d;
	}
	return NULL;
}

/* The number of bytes of the UTF-8 sequence that starts with c. */
static size_t
seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c >> 5) == 6)
		return 2;
	if ((c >> 4) == 0xe)
		return 3;
	if ((c >> 3) == 0x1e)
		return 4;
	return 1;
}

/* Where the content of the line that starts at off ends (before its
 * line break). */
static size_t
line_end(const struct lsp_doc *d, size_t off)
{
	while (off < d->len && d->text[off] != '\n' && d->text[off] != '\r')
		off++;
	return off;
}

/* Where the line after the one whose content ends at end starts. */
static size_t
next_line(const struct lsp_doc *d, size_t end)
{
	if (end < d->len && d->text[end] == '\r') {
		if (++end < d->len && d->text[end] == '\n')
			end++;
	} else if (end < d->len && d->text[end] == '\n')
		end++;
	return end;
}

/* The offset where line starts; the document's end past the last line. */
static size_t
line_start(const struct lsp_doc *d, long line)
{
	size_t	off = 0;

	while (line-- > 0 && off < d->len)
		off = next_line(d, line_end(d, off));
	return off;
}

/* The offset character units into the line that starts at off. */
static size_t
advance(const struct lsp_doc *d, size_t off, long character)
{
	size_t	end = line_end(d, off), n;
	long	units;

	while (off < end && character > 0) {
		n = seq_len((unsigned char)d->text[off]);
		units = lsp_client.utf8 ? (long)n : n == 4 ? 2 : 1;
		if (units > character)
			break;		/* inside a code point: before it */
		character -= units;
		off += n;
	}
	return off;
}

/* The number of units of the content of the line that starts at off. */
static long
line_units(const struct lsp_doc *d, size_t off)
{
	size_t	end = line_end(d, off), n;
	long	units = 0;

	while (off < end) {
		n = seq_len((unsigned char)d->text[off]);
		units += lsp_client.utf8 ? (long)n : n == 4 ? 2 : 1;
		off += n;
	}
	return units;
}

/* Reads an integer member from 0 of o into *out; 0 when it is none. */
static int
get_count(const cJSON *o, const char *name, long *out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15 ||
	    v->valuedouble != (double)(long)v->valuedouble)
		return 0;
	*out = (long)v->valuedouble;
	return 1;
}

/* The byte offset of a position {line, character}; -1 when it is none. */
static int
offset_of(const struct lsp_doc *d, const cJSON *pos, size_t *out)
{
	long	line, character;

	if (!cJSON_IsObject(pos) || !get_count(pos, "line", &line) ||
	    !get_count(pos, "character", &character))
		return -1;
	*out = advance(d, line_start(d, line), character);
	return 0;
}

/* The byte offsets of a range {start, end}; -1 when it is none or ends
 * before it starts. */
int
lsp_range_offsets(const struct lsp_doc *d, const cJSON *range, size_t *start,
    size_t *end)
{
	if (!cJSON_IsObject(range) ||
	    offset_of(d, cJSON_GetObjectItemCaseSensitive(range, "start"),
	    start) != 0 ||
	    offset_of(d, cJSON_GetObjectItemCaseSensitive(range, "end"),
	    end) != 0 || *end < *start)
		return -1;
	return 0;
}

/* Makes a position object. */
static cJSON *
position(long line, long character)
{
	cJSON	*p = cJSON_CreateObject();

	cJSON_AddNumberToObject(p, "line", (double)line);
	cJSON_AddNumberToObject(p, "character", (double)character);
	return p;
}

/* The range of the whole content of line (without its line break). */
cJSON *
lsp_line_range(const struct lsp_doc *d, long line)
{
	cJSON	*r = cJSON_CreateObject();

	cJSON_AddItemToObject(r, "start", position(line, 0));
	cJSON_AddItemToObject(r, "end", position(line,
	    line_units(d, line_start(d, line))));
	return r;
}

/* Replaces the bytes from start to end of d with text. */
static void
splice(struct lsp_doc *d, size_t start, size_t end, const char *text)
{
	size_t	n = strlen(text), len = d->len - (end - start) + n;
	char	*t = xmalloc(len + 1);

	memcpy(t, d->text, start);
	memcpy(t + start, text, n);
	memcpy(t + start + n, d->text + end, d->len - end);
	t[len] = '\0';
	free(d->text);
	d->text = t;
	d->len = len;
}

/* Frees one document. */
static void
doc_free(struct lsp_doc *d)
{
	free(d->uri);
	free(d->text);
	free(d);
}

/* Forgets every document (at exit). */
void
lsp_docs_free(void)
{
	struct lsp_doc	*d;

	while ((d = docs) != NULL) {
		docs = d->next;
		doc_free(d);
	}
}

/* Reads params.textDocument.uri; 0 after an error. */
static int
doc_uri(struct req *r, const cJSON *p, const cJSON **td, const char **uri)
{
	const cJSON	*u;

	*td = cJSON_GetObjectItemCaseSensitive(p, "textDocument");
	u = cJSON_GetObjectItemCaseSensitive(*td, "uri");
	if (!cJSON_IsString(u)) {
		req_error(r, RPC_INVALID_PARAMS, "textDocument.uri must be a "
		    "string", NULL);
		return 0;
	}
	*uri = u->valuestring;
	return 1;
}

/* textDocument/didOpen {textDocument:{uri, languageId, version, text}} */
static void
m_did_open(struct req *r, const cJSON *p)
{
	const cJSON	*td, *text;
	const char	*uri;
	struct lsp_doc	*d;
	long		 version = 0;

	if (!doc_uri(r, p, &td, &uri))
		return;
	text = cJSON_GetObjectItemCaseSensitive(td, "text");
	if (!cJSON_IsString(text)) {
		req_error(r, RPC_INVALID_PARAMS, "textDocument.text must be a "
		    "string", NULL);
		return;
	}
	(void)get_count(td, "version", &version);
	if ((d = lsp_doc_find(uri)) == NULL) {
		d = xcalloc(1, sizeof *d);
		d->uri = xstrdup(uri);
		d->next = docs;
		docs = d;
	}
	free(d->text);
	d->text = xstrdup(text->valuestring);
	d->len = strlen(d->text);
	d->version = version;
	req_result(r, NULL);
}

/* Applies one content change to d; 0 after an error. */
static int
apply_change(struct req *r, struct lsp_doc *d, const cJSON *change)
{
	const cJSON	*text = cJSON_GetObjectItemCaseSensitive(change, "text");
	const cJSON	*range = cJSON_GetObjectItemCaseSensitive(change,
			    "range");
	size_t		 start, end;

	if (!cJSON_IsString(text)) {
		req_error(r, RPC_INVALID_PARAMS, "a content change needs "
		    "\"text\"", NULL);
		return 0;
	}
	if (range == NULL) {
		splice(d, 0, d->len, text->valuestring);
		return 1;
	}
	if (lsp_range_offsets(d, range, &start, &end) != 0) {
		req_error(r, RPC_INVALID_PARAMS, "a content change's range "
		    "is not a range", NULL);
		return 0;
	}
	splice(d, start, end, text->valuestring);
	return 1;
}

/* textDocument/didChange {textDocument:{uri, version}, contentChanges} */
static void
m_did_change(struct req *r, const cJSON *p)
{
	const cJSON	*td, *changes, *c;
	const char	*uri;
	struct lsp_doc	*d;
	char		 text[160];

	if (!doc_uri(r, p, &td, &uri))
		return;
	if ((d = lsp_doc_find(uri)) == NULL) {
		snprintf(text, sizeof text, "didChange of a document that is "
		    "not open: %.100s", uri);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
		return;
	}
	changes = cJSON_GetObjectItemCaseSensitive(p, "contentChanges");
	if (!cJSON_IsArray(changes)) {
		req_error(r, RPC_INVALID_PARAMS, "contentChanges must be an "
		    "array", NULL);
		return;
	}
	cJSON_ArrayForEach(c, changes) {
		if (!apply_change(r, d, c))
			return;
	}
	(void)get_count(td, "version", &d->version);
	req_result(r, NULL);
}

/* textDocument/didClose {textDocument:{uri}} */
static void
m_did_close(struct req *r, const cJSON *p)
{
	const cJSON	*td;
	const char	*uri;
	struct lsp_doc	*d, **pp;

	if (!doc_uri(r, p, &td, &uri))
		return;
	for (pp = &docs; (d = *pp) != NULL; pp = &d->next) {
		if (strcmp(d->uri, uri) == 0) {
			*pp = d->next;
			doc_free(d);
			break;
		}
	}
	req_result(r, NULL);
}

const struct method methods_lsp_docs[] = {
	{ "textDocument/didOpen", m_did_open, 0 },
	{ "textDocument/didChange", m_did_change, 0 },
	{ "textDocument/didClose", m_did_close, 0 },
	{ NULL, NULL, 0 }
};
