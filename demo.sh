#!/bin/bash
# demo.sh: the main job in one go, with no config and no network: start
# aish-rhetor on a free loopback port with a throw-away state directory,
# create an AI socket, write to it and read the reply, then stop.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
state=$(mktemp -d)
out=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$state" "$out"' EXIT

"$here/aish-rhetor" --port 0 --state-dir "$state" > "$out" &
pid=$!
for _ in $(seq 1 100); do
	url=$(sed -n '1s/^listening on //p' "$out")
	[ -n "$url" ] && break
	sleep 0.05
done
[ -n "$url" ] || { echo "demo: aish-rhetor did not start" >&2; exit 1; }
echo "aish-rhetor is $url"

say() { printf '\n$ %s\n' "$*"; "$@"; echo; }
say curl -s -X POST "$url/api/ai/socket/create" -d '{"ai_name":"athena"}'
say curl -s -X POST "$url/api/ai/socket/athena-1/write" -d '{"content":"Design a cache"}'
say curl -s "$url/api/ai/socket/athena-1/read?wait_ms=2000"
