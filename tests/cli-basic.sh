# cli-basic.sh: the aish command line against a real aish-rhetor: the
# SPEC examples, -o, redirections, stdin, scripts, -l, and every exit status.
. "$(dirname "$0")/setup.sh"
TEST_TIMEOUT=30

start_server
O=$TEST_TMP/out

# The three examples of the README, exactly.
aish_run "$O" -c 'echo "Hello" | apollo' < /dev/null
check "echo | apollo" "[From Apollo] apollo: Hello" "$(cat "$O")"
check "echo | apollo: status" 0 "$RC"

aish_run "$O" -c 'echo "Design a cache" | athena | apollo' < /dev/null
check "athena | apollo" "[From Athena] athena: Design a cache
[From Apollo] apollo: athena: Design a cache" "$(cat "$O")"

aish_run "$O" -c "team-chat \"What's the best programming language?\"" < /dev/null
check "team-chat: status" 0 "$RC"
check "team-chat: one line per roster AI" 15 "$(grep -c "^\[From [A-Z][a-z]*\] [a-z]*: What's the best programming language?$" "$O")"
for ai in Apollo Athena Engram Ergon Harmonia Hermes Metis Noesis Numa Penia Prometheus Sophia Synthesis Telos Terma; do
	grep -q "^\[From $ai\] " "$O" || fail "team-chat: $ai answered" "$(cat "$O")"
done
check "team-chat: rhetor stays out" 0 "$(grep -c Rhetor "$O" || true)"

# -o: the last stage's raw text only.
aish_run "$O" -o -c 'echo "Design a cache" | athena | apollo' < /dev/null
check "-o" "apollo: athena: Design a cache" "$(cat "$O")"
aish_run "$O" -o -c 'team-chat "hi"' < /dev/null
check "-o team-chat: raw replies" 15 "$(grep -c '^[a-z]*: hi$' "$O")"

# < file loses one trailing newline; > and >> get the raw text.
printf 'from a file\n' > "$TEST_TMP/in.txt"
aish_run "$O" -c "athena < '$TEST_TMP/in.txt' > '$TEST_TMP/o.txt'" < /dev/null
check "< file > file: stdout labelled" "[From Athena] athena: from a file" "$(cat "$O")"
check "> file: raw text" "athena: from a file" "$(cat "$TEST_TMP/o.txt")"
aish_run "$O" -o -c "echo two | apollo >> '$TEST_TMP/o.txt'" < /dev/null
check ">> file appends" "athena: from a file
apollo: two" "$(cat "$TEST_TMP/o.txt")"
check "-o with > file: stdout empty" "" "$(cat "$O")"
aish_run "$O" -c "echo x | apollo > '$TEST_TMP/o.txt'" < /dev/null
check "> file truncates" "apollo: x" "$(cat "$TEST_TMP/o.txt")"
aish_run "$O" -c "apollo < '$TEST_TMP/missing.txt'" < /dev/null
check "< missing file: status" 1 "$RC"
check_match "< missing file: message" "*missing.txt*No such file*" "$(cat "$O.err")"

# Arguments are a pipeline fed by stdin.
RC=0
printf 'Hi\n' | AISH_RHETOR_URL=$URL timeout 20 "$AISH" athena '|' apollo > "$O" 2> "$O.err" || RC=$?
check "stdin mode" "[From Athena] athena: Hi
[From Apollo] apollo: athena: Hi" "$(cat "$O")"
check "stdin mode: status" 0 "$RC"

# Quotes and escapes as in sh; multibyte text survives.
aish_run "$O" -o -c "echo 'it'\\''s' \"a \\\"b\\\"\" | apollo" < /dev/null
check "quoting" "apollo: it's a \"b\"" "$(cat "$O")"
aish_run "$O" -c 'echo "héllo wörld ✓ 日本語" | athena | apollo' < /dev/null
check "UTF-8" "[From Athena] athena: héllo wörld ✓ 日本語
[From Apollo] apollo: athena: héllo wörld ✓ 日本語" "$(cat "$O")"

# Scripts: one command a line; the first failure stops with its status.
cat > "$TEST_TMP/ok.aish" <<'SCRIPT'
#!/usr/bin/env aish
# a comment
echo one | apollo

echo two | athena
SCRIPT
aish_run "$O" "$TEST_TMP/ok.aish" < /dev/null
check "script" "[From Apollo] apollo: one
[From Athena] athena: two" "$(cat "$O")"
check "script: status" 0 "$RC"
printf 'echo one | apollo\necho two | nobody\necho three | apollo\n' > "$TEST_TMP/bad.aish"
aish_run "$O" "$TEST_TMP/bad.aish" < /dev/null
check "script stops at failure: status" 1 "$RC"
check "script stops at failure: output" "[From Apollo] apollo: one" "$(cat "$O")"
printf 'echo one | apollo\necho "two | apollo\n' > "$TEST_TMP/parse.aish"
aish_run "$O" "$TEST_TMP/parse.aish" < /dev/null
check "script parse error: status" 2 "$RC"
check_match "script parse error: line" "*parse.aish:2: parse error at column 6: *" "$(cat "$O.err")"
aish_run "$O" -c "$TEST_TMP/ok.aish" < /dev/null
check "-c forces a command (a path is no command)" 2 "$RC"

# Commands on stdin, no prompt.
RC=0
printf 'echo a | apollo\necho b | athena\n' | AISH_RHETOR_URL=$URL timeout 20 "$AISH" > "$O" 2> "$O.err" || RC=$?
check "commands on stdin" "[From Apollo] apollo: a
[From Athena] athena: b" "$(cat "$O")"

# -l lists the sockets.
aish_run "$O" -l < /dev/null
check "-l: status" 0 "$RC"
check_match "-l: header" "SOCKET*AI*PROVIDER*MODEL*STATE*QUEUE*LAST ACTIVITY*" "$(head -n 1 "$O")"
check_match "-l: apollo row" "*apollo*apollo*echo*echo*active*0*T*Z*" "$(grep '^apollo ' "$O")"
check "-l: every socket" 18 "$(wc -l < "$O")"

# A socket is labelled with its AI's name, and with its own id when that
# is not the AI's name: two sockets of one AI are told apart.
http POST /api/ai/socket/create '{"ai_name":"apollo"}'
aish_run "$O" -c 'echo hi | apollo-1' < /dev/null
check "created socket label: the AI and the socket" "[From Apollo (apollo-1)] apollo: hi" "$(cat "$O")"
aish_run "$O" -c 'echo hi | apollo | apollo-1' < /dev/null
check "two sockets of one AI: two labels" "[From Apollo] apollo: hi
[From Apollo (apollo-1)] apollo: apollo: hi" "$(cat "$O")"

# Unknown AI: status 1 and the known names, before anything runs.
aish_run "$O" -c 'echo hi | apollo | nobody' < /dev/null
check "unknown AI: status" 1 "$RC"
check "unknown AI: nothing ran" "" "$(cat "$O")"
check "unknown AI: one line naming it" 'aish: unknown AI "nobody" (aish -l lists the AIs)' "$(cat "$O.err")"
aish_run "$O" -c 'echo hi | athena | apolo' < /dev/null
check "typo: status" 1 "$RC"
check "typo: nothing ran" "" "$(cat "$O")"
check "typo: did you mean" 'aish: unknown AI "apolo" (did you mean apollo?)' "$(cat "$O.err")"
aish_run "$O" -c 'team-chat -g nogroup "hi"' < /dev/null
check "unknown group: status" 1 "$RC"
check_match "unknown group: message" '*unknown group "nogroup"*' "$(cat "$O.err")"

# A group's team chat, once the server has groups.
http PUT /api/ai/groups/rev '{"members":["apollo","athena"]}'
if [ "$STATUS" = 200 ]; then
	aish_run "$O" -c 'team-chat -g rev "look"' < /dev/null
	check "team-chat -g: status" 0 "$RC"
	check "team-chat -g: the members only" "[From Apollo] apollo: look
[From Athena] athena: look" "$(sort "$O")"
else
	echo "# no groups on this server ($STATUS): team-chat -g checks skipped"
fi

# Parse errors: status 2, the column, the line and a caret.
aish_run "$O" -c 'echo hi | | apollo' < /dev/null
check "parse error: status" 2 "$RC"
check "parse error: message" "aish: parse error at column 11: empty stage between '|' and '|'" "$(head -n 1 "$O.err")"
check "parse error: line" "  echo hi | | apollo" "$(sed -n 2p "$O.err")"
check "parse error: caret" "            ^" "$(sed -n 3p "$O.err")"
aish_run "$O" --bogus < /dev/null
check "bad option: status" 2 "$RC"
aish_run "$O" --timeout-ms 0 -c 'echo hi | apollo' < /dev/null
check "bad timeout: status" 2 "$RC"
aish_run "$O" -c 'apollo' < /dev/null
check "empty stdin: empty input" "[From Apollo] apollo: " "$(cat "$O")"

# Unreachable servers: status 3 at once.
RC=0
timeout 10 "$AISH" -r http://127.0.0.1:1 -c 'echo hi | apollo' > "$O" 2> "$O.err" || RC=$?
check "unreachable: status" 3 "$RC"
check_match "unreachable: message" "aish: cannot reach aish-rhetor at http://127.0.0.1:1*" "$(cat "$O.err")"
RC=0
AISH_RHETOR_URL=http://127.0.0.1:1 timeout 10 "$AISH" -l > "$O" 2> "$O.err" || RC=$?
check "unreachable via AISH_RHETOR_URL: status" 3 "$RC"

# --help and --version.
aish_run "$O" --help
check_match "--help" "usage: aish*" "$(cat "$O")"
aish_run "$O" --version
check_match "--version" "aish [0-9]*" "$(cat "$O")"

# A guarded server: AISH_TOKEN or --token works, none is status 3.
stop_server
start_server "" --token s3cret
aish_run "$O" -c 'echo hi | apollo' < /dev/null
check "token missing: status" 3 "$RC"
check_match "token missing: message" "*token*" "$(cat "$O.err")"
RC=0
AISH_TOKEN=s3cret AISH_RHETOR_URL=$URL timeout 20 "$AISH" -c 'echo hi | apollo' > "$O" 2> "$O.err" < /dev/null || RC=$?
check "AISH_TOKEN" "[From Apollo] apollo: hi" "$(cat "$O")"
aish_run "$O" --token s3cret -o -c 'team-chat "hi"' < /dev/null
check "--token team-chat" 15 "$(wc -l < "$O")"
aish_run "$O" --token wrong -c 'echo hi | apollo' < /dev/null
check "wrong token: status" 3 "$RC"

finish
