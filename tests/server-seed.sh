#!/bin/bash
# server-seed.sh: the calls of the first aish's socket registry, verbatim,
# do what that client means.  Its create("team-chat-all") and
# create("rhetor") give those sockets, not two echo AIs that then answer
# every team chat; and the sockets its sessions make go with the sessions:
# ten runs of its calls leave team-chat-all's members as they were.
. "$(dirname "$0")/setup.sh"

start_server "" --abandon-ms 300
PY_TIMEOUT=60 py_checks "$top_srcdir/tests/tools/seed_calls.py" 10

# A create of team-chat-<group> gives the group's socket; of a group that
# does not exist, an error (no AI of that name is made).
http PUT /api/ai/groups/duo '{"members":["athena","apollo"]}'
http POST /api/ai/socket/create '{"ai_name":"team-chat-duo"}'
check "create team-chat-duo: the group's socket" "200 team-chat-duo true" \
	"$STATUS $(jget "$BODY" '"\(.socket_id) \(.existing)"')"
http POST /api/ai/socket/create '{"ai_name":"team-chat-nobody"}'
check_error "create team-chat-nobody: no such group" 404 unknown_group
http GET /api/ai/sockets
check "no socket made of those names" "" \
	"$(jget "$BODY" '[.sockets[].socket_id | select(test("^team-chat-(duo|nobody)-|^rhetor-|^team-chat-all-"))] | join(" ")')"
# A socket named by its creator is kept, whatever its sessions do; so is
# one that create numbered but no session used over a WebSocket.
http POST /api/ai/socket/create '{"ai_name":"apollo","socket_id":"mine"}'
http POST /api/ai/socket/create '{"ai_name":"apollo"}'
numbered=$(jget "$BODY" .socket_id)
ws_run "$TEST_TMP/mine" mine -n 1 <<'WS'
{"type":"write","content":"hi","id":"m1"}
WS
http POST "/api/ai/socket/$numbered/write" '{"content":"hi","id":"n1"}'
http POST /api/ai/socket/create \
	'{"ai_name":"slow","context":{"echo":{"delay_ms":200}}}'
slow=$(jget "$BODY" .socket_id)
ws_run "$TEST_TMP/slow" "$slow" <<'WS'
{"type":"write","content":"wait for me","id":"s1"}
waitack 1
close
WS
# The yardstick: a numbered socket whose session read its reply goes
# --abandon-ms after it ended, and it ended last; once it is gone, the
# sockets above have been left as long.
http POST /api/ai/socket/create '{"ai_name":"apollo"}'
gone=$(jget "$BODY" .socket_id)
ws_run "$TEST_TMP/gone" "$gone" -n 1 <<'WS'
{"type":"write","content":"bye","id":"g1"}
WS
for i in $(seq 1 $((100 * SLOWDOWN))); do
	http GET "/api/ai/socket/$gone"
	[ "$STATUS" = 404 ] && break
	sleep 0.05
done
check "a session's numbered socket, its reply read, goes after it" 404 "$STATUS"
http GET "/api/ai/socket/$slow"
check "a session's socket with a reply unread stays, the reply queued" \
	"200 1" "$STATUS $(jget "$BODY" .queue_size)"
http GET /api/ai/socket/mine
check "a named socket stays after its session" 200 "$STATUS"
http GET "/api/ai/socket/$numbered"
check "a numbered socket used over HTTP only stays" 200 "$STATUS"
finish
