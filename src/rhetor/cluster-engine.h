/*
 * cluster-engine.h: what the cluster's files share (cluster.h is the
 * face the rest of the server sees).
 */
#ifndef RH_CLUSTER_ENGINE_H
#define RH_CLUSTER_ENGINE_H

#include <pthread.h>
#include <stdint.h>

#include <libwebsockets.h>
#include <nats/nats.h>

#include "cluster.h"
#include "strmap.h"

/* The names in the engine (doc/cluster.md). */
#define RH_CL_JOBS		"AISH_JOBS"	/* work-queue stream */
#define RH_CL_JOB_SUBJECTS	"aish.job.>"
#define RH_CL_REPLIES		"AISH_REPLIES"	/* final frames, the seq */
#define RH_CL_REPLY_SUBJECTS	"aish.reply.>"
#define RH_CL_LIVE_SUBJECTS	"aish.live.>"	/* RePublish of REPLIES */
#define RH_CL_GOT_PREFIX	"aish.got."	/* core: a queued reply got */
#define RH_CL_GOT_SUBJECTS	"aish.got.>"
#define RH_CL_DELTA_PREFIX	"aish.delta."	/* core: a reply's deltas */
#define RH_CL_DELTA_SUBJECTS	"aish.delta.>"
#define RH_CL_WRITES		"AISH_WRITES"	/* KV: accepted write ids */
#define RH_CL_SOCKETS		"AISH_SOCKETS"	/* KV: sockets and groups */
#define RH_CL_CONSUMER		"rhetor"	/* the shared pull consumer */
/* How long JetStream remembers a Nats-Msg-Id (ns), and how long a write
 * id is kept in AISH_WRITES (ns). */
#define RH_CL_DEDUP_NS		(10LL * 60 * 1000000000LL)
#define RH_CL_WRITES_TTL_NS	(30LL * 86400 * 1000000000LL)
/* A job not acked this long goes to another node (ns). */
#define RH_CL_ACK_WAIT_NS	(30LL * 1000000000LL)
/* Longest wait for one engine request (ms). */
#define RH_CL_WAIT_MS		5000
/* How long a job whose reply could not be stored waits before it is run
 * again: while a stream elects its leader, storing fails fast, and an
 * immediate retry would run the provider again and again. */
#define RH_CL_NAK_DELAY_MS	1000
/* Longest wait for one request on the sockets bucket (ms; the store
 * thread's, never the loop's: cluster-sockets.c). */
#define RH_CL_SOCKETS_WAIT_MS	2000
/* The field of a stored answer that carries its question, and the
 * largest stored frame that may carry it (bytes; the streams take 8 MB). */
#define RH_CL_QUESTION		"question"
#define RH_CL_FRAME_MAX		(7 * 1024 * 1024)
/* The most writes, and final frames, the store thread stores in one
 * batch. */
#define RH_CL_ACCEPT_BATCH	64
#define RH_CL_REPLY_BATCH	256
/* Jobs one node runs at once. */
#define RH_CL_MAX_RUNNING	64

/* What the threads hand to the loop, or the loop to the store thread. */
enum rh_cl_kind {
	RH_CL_ACCEPT,		/* loop -> store: store a write */
	RH_CL_ACCEPTED,		/* store -> loop: the write's answer */
	RH_CL_REPLY,		/* loop -> store: store a final frame, ack */
	RH_CL_REPLIED,		/* store -> loop: done with a job */
	RH_CL_JOB,		/* fetch -> loop: a job to run */
	RH_CL_LIVE,		/* live -> loop: a stored final frame */
	RH_CL_RECONNECTED,	/* nats.c -> loop: frames may have been missed */
	RH_CL_FILL,		/* loop -> store: fetch frames from..to */
	RH_CL_LAST,		/* store -> loop: the last stored seq, in to */
	RH_CL_ENTRY,		/* watch -> loop: a change of AISH_SOCKETS */
	RH_CL_CHANGE,		/* loop -> store: change AISH_SOCKETS */
	RH_CL_CHANGED,		/* store -> loop: the change's answer */
	RH_CL_GOT,		/* loop -> store: say a queued reply was got */
	RH_CL_GOT_HEARD,	/* nats.c -> loop: another node's reader got
				 * a queued reply */
	RH_CL_DELTA,		/* loop -> store: say a delta of a reply */
	RH_CL_DELTA_HEARD	/* nats.c -> loop: a delta, from any node */
};

struct rh_cl_write;
struct rh_cl_change;

/* What became of a message published in a batch (cluster-async.c). */
enum rh_cl_pub_outcome {
	RH_CL_PUB_STORED,
	RH_CL_PUB_EXISTS,	/* its key had a value: a write id seen */
	RH_CL_PUB_FAILED	/* an error, or no answer in time */
};

/* A batch of messages published asynchronously; the store thread owns
 * it, nats.c threads mark its outcomes (under mu, while it is
 * cl->pubs). */
struct rh_cl_pubs {
	natsMsg			**msgs;		/* as published, to match
						 * the answers only */
	enum rh_cl_pub_outcome	 *outcome;
	int			  n;
	int			  cap;
};

/* One item of a hand-off list. */
struct rh_cl_item {
	struct rh_cl_item	*next;		/* in a list; while its job
						 * runs, the running jobs */
	struct rh_cl_item	*prev;		/* the running jobs */
	struct rh_job		*job;		/* JOB while it runs */
	enum rh_cl_kind		 kind;
	natsMsg			*msg;		/* JOB, LIVE, REPLY: owned */
	struct rh_cl_write	*write;		/* ACCEPT, ACCEPTED */
	struct rh_cl_change	*change;	/* CHANGE, CHANGED */
	char			*subject;	/* REPLY; ENTRY: the key */
	char			*msg_id;	/* REPLY: Nats-Msg-Id */
	char			*frame;		/* REPLY: the final frame;
						 * ENTRY: the value, or NULL
						 * for a delete */
	int			 status;	/* ACCEPTED: 0 new, 1 dup,
						 * -1 not stored; REPLY: its
						 * message in the batch, -1;
						 * CHANGED: 0 made, 1 taken,
						 * -1 not */
	int			 starting;	/* JOB: in its provider's
						 * start */
	int			 filled;	/* LIVE: fetched for a gap */
	uint64_t		 from;		/* FILL: the first seq */
	uint64_t		 to;		/* FILL: the last, 0 for the
						 * stream's last; LAST */
	char			 why[256];
};

/* A locked list, first in first out. */
struct rh_cl_list {
	struct rh_cl_item	*head;
	struct rh_cl_item	*tail;
	size_t			 depth;
};

/* The node's side of the cluster. */
struct rh_cluster {
	struct rh_server	*srv;
	natsConnection		*nc;
	jsCtx			*js;
	kvStore			*writes;
	jsCtx			*admin_js;	/* Wait RH_CL_SOCKETS_WAIT_MS */
	kvStore			*sockets;	/* through admin_js */
	kvWatcher		*watcher;	/* of sockets */
	pthread_t		 watch_thread;
	int			 watching;	/* watch_thread started */
	struct ac_strmap	 echoes;	/* key -> changes this node made
						 * and has not heard back yet
						 * (loop only) */
	struct rh_cl_change	*changes;	/* waiting for the engine,
						 * loop only */
	struct rh_cl_list	 held;		/* ENTRY items heard while a
						 * change waits, loop only */
	natsSubscription	*live;
	natsSubscription	*got;		/* RH_CL_GOT_SUBJECTS */
	natsSubscription	*deltas;	/* RH_CL_DELTA_SUBJECTS */
	natsSubscription	*pull;
	int			 replicas;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cond;		/* to_store or running moved */
	struct rh_cl_list	 to_loop;	/* under mu */
	struct rh_cl_list	 to_store;	/* under mu */
	int			 running;	/* jobs handed out, under mu */
	int			 stopping;	/* under mu */
	pthread_t		 store_thread;
	pthread_t		 fetch_thread;
	int			 threads;	/* how many started */
	struct rh_cl_pubs	*pubs;		/* the batch the store thread
						 * waits for, under mu */
	int			 unanswered;	/* store thread: the engine
						 * gave no answer for a whole
						 * RH_CL_WAIT_MS lately */
	struct rh_cl_write	*writes_pending;	/* loop only */
	struct rh_cl_item	*jobs;		/* running here, loop only */
	int64_t			 ack_wait_ns;	/* the consumer's AckWait */
	lws_sorted_usec_list_t	 keep_alive;	/* loop: the running jobs'
						 * InProgress */
	uint64_t		 reconnects;	/* nats.c threads: atomic */
	uint64_t		 disconnects;
	uint64_t		 rebinds;	/* fetch thread: atomic */
	uint64_t		 accept_batches;	/* store thread: atomic */
	uint64_t		 accepts_batched;
	uint64_t		 jobs_run;	/* loop only */
	uint64_t		 jobs_rerun;	/* of them delivered before; loop */
	uint64_t		 replies_live;
	uint64_t		 live_next;	/* loop: the seq the live path
						 * owes next (0: not known) */
	uint64_t		 replies_filled;	/* loop only */
	uint64_t		 queued;		/* loop only */
	uint64_t		 got_told;		/* loop only */
	uint64_t		 got_heard;		/* loop only */
	uint64_t		 deltas_heard;		/* loop only */
	uint64_t		 handoff_max;	/* deepest to_loop seen */
};

/* Hands an item to the loop (any thread). */
void	rh_cl_to_loop(struct rh_cluster *cl, struct rh_cl_item *it);
/* Hands an item to the store thread (loop). */
void	rh_cl_to_store(struct rh_cluster *cl, struct rh_cl_item *it);
void	rh_cl_item_free(struct rh_cl_item *it);
/* A socket id in a subject: '.' becomes '~' (never in an id). */
void	rh_cl_subject_token(char *dst, size_t len, const char *id);
/* Reads "<prefix><origin>.<ai>" back into both socket ids (ai NULL: only
 * the origin); 0, or -1 when the subject is not one. */
int	rh_cl_subject_ids(const char *subject, const char *prefix,
	    char *origin, size_t olen, char *ai, size_t alen);
/* Store thread: publishes each core message of a chain (subject, frame;
 * GOT and DELTA items), at most once. */
void	rh_cl_store_core(struct rh_cluster *cl, struct rh_cl_item *first);
/* The deltas of the cluster's replies (cluster-delta.c): heard from
 * every node (at open; 0, or -1 after logging), and sent to the
 * readers here. */
int	rh_cl_delta_open(struct rh_cluster *cl);
void	rh_cl_loop_delta(struct rh_cluster *cl, struct rh_cl_item *it);
/* The store thread's work (cluster-accept.c, cluster-run.c): a chain of
 * writes (linked by next), a chain of final frames. */
void	rh_cl_store_accepts(struct rh_cluster *cl, struct rh_cl_item *first);
void	rh_cl_store_replies(struct rh_cluster *cl, struct rh_cl_item *first);
/* The loop's side of the items (cluster-write.c, cluster-run.c,
 * cluster-live.c). */
void	rh_cl_loop_accepted(struct rh_cluster *cl, struct rh_cl_item *it);
void	rh_cl_loop_job(struct rh_cluster *cl, struct rh_cl_item *it);
void	rh_cl_loop_live(struct rh_cluster *cl, struct rh_cl_item *it);
/* Gaps in the live path (cluster-live.c): the loop's side, and the store
 * thread's fetch of what was missed. */
void	rh_cl_loop_reconnected(struct rh_cluster *cl, struct rh_cl_item *it);
void	rh_cl_loop_last(struct rh_cluster *cl, struct rh_cl_item *it);
void	rh_cl_store_fill(struct rh_cluster *cl, struct rh_cl_item *it);
/* The last seq AISH_REPLIES holds, 0 when it cannot be told (store
 * thread, or before the threads start). */
uint64_t rh_cl_replies_last(struct rh_cluster *cl);
/* Stops the providers of the jobs still running (at shutdown; the
 * engine gives them to another node after AckWait). */
void	rh_cl_jobs_stop(struct rh_cluster *cl);
/* Tells the engine every AckWait / 3 that the jobs running here are in
 * progress (cluster-run.c; loop). */
void	rh_cl_keep_alive_schedule(struct rh_cluster *cl);
/* Frees the writes still waiting for the engine (cluster-write.c). */
void	rh_cl_writes_free(struct rh_cluster *cl);
/* A write id as KV key and Nats-Msg-Id part: hex (allocated). */
char	*rh_cl_hex(const char *s);
/* A batch of async publishes (cluster-async.c; store thread): begin,
 * publish each message (taken over; its index), wait for the outcomes,
 * free.  nats.c's threads report failures through rh_cl_on_async_error. */
void	rh_cl_pubs_begin(struct rh_cluster *cl, struct rh_cl_pubs *p);
int	rh_cl_pubs_add(struct rh_cluster *cl, struct rh_cl_pubs *p,
	    natsMsg *msg, const char *msg_id);
int	rh_cl_pubs_wait(struct rh_cluster *cl, struct rh_cl_pubs *p);
void	rh_cl_pubs_free(struct rh_cl_pubs *p);
void	rh_cl_on_async_error(jsCtx *js, jsPubAckErr *pae, void *closure);
/* Why a NATS call failed, never empty (the text is the library's). */
const char	*rh_cl_why(natsStatus s);
/* The shared consumer (cluster-fetch.c): binds it, making it when no
 * node has; 0, or -1 after logging. */
int	rh_cl_consumer_bind(struct rh_cluster *cl);
/* The fetch thread: pulls jobs and hands them to the loop. */
void	*rh_cl_fetch_main(void *arg);
/* A job was run to its end on this node (any thread, under no lock). */
void	rh_cl_job_ended(struct rh_cluster *cl);
/* The sockets bucket (cluster-sockets.c): makes or finds it, brings this
 * node's sockets and groups in line with it, and starts watching it
 * (at open, before the loop runs); 0, or -1 after logging. */
int	rh_cl_sockets_open(struct rh_cluster *cl);
/* Stops the watch thread and frees the bucket's side (at close). */
void	rh_cl_sockets_close(struct rh_cluster *cl);
/* Loop: takes the question out of a stored final frame heard here and,
 * for an answer, adds the turn to its AI's history here
 * (cluster-history.c). */
void	rh_cl_history_heard(struct rh_cluster *cl, cJSON *frame, int64_t seq);
/* Queues the same on every node (cluster-queue.c): hears the other
 * nodes' word that a queued reply was got (at open; 0, or -1 after
 * logging); puts a heard final frame in its origin's queue here, inside
 * the caller's transaction (1 queued, 0 no such socket here, -1 after
 * logging); the store thread says a chain of replies got here; the loop
 * takes one got elsewhere off its queue. */
int	rh_cl_queue_open(struct rh_cluster *cl);
int	rh_cl_queue_heard(struct rh_cluster *cl, const char *origin,
	    const char *json, int64_t seq);
void	rh_cl_loop_got(struct rh_cluster *cl, struct rh_cl_item *it);
/* Loop: a change of the bucket heard by the watch thread. */
void	rh_cl_loop_entry(struct rh_cluster *cl, struct rh_cl_item *it);
/* A change of the bucket this node makes: the store thread makes it,
 * and the loop takes its answer (cluster-sockets.c). */
void	rh_cl_store_change(struct rh_cluster *cl, struct rh_cl_item *it);
void	rh_cl_loop_changed(struct rh_cluster *cl, struct rh_cl_item *it);

#endif
