#!/bin/bash
# server-metrics.sh: GET /metrics (SPEC section 1) in the Prometheus text
# format: valid for `promtool check metrics` when promtool is installed,
# and always for the format's documented rules, checked by the Python
# checker below; and the numbers move as they should: sockets by state,
# messages in and out, queue drops, WebSocket clients, streams, the
# provider latency histogram and errors.  Guarded by the token like every
# route but /health.

TEST_TIMEOUT=${TEST_TIMEOUT:-30}
. "$(dirname "$0")/setup.sh"

T=$TEST_TMP
if ! command -v python3 > /dev/null; then
	echo "python3 is needed for the metrics checker" >&2
	exit 77
fi
cat > "$T/check-metrics.py" <<'PYEOF'
"""check-metrics.py: checks a Prometheus text exposition (format 0.0.4)
read from stdin against the format's documented rules, as
`promtool check metrics` would, for systems without promtool.

Rules: every line is a comment or a sample; HELP and TYPE at most once per
family and TYPE before its samples; a family's samples are contiguous;
metric and label names are valid; label values use only the \\\\, \\" and
\\n escapes; values are floats (or NaN, +Inf, -Inf); counters end in
_total; a histogram has only _bucket (with le), _sum and _count samples,
cumulative buckets in increasing le ending with +Inf equal to _count.
Prints each problem and exits 1 when there is one.
"""
import math
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(' + NAME + r')(?:\{((?:' + LABEL + r'=' + VALUE +
                    r')(?:,' + LABEL + r'=' + VALUE + r')*,?)?\})? (\S+)( -?\d+)?$')
PAIR = re.compile(r'(' + LABEL + r')=(' + VALUE + r')')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def number(text):
    if text in ('NaN', '+Inf', '-Inf', 'Inf'):
        return float(text.replace('Inf', 'inf'))
    if not re.match(r'^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$', text):
        raise ValueError(text)
    return float(text)


def family_of(name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        base = name[:-len(suffix)] if name.endswith(suffix) else None
        if base and types.get(base) in ('histogram', 'summary'):
            return base
    return name


def main():
    text = sys.stdin.read()
    problems = []
    if text and not text.endswith('\n'):
        problems.append('the exposition does not end with a newline')
    types, helps, done, current = {}, set(), set(), None
    hist = {}
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not re.match('^' + NAME + '$', name):
                    problems.append('%d: bad metric name %r' % (n, name))
                if parts[1] == 'HELP':
                    if name in helps:
                        problems.append('%d: second HELP for %s' % (n, name))
                    helps.add(name)
                else:
                    kind = parts[3] if len(parts) > 3 else ''
                    if kind not in TYPES:
                        problems.append('%d: bad type %r' % (n, kind))
                    if name in types:
                        problems.append('%d: second TYPE for %s' % (n, name))
                    if name in done or name == current:
                        problems.append('%d: TYPE of %s after its samples' % (n, name))
                    types[name] = kind
                    if kind == 'counter' and not name.endswith('_total'):
                        problems.append('%d: counter %s does not end in _total' % (n, name))
            continue
        if line == '':
            problems.append('%d: empty line' % n)
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append('%d: not a sample: %r' % (n, line))
            continue
        name, labels, value = m.group(1), m.group(2) or '', m.group(3)
        try:
            v = number(value)
        except ValueError:
            problems.append('%d: bad value %r' % (n, value))
            continue
        fam = family_of(name, types)
        if fam != current:
            if fam in done:
                problems.append('%d: samples of %s are not together' % (n, fam))
            if current is not None:
                done.add(current)
            current = fam
        if fam not in types:
            problems.append('%d: %s has no TYPE line' % (n, fam))
        pairs = dict((k, val[1:-1]) for k, val in PAIR.findall(labels))
        if types.get(fam) == 'histogram':
            key = (fam, tuple(sorted((k, x) for k, x in pairs.items() if k != 'le')))
            h = hist.setdefault(key, {'buckets': [], 'count': None, 'sum': None})
            if name == fam + '_bucket':
                if 'le' not in pairs:
                    problems.append('%d: bucket without le' % n)
                    continue
                h['buckets'].append((number(pairs['le']), v, n))
            elif name == fam + '_count':
                h['count'] = v
            elif name == fam + '_sum':
                h['sum'] = v
            else:
                problems.append('%d: %s is not a histogram sample' % (n, name))
        if types.get(fam) == 'counter' and (v < 0 or math.isnan(v)):
            problems.append('%d: counter %s is %s' % (n, name, value))
    for (fam, labels), h in hist.items():
        les = [b[0] for b in h['buckets']]
        if les != sorted(les) or len(set(les)) != len(les):
            problems.append('%s%s: le not increasing' % (fam, labels))
        if not les or les[-1] != math.inf:
            problems.append('%s%s: no +Inf bucket' % (fam, labels))
        counts = [b[1] for b in h['buckets']]
        if counts != sorted(counts):
            problems.append('%s%s: buckets not cumulative' % (fam, labels))
        if h['count'] is None or h['sum'] is None:
            problems.append('%s%s: _count or _sum missing' % (fam, labels))
        elif counts and counts[-1] != h['count']:
            problems.append('%s%s: +Inf bucket %s != _count %s' % (fam, labels, counts[-1], h['count']))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
PYEOF

# valid NAME: checks the last /metrics body with the checker and promtool.
valid() {
	local out
	if out=$(printf '%s\n' "$BODY" | python3 "$T/check-metrics.py" 2>&1); then
		ok "$1: format rules"
	else
		fail "$1: format rules" "$out"
	fi
	if command -v promtool > /dev/null; then
		if out=$(printf '%s\n' "$BODY" | promtool check metrics 2>&1); then
			ok "$1: promtool"
		else
			fail "$1: promtool" "$out"
		fi
	fi
}

# metric NAME: the value of one sample line of the last body ("" if none).
metric() {
	printf '%s\n' "$BODY" | awk -v n="$1" '$1 == n { print $2; exit }'
}

# The checker itself must catch broken expositions.
printf 'aish_x_total 1\n' | python3 "$T/check-metrics.py" > /dev/null &&
	fail "checker: sample without TYPE" || ok "checker: sample without TYPE"
printf '# TYPE aish_h histogram\naish_h_bucket{le="1"} 2\naish_h_bucket{le="+Inf"} 1\naish_h_sum 1\naish_h_count 1\n' |
	python3 "$T/check-metrics.py" > /dev/null &&
	fail "checker: buckets not cumulative" || ok "checker: buckets not cumulative"
printf '# TYPE aish_c counter\naish_c 1\n' | python3 "$T/check-metrics.py" > /dev/null &&
	fail "checker: counter without _total" || ok "checker: counter without _total"
printf '# TYPE aish_g gauge\naish_g{a="x\\q"} 1\n' | python3 "$T/check-metrics.py" > /dev/null &&
	fail "checker: bad escape" || ok "checker: bad escape"

cat > "$T/config.json" <<'EOF2'
{
  "default_provider": "echo",
  "providers": {
    "dead": {"type": "ollama", "url": "http://127.0.0.1:9", "timeout_ms": 1000},
    "cat": {"type": "exec", "command": ["wc", "-c"]}
  }
}
EOF2
start_server "" --config "$T/config.json"

# --- a fresh server ---------------------------------------------------------
http GET /metrics
check "status" 200 "$STATUS"
check_match "content type" "text/plain; version=0.0.4*" \
	"$(curl -s -o /dev/null -w '%{content_type}' "$URL/metrics")"
valid "fresh"
check "fresh: messages in" 0 "$(metric aish_messages_in_total)"
check "fresh: websocket clients" 0 "$(metric aish_websocket_clients)"
check "fresh: queue drops" 0 "$(metric aish_queue_drops_total)"
check "fresh: unresponsive sockets" 0 "$(metric 'aish_sockets{state="unresponsive"}')"
active0=$(metric 'aish_sockets{state="active"}')
http GET /health
check "active sockets = all sockets" "$(jget "$BODY" .sockets)" "$active0"

# --- traffic ----------------------------------------------------------------
http POST /api/ai/socket/create '{"ai_name":"apollo","context":{"echo":{"delay_ms":120}}}'
http POST /api/ai/socket/create '{"ai_name":"ghost","socket_id":"ghost","provider":"dead"}'
http POST /api/ai/socket/create '{"ai_name":"cat","socket_id":"cat","provider":"cat"}'
ws_run "$T/w1" apollo-1 -t 5000 <<'EOF2'
{"type":"write","content":"one","id":"a1"}
{"type":"write","content":"two","id":"a2"}
wait 2
EOF2
check "two writes: client exit" 0 "$WS_RC"
http POST /api/ai/socket/ghost/write '{"content":"x","id":"g1"}'
http GET '/api/ai/socket/ghost/read?wait_ms=5000'
check "ghost failed" provider_error "$(jget "$BODY" '.messages[0].code')"
# Two idle clients, each connected once its -r file is there, until it
# has heard one reply of apollo's (team-chat-all hears it too).
idle_client() {
	"$WSC" -t 8000 -n 1 -r "$T/$1.in" "$WSURL/ws/socket/$2" < /dev/null > "$T/$1" 2> "$T/$1.err" &
}
idle_client idle apollo
idle=$!
idle_client idle2 team-chat-all
idle2=$!
wait_file "$T/idle.in" && wait_file "$T/idle2.in"
http GET /metrics
valid "after traffic"
check "messages in" 3 "$(metric aish_messages_in_total)"
check "messages out (two reads to the writer)" 2 "$(metric aish_messages_out_total)"
check "websocket clients" 2 "$(metric aish_websocket_clients)"
check "echo latency: count" 2 "$(metric 'aish_provider_latency_seconds_count{provider="echo"}')"
check "echo latency: not in the 0.05 s bucket" 0 \
	"$(metric 'aish_provider_latency_seconds_bucket{provider="echo",le="0.05"}')"
check "echo latency: in the 0.25 s bucket" 2 \
	"$(metric 'aish_provider_latency_seconds_bucket{provider="echo",le="0.25"}')"
check "echo latency: +Inf bucket" 2 \
	"$(metric 'aish_provider_latency_seconds_bucket{provider="echo",le="+Inf"}')"
check "echo errors" 0 "$(metric 'aish_provider_errors_total{provider="echo"}')"
check "dead errors" 1 "$(metric 'aish_provider_errors_total{provider="dead"}')"
check "dead latency count" 1 "$(metric 'aish_provider_latency_seconds_count{provider="dead"}')"
for h in "# HELP aish_sockets " "# TYPE aish_provider_latency_seconds histogram" \
	"# TYPE aish_messages_out_total counter" "# TYPE aish_websocket_clients gauge"; do
	check_match "has '$h'" "*$h*" "$BODY"
done
http POST /api/ai/socket/apollo/write '{"content":"bye","id":"bye"}'
rc=0
wait "$idle" || rc=$?
wait "$idle2" || rc=$?
check "idle clients: heard the reply and closed" 0 "$rc"
wait_for "the clients gone" metric_is aish_websocket_clients 0 || true
http GET /metrics
check "clients gone" 0 "$(metric aish_websocket_clients)"

# --- queue drops: 1005 replies for a socket nobody reads -------------------
# (the replies come once the writer has gone: later under a slow checker)
http POST /api/ai/socket/create '{"ai_name":"drop","socket_id":"drop","context":{"echo":{"delay_ms":'$((300 * SLOWDOWN))'}}}'
for i in $(seq 1 1005); do printf '{"type":"write","content":"%d","id":"d%d"}\n' "$i" "$i"; done > "$T/many"
echo "waitack 1005" >> "$T/many"
echo close >> "$T/many"
ws_run "$T/drop" drop -t 10000 < "$T/many"
check "1005 writes: client exit" 0 "$WS_RC"
check "queue capped" 1000 "$(wait_queue drop 1000)"
wait_for "the drops counted" metric_is aish_queue_drops_total 5 || true
http GET /metrics
valid "after drops"
check "queue drops counted" 5 "$(metric aish_queue_drops_total)"

# --- streams counted ---------------------------------------------------------
ws_run "$T/s" cat -t 5000 <<'EOF2'
{"type":"stream_start","mime":"application/octet-stream","id":"s1"}
bin 10
{"type":"stream_end","id":"s1"}
wait 1
EOF2
http GET /metrics
check "streams counted" 1 "$(metric aish_streams_total)"
check "cat latency counted" 1 "$(metric 'aish_provider_latency_seconds_count{provider="cat"}')"
valid "after a stream"

# --- the token guards /metrics ---------------------------------------------------
stop_server
start_server "" --token s3cret
http GET /metrics
check_error "no token: 401" 401 unauthorized
HTTP_ARGS=(-H 'Authorization: Bearer s3cret')
http GET /metrics
check "token: 200" 200 "$STATUS"
valid "guarded"
HTTP_ARGS=()
http GET /health
check "health needs no token" 200 "$STATUS"

finish
