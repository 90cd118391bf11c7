#!/bin/bash
# bridge-fresh.sh: one-shot requests against conversations through
# aish-bridge, and aish/history.  The AIs answer through a fake Ollama
# (tests/fake-providers.py) that records every request: so each check
# sees the very messages the provider got (the system prompt, earlier
# turns, the text of this request), and what the socket's history kept.
# aish/send, aish/pipeline and aish/teamChat are fresh unless told
# otherwise; aish/write is part of the conversation unless told otherwise.
. "$(dirname "$0")/setup.sh"

FAKE_PID=
# Stops the fake provider too when the script ends.
stop_fake() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null || true
	cleanup
}
trap stop_fake EXIT

python3 "$top_srcdir/tests/fake-providers.py" --port 0 \
	> "$TEST_TMP/fake.out" 2> "$TEST_TMP/fake.err" &
FAKE_PID=$!
for i in $(seq 1 100); do
	FAKE_PORT=$(sed -n 's/^listening on //p' "$TEST_TMP/fake.out" 2>/dev/null)
	[ -n "$FAKE_PORT" ] && break
	sleep 0.05
done
[ -n "$FAKE_PORT" ] || { echo "fake-providers did not start" >&2; exit 1; }
export FAKE="http://127.0.0.1:$FAKE_PORT"

cat > "$TEST_TMP/config.json" <<EOF
{
  "default_provider": "ol",
  "providers": {"ol": {"type": "ollama", "url": "$FAKE"}},
  "ais": {
    "apollo": {"provider": "ol", "model": "ok", "prompt": "You are Apollo."},
    "athena": {"provider": "ol", "model": "ok", "prompt": "You are Athena."},
    "hermes": {"provider": "ol", "model": "ok", "prompt": "You are Hermes."}
  }
}
EOF
start_server "" --config "$TEST_TMP/config.json"

cat > "$TEST_TMP/t.py" <<'EOF'
import json, os, urllib.request
from bridge_client import Bridge, check, error_code, done

URL = os.environ["URL"]
FAKE = os.environ["FAKE"]

def get(url):
    return json.loads(urllib.request.urlopen(url, timeout=5).read())

def sent():
    """The messages of every request the provider got so far."""
    return [e["request"]["messages"] for e in get(FAKE + "/_events")["events"]]

def roles(msgs):
    return [(m["role"], m["content"]) for m in msgs]

def turns(r):
    return [(t["role"], t["content"]) for t in r["result"]["turns"]] if r and "result" in r else r

b = Bridge(["--rhetor", URL, "--no-spawn"])
b.initialize()
SYS = ("system", "You are Apollo.")

# ---- aish/send: fresh by default ----
b.call("aish/send", {"ai": "apollo", "content": "first question"}, 10)
r = b.call("aish/send", {"ai": "apollo", "content": "an unrelated one"}, 10)
check("send answers", r and r["result"]["content"] == "[ollama] an unrelated one", r)
check("fresh send: the provider got the prompt and this message alone",
      roles(sent()[-1]) == [SYS, ("user", "an unrelated one")], sent()[-1])
r = b.call("aish/history", {"ai": "apollo"})
check("fresh sends leave the history empty", turns(r) == [], r)

# ---- "fresh": false: a conversation ----
b.call("aish/send", {"ai": "apollo", "content": "my name is Ada", "fresh": False}, 10)
r = b.call("aish/send", {"ai": "apollo", "content": "what is my name?", "fresh": False}, 10)
check("conversation: the provider got the earlier turns",
      roles(sent()[-1]) == [SYS, ("user", "my name is Ada"), ("assistant", "[ollama] my name is Ada"),
                            ("user", "what is my name?")], sent()[-1])
r = b.call("aish/history", {"ai": "apollo"})
check("conversation: the history holds both exchanges", turns(r) == [
    ("user", "my name is Ada"), ("assistant", "[ollama] my name is Ada"),
    ("user", "what is my name?"), ("assistant", "[ollama] what is my name?")], r)
check("history turns have seq and timestamp", all(isinstance(t["seq"], int) and t["timestamp"]
      for t in r["result"]["turns"]), r)
b.call("aish/send", {"ai": "apollo", "content": "and now?"}, 10)
check("a fresh send after a conversation does not carry it",
      roles(sent()[-1]) == [SYS, ("user", "and now?")], sent()[-1])
check("nor extend it", len(b.call("aish/history", {"ai": "apollo"})["result"]["turns"]) == 4)

# ---- aish/history: limit and before ----
seqs = [t["seq"] for t in b.call("aish/history", {"ai": "apollo"})["result"]["turns"]]
r = b.call("aish/history", {"socket_id": "apollo", "limit": 2})
check("history limit: the newest turns", [t["seq"] for t in r["result"]["turns"]] == seqs[-2:], r)
r = b.call("aish/history", {"ai": "apollo", "before": seqs[2], "limit": 1})
check("history before and limit", [t["seq"] for t in r["result"]["turns"]] == [seqs[1]], r)
for params, what in [({"ai": "apollo", "limit": 0}, "limit 0"), ({"ai": "apollo", "limit": 1.5}, "limit 1.5"),
                     ({"ai": "apollo", "before": "x"}, "before a string"), ({}, "no socket")]:
    r = b.call("aish/history", params)
    check("history with " + what + ": -32602", error_code(r) == -32602, r)
r = b.call("aish/history", {"ai": "apolo"})
check("history of a typo: did you mean", error_code(r) == -32602 and
      r["error"]["message"] == 'unknown AI "apolo" (did you mean apollo?)', r)

# ---- aish/pipeline: fresh by default, instructions and context ----
n = len(sent())
ctx = [{"name": "src/cache.c", "text": "int hits;", "language": "c"}]
r = b.call("aish/pipeline", {"input": "the code", "pipeline": "athena review this | hermes sum it up",
                             "context": ctx}, 10)
got = sent()[n:]
first = "src/cache.c\n```c\nint hits;\n```\n\nreview this\n\nthe code"
check("pipeline: stage 1 got the context, its instruction and the input, alone",
      len(got) == 2 and roles(got[0]) == [("system", "You are Athena."), ("user", first)], got)
check("pipeline: stage 2 got its instruction and stage 1's reply, alone",
      len(got) == 2 and roles(got[1]) == [("system", "You are Hermes."),
                                          ("user", "sum it up\n\n[ollama] " + first)], got)
check("pipeline: no history kept", turns(b.call("aish/history", {"ai": "athena"})) == [] and
      turns(b.call("aish/history", {"ai": "hermes"})) == [])
r = b.call("aish/pipeline", {"input": "x", "pipeline": "hermes", "fresh": False}, 10)
check("pipeline with fresh false: the history grows",
      len(b.call("aish/history", {"ai": "hermes"})["result"]["turns"]) == 2)

# ---- aish/teamChat: fresh by default ----
urllib.request.urlopen(urllib.request.Request(URL + "/api/ai/groups/duo", method="PUT",
                       data=json.dumps({"members": ["athena", "hermes"]}).encode(),
                       headers={"Content-Type": "application/json"}), timeout=5).read()
n = len(sent())
r = b.call("aish/teamChat", {"message": "all hands", "group": "duo"}, 10)
got = sent()[n:]
check("fresh teamChat: each member got its prompt and the message alone",
      sorted(roles(m) for m in got) == [[("system", "You are Athena."), ("user", "all hands")],
                                        [("system", "You are Hermes."), ("user", "all hands")]], got)
check("fresh teamChat: no history kept", turns(b.call("aish/history", {"ai": "athena"})) == [] and
      len(b.call("aish/history", {"ai": "hermes"})["result"]["turns"]) == 2)
n = len(sent())
r = b.call("aish/teamChat", {"message": "remember", "group": "duo", "fresh": False}, 10)
check("teamChat with fresh false: the history grows",
      len(b.call("aish/history", {"ai": "athena"})["result"]["turns"]) == 2 and
      len(b.call("aish/history", {"ai": "hermes"})["result"]["turns"]) == 4)
check("teamChat with fresh false: hermes got its conversation",
      [len(m) for m in sent()[n:]] and max(len(m) for m in sent()[n:]) == 4, sent()[n:])

# ---- aish/write: part of the conversation by default ----
def write_and_wait(params):
    r = b.call("aish/write", params)
    wid = r and r.get("result", {}).get("id")
    b.wait_for(lambda x: isinstance(x, dict) and x.get("method") == "aish/message" and
               x["params"].get("in_reply_to") == wid and x["params"].get("role") == "assistant", 5)
    return r
b.call("aish/reset", {"ai": "athena"})
write_and_wait({"ai": "athena", "content": "kept"})
check("write: the history grows by default", turns(b.call("aish/history", {"ai": "athena"})) ==
      [("user", "kept"), ("assistant", "[ollama] kept")])
write_and_wait({"ai": "athena", "content": "once", "fresh": True})
check("write with fresh true: the provider got it alone",
      roles(sent()[-1]) == [("system", "You are Athena."), ("user", "once")], sent()[-1])
check("write with fresh true: the history is left as it was",
      len(b.call("aish/history", {"ai": "athena"})["result"]["turns"]) == 2)

for m, p in [("aish/send", {"ai": "apollo", "content": "x", "fresh": "yes"}),
             ("aish/pipeline", {"input": "x", "pipeline": "apollo", "fresh": 1}),
             ("aish/teamChat", {"message": "x", "fresh": "no"}),
             ("aish/write", {"ai": "apollo", "content": "x", "fresh": 0})]:
    r = b.call(m, p)
    check(m + " with a fresh that is no boolean: -32602", error_code(r) == -32602 and
          "fresh" in r["error"]["message"], r)

b.close()
check("exit 0", b.wait_exit(10) == 0)
done()
EOF
py_checks "$TEST_TMP/t.py"
finish
