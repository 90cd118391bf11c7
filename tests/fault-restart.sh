#!/bin/bash
# fault-restart.sh: kill -9 in the middle of a team chat over WebSocket and
# in the middle of a binary stream.  A team chat's accepted write gets
# exactly one reply from each member in its ack, across the restart (seq
# tells a frame sent again from a new one); a stream is not replayed (it
# is not stored, doc/server-internals.md): the client sees its connection
# fail, nothing runs after the restart, and sending it again works.

TEST_TIMEOUT=${TEST_TIMEOUT:-40}
. "$(dirname "$0")/setup.sh"

T=$TEST_TMP
cat > "$T/config.json" <<EOF
{
  "default_provider": "echo",
  "providers": {
    "slowexec": {"type": "exec", "command": ["sh", "-c", "echo run >> '$T/runs'; sleep 1.5; n=\$(wc -c); printf '%s bytes' \$n"]}
  }
}
EOF
start_server "" --config "$T/config.json"
state=$STATE_DIR

# --- a team chat: one fast member, three slow ones ---------------------------
http POST /api/ai/socket/create '{"ai_name":"quick","socket_id":"quick"}'
check "create quick" 201 "$STATUS"
for i in 1 2 3; do
	http POST /api/ai/socket/create \
		"{\"ai_name\":\"slow$i\",\"socket_id\":\"slow$i\",\"context\":{\"echo\":{\"delay_ms\":1500,\"chunks\":3}}}"
	check "create slow$i" 201 "$STATUS"
done
http PUT /api/ai/groups/crew '{"members":["quick","slow1","slow2","slow3"]}'
check "group crew" 200 "$STATUS"

ws_run "$T/before" team-chat-crew -t 10000 <<'EOF' &
{"type":"write","content":"hold on","id":"t1"}
wait 4
EOF
ws_pid=$!
# Kill once the fast reply is out and the slow ones are under way (each
# has sent its first piece).
deltas_from_three() {
	grep -q '"type":"read"' "$T/before" 2>/dev/null &&
		[ "$(fq "$T/before" '[.[] | select(.type == "delta") | .socket_id] | unique | length')" = 3 ]
}
wait_for "the fast reply and a piece of each slow one" deltas_from_three || true
kill9_server
wait "$ws_pid" || true
check "team chat: acked before the kill" t1 \
	"$(fq "$T/before" '[.[] | select(.type == "ack") | .id] | join(" ")')"
check "team chat: ack names the four members" "quick slow1 slow2 slow3" \
	"$(fq "$T/before" '.[] | select(.type == "ack") | .members | sort | join(" ")')"
check "team chat: only the fast reply before the kill" quick \
	"$(fq "$T/before" '[.[] | select(.type == "read") | .socket_id] | join(" ")')"

start_server "$state" --config "$T/config.json"
# The replies not seen yet come now; one already seen may come again.
owed=$((4 - $(fq "$T/before" '[.[] | select(.type == "read")] | length')))
"$WSC" -t 8000 -n "$owed" -l 800 "$WSURL/ws/socket/team-chat-crew" \
	< /dev/null > "$T/after" 2> "$T/after.err" || true
# Every final frame seen on either connection, one per seq.
all=$(cat "$T/before" "$T/after" | jq -c 'select(.type == "read" or .type == "error")' |
	jq -s -c 'unique_by(.seq)')
check "team chat: one reply per member across the restart" "quick slow1 slow2 slow3" \
	"$(printf '%s' "$all" | jq -r '[.[].socket_id] | sort | join(" ")')"
check "team chat: every reply answers t1" "t1 t1 t1 t1" \
	"$(printf '%s' "$all" | jq -r '[.[].in_reply_to] | join(" ")')"
check "team chat: contents" "quick: hold on|slow1: hold on|slow2: hold on|slow3: hold on" \
	"$(printf '%s' "$all" | jq -r '[.[] | .content] | sort | join("|")')"
check "team chat: no second reply with another seq" 4 \
	"$(cat "$T/before" "$T/after" | jq -s '[.[] | select(.type == "read") | .socket_id + "/" + .in_reply_to] | unique | length')"
check "team chat: queue empty afterwards" 0 "$(wait_queue team-chat-crew 0)"
# t2, written after t1 again, is answered after anything t1 would run.
ws_run "$T/again" team-chat-crew -t 5000 <<'EOF'
{"type":"write","content":"hold on","id":"t1"}
waitack 1
{"type":"write","content":"then","id":"t2"}
wait 4
close
EOF
check "team chat: the id again is a duplicate" true \
	"$(fq "$T/again" '.[] | select(.type == "ack" and .id == "t1") | .duplicate')"
check "team chat: the next write answered by all four" 4 \
	"$(fq "$T/again" '[.[] | select(.type == "read" and .in_reply_to == "t2")] | length')"
check "team chat: the id again runs nothing" 0 \
	"$(fq "$T/again" '[.[] | select((.type == "read" or .type == "delta") and .in_reply_to == "t1")] | length')"

# --- a binary stream ----------------------------------------------------------
http POST /api/ai/socket/create '{"ai_name":"media","socket_id":"media","provider":"slowexec"}'
check "create media" 201 "$STATUS"
http GET /api/ai/socket/media
hist=$(jget "$BODY" .history_size)
"$WSC" -t 10000 "$WSURL/ws/socket/media" > "$T/s1" 2> "$T/s1.err" <<'EOF' &
{"type":"stream_start","mime":"audio/wav","id":"st1"}
bin 50000 4096
{"type":"stream_end","id":"st1"}
wait 1
EOF
ws_pid=$!
for i in $(seq 1 40); do
	grep -q '"type":"ack"' "$T/s1" 2>/dev/null && [ -s "$T/runs" ] && break
	sleep 0.05
done
kill9_server
rc=0
wait "$ws_pid" || rc=$?
check "stream: acked before the kill" st1 "$(fq "$T/s1" '.[] | select(.type == "ack") | .id')"
check "stream: no reply before the kill" 0 "$(fq "$T/s1" '[.[] | select(.type == "read")] | length')"
check "stream: the client sees its connection fail (aish-wsc 4)" 4 "$rc"
start_server "$state" --config "$T/config.json"
check "stream: nothing queued for it" 0 "$(queue_size media)"
http GET /api/ai/socket/media
check "stream: no history for it" "$hist" "$(jget "$BODY" .history_size)"
# Sent again, it runs; anything the restart ran would have ended first.
ws_run "$T/s2" media -t 10000 <<'EOF'
{"type":"stream_start","mime":"audio/wav","id":"st1"}
bin 50000 4096
{"type":"stream_end","id":"st1"}
wait 1
EOF
check "stream: sent again, it runs" "50000 bytes" \
	"$(fq "$T/s2" '.[] | select(.type == "read") | .content')"
check "stream: not run again after the restart (two runs: before, again)" 2 "$(wc -l < "$T/runs")"
check "stream: nothing queued afterwards" 0 "$(queue_size media)"

finish
