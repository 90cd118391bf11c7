#!/bin/bash
# cli-groups.sh: the command line with groups, moderated team chats,
# binary input and the socket list: team-chat -g GROUP, team-chat
# --synthesize, `aish whisper < talk.wav` sent as a binary stream to an
# exec provider, and `aish -l` with groups and why a socket is
# unresponsive.

TEST_TIMEOUT=${TEST_TIMEOUT:-30}
. "$(dirname "$0")/setup.sh"

T=$TEST_TMP
O=$T/out
cat > "$T/config.json" <<'EOF2'
{
  "default_provider": "echo",
  "providers": {
    "hear": {"type": "exec", "command": ["sh", "-c", "n=$(wc -c); printf 'heard %s bytes of %s' $n \"${AISH_MIME:-text}\""]},
    "dead": {"type": "ollama", "url": "http://127.0.0.1:9", "timeout_ms": 1000}
  }
}
EOF2
start_server "" --config "$T/config.json"
http POST /api/ai/socket/create '{"ai_name":"whisper","socket_id":"whisper","provider":"hear"}'
check "create whisper" 201 "$STATUS"
http PUT /api/ai/groups/pair '{"members":["athena","apollo"]}'
check "create group pair" 200 "$STATUS"

# --- team-chat -g ----------------------------------------------------------------
aish_run "$O" -c 'team-chat -g pair "who is there?"' < /dev/null
check "-g pair: status" 0 "$RC"
check "-g pair: the two members" "[From Apollo] apollo: who is there?
[From Athena] athena: who is there?" "$(sort "$O")"
aish_run "$O" -c 'team-chat -g nosuch hi' < /dev/null
check "-g unknown group: status" 1 "$RC"
check "-g unknown group: says so" 'aish: unknown group "nosuch" (aish -l shows the groups)' "$(cat "$O.err")"
check "-g unknown group: nothing ran" "" "$(cat "$O")"
aish_run "$O" -c 'team-chat -g piar hi' < /dev/null
check "-g typo: did you mean" 'aish: unknown group "piar" (did you mean pair?)' "$(cat "$O.err")"

# --- team-chat --synthesize ----------------------------------------------------
aish_run "$O" -c 'team-chat --synthesize -g pair "which cache?"' < /dev/null
check "--synthesize: status" 0 "$RC"
check "--synthesize: members first" 2 "$(head -n 2 "$O" | grep -c '^\[From A[a-z]*\] a[a-z]*: which cache?$')"
check_match "--synthesize: rhetor's synthesis last" "[[]From Rhetor] rhetor: Question: which cache?*" \
	"$(sed -n '3,$p' "$O")"
check_match "--synthesize: it holds the replies" "*\[athena\] athena: which cache\?*" "$(cat "$O")"
aish_run "$O" -o -c 'team-chat --synthesize -g pair "raw?"' < /dev/null
check "--synthesize -o: raw replies, synthesis last" "rhetor: Question: raw?" "$(sed -n 3p "$O")"
aish_run "$O" -c 'team-chat --synth hi' < /dev/null
check "--synth: usage" 2 "$RC"

# --- binary input -----------------------------------------------------------------
printf 'RIFF\044\000\000\000WAVEfmt \020\000\000\000\001\000\001\000\200\076\000\000' > "$T/talk.wav"
head -c 5000 /dev/urandom >> "$T/talk.wav"
printf '\n' >> "$T/talk.wav"
size=$(wc -c < "$T/talk.wav")
aish_run "$O" whisper < "$T/talk.wav"
check "whisper < talk.wav: status" 0 "$RC"
check "whisper < talk.wav: every byte, as audio/wav" "[From Whisper] heard $size bytes of audio/wav" "$(cat "$O")"
aish_run "$O" -c "whisper < '$T/talk.wav' | athena" < /dev/null
check "binary file then a pipeline" "[From Whisper] heard $size bytes of audio/wav
[From Athena] athena: heard $size bytes of audio/wav" "$(cat "$O")"
head -c 3000 /dev/urandom > "$T/noise"
printf '\377' >> "$T/noise"
aish_run "$O" -o whisper < "$T/noise"
check "unknown bytes: application/octet-stream" "heard 3001 bytes of application/octet-stream" "$(cat "$O")"
printf 'plain text\n' > "$T/text"
aish_run "$O" -o whisper < "$T/text"
check "text stays text" "heard 10 bytes of text" "$(cat "$O")"
aish_run "$O" athena < "$T/talk.wav"
check "binary to a text-only AI: status" 1 "$RC"
check_match "binary to a text-only AI: says why" "*unsupported_media*" "$(cat "$O.err")"
aish_run "$O" -c "team-chat < '$T/talk.wav'" < /dev/null
check "binary team chat: refused" 1 "$RC"
check_match "binary team chat: says it is not text" "*not UTF-8 text*" "$(cat "$O.err")"

# --- aish -l -------------------------------------------------------------------
http POST /api/ai/socket/create '{"ai_name":"ghost","socket_id":"ghost","provider":"dead"}'
for i in 1 2 3; do
	http POST /api/ai/socket/ghost/write "{\"content\":\"x\",\"id\":\"g$i\"}"
	http GET '/api/ai/socket/ghost/read?wait_ms=5000'
done
aish_run "$O" -l < /dev/null
check "-l: status" 0 "$RC"
check_match "-l: header" "SOCKET*PROVIDER*MODEL*STATE*QUEUE*LAST ACTIVITY*GROUPS" "$(head -n 1 "$O")"
check_match "-l: athena's group" "athena *echo*active*pair" "$(grep '^athena ' "$O")"
check_match "-l: whisper's provider" "whisper *whisper *hear *- *active *0 *20*-" "$(grep '^whisper ' "$O")"
check_match "-l: ghost unresponsive" "ghost *ghost *dead *llama3.2 *unresponsive *0 *" "$(grep '^ghost ' "$O")"
check_match "-l: why" "*why unresponsive: dead (ollama, http://127.0.0.1:9)*" "$(cat "$O")"
check_match "-l: group socket listed" "team-chat-pair *team-chat-pair *none*" "$(grep '^team-chat-pair ' "$O")"

finish
