/*
 * check_delivery.c: unit tests of the delivery core (src/rhetor/delivery.c
 * and the files beside it), without a network.  Each test runs a real
 * server state (store in a temporary directory, registry, echo provider,
 * the loop's timers on a libwebsockets context that listens nowhere) and
 * hears every frame through a listener of its own instead of WebSocket
 * connections (listener.h).  What it checks: a write's jobs are started,
 * deliver exactly one final frame each and are then freed; cancelling and
 * deleting stop them; a moderated write's synthesis comes last.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "delivery.h"
#include "listener.h"
#include "provider.h"
#include "registry.h"
#include "server.h"

/* What the test listener heard: the final frames (read or error) of every
 * socket, once each (a frame reaches several sockets). */
#define MAX_FINALS	512
static struct heard {
	int	 finals;
	int	 deltas;
	cJSON	*frames[MAX_FINALS];	/* the final frames, parsed */
	int	 queued;		/* rh_listeners_queued calls */
} heard;

static struct rh_server	 srv;
static char		 dir[] = "/tmp/check-delivery.XXXXXX";

/* The test listener: keeps a final frame the first time it reaches the
 * socket whose queue holds it (queue_id set), counts deltas. */
static size_t
test_frame(struct rh_server *s, struct rh_socket *sock, const char *json,
    size_t len, const char *queue_id, int64_t seq)
{
	cJSON	*f = cJSON_ParseWithLength(json, len);
	cJSON	*type = cJSON_GetObjectItemCaseSensitive(f, "type");

	(void)s; (void)sock; (void)seq;
	if (cJSON_IsString(type) && strcmp(type->valuestring, "delta") == 0)
		heard.deltas++;
	if (queue_id != NULL && heard.finals < MAX_FINALS) {
		heard.frames[heard.finals++] = f;
		return 1;
	}
	cJSON_Delete(f);
	return 1;
}

/* The test listener: counts the queues that grew. */
static void
test_queued(struct rh_server *s, struct rh_socket *sock)
{
	(void)s; (void)sock;
	heard.queued++;
}

static const struct rh_listener test_listener = {
	.name = "test",
	.frame = test_frame,
	.queued = test_queued,
};

/* Fixture: a fresh server state with no network. */
static void
setup(void)
{
	struct lws_context_creation_info	info;
	char					note[256];

	memset(&heard, 0, sizeof heard);
	memset(&srv, 0, sizeof srv);
	strcpy(dir, "/tmp/check-delivery.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	srv.opt.state_dir = strdup(dir);
	srv.opt.host = strdup("127.0.0.1");
	srv.opt.abandon_ms = 30000;
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	srv.context = lws_create_context(&info);
	ck_assert_ptr_nonnull(srv.context);
	rh_listener_add(&srv, &test_listener);
	ck_assert_int_eq(rh_store_open(&srv.store, dir, note, sizeof note), 0);
	rh_providers_setup(NULL, note, sizeof note);
	rh_roster_setup(NULL);
	ck_assert_int_eq(rh_registry_load(&srv), 0);
}

/* Fixture: frees the server and removes its directory. */
static void
teardown(void)
{
	char	cmd[128];
	int	i;

	rh_server_free(&srv);
	for (i = 0; i < heard.finals; i++)
		cJSON_Delete(heard.frames[i]);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A user socket answered by echo after delay_ms. */
static struct rh_socket *
echo_socket(const char *name, int delay_ms)
{
	struct rh_create_req	 req;
	struct rh_err		 err;
	struct rh_socket	*s;
	cJSON			*ctx = cJSON_CreateObject();
	int			 existing = 0;

	cJSON_AddNumberToObject(cJSON_AddObjectToObject(ctx, "echo"),
	    "delay_ms", delay_ms);
	memset(&req, 0, sizeof req);
	req.ai_name = name;
	req.provider = "echo";
	req.context = ctx;
	s = rh_registry_create(&srv, &req, &existing, &err);
	cJSON_Delete(ctx);
	ck_assert_msg(s != NULL, "create %s: %s", name, err.message);
	return s;
}

/* Runs the loop until n final frames were heard and no job is left, or
 * 10 s went by. */
static void
run_until(int n)
{
	int64_t	until = rh_mono_ms() + 10000;

	while ((heard.finals < n || srv.jobs != NULL) &&
	    rh_mono_ms() < until)
		lws_service(srv.context, 0);
}

/* The string field of a heard frame. */
static const char *
field(int i, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    heard.frames[i], name));
}

/* A write as the transports make it; returns rh_delivery_write's value. */
static int
write_to(struct rh_socket *s, const char *id, const char *content, int flags)
{
	struct rh_write_result	res;
	struct rh_err		err;
	int			rc;

	memset(&err, 0, sizeof err);
	rc = rh_delivery_write(&srv, s, id, content, flags, NULL, NULL, NULL,
	    &res, &err);
	if (rc == 0)
		rh_write_result_free(&res);
	return rc;
}

/* An echo that answers at once is stored with its write and delivered
 * once; the job is gone after. */
START_TEST(test_instant_reply)
{
	struct rh_socket	*s = echo_socket("instant", 0);

	ck_assert_int_eq(write_to(s, "w1", "hello", 0), 0);
	run_until(1);
	ck_assert_int_eq(heard.finals, 1);
	ck_assert_str_eq(field(0, "type"), "read");
	ck_assert_str_eq(field(0, "in_reply_to"), "w1");
	ck_assert_ptr_null(srv.jobs);
	ck_assert_int_eq(rh_delivery_owes(&srv, s), 0);
}
END_TEST

/* A reply that takes time leaves a running job, owed until it ends. */
START_TEST(test_delayed_reply)
{
	struct rh_socket	*s = echo_socket("later", 50);

	ck_assert_int_eq(write_to(s, "w1", "hello", 0), 0);
	ck_assert_ptr_nonnull(srv.jobs);
	ck_assert_int_eq(rh_delivery_owes(&srv, s), 1);
	run_until(1);
	ck_assert_int_eq(heard.finals, 1);
	ck_assert_str_eq(field(0, "type"), "read");
	ck_assert_ptr_null(srv.jobs);
	ck_assert_int_eq(heard.queued, 1);
}
END_TEST

/* A repeated write id is acknowledged as a duplicate and runs once. */
START_TEST(test_duplicate_runs_once)
{
	struct rh_socket	*s = echo_socket("dup", 0);

	ck_assert_int_eq(write_to(s, "same", "one", 0), 0);
	ck_assert_int_eq(write_to(s, "same", "one", 0), 0);
	run_until(1);
	ck_assert_int_eq(heard.finals, 1);
}
END_TEST

/* A team chat to many members: each answers exactly once, with seqs that
 * grow, and every job and write is freed at the end. */
START_TEST(test_team_chat_fan_out)
{
	struct rh_socket	*team = rh_registry_find(&srv,
	    AISH_TEAM_CHAT_ALL);
	struct rh_socket	*s;
	char			 name[32];
	int			 i, members = 0, j;
	double			 last = 0;

	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "m%d", i);
		echo_socket(name, i % 2 ? 0 : 20);
	}
	for (s = srv.sockets; s != NULL; s = s->next)
		members += rh_registry_is_member(s);
	ck_assert_int_eq(write_to(team, "t1", "all of you", 0), 0);
	run_until(members);
	ck_assert_int_eq(heard.finals, members);
	for (i = 0; i < heard.finals; i++) {
		double	seq = cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(heard.frames[i], "seq"));

		ck_assert_double_gt(seq, last);
		last = seq;
		for (j = 0; j < i; j++)
			ck_assert_str_ne(field(i, "socket_id"),
			    field(j, "socket_id"));
	}
	ck_assert_ptr_null(srv.jobs);
	ck_assert_int_eq((int)srv.jobs_by_write.count, 0);
}
END_TEST

/* Cancel ends every running reply of a write with one "cancelled" error
 * frame. */
START_TEST(test_cancel)
{
	struct rh_socket	*s = echo_socket("slow", 5000);

	ck_assert_int_eq(write_to(s, "c1", "take your time", 0), 0);
	ck_assert_int_eq(rh_delivery_cancel(&srv, s, "c1"), 1);
	ck_assert_int_eq(rh_delivery_cancel(&srv, s, "c1"), 0);
	run_until(1);
	ck_assert_int_eq(heard.finals, 1);
	ck_assert_str_eq(field(0, "type"), "error");
	ck_assert_str_eq(field(0, "code"), AISH_ERR_CANCELLED);
	ck_assert_ptr_null(srv.jobs);
}
END_TEST

/* A moderated team chat: the synthesis is the last final frame, after
 * every member's. */
START_TEST(test_synthesis_last)
{
	struct rh_socket	*team = rh_registry_find(&srv,
	    AISH_TEAM_CHAT_ALL);
	struct rh_socket	*s;
	int			 members = 0;

	echo_socket("a", 0);
	echo_socket("b", 20);
	for (s = srv.sockets; s != NULL; s = s->next)
		members += rh_registry_is_member(s);
	ck_assert_int_eq(write_to(team, "m1", "what now?",
	    RH_WRITE_SYNTHESIS), 0);
	run_until(members + 1);
	ck_assert_int_eq(heard.finals, members + 1);
	ck_assert_str_eq(field(members, "socket_id"), AISH_RHETOR_SOCKET);
	ck_assert_ptr_null(srv.jobs);
}
END_TEST

/* Deleting a socket stops its job without a frame; a synthesis waiting
 * for it goes on without it. */
START_TEST(test_socket_gone)
{
	struct rh_socket	*team = rh_registry_find(&srv,
	    AISH_TEAM_CHAT_ALL);
	struct rh_socket	*slow, *s;
	int			 members = 0;

	slow = echo_socket("gone", 5000);
	for (s = srv.sockets; s != NULL; s = s->next)
		members += rh_registry_is_member(s);
	ck_assert_int_eq(write_to(team, "g1", "anyone?",
	    RH_WRITE_SYNTHESIS), 0);
	ck_assert_int_eq(rh_registry_delete(&srv, slow), 0);
	/* The others answer, then the synthesis; none from the deleted. */
	run_until(members);
	ck_assert_int_eq(heard.finals, members);
	ck_assert_str_eq(field(members - 1, "socket_id"), AISH_RHETOR_SOCKET);
	ck_assert_ptr_null(srv.jobs);
}
END_TEST

/* The suite. */
static Suite *
delivery_suite(void)
{
	Suite	*s = suite_create("delivery");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_instant_reply);
	tcase_add_test(tc, test_delayed_reply);
	tcase_add_test(tc, test_duplicate_runs_once);
	tcase_add_test(tc, test_team_chat_fan_out);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_synthesis_last);
	tcase_add_test(tc, test_socket_gone);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(delivery_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
