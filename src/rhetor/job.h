/*
 * job.h: the parts of the delivery core that its files share (delivery.c,
 * write-check.c, job.c, job-stop.c, reply.c, reply-frame.c, fan-out.c,
 * synthesis.c, binary-stream.c); the rest of the server uses delivery.h.
 * Who owns a job and when it dies: delivery.h.
 */
#ifndef RH_JOB_H
#define RH_JOB_H

#include "server.h"

/* The loop works this long at a time (µs) on the jobs waiting to start
 * or to be stored, at least one each time, and serves others between two
 * slices. */
#define RH_SLICE_US	5000

/* The jobs still running for one write (origin, write id); it lives as
 * long as one of them. */
struct rh_write_jobs {
	struct rh_job	*first;
	int		 members;	/* jobs that are not its synthesis */
	struct rh_job	*synthesis;	/* rhetor's job, or NULL */
	char		 key[];		/* "origin/write id" */
};

/* job.c: making, queueing, starting and ending jobs. */
struct rh_job	*rh_job_new(struct rh_server *srv, int64_t job_id,
		    const char *origin, const char *write_id,
		    const char *socket_id, const char *content,
		    struct rh_team *team);
void		 rh_job_ref(struct rh_job *job);
void		 rh_job_unref(struct rh_job *job);
void		 rh_job_end(struct rh_job *job);
void		 rh_job_drop(struct rh_job *job);
void		 rh_job_start(struct rh_job *job);
void		 rh_job_start_later(struct rh_server *srv, struct rh_job *job);
void		 rh_job_start_queued(struct rh_server *srv);
int		 rh_job_is_synthesis(const struct rh_job *job);
struct rh_write_jobs *rh_write_jobs_find(struct rh_server *srv,
		    const char *origin, const char *write_id);
void		 rh_job_queue_push(struct rh_job_queue *q, struct rh_job *job);
void		 rh_job_queue_remove(struct rh_job *job);
struct rh_job	*rh_job_queue_pop(struct rh_job_queue *q);

/* reply.c: storing and delivering replies. */
int64_t		 rh_reply_store(struct rh_job *job, struct rh_socket *ai,
		    struct rh_socket *origin, const char *text,
		    const char *code, char **json, int own);
void		 rh_reply_delivered(struct rh_server *srv, struct rh_job *job,
		    const char *text, const char *code);
void		 rh_reply_store_waiting(struct rh_server *srv);

/* reply-frame.c: a reply's frames as JSON text (cJSON_free). */
char		*rh_frame_delta(struct rh_job *job, const char *text,
		    size_t len);
char		*rh_frame_final(struct rh_job *job, const char *ai_name,
		    const char *content, const char *code, int64_t seq,
		    int64_t now);

/* fan-out.c: sending a frame to whoever hears it. */
struct rh_held;
void		 rh_fan_out(struct rh_job *job, const char *json, size_t len,
		    struct rh_socket *queue_socket, int64_t seq);
void		 rh_fan_out_held(struct rh_server *srv,
		    const struct rh_held *h);

/* synthesis.c: moderated team-chat writes. */
struct rh_job	*rh_synthesis_waiting(const struct rh_write_jobs *w);
void		 rh_synthesis_collect(struct rh_job *synthesis,
		    const char *socket_id, const char *text, const char *code);
void		 rh_synthesis_maybe_start(struct rh_job *job);
int		 rh_synthesis_check(struct rh_server *srv,
		    struct rh_socket *origin, struct rh_team *team,
		    struct rh_err *err);

/* write-check.c: what a write must be. */
char		*rh_write_id_new(void);
int		 rh_write_id_valid(const char *id);
int		 rh_write_content_check(const char *content,
		    struct rh_err *err);

#endif
