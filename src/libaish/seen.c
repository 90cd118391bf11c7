/*
 * seen.c: what libaish already delivered, so that a reply heard twice
 * (on its AI's socket and on a team socket, or again after a server
 * restart) reaches the caller once.
 *
 * Final frames are known by (socket, seq), streamed pieces by (socket,
 * write id) and how many came.  Each is remembered in a bucket chosen by
 * a hash of its key, a ring of AISHI_WAYS slots where the oldest entry
 * makes room for the newest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aish-private.h"
#include "hash.h"

/* True (and remembered) when the final frame (socket_id, seq) was
 * delivered before.  Ids are known as they fit their slot: a longer one
 * (no server sends it) is cut the same way each time it comes. */
int
aishi_final_seen(struct aish *h, const char *socket_id_in, int64_t seq)
{
	struct aishi_seen_bucket	*b;
	struct aishi_seen		*s;
	char				 socket_id[sizeof s->socket_id];
	unsigned			 i;

	snprintf(socket_id, sizeof socket_id, "%s", socket_id_in);
	if (h->seen == NULL &&
	    (h->seen = calloc(AISHI_SEEN_BUCKETS, sizeof *h->seen)) == NULL)
		return 0;
	b = &h->seen[ac_hash_bytes(ac_hash_str(AC_HASH_START, socket_id),
	    &seq, sizeof seq) % AISHI_SEEN_BUCKETS];
	for (i = 0; i < AISHI_WAYS; i++) {
		s = &b->slot[i];
		if (s->used && s->seq == seq &&
		    strcmp(s->socket_id, socket_id) == 0)
			return 1;
	}
	s = &b->slot[b->next];
	b->next = (b->next + 1) % AISHI_WAYS;
	s->seq = seq;
	s->used = 1;
	snprintf(s->socket_id, sizeof s->socket_id, "%s", socket_id);
	return 0;
}

/* True when piece index of the reply to write_id from socket_id was
 * delivered before; else it counts as delivered now. */
int
aishi_delta_seen(struct aish *h, const char *socket_id_in,
    const char *write_id_in, int64_t index)
{
	struct aishi_streamed_bucket	*b;
	struct aishi_streamed		*s;
	char				 socket_id[sizeof s->socket_id];
	char				 write_id[sizeof s->write_id];
	unsigned			 i;

	snprintf(socket_id, sizeof socket_id, "%s", socket_id_in);
	snprintf(write_id, sizeof write_id, "%s", write_id_in);
	if (h->streamed == NULL && (h->streamed = calloc(
	    AISHI_STREAMED_BUCKETS, sizeof *h->streamed)) == NULL)
		return 0;
	b = &h->streamed[ac_hash_str(ac_hash_str(AC_HASH_START,
	    socket_id), write_id) % AISHI_STREAMED_BUCKETS];
	for (i = 0; i < AISHI_WAYS; i++) {
		s = &b->slot[i];
		if (strcmp(s->write_id, write_id) == 0 &&
		    strcmp(s->socket_id, socket_id) == 0)
			break;
	}
	if (i == AISHI_WAYS) {
		s = &b->slot[b->next];
		b->next = (b->next + 1) % AISHI_WAYS;
		snprintf(s->socket_id, sizeof s->socket_id, "%s", socket_id);
		snprintf(s->write_id, sizeof s->write_id, "%s", write_id);
		s->next = 0;
	}
	if (index < s->next)
		return 1;
	s->next = index + 1;
	return 0;
}
