#!/bin/bash
# server-guards.sh: aish-rhetor keeps to loopback, asks for its token, turns
# away web pages by Origin, keeps its state files private and refuses bad
# command lines (SPEC section 1).

. "$(dirname "$0")/setup.sh"

# listen_addrs PORT: the local addresses with a TCP listener on PORT.
listen_addrs() {
	ss -Hltn "sport = :$1" | awk '{ print $4 }' | sort | tr '\n' ' '
}

# --- command line ------------------------------------------------------------
# bad_cmdline NAME ARGS...: aish-rhetor must exit 2 with a message on stderr.
bad_cmdline() {
	local name=$1 rc=0
	shift
	timeout 5 "$RHETOR" --port 0 --state-dir "$TEST_TMP/cmdline" "$@" \
		> "$TEST_TMP/cmdline.out" 2> "$TEST_TMP/cmdline.err" < /dev/null || rc=$?
	if [ "$rc" = 2 ] && [ -s "$TEST_TMP/cmdline.err" ]; then ok "$name"
	else fail "$name" "exit $rc, stderr [$(head -c 200 "$TEST_TMP/cmdline.err")]"; fi
}
bad_cmdline "unknown option" --bogus
bad_cmdline "stray argument" stray
bad_cmdline "port not a number" --port abc
bad_cmdline "port too big" --port 70000
bad_cmdline "negative port" --port -1
bad_cmdline "port without a value" --port
bad_cmdline "host without a value" --host

# --- loopback only -------------------------------------------------------------
start_server
port=${URL##*:}
check "default host" "http://127.0.0.1:$port" "$URL"
check "bound on 127.0.0.1 only" "127.0.0.1:$port " "$(listen_addrs "$port")"
http GET /health
check "health answers" 200 "$STATUS"

# --- state files ------------------------------------------------------------------
http POST /api/ai/socket/apollo/write '{"content":"keep me","id":"s1"}'
check "write before looking at state files" 202 "$STATUS"
http GET '/api/ai/socket/apollo/read?wait_ms=2000'
check "reply before looking at state files" "apollo: keep me" "$(jget "$BODY" '.messages[0].content')"
check "state dir is 700" 700 "$(stat -c %a "$STATE_DIR")"
[ -e "$STATE_DIR/aish.db" ] && ok "aish.db exists" || fail "aish.db exists" "$(ls -A "$STATE_DIR")"
nfiles=0
for f in "$STATE_DIR"/* "$STATE_DIR"/.[!.]*; do
	[ -e "$f" ] || continue
	nfiles=$((nfiles + 1))
	if [ -d "$f" ]; then
		check "state subdir $(basename "$f") is 700" 700 "$(stat -c %a "$f")"
	else
		check "state file $(basename "$f") is 600" 600 "$(stat -c %a "$f")"
	fi
done
[ "$nfiles" -gt 0 ] && ok "state dir holds files" || fail "state dir holds files"
stop_server

# A state directory that does not exist yet is made private, even with a
# permissive umask.
newdir=$TEST_TMP/made/state
mkdir -p "$TEST_TMP/made"
umask_saved=$(umask)
umask 000
if start_server "$newdir"; then
	umask "$umask_saved"
	ok "starts with a new state dir"
	http POST /api/ai/socket/athena/write '{"content":"x","id":"s2"}'
	http GET '/api/ai/socket/athena/read?wait_ms=2000'
	check "reply with umask 000" "athena: x" "$(jget "$BODY" '.messages[0].content')"
	check "new state dir is 700" 700 "$(stat -c %a "$newdir")"
	for f in "$newdir"/*; do
		[ -f "$f" ] && check "umask 000: $(basename "$f") is 600" 600 "$(stat -c %a "$f")"
	done
	stop_server
else
	umask "$umask_saved"
	fail "starts with a new state dir"
fi

# --- an explicit host ---------------------------------------------------------------
if start_server "" --host 127.0.0.2; then
	port=${URL##*:}
	check "explicit host in the first line" "http://127.0.0.2:$port" "$URL"
	check "bound on 127.0.0.2 only" "127.0.0.2:$port " "$(listen_addrs "$port")"
	http GET /health
	check "health on 127.0.0.2" 200 "$STATUS"
	stop_server
else
	fail "starts with --host 127.0.0.2"
fi

# --- the token --------------------------------------------------------------------
# token_checks HOW: the guarded server now running refuses whatever lacks
# the token s3cret and serves what carries it.
token_checks() {
	local how=$1 req method path body
	HTTP_ARGS=()
	http GET /health
	check "$how: health needs no token" 200 "$STATUS"
	for req in 'GET /api/ai/sockets' 'GET /api/ai/socket/apollo' \
		'POST /api/ai/socket/create {"ai_name":"apollo"}' \
		'POST /api/ai/socket/apollo/write {"content":"hi"}' \
		'GET /api/ai/socket/apollo/read' 'POST /api/ai/socket/apollo/reset' \
		'DELETE /api/ai/socket/apollo' 'POST /api/team-chat {"message":"hi"}' \
		'GET /api/ai/groups' 'PUT /api/ai/groups/g {"members":[]}' \
		'GET /metrics' 'GET /nope'; do
		method=${req%% *}
		path=${req#* }
		body=
		case "$path" in *' '*) body=${path#* }; path=${path%% *} ;; esac
		HTTP_ARGS=()
		if [ -n "$body" ]; then http "$method" "$path" "$body"; else http "$method" "$path"; fi
		check_error "$how: $method $path without token" 401 unauthorized
		HTTP_ARGS=(-H 'Authorization: Bearer wrong')
		if [ -n "$body" ]; then http "$method" "$path" "$body"; else http "$method" "$path"; fi
		check_error "$how: $method $path with a wrong token" 401 unauthorized
	done
	for auth in 'Bearer s3cre' 'Bearer s3cret2' 'Bearer ' 'Basic s3cret' 's3cret'; do
		HTTP_ARGS=(-H "Authorization: $auth")
		http GET /api/ai/sockets
		check_error "$how: Authorization [$auth]" 401 unauthorized
	done
	HTTP_ARGS=(-H 'Authorization: Bearer s3cret')
	http GET /api/ai/sockets
	check "$how: list with the token" 200 "$STATUS"
	http POST /api/ai/socket/apollo/write '{"content":"hi","id":"t1"}'
	check "$how: write with the token" 202 "$STATUS"
	http GET '/api/ai/socket/apollo/read?wait_ms=2000'
	check "$how: read with the token" "apollo: hi" "$(jget "$BODY" '.messages[0].content')"
	http GET /health
	check "$how: health with the token" 200 "$STATUS"
	HTTP_ARGS=()
	check "$how: upgrade without token" 401 "$(ws_upgrade /ws/socket/apollo)"
	check "$how: upgrade with a wrong token" 401 \
		"$(ws_upgrade /ws/socket/apollo 'Authorization: Bearer wrong')"
	check "$how: upgrade with the token" 101 \
		"$(ws_upgrade /ws/socket/apollo 'Authorization: Bearer s3cret')"
	check "$how: upgrade with the token, loopback origin" 101 \
		"$(ws_upgrade /ws/socket/apollo 'Authorization: Bearer s3cret' 'Origin: http://localhost:1234')"
}

if start_server "" --token s3cret; then
	token_checks "--token"
	stop_server
else
	fail "starts with --token"
fi

export AISH_TOKEN=s3cret
if start_server; then
	token_checks AISH_TOKEN
	stop_server
else
	fail "starts with AISH_TOKEN"
fi
unset AISH_TOKEN

# --- tokens: up to 4 KiB, from a file, never on the command line -----------------
long=$(head -c 4096 /dev/zero | tr '\0' k)
printf '%s\n' "$long" > "$TEST_TMP/token"
chmod 600 "$TEST_TMP/token"
if start_server "" --token-file "$TEST_TMP/token"; then
	if grep -q "$long" "/proc/$SERVER_PID/cmdline"; then fail "--token-file: the token is not in /proc/PID/cmdline"
	else ok "--token-file: the token is not in /proc/PID/cmdline"; fi
	HTTP_ARGS=(-H "Authorization: Bearer $long")
	http GET /api/ai/sockets
	check "a 4096-byte token from --token-file: accepted" 200 "$STATUS"
	HTTP_ARGS=(-H "Authorization: Bearer ${long}k")
	http GET /api/ai/sockets
	check_error "a 4097-byte token offered: 401" 401 unauthorized
	HTTP_ARGS=(-H "Authorization: Bearer ${long%k}")
	http GET /api/ai/sockets
	check_error "the token less its last byte: 401" 401 unauthorized
	HTTP_ARGS=()
	check "upgrade with the 4096-byte token: 101" 101 \
		"$(ws_upgrade /ws/socket/apollo "Authorization: Bearer $long")"
	aish_run "$TEST_TMP/tok.out" --token-file "$TEST_TMP/token" -c 'echo "tok" | apollo'
	check "aish --token-file: the pipeline runs" "0 [From Apollo] apollo: tok" "$RC $(cat "$TEST_TMP/tok.out")"
	aish_run "$TEST_TMP/tok.out" -c 'echo "tok" | apollo'
	check "aish without the token: refused" 3 "$RC"
	printf '%s\n' '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}' \
		'{"jsonrpc":"2.0","id":1,"method":"aish/list"}' |
		AISH_RHETOR_URL=$URL timeout 10 "$BRIDGE" --no-spawn --framing ndjson \
		--token-file "$TEST_TMP/token" > "$TEST_TMP/br.out" 2> "$TEST_TMP/br.err" || true
	check "aish-bridge --token-file: aish/list answers" "true" \
		"$(jq -s '[.[] | select(.id == 1) | .result != null] | .[0]' "$TEST_TMP/br.out" 2>/dev/null)"
	stop_server
else
	fail "starts with a 4096-byte --token-file"
fi
bad_cmdline "a token over 4096 bytes" --token "${long}k"
bad_cmdline "a token with a space" --token "a b"
bad_cmdline "an empty token file" --token-file /dev/null
bad_cmdline "a missing token file" --token-file "$TEST_TMP/nonexistent"
printf '%s' "${long}kk" > "$TEST_TMP/token.long"
bad_cmdline "a token file over 4096 bytes" --token-file "$TEST_TMP/token.long"
check_match "a token over 4 KiB: the message says why" "*at most 4096 bytes*" "$(cat "$TEST_TMP/cmdline.err")"
rc=0; timeout 5 "$AISH" -r http://user:pw@127.0.0.1:9 -c 'echo x | apollo' > /dev/null 2> "$TEST_TMP/ui.err" || rc=$?
check "aish -r http://user:pw@host: refused as a usage error" 2 "$rc"
check_match "aish -r http://user:pw@host: says why" "*may not hold a user name or password*" "$(cat "$TEST_TMP/ui.err")"
rc=0; timeout 5 "$BRIDGE" -r http://user:pw@127.0.0.1:9 < /dev/null > /dev/null 2> "$TEST_TMP/ui.err" || rc=$?
check "aish-bridge -r http://user:pw@host: refused" 2 "$rc"
check_match "aish-bridge -r http://user:pw@host: says why" "*may not hold a user name or password*" "$(cat "$TEST_TMP/ui.err")"

# --- the config: duplicate keys, NUL bytes, trailing text ------------------------
# bad_config NAME TEXT PATTERN: aish-rhetor refuses the config (exit 2) with
# a message on stderr that matches PATTERN.
bad_config() {
	printf "$2" > "$TEST_TMP/bad.json"
	bad_cmdline "config, $1" --config "$TEST_TMP/bad.json"
	check_match "config, $1: the message names the file and place" "$3" "$(cat "$TEST_TMP/cmdline.err")"
}
bad_config "a key twice at the top" '{"listen":{"port":1},\n"listen":{"port":2}}' "*bad.json: listen: the key appears twice*"
bad_config "a key twice in a provider" '{"providers":{"p":{"type":"echo","type":"exec"}}}' \
	"*bad.json: providers.p.type: the key appears twice*"
bad_config "a provider named twice" '{"providers":{"p":{"type":"echo"},"p":{"type":"echo"}}}' \
	"*bad.json: providers.p: the key appears twice*"
bad_config "a key twice in an AI" '{"ais":{"x":{"prompt":"a","prompt":"b"}}}' "*bad.json: ais.x.prompt: the key appears twice*"
bad_config "bytes after a NUL" '{"listen":{}}\0{"ais":{}}' "*bad.json: line 1, column 14: a NUL byte*"
bad_config "a NUL inside a string" '{"ais":{"x":{"prompt":"a\0b"}}}' "*bad.json: line 1, column 25: a NUL byte*"
bad_config "text after the object" '{"listen":{}}\n junk' "*bad.json: line 2, column 2: text after the JSON object*"

# --- Origin -------------------------------------------------------------------------
start_server
for origin in http://evil.example https://evil.example http://localhost.evil.example \
	http://127.0.0.1.evil.example http://evil.example:80@127.0.0.1 null; do
	check "upgrade from origin $origin refused" 403 \
		"$(ws_upgrade /ws/socket/apollo "Origin: $origin")"
done
for origin in http://localhost:1234 http://127.0.0.1 http://[::1]:8080 \
	http://localhost https://127.0.0.1:8443 "$URL"; do
	check "upgrade from origin $origin accepted" 101 \
		"$(ws_upgrade /ws/socket/apollo "Origin: $origin")"
done
check "upgrade without origin accepted" 101 "$(ws_upgrade /ws/socket/apollo)"
check "upgrade to team-chat-all accepted" 101 "$(ws_upgrade /ws/socket/team-chat-all)"
http GET /health
check "health after the upgrades" 200 "$STATUS"
kill -0 "$SERVER_PID" 2>/dev/null && ok "server alive at the end" || fail "server alive at the end"

finish
