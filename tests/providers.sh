#!/bin/bash
# providers.sh: the real providers (SPEC section 3) against a local server
# that speaks their wire formats (tests/fake-providers.py): Ollama NDJSON,
# OpenAI and Anthropic SSE, and local commands (exec).  Every provider meets
# every failure: chunks split mid-line and mid-character, HTTP errors with
# the provider's JSON body, errors in the stream, malformed streams, a cut
# connection, a stall past the timeout, a refused connection.  Then history,
# reset, cancel, keys, bad configs, the start-up probe, and 100 sockets
# answering at once.

TEST_TIMEOUT=${TEST_TIMEOUT:-120}
. "$(dirname "$0")/setup.sh"

T=$TEST_TMP
FAKE_PID=
KEY=sk-test-key-0123456789
WRONG=sk-wrong-key-SECRET-9876543210
export FAKE_KEY=$KEY WRONG_KEY=$WRONG
unset UNSET_KEY_VAR || true
if ! command -v python3 > /dev/null; then
	echo "python3 is needed for the fake providers" >&2
	exit 77
fi

# Stops the fake server too when the script ends.
stop_fake() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null || true
	cleanup
}
trap stop_fake EXIT

# --- the fake provider server ---------------------------------------------
python3 "$top_srcdir/tests/fake-providers.py" --port 0 --key "$KEY" \
	> "$T/fake.out" 2> "$T/fake.err" &
FAKE_PID=$!
for i in $(seq 1 100); do
	FAKE_PORT=$(sed -n 's/^listening on //p' "$T/fake.out" 2>/dev/null)
	[ -n "$FAKE_PORT" ] && break
	sleep 0.05
done
[ -n "$FAKE_PORT" ] || { echo "fake-providers did not start" >&2; cat "$T/fake.err" >&2; exit 1; }
FAKE=http://127.0.0.1:$FAKE_PORT

cat > "$T/config.json" <<EOF
{
  "listen": {"host": "127.0.0.1", "port": 1},
  "default_provider": "ol",
  "providers": {
    "ol": {"type": "ollama", "url": "$FAKE", "timeout_ms": 1000},
    "oa": {"type": "openai", "url": "$FAKE/v1", "api_key_env": "FAKE_KEY", "timeout_ms": 1000},
    "an": {"type": "anthropic", "url": "$FAKE", "api_key_env": "FAKE_KEY", "timeout_ms": 1000},
    "badkey": {"type": "openai", "url": "$FAKE", "api_key_env": "WRONG_KEY"},
    "nokey": {"type": "anthropic", "url": "$FAKE", "api_key_env": "UNSET_KEY_VAR"},
    "refused": {"type": "ollama", "url": "http://127.0.0.1:9"},
    "short": {"type": "ollama", "url": "$FAKE", "history_turns": 1},
    "ex": {"type": "exec", "command": ["sh", "-c", "printf 'got: '; cat; printf ' (%s)' \"\$AISH_AI_NAME\""]},
    "exfail": {"type": "exec", "command": ["sh", "-c", "cat > /dev/null; echo line1 >&2; echo line2 >&2; echo 'the last words' >&2; exit 3"]},
    "exsplit": {"type": "exec", "command": ["sh", "-c", "cat > /dev/null; printf 'a\\\\342\\\\230'; sleep 0.2; printf '\\\\203b'"]},
    "exslow": {"type": "exec", "command": ["sh", "-c", "echo \$\$ > '$T/exslow.pid'; sleep 10"]},
    "exmissing": {"type": "exec", "command": ["/nonexistent/aish-command"]},
    "exstall": {"type": "exec", "timeout_ms": 500, "command": ["sh", "-c", "sleep 10"]},
    "exheir": {"type": "exec", "command": ["sh", "-c", "cat > /dev/null; echo done; sleep 30 & echo \$! > '$T/exheir.pid'; exit 0"]},
    "excount": {"type": "exec", "command": ["sh", "-c", "sleep 0.2; wc -c"]},
    "patient": {"type": "ollama", "url": "$FAKE", "timeout_ms": 10000},
    "olmax": {"type": "ollama", "url": "$FAKE", "timeout_ms": 1000, "max_ms": 1500},
    "oamax": {"type": "openai", "url": "$FAKE/v1", "api_key_env": "FAKE_KEY", "timeout_ms": 1000, "max_ms": 1500},
    "anmax": {"type": "anthropic", "url": "$FAKE", "api_key_env": "FAKE_KEY", "timeout_ms": 1000, "max_ms": 1500},
    "exdrip": {"type": "exec", "timeout_ms": 1000, "command": ["sh", "-c", "cat > /dev/null; for i in 0 1 2 3 4 5 6 7 8 9; do printf \$i; sleep 0.3; done"]},
    "exmax": {"type": "exec", "timeout_ms": 1000, "max_ms": 1500, "command": ["sh", "-c", "cat > /dev/null; for i in 0 1 2 3 4 5 6 7 8 9; do printf \$i; sleep 0.3; done"]}
  },
  "ais": {
    "apollo": {"provider": "ol", "model": "count", "prompt": "You are Apollo."},
    "athena": {"provider": "an", "model": "count", "prompt": "You are Athena."}
  }
}
EOF

start_server "" --config "$T/config.json"
check "config: roster and default named at start" 1 \
	"$(grep -c 'config .*config.json: default provider ol' "$T/server.err")"
check_match "config: --port wins over listen.port" "http://127.0.0.1:*" "$URL"
http GET /api/ai/sockets
check "config: roster from ais" "apollo athena rhetor team-chat-all" \
	"$(jget "$BODY" '[.sockets[].socket_id] | sort | join(" ")')"
http GET /api/ai/socket/athena
check "config: roster AI provider/model/prompt" "an count You are Athena." \
	"$(jget "$BODY" '"\(.provider) \(.model) \(.prompt)"')"
http GET /api/ai/socket/rhetor
check "config: rhetor on the default provider" ol "$(jget "$BODY" .provider)"

# mk ID PROVIDER MODEL: creates a socket.
mk() {
	http POST /api/ai/socket/create \
		"{\"ai_name\":\"t\",\"socket_id\":\"$1\",\"provider\":\"$2\",\"model\":\"$3\"}"
	[ "$STATUS" = 201 ] || fail "create $1" "$STATUS $BODY"
}

# say OUT SOCKET [N]: writes "hi" N times and waits for the replies; a
# write is sent only after the previous reply.  Ids are new each time (a
# repeated id would not run again).
say() {
	local out=$1 sock=$2 n=${3:-1} i script= tag
	tag=$(basename "$out")
	for i in $(seq 1 "$n"); do
		script+="{\"type\":\"write\",\"content\":\"hi\",\"id\":\"$tag-$i\"}"$'\n'
		script+="wait $i"$'\n'
	done
	printf '%s' "$script" | ws_run "$out" "$sock"
}

# final OUT FIELD: a field of the last read or error frame.
final() {
	fq "$1" "[.[] | select(.type == \"read\" or .type == \"error\")] | last | $2"
}

declare -A NAME=([ol]=ollama [oa]=openai [an]=anthropic)
declare -A SAYS=([ol]="ol (ollama, $FAKE)" [oa]="oa (openai, $FAKE/v1)"
	[an]="an (anthropic, $FAKE)")
declare -A E404=([ol]='HTTP 404: model "error404" not found*'
	[oa]='HTTP 404: The model `error404` does not exist*'
	[an]='HTTP 404: model: error404 (not_found_error)')
declare -A E500=([ol]='HTTP 500: llama runner process has terminated*'
	[oa]='HTTP 500: The server had an error*' [an]='HTTP 500: Internal server error*')
declare -A EMID=([ol]='an error was encountered while running the model'
	[oa]='The server is overloaded (server_error)' [an]='Overloaded (overloaded_error)')
SPLIT="Ünïcödé ☃ 😀 — split across chunks: hi"

for p in ol oa an; do
	k=${NAME[$p]}
	for m in ok split error404 error500 midstream malformed cut stall; do
		mk "$p-$m" "$p" "$m"
	done

	say "$T/$p-ok" "$p-ok"
	check "$k ok: reply" "[$k] hi" "$(final "$T/$p-ok" .content)"
	check "$k ok: deltas joined" "[$k] hi" \
		"$(fq "$T/$p-ok" '[.[] | select(.type == "delta") | .content] | join("")')"
	check_match "$k ok: streamed in pieces" '[2-9]' \
		"$(fq "$T/$p-ok" '[.[] | select(.type == "delta")] | length')"

	say "$T/$p-split" "$p-split"
	check "$k split: reply whole" "$SPLIT" "$(final "$T/$p-split" .content)"
	check "$k split: deltas joined" "$SPLIT" \
		"$(fq "$T/$p-split" '[.[] | select(.type == "delta") | .content] | join("")')"

	# Two writes on an erring socket: both answered, the socket stays usable.
	say "$T/$p-404" "$p-error404" 2
	check "$k 404: two error frames" "error error" \
		"$(fq "$T/$p-404" '[.[] | select(.type == "error") | .type] | join(" ")')"
	check "$k 404: code" provider_error "$(final "$T/$p-404" .code)"
	check_match "$k 404: names provider, says what it said" \
		"${SAYS[$p]}: ${E404[$p]}" "$(final "$T/$p-404" .message)"

	say "$T/$p-500" "$p-error500"
	check_match "$k 500: message" "${SAYS[$p]}: ${E500[$p]}" \
		"$(final "$T/$p-500" .message)"

	say "$T/$p-mid" "$p-midstream"
	check "$k error in the stream" "${SAYS[$p]}: ${EMID[$p]}" \
		"$(final "$T/$p-mid" .message)"

	say "$T/$p-bad" "$p-malformed"
	check_match "$k malformed stream" "${SAYS[$p]}: malformed stream: *not json*" \
		"$(final "$T/$p-bad" .message)"

	say "$T/$p-cut" "$p-cut"
	check "$k cut: error frame" error "$(final "$T/$p-cut" .type)"
	check_match "$k cut: message" "${SAYS[$p]}: *" "$(final "$T/$p-cut" .message)"

	t0=$(now_ms)
	say "$T/$p-stall" "$p-stall"
	elapsed=$(($(now_ms) - t0))
	check "$k stall: timeout" "provider_timeout ${SAYS[$p]}: the reply stopped for 1000 ms (timeout_ms)" \
		"$(final "$T/$p-stall" '"\(.code) \(.message)"')"
	if [ "$elapsed" -lt 3000 ]; then ok "$k stall: ended in time (${elapsed} ms)"
	else fail "$k stall: ended in time" "${elapsed} ms"; fi

	http GET "/api/ai/socket/$p-stall"
	check "$k: socket still active after errors" active "$(jget "$BODY" .state)"
done

# --- refused connections and missing keys ------------------------------------
mk refused refused ok
say "$T/refused" refused
check_match "refused: message" 'refused (ollama, http://127.0.0.1:9): *onnect*' \
	"$(final "$T/refused" .message)"

mk nokey nokey ok
say "$T/nokey" nokey
check "missing key: message" \
	"nokey (anthropic, $FAKE): the environment variable UNSET_KEY_VAR that should hold the API key is not set" \
	"$(final "$T/nokey" .message)"

mk badkey badkey ok
say "$T/badkey" badkey
msg=$(final "$T/badkey" .message)
check_match "wrong key: provider's 401" "badkey (openai, $FAKE): HTTP 401: Incorrect API key provided: *" "$msg"
case "$msg" in *"$WRONG"*) fail "wrong key: not in the error" "$msg" ;; *) ok "wrong key: not in the error" ;; esac

# --- history, reset ------------------------------------------------------------
say "$T/hist-ol" apollo 2
check "ollama history: first turn" "n=2 roles=system,user system=You are Apollo." \
	"$(fq "$T/hist-ol" '[.[] | select(.type == "read")][0].content')"
check "ollama history: second turn" "n=4 roles=system,user,assistant,user system=You are Apollo." \
	"$(fq "$T/hist-ol" '[.[] | select(.type == "read")][1].content')"
http GET /api/ai/socket/apollo
check "history_size after two turns" 4 "$(jget "$BODY" .history_size)"
http POST /api/ai/socket/apollo/reset '{}'
say "$T/hist-reset" apollo
check "reset clears the history" "n=2 roles=system,user system=You are Apollo." \
	"$(final "$T/hist-reset" .content)"

say "$T/hist-an" athena 2
check "anthropic history: system apart" "n=3 roles=user,assistant,user system=You are Athena." \
	"$(final "$T/hist-an" .content)"

mk oa-count oa count
say "$T/hist-oa" oa-count 2
check "openai history: second turn" "n=3 roles=user,assistant,user system=-" \
	"$(final "$T/hist-oa" .content)"

mk short short count
say "$T/hist-short" short 3
check "history_turns caps what is kept" "n=3 roles=user,assistant,user system=-" \
	"$(final "$T/hist-short" .content)"

# --- cancel ----------------------------------------------------------------------
mk oa-slow oa slowstream
ws_run "$T/cancel" oa-slow <<'EOF'
{"type":"write","content":"long","id":"c1"}
sleep 400
{"type":"cancel","id":"c1"}
wait 1
EOF
check "cancel: error frame" cancelled "$(final "$T/cancel" .code)"
closed=
for i in $(seq 1 40); do
	closed=$(curl -s "$FAKE/_events" | jq -r '[.events[] | select(.model == "slowstream") | .closed] | first // empty')
	[ -n "$closed" ] && break
	sleep 0.1
done
check "cancel: the provider saw the connection closed" true "$closed"

# --- exec ------------------------------------------------------------------------
mk ex ex m
say "$T/ex" ex
check "exec: stdout is the reply" "got: hi (t)" "$(final "$T/ex" .content)"
check "exec: deltas joined" "got: hi (t)" \
	"$(fq "$T/ex" '[.[] | select(.type == "delta") | .content] | join("")')"

mk exfail exfail m
say "$T/exfail" exfail
msg=$(final "$T/exfail" .message)
check_match "exec failure: status and stderr's last lines" \
	"exfail (exec, sh): exit status 3: line1*line2*the last words" "$msg"

mk exsplit exsplit m
say "$T/exsplit" exsplit
check "exec: a character split across writes" "a☃b" "$(final "$T/exsplit" .content)"
check "exec: streamed as it came, in whole characters" "a ☃b" \
	"$(fq "$T/exsplit" '[.[] | select(.type == "delta") | .content] | join(" ")')"

mk exmissing exmissing m
say "$T/exmissing" exmissing
# Under valgrind posix_spawnp cannot see the exec fail (the child runs
# apart), and the command ends with the shell's status 127 instead.
missing_why="*No such file*"
[ -n "${VALGRIND:-}" ] && missing_why="exit status 127"
check_match "exec: a missing command" "exmissing (exec, /nonexistent/aish-command): $missing_why" \
	"$(final "$T/exmissing" .message)"

# A command that exits leaving a child that holds its stdout open is
# answered all the same (within the 10 s the client waits, not after the
# child's 30).
mk exheir exheir m
say "$T/exheir" exheir
check "exec: answered when a child it left holds stdout" "done" \
	"$(final "$T/exheir" '.content | rtrimstr("\n")')"
[ -s "$T/exheir.pid" ] && kill "$(cat "$T/exheir.pid")" 2>/dev/null

# More than a pipe holds (64 KiB), written as the command reads it.
mk excount excount m
big=$(head -c 100000 /dev/zero | tr '\0' a)
http POST /api/ai/socket/excount/write "{\"content\":\"$big\",\"id\":\"big1\"}"
check "exec: a long message accepted" 202 "$STATUS"
http GET "/api/ai/socket/excount/read?wait_ms=$((5000 * SLOWDOWN))"
check "exec: a message longer than the pipe reaches stdin whole" 100000 \
	"$(jget "$BODY" '[.messages[].content] | join("|") | gsub("[ \n]"; "")')"

mk exstall exstall m
say "$T/exstall" exstall
check "exec: no output past timeout_ms" \
	"provider_timeout exstall (exec, sh): no output for 500 ms (timeout_ms); the command was killed" \
	"$(final "$T/exstall" '"\(.code) \(.message)"')"

mk exslow exslow m
ws_run "$T/excancel" exslow <<'EOF'
{"type":"write","content":"x","id":"c2"}
sleep 300
{"type":"cancel","id":"c2"}
wait 1
EOF
check "exec cancel: error frame" cancelled "$(final "$T/excancel" .code)"
sleep 0.2
pid=$(cat "$T/exslow.pid" 2>/dev/null || echo none)
if [ "$pid" != none ] && ! kill -0 "$pid" 2>/dev/null; then ok "exec cancel: the command was killed"
else fail "exec cancel: the command was killed" "pid $pid"; fi

# --- silence and length: timeout_ms, max_ms ----------------------------------------
# Every provider at once: a reply that streams a character every 300 ms for
# 3 s under timeout_ms 1000 is never cut; one silent for 2 s is, with
# provider_timeout; max_ms 1500 cuts one that streams for 3 s.
declare -A SAYSMAX=([ol]="olmax (ollama, $FAKE)" [oa]="oamax (openai, $FAKE/v1)"
	[an]="anmax (anthropic, $FAKE)")
for p in ol oa an; do
	mk "$p-drip" "$p" drip
	mk "$p-silent" "$p" silent
	mk "$p-max" "${p}max" drip
done
mk exdrip exdrip m
mk exmax exmax m
pids=()
for s in ol-drip oa-drip an-drip ol-silent oa-silent an-silent ol-max oa-max \
	an-max exdrip exmax; do
	say "$T/time-$s" "$s" &
	pids+=($!)
done
wait "${pids[@]}"
for p in ol oa an exec; do
	k=${NAME[$p]:-exec}
	d=$p-drip
	[ "$p" = exec ] && d=exdrip
	check "$k: streaming for 3 s under timeout_ms 1000 is not cut" "read 0123456789" \
		"$(final "$T/time-$d" '"\(.type) \(.content)"')"
	check "$k: ten pieces, 300 ms apart" 10 \
		"$(fq "$T/time-$d" '[.[] | select(.type == "delta")] | length')"
	m=$p-max
	[ "$p" = exec ] && m=exmax
	check "$k: max_ms ends the reply with provider_timeout" "error provider_timeout" \
		"$(final "$T/time-$m" '"\(.type) \(.code)"')"
	if [ "$p" = exec ]; then
		check "exec: max_ms message" \
			"exmax (exec, sh): the reply took more than 1500 ms (max_ms); the command was killed" \
			"$(final "$T/time-$m" .message)"
	else
		check "$k: max_ms message" "${SAYSMAX[$p]}: the reply took more than 1500 ms (max_ms)" \
			"$(final "$T/time-$m" .message)"
	fi
	check_match "$k: max_ms came after some of the reply, never a read" "[1-9] 0" \
		"$(fq "$T/time-$m" '"\([.[] | select(.type == "delta")] | length) \([.[] | select(.type == "read")] | length)"')"
	[ "$p" = exec ] && continue
	check "$k: silent for 2 s under timeout_ms 1000: provider_timeout" \
		"error provider_timeout ${SAYS[$p]}: no answer for 1000 ms (timeout_ms)" \
		"$(final "$T/time-$p-silent" '"\(.type) \(.code) \(.message)"')"
done
http GET /metrics
check_match "metrics: timeouts count as provider errors" '*aish_provider_errors_total{provider="olmax"} 1*' "$BODY"

# --- fresh writes: the prompt and the message alone, no history kept -----------------
# sent TAG CONTENT: what the fake provider got for the last request of
# model TAG whose last message is CONTENT: "role:content|..." with the
# system prompt first (Anthropic's apart from the messages).
sent() {
	curl -s "$FAKE/_events" | jq -r --arg m "$1" --arg c "$2" '
		[.events[] | .request | select(.model == $m and
		  (.messages | last | .content) == $c)] | last |
		(if .system then ["system:\(.system)"] else [] end) +
		[.messages[] | "\(.role):\(.content)"] | join("|")'
}
for p in ol oa an; do
	k=${NAME[$p]}
	http POST /api/ai/socket/create \
		"{\"ai_name\":\"t\",\"socket_id\":\"$p-conv\",\"provider\":\"$p\",\"model\":\"ok@$p-conv\",\"prompt\":\"You are T.\"}"
	ws_run "$T/$p-conv" "$p-conv" <<'EOF'
{"type":"write","content":"first","id":"f1"}
wait 1
{"type":"write","content":"second","id":"f2","fresh":true}
wait 2
{"type":"write","content":"third","id":"f3","fresh":false}
wait 3
EOF
	check "$k fresh: answered" "[$k] first|[$k] second|[$k] third" \
		"$(fq "$T/$p-conv" '[.[] | select(.type == "read") | .content] | join("|")')"
	check "$k: a write gets the history" "system:You are T.|user:first" \
		"$(sent "ok@$p-conv" first)"
	check "$k fresh: the prompt and the message alone" "system:You are T.|user:second" \
		"$(sent "ok@$p-conv" second)"
	check "$k fresh: neither the message nor the reply joined the history" \
		"system:You are T.|user:first|assistant:[$k] first|user:third" \
		"$(sent "ok@$p-conv" third)"
done

# --- GET /api/ai/socket/{id}/history -------------------------------------------------
http GET /api/ai/socket/ol-conv/history
check "history: 200" 200 "$STATUS"
check "history: the turns, oldest first, without the fresh one" \
	"user:first assistant:[ollama] first user:third assistant:[ollama] third" \
	"$(jget "$BODY" '[.turns[] | "\(.role):\(.content)"] | join(" ")')"
check "history: an answer has its read frame's seq" \
	"$(fq "$T/ol-conv" '[.[] | select(.type == "read" and .in_reply_to != "f2") | .seq] | join(" ")')" \
	"$(jget "$BODY" '[.turns[] | select(.role == "assistant") | .seq] | join(" ")')"
check "history: seqs grow, a question's below its answer's" true \
	"$(jget "$BODY" '[.turns[].seq] as $s | $s == ($s | sort) and ($s | unique | length) == 4')"
check "history: timestamps are the read frames' times" \
	"$(fq "$T/ol-conv" '[.[] | select(.type == "read" and .in_reply_to != "f2") | .timestamp] | join(" ")')" \
	"$(jget "$BODY" '[.turns[] | select(.role == "assistant") | .timestamp] | join(" ")')"
third_q=$(jget "$BODY" '.turns[2].seq')
http GET "/api/ai/socket/ol-conv/history?limit=1"
check "history: limit keeps the newest" "assistant:[ollama] third" \
	"$(jget "$BODY" '[.turns[] | "\(.role):\(.content)"] | join(" ")')"
http GET "/api/ai/socket/ol-conv/history?before=$third_q"
check "history: before keeps seq < before" "user:first assistant:[ollama] first" \
	"$(jget "$BODY" '[.turns[] | "\(.role):\(.content)"] | join(" ")')"
http GET "/api/ai/socket/ol-conv/history?before=$third_q&limit=1"
check "history: limit and before" "assistant:[ollama] first" \
	"$(jget "$BODY" '[.turns[] | "\(.role):\(.content)"] | join(" ")')"
http GET "/api/ai/socket/ol-conv/history?before=1"
check "history: nothing before seq 1" '{"turns":[]}' "$BODY"
http GET /api/ai/socket/team-chat-all/history
check "history: team-chat sockets keep none of their own" '{"turns":[]}' "$BODY"
http GET /api/ai/socket/nosuch/history
check_error "history: unknown socket" 404 unknown_socket
for q in limit=0 limit=-1 limit=x limit=1001 limit= before=0 before=-5 before=1.5 \
	before=99999999999999999999; do
	http GET "/api/ai/socket/ol-conv/history?$q"
	check_error "history: ?$q" 400 bad_request
done
http POST /api/ai/socket/ol-conv/write '{"content":"x","fresh":"yes"}'
check_error "fresh must be a boolean (HTTP)" 400 bad_request
ws_run "$T/fresh-bad" ol-conv <<'EOF'
{"type":"write","content":"x","id":"b1","fresh":1}
sleep 200
EOF
check "fresh must be a boolean (WebSocket)" "error bad_request" \
	"$(fq "$T/fresh-bad" '[.[] | select(.type == "error")] | last | "\(.type) \(.code)"')"
http POST /api/ai/socket/ol-conv/reset '{}'
http GET /api/ai/socket/ol-conv/history
check "history: reset empties it" '{"turns":[]}' "$BODY"

# --- fresh team chats ------------------------------------------------------------------
http PUT /api/ai/groups/duo '{"members":["apollo","athena"]}'
http GET /api/ai/socket/apollo
apollo_turns=$(jget "$BODY" .history_size)
http POST /api/team-chat '{"message":"all of you","group":"duo","fresh":true}'
check "team chat fresh: each member got its prompt and the message alone" \
	"apollo:n=2 roles=system,user system=You are Apollo.|athena:n=1 roles=user system=You are Athena." \
	"$(jget "$BODY" '[.responses[] | "\(.socket_id):\(.content)"] | sort | join("|")')"
ws_run "$T/team-fresh" team-chat-duo <<'EOF'
{"type":"write","content":"and again","id":"tf1","fresh":true}
wait 2
EOF
check "team-chat socket fresh: each member fresh" \
	"apollo:n=2 roles=system,user system=You are Apollo.|athena:n=1 roles=user system=You are Athena." \
	"$(fq "$T/team-fresh" '[.[] | select(.type == "read") | "\(.socket_id):\(.content)"] | sort | join("|")')"
http GET /api/ai/socket/apollo
check "team chat fresh: the members' history unchanged" "$apollo_turns" "$(jget "$BODY" .history_size)"
http POST /api/team-chat '{"message":"not fresh","group":"duo"}'
check_match "team chat without fresh: the history is sent" "*apollo:n=$((apollo_turns + 2)) *" \
	"$(jget "$BODY" '[.responses[] | "\(.socket_id):\(.content)"] | sort | join("|")')"

# --- team chat timeout_ms: since the last progress -------------------------------------
mk slowdrip patient drip
mk slowsilent patient silent
http PUT /api/ai/groups/drip '{"members":["slowdrip"]}'
http PUT /api/ai/groups/hush '{"members":["slowsilent"]}'
http POST /api/team-chat '{"message":"go","group":"drip","timeout_ms":1000}'
check "team chat: a member streaming for 3 s under timeout_ms 1000 is heard" \
	"slowdrip:0123456789 timed_out:" \
	"$(jget "$BODY" '"\([.responses[] | "\(.socket_id):\(.content)"] | join(" ")) timed_out:\(.timed_out | join(" "))"')"
t0=$(now_ms)
http POST /api/team-chat '{"message":"go","group":"hush","timeout_ms":1000}'
elapsed=$(($(now_ms) - t0))
check "team chat: a member silent for 1 s is timed out" "responses:0 timed_out:slowsilent" \
	"$(jget "$BODY" '"responses:\(.responses | length) timed_out:\(.timed_out | join(" "))"')"
if [ "$elapsed" -ge 900 ] && [ "$elapsed" -lt 1900 ]; then ok "team chat: timed out after 1 s of silence (${elapsed} ms)"
else fail "team chat: timed out after 1 s of silence" "${elapsed} ms"; fi

# --- a fresh write run again after kill -9 is still fresh ------------------------------
mk replay patient "drip@replay"
say "$T/replay-1" replay
check "replay: a first turn" "0123456789" "$(final "$T/replay-1" .content)"
http POST /api/ai/socket/replay/write '{"content":"once more","id":"r2","fresh":true}'
check "replay: fresh write accepted" 202 "$STATUS"
n=0
for i in $(seq 1 100); do
	n=$(curl -s "$FAKE/_events" | jq '[.events[] | select(.model == "drip@replay")] | length')
	[ "$n" = 2 ] && break
	sleep 0.05
done
check "replay: the provider got the write" 2 "$n"
kill9_server
start_server "$STATE_DIR" --config "$T/config.json"
# The reply to "hi" may come again first: its removal from the queue
# after it was written out may not have been stored before the kill.
got=
for i in 1 2 3; do
	http GET "/api/ai/socket/replay/read?wait_ms=$((8000 * SLOWDOWN))"
	got=$(jget "$BODY" '[.messages[] | select(.in_reply_to == "r2") | "\(.in_reply_to) \(.content)"] | join(",")')
	[ -n "$got" ] && break
done
check "replay: the write ran again after kill -9" "r2 0123456789" "$got"
check "replay: the provider got it twice, fresh both times" "user:once more|user:once more" \
	"$(curl -s "$FAKE/_events" | jq -r '[.events[] | .request | select(.model == "drip@replay" and (.messages | last | .content) == "once more") | [.messages[] | "\(.role):\(.content)"] | join(",")] | join("|")')"
http GET /api/ai/socket/replay/history
check "replay: the fresh write is not in the history" "hi 0123456789" \
	"$(jget "$BODY" '[.turns[].content] | join(" ")')"

# --- keys never in logs ------------------------------------------------------------
if grep -q -e "$KEY" -e "$WRONG" "$T/server.err"; then fail "keys not in the log"
else ok "keys not in the log"; fi
stop_server

# --- bad configs are refused at start ------------------------------------------
# bad NAME JSON EXPECTED-GLOB: the server must exit 2 naming file, place, reason.
bad() {
	local rc=0
	printf '%s' "$2" > "$T/bad.json"
	"$RHETOR" --port 0 --state-dir "$T/badstate" --config "$T/bad.json" \
		> /dev/null 2> "$T/bad.err" || rc=$?
	check "bad config, $1: exit status" 2 "$rc"
	check_match "bad config, $1: message" "$3" "$(cat "$T/bad.err")"
}
bad "unknown type" '{"providers":{"x":{"type":"nope"}}}' \
	"*bad.json: providers.x.type: unknown provider type 'nope' (known: echo, ollama, openai, anthropic, exec)*"
bad "unknown key" '{"providers":{"x":{"type":"ollama","urll":"http://h"}}}' \
	"*bad.json: providers.x.urll: unknown key (known: *"
bad "top-level key" '{"listen":{"port":1},"provider":{}}' "*bad.json: provider: unknown key*"
bad "not JSON" $'{\n  "providers": {,}\n}' "*bad.json: line 2, column *: not valid JSON*"
bad "unknown provider" '{"ais":{"apollo":{"provider":"gpt"}}}' \
	"*bad.json: ais.apollo.provider: unknown provider 'gpt' (known: echo)*"
bad "key in api_key_env" '{"providers":{"g":{"type":"openai","api_key_env":"sk-abc-SECRETVALUE"}}}' \
	"*bad.json: providers.g.api_key_env: must be the name of an environment variable*"
if grep -q SECRETVALUE "$T/bad.err"; then fail "bad config: a key is not repeated"
else ok "bad config: a key is not repeated"; fi
bad "exec without command" '{"providers":{"s":{"type":"exec"}}}' "*bad.json: providers.s.command: *"
bad "url on exec" '{"providers":{"s":{"type":"exec","command":["x"],"url":"http://h"}}}' \
	"*providers.s.url: not used by a provider of type 'exec'*"
bad "bad port" '{"listen":{"port":70000}}' "*bad.json: listen.port: must be a whole number*"
bad "default provider" '{"default_provider":"zz"}' "*bad.json: default_provider: unknown provider 'zz'*"
bad "empty file" "" "*bad.json: *not valid JSON*"
rm -f "$T/bad.json"
rc=0; "$RHETOR" --port 0 --state-dir "$T/badstate" --config "$T/none.json" 2> "$T/bad.err" > /dev/null || rc=$?
check "missing config file: exit status" 2 "$rc"
check_match "missing config file: message" "*none.json: No such file or directory*" "$(cat "$T/bad.err")"

# --- no config: the Ollama probe ---------------------------------------------------
AISH_OLLAMA_URL=$FAKE AISH_OLLAMA_MODEL=ok start_server
check "no config, Ollama answers: said at start" 1 \
	"$(grep -c "roster on ollama at $FAKE (model ok)" "$T/server.err")"
http GET /api/ai/socket/hermes
check "no config: Tekton roster on ollama" "ollama ok" "$(jget "$BODY" '"\(.provider) \(.model)"')"
say "$T/probe" hermes
check "no config: hermes answers through ollama" "[ollama] hi" "$(final "$T/probe" .content)"
stop_server
AISH_OLLAMA_URL=http://127.0.0.1:9 start_server
check "no config, no Ollama: on echo, said at start" 1 \
	"$(grep -c "roster on echo (no Ollama at http://127.0.0.1:9)" "$T/server.err")"
http GET /api/ai/socket/hermes
check "no config, no Ollama: roster on echo" echo "$(jget "$BODY" .provider)"
stop_server

# --- 100 sockets at once through a slow provider -------------------------------------
cat > "$T/slow.json" <<EOF
{"providers": {"ol": {"type": "ollama", "url": "$FAKE"}}, "ais": {}}
EOF
start_server "" --config "$T/slow.json"
for i in $(seq 1 100); do
	printf '{"ai_name":"s","socket_id":"s%d","provider":"ol","model":"slow"}' "$i" > "$T/c.json"
	curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
		--data-binary "@$T/c.json" "$URL/api/ai/socket/create"
done
t0=$(now_ms)
say "$T/one" s1
one=$(($(now_ms) - t0))
check "slow: one reply" "[ollama] hi" "$(final "$T/one" .content)"
t0=$(now_ms)
http POST /api/team-chat '{"message":"all","timeout_ms":15000}'
all=$(($(now_ms) - t0))
check "100 at once: all answered" 100 \
	"$(jget "$BODY" '[.responses[] | select(.content == "[ollama] all")] | length')"
check "100 at once: none timed out" 0 "$(jget "$BODY" '.timed_out | length')"
if [ "$all" -lt $((one * 3)) ]; then ok "100 at once in ${all} ms (one: ${one} ms)"
else fail "100 at once in less than 3x one" "${all} ms vs ${one} ms"; fi
stop_server

finish
