#!/bin/bash
# cluster-changes.sh: a create, delete, group put or reset on a node of
# a cluster waits for the AISH_SOCKETS bucket off the event loop (SPEC
# section 11).  On three real nats-servers, all stopped (SIGSTOP): a
# create on node 1 stays pending while /health and the socket list on
# node 1 answer at once; the servers go on, and the create is answered
# 201 and listed by node 2.  Stopped for longer, a create is answered a
# clear 500 after the bounded wait, never left unanswered, and node 1
# and node 2 then agree on it.  A client that gives up while its create
# waits leaves the node serving, and the socket is still made; a delete,
# a group put and a reset waiting together are each answered once the
# servers go on.

. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
cluster_start
node_start 1
node_start 2
nats_wait_streams

# nats_pause SIGNAL: sends SIGNAL (STOP or CONT) to the three servers.
nats_pause() {
	local i
	for i in 1 2 3; do kill -"$1" "${NATS_PIDS[$i]}"; done
}

# later NAME METHOD PATH [BODY] [CURL-ARGS...]: one request to node 1 in
# the background; its status lands in $T/NAME.status, its body in
# $T/NAME.body, and its pid in LATER_PID.
later() {
	local name=$1 method=$2 path=$3 data=${4-}
	local args=(-s -o "$T/$name.body" -w '%{http_code}' --max-time 30 -X "$method")
	[ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
	shift 4 2>/dev/null || shift $#
	curl "${args[@]}" "$@" "${NODE_URLS[1]}$path" > "$T/$name.status" &
	LATER_PID=$!
}

# health_fast WHAT: GET /health and GET /api/ai/sockets on node 1, five
# times 100 ms apart, each answered 200 within 500 ms (times SLOWDOWN).
health_fast() {
	local i out code secs slow=0 limit
	limit=$(awk -v s="$SLOWDOWN" 'BEGIN { print 0.5 * s }')
	for i in 1 2 3 4 5; do
		for path in /health /api/ai/sockets; do
			out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' \
				--max-time 10 "${NODE_URLS[1]}$path") || out="000 10"
			code=${out% *} secs=${out#* }
			if [ "$code" != 200 ] || awk -v t="$secs" -v l="$limit" 'BEGIN { exit !(t > l) }'; then
				slow=1
				echo "# $path: $out" >&2
			fi
		done
		sleep 0.1
	done
	check "$1: node 1 answers /health and the list at once" 0 "$slow"
}

use_node 1
http POST /api/ai/socket/create '{"ai_name":"alpha","socket_id":"sock-a"}'
check "create sock-a with the servers up" 201 "$STATUS"

# --- pending while the servers are stopped, answered when they go on -------
nats_pause STOP
later c1 POST /api/ai/socket/create '{"ai_name":"late","socket_id":"late-1"}'
c1=$LATER_PID
health_fast "servers stopped, a create waiting"
kill -0 "$c1" 2>/dev/null && ok "the create is still waiting" ||
	fail "the create is still waiting" "answered $(cat "$T/c1.status")"
nats_pause CONT
wait "$c1" || true
if [ "$SLOWDOWN" = 1 ]; then
	check "servers on: the create is answered" 201 "$(cat "$T/c1.status")"
else
	check_match "servers on: the create is answered" "20[1]" "$(cat "$T/c1.status")"
fi
check "servers on: its socket id" late-1 "$(jget "$(cat "$T/c1.body")" .socket_id)"
wait_socket 1 late-1 || fail "node 1 lists late-1"
wait_socket 2 late-1 || fail "node 2 lists late-1"

# --- stopped for longer: a clear error after the bounded wait -------------
nats_pause STOP
t0=$(now_ms)
later c2 POST /api/ai/socket/create '{"ai_name":"late","socket_id":"late-2"}'
c2=$LATER_PID
health_fast "servers stopped for longer"
wait "$c2" || true
t1=$(now_ms)
echo "# the create waited $(( t1 - t0 )) ms for its answer"
check "no answer from the cluster: 500" 500 "$(cat "$T/c2.status")"
check "no answer from the cluster: storage" storage_error \
	"$(jget "$(cat "$T/c2.body")" .error.code)"
check_match "no answer from the cluster: it says so" "*cluster*may be made*" \
	"$(jget "$(cat "$T/c2.body")" .error.message)"
check_match "answered within the bounded wait" "1" \
	"$(( t1 - t0 >= 1500 && t1 - t0 < 15000 * SLOWDOWN ))"
nats_pause CONT
nats_wait_ready
nats_wait_streams
# The request reached the servers when they went on: both nodes agree.
there1=gone there2=gone
wait_socket 2 late-2 && there2=there
wait_socket 1 late-2 && there1=there
check "node 1 and node 2 agree on late-2" "$there2" "$there1"
http POST /api/ai/socket/create '{"ai_name":"alpha","socket_id":"sock-b"}'
check "servers on again: a create" 201 "$STATUS"

# --- the client goes away while its create waits -------------------------
nats_pause STOP
later c3 POST /api/ai/socket/create '{"ai_name":"late","socket_id":"late-3"}' --max-time 0.3
wait "$LATER_PID" || true
check "the client gave up" 000 "$(cat "$T/c3.status")"
later d1 DELETE /api/ai/socket/sock-a
d1=$LATER_PID
later g1 PUT /api/ai/groups/duo '{"members":["late-1","sock-b"]}'
g1=$LATER_PID
later r1 POST /api/ai/socket/late-1/reset
r1=$LATER_PID
health_fast "servers stopped, four changes waiting"
nats_pause CONT
wait "$d1" "$g1" "$r1" || true
check "servers on: the delete is answered" 200 "$(cat "$T/d1.status")"
check "servers on: the group put is answered" 200 "$(cat "$T/g1.status")"
check "servers on: the group's members" "late-1 sock-b" \
	"$(jget "$(cat "$T/g1.body")" '.members | join(" ")')"
check "servers on: the reset is answered" 200 "$(cat "$T/r1.status")"
kill -0 "${NODE_PIDS[1]}" && ok "node 1 still runs" || fail "node 1 still runs"
http GET /health
check "node 1 answers after its client went away" 200 "$STATUS"
wait_socket 1 late-3 || fail "late-3 is made on node 1 all the same"
wait_socket 2 late-3 || fail "late-3 is made on node 2 all the same"
wait_socket 1 sock-a gone || fail "node 1 deleted sock-a"
wait_socket 2 sock-a gone || fail "node 2 deleted sock-a"
use_node 2
wait_for "the group duo on node 2" eval 'http GET /api/ai/groups/duo; [ "$STATUS" = 200 ]' ||
	fail "node 2 has the group duo"
check "node 2: the group's members" "late-1 sock-b" "$(jget "$BODY" '.members | join(" ")')"

finish
