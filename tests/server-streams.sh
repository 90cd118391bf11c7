#!/bin/bash
# server-streams.sh: binary streams over the WebSocket (SPEC section 2):
# stream_start, binary frames, stream_end; the bytes reach an exec
# provider's stdin unchanged, with the type in AISH_MIME, and its reply
# streams back; other providers answer unsupported_media; the 64 MiB limit
# drops a stream with one too_large error and the connection stays up;
# every malformed sequence gets an error frame.

TEST_TIMEOUT=${TEST_TIMEOUT:-30}
. "$(dirname "$0")/setup.sh"

T=$TEST_TMP
cat > "$T/config.json" <<'EOF2'
{
  "default_provider": "echo",
  "providers": {
    "count": {"type": "exec", "command": ["sh", "-c", "n=$(wc -c); printf '%s bytes of %s' $n \"$AISH_MIME\""]},
    "sum": {"type": "exec", "command": ["md5sum"]}
  }
}
EOF2
start_server "" --config "$T/config.json"
http POST /api/ai/socket/create '{"ai_name":"counter","socket_id":"counter","provider":"count"}'
check "create counter" 201 "$STATUS"
http POST /api/ai/socket/create '{"ai_name":"summer","socket_id":"summer","provider":"sum"}'
check "create summer" 201 "$STATUS"

# --- a stream in many frames ----------------------------------------------------
ws_run "$T/s1" counter -t 8000 <<'EOF2'
{"type":"stream_start","mime":"audio/wav","id":"s1"}
bin 100000 4096
{"type":"stream_end","id":"s1"}
wait 1
EOF2
check "stream: client exit" 0 "$WS_RC"
check "stream: ack" s1 "$(fq "$T/s1" '.[] | select(.type == "ack") | .id')"
check "stream: reply" "100000 bytes of audio/wav" "$(fq "$T/s1" '.[] | select(.type == "read") | .content')"
check "stream: in_reply_to" s1 "$(fq "$T/s1" '.[] | select(.type == "read") | .in_reply_to')"
check "stream: deltas join to the read" "$(fq "$T/s1" '.[] | select(.type == "read") | .content')" \
	"$(fq "$T/s1" '[.[] | select(.type == "delta") | .content] | join("")')"

# --- the bytes arrive unchanged -----------------------------------------------------
head -c 300000 /dev/urandom > "$T/blob"
want=$(md5sum < "$T/blob" | cut -d' ' -f1)
ws_run "$T/s2" summer -t 8000 <<EOF2
{"type":"stream_start","mime":"application/octet-stream","id":"s2"}
binfile $T/blob
{"type":"stream_end","id":"s2"}
wait 1
EOF2
check "binfile: client exit" 0 "$WS_RC"
check "binfile: md5 of what the command read" "$want" \
	"$(fq "$T/s2" '.[] | select(.type == "read") | .content | split(" ")[0]')"
# A stream without id: the server makes one; stream_end without id ends it.
ws_run "$T/s3" counter -t 8000 <<'EOF2'
{"type":"stream_start","mime":"image/png"}
bin 0
{"type":"stream_end"}
wait 1
EOF2
check "no id: reply" "0 bytes of image/png" "$(fq "$T/s3" '.[] | select(.type == "read") | .content')"
check_match "no id: server-made id" "?*" "$(fq "$T/s3" '.[] | select(.type == "ack") | .id')"
check "history keeps a note of each stream" 4 "$(http GET /api/ai/socket/counter; jget "$BODY" .history_size)"

# --- providers without media ---------------------------------------------------
ws_run "$T/e1" athena -t 5000 <<'EOF2'
{"type":"stream_start","mime":"audio/wav","id":"e1"}
bin 10
{"type":"stream_end","id":"e1"}
wait 1
{"type":"write","content":"still here","id":"e2"}
wait 2
EOF2
check "echo: unsupported_media" unsupported_media "$(fq "$T/e1" '.[] | select(.type == "error") | .code')"
check "echo: error names the stream" e1 "$(fq "$T/e1" '.[] | select(.type == "error") | .in_reply_to')"
check "echo: text still works" "athena: still here" "$(fq "$T/e1" '.[] | select(.type == "read") | .content')"
ws_run "$T/e3" team-chat-all -t 5000 <<'EOF2'
{"type":"stream_start","mime":"audio/wav","id":"e3"}
bin 10
{"type":"stream_end","id":"e3"}
wait 1
EOF2
check "team-chat-all: refused" bad_request "$(fq "$T/e3" '.[] | select(.type == "error") | .code')"

# --- malformed sequences ----------------------------------------------------
ws_run "$T/bad" counter -t 5000 <<'EOF2'
bin 5
{"type":"stream_end","id":"x"}
{"type":"stream_start","id":"x"}
{"type":"stream_start","mime":"nonsense","id":"x"}
{"type":"stream_start","mime":"audio/wav","id":7}
{"type":"stream_start","mime":"audio/wav","id":"b1"}
{"type":"stream_start","mime":"audio/wav","id":"b2"}
{"type":"stream_end","id":"b2"}
bin 3
{"type":"stream_end","id":"b1"}
wait 8
EOF2
check "malformed: client exit" 0 "$WS_RC"
check "malformed: errors in order" \
	"bad_request bad_request bad_request bad_request bad_request conflict bad_request" \
	"$(fq "$T/bad" '[.[] | select(.type == "error") | .code] | join(" ")')"
check "malformed: the good stream still ran" "3 bytes of audio/wav" \
	"$(fq "$T/bad" '.[] | select(.type == "read") | .content')"

# --- the size limit ---------------------------------------------------------------
ws_run "$T/big" counter -t 20000 <<'EOF2'
{"type":"stream_start","mime":"video/mp4","id":"big"}
bin 67108865 1048576
wait 1
{"type":"stream_end","id":"big"}
{"type":"ping"}
{"type":"stream_start","mime":"video/mp4","id":"small"}
bin 1000
{"type":"stream_end","id":"small"}
wait 2
EOF2
check "too large: client exit" 0 "$WS_RC"
check "too large: one error" "too_large:big" \
	"$(fq "$T/big" '[.[] | select(.type == "error") | .code + ":" + .in_reply_to] | join(" ")')"
check "too large: no reply to it" "small" "$(fq "$T/big" '[.[] | select(.type == "read") | .in_reply_to] | join(" ")')"
check "too large: connection still up" 1 "$(fq "$T/big" '[.[] | select(.type == "pong")] | length')"
check "too large: next stream works" "1000 bytes of video/mp4" \
	"$(fq "$T/big" '.[] | select(.type == "read") | .content')"
http GET /metrics
check_match "refused streams counted (media, team, size)" "*aish_streams_refused_total 3*" "$BODY"

finish
