#!/bin/bash
# cli-instructions.sh: stages with instructions on the aish command line,
# against a real aish-rhetor whose echo AIs answer "<ai>: <the text they
# received>": the README's first example, quoting, stdin, scripts, the
# whole-pipeline check with its one-line "did you mean", and binary input.
. "$(dirname "$0")/setup.sh"
TEST_TIMEOUT=60

start_server
O=$TEST_TMP/out

# The README's first example.
aish_run "$O" -c 'echo "Design a cache" | athena list the risks | apollo' < /dev/null
check "README example: status" 0 "$RC"
check "README example: each stage labelled" "[From Athena] athena: list the risks

Design a cache
[From Apollo] apollo: athena: list the risks

Design a cache" "$(cat "$O")"

# Quoted or not, the same instruction; -o gives the raw text.
aish_run "$O" -o -c 'echo "this are wrong" | apollo "fix the grammar"' < /dev/null
check "quoted instruction" "apollo: fix the grammar

this are wrong" "$(cat "$O")"
aish_run "$O" -o -c "echo 'this are wrong' | apollo fix   the grammar" < /dev/null
check "unquoted instruction: words joined by one blank" "apollo: fix the grammar

this are wrong" "$(cat "$O")"

# Arguments are a pipeline fed by stdin.
printf 'this are wrong\n' > "$TEST_TMP/in.txt"
RC=0
AISH_RHETOR_URL=$URL timeout 20 "$AISH" -o apollo fix the grammar < "$TEST_TMP/in.txt" > "$O" 2> "$O.err" || RC=$?
check "arguments with an instruction, fed by stdin" "0 apollo: fix the grammar

this are wrong" "$RC $(cat "$O")"
aish_run "$O" -o -c "apollo sum up < '$TEST_TMP/in.txt' | athena 'check it'" < /dev/null
check "instruction with < file, two stages" "athena: check it

apollo: sum up

this are wrong" "$(cat "$O")"

# No input: an empty stdin, or none at a terminal, gives the instruction alone.
aish_run "$O" -o -c 'apollo write a haiku' < /dev/null
check "empty stdin: the instruction alone" "0 apollo: write a haiku" "$RC $(cat "$O")"
if command -v script > /dev/null 2>&1; then
	RC=0
	AISH_RHETOR_URL=$URL timeout 15 script -qfec "'$AISH' -o -c 'apollo write a haiku'" /dev/null < /dev/null > "$O" 2>&1 || RC=$?
	check "stdin a terminal: not read, the instruction alone" "0 apollo: write a haiku" "$RC $(tr -d '\r' < "$O")"
fi

# A script: one command a line, instructions and comments.
cat > "$TEST_TMP/s.aish" <<'EOS'
# a comment line
echo "one" | athena tell me # a trailing comment
echo "two" | apollo "say #2"
EOS
aish_run "$O" -o "$TEST_TMP/s.aish" < /dev/null
check "script with instructions" "athena: tell me

one
apollo: say #2

two" "$(cat "$O")"

# The whole pipeline is checked first: a typo in stage 2 runs nothing.
http POST /api/ai/socket/create '{"ai_name":"first"}'
check "create first-1" "first-1" "$(jget "$BODY" .socket_id)"
aish_run "$O" -c 'echo hi | first-1 look | apolo' < /dev/null
check "typo in stage 2: status 1" 1 "$RC"
check "typo in stage 2: one line, did you mean" 'aish: unknown AI "apolo" (did you mean apollo?)' "$(cat "$O.err")"
check "typo in stage 2: nothing printed" "" "$(cat "$O")"
http GET /api/ai/socket/first-1
check "typo in stage 2: the first AI got no write" 0 "$(jget "$BODY" .history_size)"
long=$(printf 'z%.0s' $(seq 64))
aish_run "$O" -c "echo hi | $long" < /dev/null
line=$(cat "$O.err")
if [ "$RC" = 1 ] && [ "$(wc -l < "$O.err")" = 1 ] && [ "${#line}" -le 160 ]; then
	ok "a 64-letter unknown name: one line of ${#line} characters"
else fail "a 64-letter unknown name: one line within 160" "$RC [$line]"; fi

# Binary input goes as a stream: an instruction cannot go with it.
printf 'RIFF\0\0\0\0WAVEfmt ' > "$TEST_TMP/a.wav"
aish_run "$O" -c "apollo transcribe < '$TEST_TMP/a.wav'" < /dev/null
check "instruction with binary input: status 2" 2 "$RC"
check_match "instruction with binary input: says why" "*an instruction goes with text*audio/wav*" "$(cat "$O.err")"

# The CLI keeps the conversation: each command adds its turns.
aish_run "$O" -o -c 'echo a | first-1' < /dev/null
aish_run "$O" -o -c 'echo b | first-1 again' < /dev/null
http GET /api/ai/socket/first-1
check "history kept by default" 4 "$(jget "$BODY" .history_size)"
http GET /api/ai/socket/first-1/history
check "history: the instruction and the input went in" "again

b" "$(jget "$BODY" '.turns[2].content')"

# --fresh: one-shot writes, for pipelines and team chats.
aish_run "$O" -o --fresh -c 'echo c | first-1 once' < /dev/null
check "--fresh: answered" "0 first: once

c" "$RC $(cat "$O")"
http GET /api/ai/socket/first-1
check "--fresh: the history is left as it was" 4 "$(jget "$BODY" .history_size)"
http PUT /api/ai/groups/solo '{"members":["first-1"]}'
aish_run "$O" -o --fresh -c 'team-chat -g solo "all of you"' < /dev/null
check "--fresh team chat: answered" "0 first: all of you" "$RC $(cat "$O")"
http GET /api/ai/socket/first-1
check "--fresh team chat: the history is left as it was" 4 "$(jget "$BODY" .history_size)"
aish_run "$O" -o -c 'team-chat -g solo "all of you"' < /dev/null
http GET /api/ai/socket/first-1
check "team chat without --fresh: the history grows" 6 "$(jget "$BODY" .history_size)"

finish
