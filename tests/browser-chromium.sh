#!/bin/bash
# browser-chromium.sh: a real headless Chromium, driven by pages, cannot
# drive or read the server's AIs (SPEC section 1):
#   - a page on another site (http://evil.test, mapped to 127.0.0.1 by
#     --host-resolver-rules) sends what any page may: no-cors fetches with
#     text/plain bodies (create, write), a no-cors GET .../read (which would
#     drain the queue), a <form enctype=text/plain> POST to the team chat,
#     a fetch through a rebound name, a WebSocket;
#   - a file:// page (Origin: null) writes, asks for a JSON POST (a CORS
#     preflight), reads, opens a WebSocket;
#   - a DNS-rebinding page: served from rebind.test:P, whose port P is then
#     taken over by the server, so that its requests are same-origin for
#     the browser and only the Host header gives them away.
# The server refuses every one (its aish_http_refused_total counts them)
# and nothing changes: no socket made, nothing run by the exec provider
# (which logs every text it gets), the queue not drained.  One browser
# process runs every page.  Skipped only where no Chromium is installed.

. "$(dirname "$0")/setup.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
	echo "no Chromium installed (Debian: apt-get install chromium): skipped"
	exit 77
fi

T=$TEST_TMP
RAN=$T/ran.txt
: > "$RAN"
: > "$T/page-reports"
rm -f "$T/go"

# The page servers: R serves the foreign page and takes the reports; P
# serves the rebinding page until the server takes its port.
cat > "$T/pages.py" <<'EOF'
import http.server, os, socket, sys, threading

role, tmp = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"       # a new connection for each request

    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="text/html"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/go":
            self.send(200, b"yes" if os.path.exists(tmp + "/go") else b"no", "text/plain")
            return
        name = self.path.lstrip("/")
        if name in ("evil.html", "rebind.html"):
            with open(os.path.join(tmp, name), "rb") as f:
                self.send(200, f.read())
        else:
            self.send(404, b"no")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        line = self.rfile.read(n).decode("utf-8", "replace").replace("\n", " ")
        with open(tmp + "/page-reports", "a") as f:
            f.write(line + "\n")
        self.send(204, b"")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open("%s/port.%s" % (tmp, role), "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
EOF
python3 "$T/pages.py" R "$T" & PAGES_R=$!
python3 "$T/pages.py" P "$T" & PAGES_P=$!
CHROME_PID=
stop_helpers() {
	if [ -n "$CHROME_PID" ]; then
		kill -KILL -- "-$CHROME_PID" 2>/dev/null || true
	fi
	kill "$PAGES_R" "$PAGES_P" 2>/dev/null || true
	wait "$PAGES_R" "$PAGES_P" 2>/dev/null || true
	CHROME_PID=
}
trap 'stop_helpers; cleanup' EXIT
for i in $(seq 1 100); do [ -s "$T/port.R" ] && [ -s "$T/port.P" ] && break; sleep 0.05; done
R=$(cat "$T/port.R") P=$(cat "$T/port.P")

# Shared by the pages: report a line to R, wait for the go, try a request.
common() {
	cat <<EOF
const A = 'http://127.0.0.1:$P', R = 'http://127.0.0.1:$R';
const rep = (m) => fetch(R + '/report', {method: 'POST', mode: 'no-cors', body: m});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function go() {
  for (;;) {
    try { if ((await (await fetch(R + '/go', {cache: 'no-store'})).text()) === 'yes') return; }
    catch (e) {}
    await sleep(100);
  }
}
async function attempt(name, p) {
  try { const r = await p; await rep(name + ' ' + (r.type === 'opaque' ? 'opaque' : r.status)); }
  catch (e) { await rep(name + ' error'); }
}
function ws(name, url) {
  return new Promise((res) => {
    let done = false, w;
    const fin = (v) => { if (!done) { done = true; rep(name + ' ' + v).then(res); } };
    try { w = new WebSocket(url); } catch (e) { fin('error'); return; }
    w.onopen = () => { fin('open'); w.close(); };
    w.onerror = () => fin('refused');
    w.onclose = () => fin('refused');
    setTimeout(() => fin('timeout'), 5000);
  });
}
EOF
}

cat > "$T/evil.html" <<EOF
<!doctype html><html><body><iframe name="sink"></iframe><script>
$(common)
(async () => {
  await rep('loaded evil');
  await go();
  const text = {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}};
  await attempt('evil-create', fetch(A + '/api/ai/socket/create',
    {...text, body: '{"ai_name":"pwned","socket_id":"pwned"}'}));
  await attempt('evil-write', fetch(A + '/api/ai/socket/runner/write',
    {...text, body: '{"content":"from evil","id":"evil1"}'}));
  await attempt('evil-read', fetch(A + '/api/ai/socket/runner/read', {mode: 'no-cors'}));
  await attempt('evil-read-cors', fetch(A + '/api/ai/sockets'));
  await attempt('evil-rebound-name', fetch('http://rebind.test:$P/api/ai/socket/runner/read',
    {mode: 'no-cors'}));
  await new Promise((res) => {
    const f = document.createElement('form'), i = document.createElement('input');
    f.method = 'POST'; f.action = A + '/api/team-chat'; f.enctype = 'text/plain'; f.target = 'sink';
    i.name = '{"message":"from a form","x":"'; i.value = '"}';
    f.appendChild(i); document.body.appendChild(f);
    document.querySelector('iframe').onload = () => rep('evil-form submitted').then(res);
    f.submit();
    setTimeout(res, 5000);
  });
  await ws('evil-ws', 'ws://127.0.0.1:$P/ws/socket/runner');
  await rep('done evil');
})();
</script></body></html>
EOF

cat > "$T/rebind.html" <<EOF
<!doctype html><html><body><script>
$(common)
(async () => {
  await rep('loaded rebind');
  await go();
  let r = null;
  for (let i = 0; i < 100 && r === null; i++) {
    try { r = await fetch('/health', {cache: 'no-store'}); } catch (e) { await sleep(100); }
  }
  await rep('rebind-health ' + (r ? r.status : 'none'));
  r = await fetch('/api/ai/sockets', {cache: 'no-store'});
  await rep('rebind-list ' + r.status + ' ' + ((await r.text()).includes('runner') ? 'leaked' : 'hidden'));
  r = await fetch('/api/ai/socket/runner/read', {cache: 'no-store'});
  await rep('rebind-read ' + r.status + ' ' + ((await r.text()).includes('queued') ? 'leaked' : 'hidden'));
  r = await fetch('/api/ai/socket/runner/write', {method: 'POST', cache: 'no-store',
    headers: {'Content-Type': 'application/json'}, body: '{"content":"rebound","id":"rb1"}'});
  await rep('rebind-write ' + r.status);
  await ws('rebind-ws', 'ws://rebind.test:$P/ws/socket/runner');
  await rep('done rebind');
})();
</script></body></html>
EOF

cat > "$T/index.html" <<EOF
<!doctype html><html><body>
<iframe src="http://evil.test:$R/evil.html"></iframe>
<iframe src="http://rebind.test:$P/rebind.html"></iframe>
<script>
$(common)
(async () => {
  await rep('loaded file');
  await go();
  await attempt('file-write', fetch(A + '/api/ai/socket/runner/write', {method: 'POST',
    mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: '{"content":"from file","id":"f1"}'}));
  await attempt('file-json', fetch(A + '/api/ai/socket/runner/write', {method: 'POST',
    headers: {'Content-Type': 'application/json'}, body: '{"content":"json from file","id":"f2"}'}));
  await attempt('file-read', fetch(A + '/api/ai/socket/runner/read', {mode: 'no-cors'}));
  await ws('file-ws', 'ws://127.0.0.1:$P/ws/socket/runner');
  await rep('done file');
})();
</script></body></html>
EOF

# wait_reports WORD... SECONDS: waits until every "WORD" line came.
wait_reports() {
	local secs=${*: -1} w i all
	for i in $(seq 1 $((secs * 10 * SLOWDOWN))); do
		all=1
		for w in "${@:1:$#-1}"; do grep -qx "$w" "$T/page-reports" || all=0; done
		[ "$all" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

mkdir -p "$T/profile"
setsid "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--disable-extensions --disable-default-apps --mute-audio \
	--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks \
	--user-data-dir="$T/profile" \
	--host-resolver-rules="MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.1" \
	"file://$T/index.html" > "$T/chromium.log" 2>&1 < /dev/null &
CHROME_PID=$!
disown "$CHROME_PID"
if wait_reports "loaded file" "loaded evil" "loaded rebind" 30; then
	ok "Chromium loaded the three pages"
else
	fail "Chromium loaded the three pages" "$(tr '\n' '|' < "$T/page-reports") $(tail -n 5 "$T/chromium.log")"
fi

# The rebinding: the page's server goes, the AI server takes its port.
kill "$PAGES_P"
wait "$PAGES_P" 2>/dev/null || true
cat > "$T/conf.json" <<EOF
{
  "providers": {"log": {"type": "exec", "command": ["sh", "-c", "cat >> '$RAN'; echo >> '$RAN'; echo ran"]}},
  "default_provider": "log",
  "ais": {"runner": {"provider": "log"}}
}
EOF
start_server "" --config "$T/conf.json" --port "$P"
check "the server took the page's port" "http://127.0.0.1:$P" "$URL"
http POST /api/ai/socket/runner/write '{"content":"queued before","id":"q0"}'
check "setup: a write" 202 "$STATUS"
check "setup: its reply waits in the queue" 1 "$(wait_queue runner 1)"
refused() {
	curl -s --max-time 5 "$URL/metrics" | awk '$1 == "aish_http_refused_total" { print $2 }'
}
sockets() {
	curl -s --max-time 5 "$URL/api/ai/sockets" | jq -c '[.sockets[] | {socket_id, state, queue_size}]'
}
before_sockets=$(sockets)
before_ran=$(cat "$RAN")
before_refused=$(refused)

touch "$T/go"
if wait_reports "done evil" "done file" "done rebind" 40; then ok "every page ran all its requests"
else fail "every page ran all its requests" "$(tr '\n' '|' < "$T/page-reports")"; fi
sleep 0.5
stop_helpers
echo "# the pages reported: $(grep -v '^loaded\|^done' "$T/page-reports" | sort | tr '\n' ';')"

# report NAME: the word a page reported after NAME.
report() {
	grep "^$1 " "$T/page-reports" | head -n 1 | cut -d' ' -f2-
}
check "foreign page, no-cors create: sent (an opaque answer)" opaque "$(report evil-create)"
check "foreign page, <form enctype=text/plain>: submitted" submitted "$(report evil-form)"
check_match "foreign page, reading with CORS: not readable" "error" "$(report evil-read-cors)"
check "foreign page, WebSocket: refused" refused "$(report evil-ws)"
check "file:// page, JSON POST: its preflight refused" error "$(report file-json)"
check "file:// page, WebSocket: refused" refused "$(report file-ws)"
check "rebinding page, /health: 403" 403 "$(report rebind-health)"
check "rebinding page, list: 403, nothing read" "403 hidden" "$(report rebind-list)"
check "rebinding page, read: 403, nothing read" "403 hidden" "$(report rebind-read)"
check "rebinding page, JSON write: 403" 403 "$(report rebind-write)"
check "rebinding page, WebSocket: refused" refused "$(report rebind-ws)"
check "nothing changed: sockets and queues" "$before_sockets" "$(sockets)"
check "nothing ran on the exec provider" "$before_ran" "$(cat "$RAN")"
check "the queued reply is still there" 1 "$(queue_size runner)"
http GET /api/ai/socket/pwned
check_error "no socket was made" 404 unknown_socket
after_refused=$(refused)
n=$(( ${after_refused:-0} - ${before_refused:-0} ))
# 7 from the foreign page, 4 from the file page, 5 from the rebinding one.
[ "$n" -ge 16 ] && ok "the server itself refused them: $n requests counted" ||
	fail "the server itself refused them" "$n refusals counted (want 16 or more)"
http GET /api/ai/socket/runner/read
check "the owner still reads the reply" "ran" "$(jget "$BODY" '.messages[0].content')"
finish
