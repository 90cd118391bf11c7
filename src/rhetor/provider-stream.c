/*
 * provider-stream.c: line, Server-Sent Event and UTF-8 splitters that take
 * their input in chunks of any size (see provider-stream.h).
 */
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "provider-stream.h"
#include "xalloc.h"

/* ---- lines ------------------------------------------------------------- */

/* Hands the line collected so far to cb and starts a new one. */
static int
line_end(struct sp_lines *p, sp_line_cb cb, void *ud)
{
	int	rc;

	rc = cb(ud, p->partial.data ? p->partial.data : "", p->partial.len);
	ac_buf_reset(&p->partial);
	return rc;
}

/* Feeds a chunk to the line splitter. */
int
sp_lines_feed(struct sp_lines *p, const char *data, size_t len,
    sp_line_cb cb, void *ud)
{
	size_t	i = 0, run;
	int	rc;

	while (i < len) {
		if (p->after_cr) {
			p->after_cr = 0;
			if (data[i] == '\n') {
				i++;
				continue;
			}
		}
		for (run = 0; i + run < len && data[i + run] != '\r' &&
		    data[i + run] != '\n'; run++)
			;
		if (p->partial.len + run > SP_MAX_LINE)
			return -1;
		ac_buf_add(&p->partial, data + i, run);
		i += run;
		if (i == len)
			break;
		p->after_cr = data[i] == '\r';
		i++;
		if ((rc = line_end(p, cb, ud)) != 0)
			return rc;
	}
	return 0;
}

/* Hands over a last line that had no end. */
int
sp_lines_finish(struct sp_lines *p, sp_line_cb cb, void *ud)
{
	if (p->partial.len == 0)
		return 0;
	return line_end(p, cb, ud);
}

/* Frees the line splitter's memory. */
void
sp_lines_free(struct sp_lines *p)
{
	ac_buf_free(&p->partial);
	p->after_cr = 0;
}

/* ---- Server-Sent Events ------------------------------------------------ */

/* Hands a complete event over, if it had data, and starts the next. */
static int
sse_dispatch(struct sp_sse *p)
{
	int	rc = 0;

	if (p->has_data) {
		/* The data lines were joined with "\n" after each one. */
		if (p->data.len > 0)
			p->data.data[--p->data.len] = '\0';
		rc = p->cb(p->ud, p->event.len ? p->event.data : "message",
		    p->data.data ? p->data.data : "", p->data.len);
	}
	ac_buf_reset(&p->event);
	ac_buf_reset(&p->data);
	p->has_data = 0;
	return rc;
}

/* One SSE line: a field, a comment, or the empty line ending an event. */
static int
sse_line(void *ud, const char *line, size_t len)
{
	struct sp_sse	*p = ud;
	const char	*colon = memchr(line, ':', len);
	size_t		 name_len = colon ? (size_t)(colon - line) : len;
	const char	*value = colon ? colon + 1 : line + len;
	size_t		 value_len = (size_t)(line + len - value);

	if (len == 0)
		return sse_dispatch(p);
	if (name_len == 0)
		return 0;		/* a comment */
	if (value_len > 0 && *value == ' ') {
		value++;
		value_len--;
	}
	if (name_len == 5 && memcmp(line, "event", 5) == 0) {
		ac_buf_reset(&p->event);
		ac_buf_add(&p->event, value, value_len);
	} else if (name_len == 4 && memcmp(line, "data", 4) == 0) {
		if (p->data.len + value_len > SP_MAX_LINE)
			return -1;
		ac_buf_add(&p->data, value, value_len);
		ac_buf_add(&p->data, "\n", 1);
		p->has_data = 1;
	}
	/* "id", "retry" and unknown fields are ignored, as the standard
	 * says. */
	return 0;
}

/* Feeds a chunk to the event parser. */
int
sp_sse_feed(struct sp_sse *p, const char *data, size_t len, sp_event_cb cb,
    void *ud)
{
	p->cb = cb;
	p->ud = ud;
	return sp_lines_feed(&p->lines, data, len, sse_line, p);
}

/* Hands over an event the stream ended in the middle of. */
int
sp_sse_finish(struct sp_sse *p, sp_event_cb cb, void *ud)
{
	int	rc;

	p->cb = cb;
	p->ud = ud;
	if ((rc = sp_lines_finish(&p->lines, sse_line, p)) != 0)
		return rc;
	return sse_dispatch(p);
}

/* Frees the event parser's memory. */
void
sp_sse_free(struct sp_sse *p)
{
	sp_lines_free(&p->lines);
	ac_buf_free(&p->event);
	ac_buf_free(&p->data);
	p->has_data = 0;
}

/* ---- UTF-8 ------------------------------------------------------------- */

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

/* What the bytes at s hold (ac_utf8_char), but NUL is no character
 * here: it is replaced like a byte that cannot be UTF-8. */
static int
utf8_char(const unsigned char *s, size_t n)
{
	return s[0] == '\0' ? -1 : ac_utf8_char((const char *)s, n);
}

/* Copies the whole characters of s[0..n) to out; returns how many bytes
 * at the end were held back as an incomplete character. */
static size_t
utf8_copy(const unsigned char *s, size_t n, struct ac_buf *out)
{
	size_t	i = 0, start = 0;
	int	k;

	while (i < n) {
		k = utf8_char(s + i, n - i);
		if (k > 0) {
			i += (size_t)k;
			continue;
		}
		ac_buf_add(out, (const char *)s + start, i - start);
		if (k == 0)
			return n - i;
		ac_buf_add(out, replacement, sizeof replacement - 1);
		start = ++i;
	}
	ac_buf_add(out, (const char *)s + start, i - start);
	return 0;
}

/* Sends on what the held-back bytes decide: whole characters, or U+FFFD
 * for a byte that cannot start one; stops at an incomplete start. */
static void
pending_drain(struct sp_utf8 *u, struct ac_buf *out)
{
	int	k;

	while (u->npending > 0) {
		k = utf8_char(u->pending, u->npending);
		if (k == 0)
			return;
		if (k > 0)
			ac_buf_add(out, (const char *)u->pending, (size_t)k);
		else {
			ac_buf_add(out, replacement, sizeof replacement - 1);
			k = 1;
		}
		memmove(u->pending, u->pending + k, u->npending - (size_t)k);
		u->npending -= (size_t)k;
	}
}

/* Passes a chunk on in whole characters (see provider-stream.h). */
void
sp_utf8_feed(struct sp_utf8 *u, const char *data, size_t len,
    struct ac_buf *out)
{
	const unsigned char	*s = (const unsigned char *)data;
	size_t			 held;

	/* First finish the character held back from the last chunk; four
	 * bytes always decide, so pending never overflows. */
	while (u->npending > 0 && len > 0) {
		u->pending[u->npending++] = *s++;
		len--;
		pending_drain(u, out);
	}
	held = utf8_copy(s, len, out);
	if (held > 0) {
		memcpy(u->pending, s + len - held, held);
		u->npending = held;
	}
}

/* Ends the text: an incomplete character becomes U+FFFD. */
void
sp_utf8_finish(struct sp_utf8 *u, struct ac_buf *out)
{
	if (u->npending > 0)
		ac_buf_add(out, replacement, sizeof replacement - 1);
	u->npending = 0;
}
