/*
 * compose.c: builds the text one stage's AI receives (see compose.h).
 *
 * The length is counted first, then the text written once into a buffer
 * of exactly that size: a 4 MiB input with a context item is copied once.
 */
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "xalloc.h"

/* Shortest fence, as in Markdown. */
#define FENCE_MIN	3

/* The number of backticks in the fence for text: one more than its
 * longest run of backticks, at least FENCE_MIN. */
static size_t
fence_len(const char *text, size_t len)
{
	size_t	i, run = 0, longest = 0;

	for (i = 0; i < len; i++) {
		run = text[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	return longest + 1 > FENCE_MIN ? longest + 1 : FENCE_MIN;
}

/* True when the item's text needs a newline before its closing fence. */
static int
needs_newline(const struct ac_context_item *it)
{
	return it->text_len > 0 && it->text[it->text_len - 1] != '\n';
}

/* Writes n backticks at p; returns the end. */
static char *
put_fence(char *p, size_t n)
{
	memset(p, '`', n);
	return p + n;
}

/* Writes len bytes at p; returns the end. */
static char *
put(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

/* Writes one context item at p (no newline after the closing fence). */
static char *
put_item(char *p, const struct ac_context_item *it, size_t fence)
{
	const char	*lang = it->language ? it->language : "";

	p = put(p, it->name, strlen(it->name));
	*p++ = '\n';
	p = put_fence(p, fence);
	p = put(p, lang, strlen(lang));
	*p++ = '\n';
	p = put(p, it->text, it->text_len);
	if (needs_newline(it))
		*p++ = '\n';
	return put_fence(p, fence);
}

/* Builds the text of one stage (see compose.h). */
char *
ac_compose(const struct ac_context_item *items, size_t n,
    const char *instruction, const char *input, size_t input_len,
    size_t *len)
{
	size_t	 i, total = 0, parts = 0, *fences;
	size_t	 ilen = instruction ? strlen(instruction) : 0;
	char	*text, *p;

	fences = n > 0 ? xcalloc(n, sizeof *fences) : NULL;
	for (i = 0; i < n; i++) {
		fences[i] = fence_len(items[i].text, items[i].text_len);
		total += strlen(items[i].name) + 1 + fences[i] +
		    (items[i].language ? strlen(items[i].language) : 0) + 1 +
		    items[i].text_len + (size_t)needs_newline(&items[i]) +
		    fences[i];
		parts++;
	}
	parts += (ilen > 0) + (input_len > 0);
	total += ilen + input_len + (parts > 0 ? 2 * (parts - 1) : 0);
	p = text = xmalloc(total + 1);
	for (i = 0; i < n; i++) {
		if (p != text)
			p = put(p, "\n\n", 2);
		p = put_item(p, &items[i], fences[i]);
	}
	if (ilen > 0) {
		if (p != text)
			p = put(p, "\n\n", 2);
		p = put(p, instruction, ilen);
	}
	if (input_len > 0) {
		if (p != text)
			p = put(p, "\n\n", 2);
		p = put(p, input, input_len);
	}
	*p = '\0';
	*len = (size_t)(p - text);
	free(fences);
	return text;
}
