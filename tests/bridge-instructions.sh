#!/bin/bash
# bridge-instructions.sh: stages with instructions, context items and the
# whole-pipeline check in aish-bridge, against a real aish-rhetor whose
# echo AIs answer "<ai>: <the text they received>": so each check sees
# exactly what reached the AI.  Also the time-outs that count from the
# last progress.
. "$(dirname "$0")/setup.sh"

start_server
cat > "$TEST_TMP/t.py" <<'EOF'
import json, os, time, urllib.request
from bridge_client import Bridge, check, error_code, done

URL = os.environ["URL"]
LOG = os.environ["TEST_TMP"] + "/bridge.err"

def http(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=5).read() or b"null")

def history_size(sid):
    return http("GET", "/api/ai/socket/" + sid)["history_size"]

def output(r):
    return r["result"]["output"] if r and "result" in r else r

b = Bridge(["--rhetor", URL, "--no-spawn", "--log", LOG], "ndjson")
b.initialize()

# ---- instructions ----
# as the editors call it: {"input": the selection, "pipeline": the words}
r = b.call("aish/pipeline", {"input": "this are wrong", "pipeline": "apollo fix the grammar"})
check("instruction: the AI gets instruction, blank line, input",
      output(r) == "apollo: fix the grammar\n\nthis are wrong", r)
r = b.call("aish/pipeline", {"input": "this are wrong", "pipeline": 'apollo "fix the grammar"'})
check("quoted instruction: the same stage", output(r) == "apollo: fix the grammar\n\nthis are wrong", r)
r = b.call("aish/pipeline", {"input": "", "pipeline": "apollo write a haiku"})
check("no input: the instruction alone", output(r) == "apollo: write a haiku", r)
r = b.call("aish/pipeline", {"input": "Design a cache", "pipeline": "athena list the risks | apollo"})
check("instruction on the first stage only", output(r) ==
      "apollo: athena: list the risks\n\nDesign a cache", r)
check("stages report each output", r and r["result"]["stages"][0]["output"] ==
      "athena: list the risks\n\nDesign a cache", r)
r = b.call("aish/pipeline", {"input": "x", "stages": ["athena review this",
                                                      {"ai": "apollo", "instruction": "sum it up"}]})
check("stages: a string and an object", output(r) == "apollo: sum it up\n\nathena: review this\n\nx", r)
r = b.call("aish/pipeline", {"input": "x", "stages": [{"ai": "hermes"}, {"ai": "numa", "instruction": None}]})
check("stage objects without instruction", output(r) == "numa: hermes: x", r)
r = b.call("aish/send", {"ai": "apollo", "content": "this are wrong", "instruction": "fix the grammar"})
check("send with an instruction", r and r["result"]["content"] ==
      "apollo: fix the grammar\n\nthis are wrong", r)
r = b.call("aish/pipeline", {"input": "x", "pipeline": "apollo 'issue #12' | athena"})
check("quoted '#' is text", output(r) == "athena: apollo: issue #12\n\nx", r)

# stage errors: one line, -32602, nothing runs
for params, what, needle in [
        ({"pipeline": "apollo fix issue #12"}, "a '#' that would start a comment", "'#' would start a comment"),
        ({"pipeline": "echo hi | apollo"}, "echo", "echo has no place"),
        ({"pipeline": "apollo < notes.txt"}, "a redirection", "redirection '<'"),
        ({"pipeline": "apollo don't"}, "an open quote", "unterminated single quote"),
        ({"pipeline": "team-chat-all"}, "a team as a stage", "is a team, not a stage"),
        ({"stages": ["athena | apollo"]}, "a '|' in a stage string", "one AI and its instruction"),
        ({"stages": [{"ai": "apollo", "instrution": "x"}]}, "an unknown key in a stage", "\"ai\" and \"instruction\" only"),
        ({"stages": [{"ai": "apollo", "instruction": 5}]}, "an instruction that is no string", "must be a string"),
        ({"stages": [5]}, "a stage that is a number", "a stage is a string or an object"),
        ({"stages": [{"ai": "bad name"}]}, "a bad AI name", "not an AI name")]:
    params["input"] = "x"
    r = b.call("aish/pipeline", params)
    check("-32602 for " + what, error_code(r) == -32602 and needle in r["error"]["message"] and
          "\n" not in r["error"]["message"], r)

# ---- the whole pipeline is checked before its first stage runs ----
http("POST", "/api/ai/socket/create", {"ai_name": "first", "socket_id": "first-1"})
for params in ({"input": "x", "pipeline": "first-1 | apolo"},
               {"input": "x", "stages": ["first-1 look", {"ai": "apolo"}]}):
    rid = b.request("aish/pipeline", params)
    r = b.response(rid, 5)
    msg = r["error"]["message"] if error_code(r) == -32602 else ""
    check("typo in stage 2: -32602, did you mean", msg == 'unknown AI "apolo" (did you mean apollo?)', r)
    check("typo: the known names in data.known", r and "apollo" in r["error"]["data"]["known"] and
          "first-1" in r["error"]["data"]["known"] and "team-chat-all" not in r["error"]["data"]["known"], r)
    check("typo: no stage began", not [p for p in b.notifications("aish/progress")
                                       if p["params"]["request_id"] == rid], rid)
# first-1 answered nothing: one send kept in its conversation now leaves
# exactly its own two turns
r = b.call("aish/send", {"ai": "first-1", "content": "now", "fresh": False})
check("typo: the first AI got no write", r and r["result"]["content"] == "first: now" and
      history_size("first-1") == 2, history_size("first-1"))
long_name = "z" * 64
r = b.call("aish/pipeline", {"input": "x", "pipeline": "apollo | " + long_name})
msg = r["error"]["message"] if error_code(r) == -32602 else ""
check("unknown 64-letter name: one line of at most 160", msg.startswith('unknown AI "zzz') and
      len(msg) <= 160 and "\n" not in msg and "apollo" not in msg, msg)
r = b.call("aish/send", {"ai": "nosuchai", "content": "x"})
msg = r["error"]["message"] if error_code(r) == -32602 else ""
check("unknown, nothing near: says so in one line", msg.startswith('unknown AI "nosuchai" (none of the ')
      and len(msg) <= 160 and len(r["error"]["data"]["known"]) > 15, r)
r = b.call("aish/write", {"ai": "athenna", "content": "x"})
check("write to a typo: did you mean", error_code(r) == -32602 and
      r["error"]["message"] == 'unknown AI "athenna" (did you mean athena?)', r)
for _ in range(300):    # the bridge logs it: 3 s at most
    log = open(LOG, encoding="utf-8", errors="replace").read()
    if "known AIs: " in log:
        break
    time.sleep(0.01)
check("the log has the known names", 'known AIs: ["rhetor","apollo","athena"' in log, log[-500:])

# unknown group
http("PUT", "/api/ai/groups/duo", {"members": ["athena", "apollo"]})
r = b.call("aish/teamChat", {"message": "x", "group": "nosuch"})
check("teamChat to an unknown group: says group", error_code(r) == -32602 and
      r["error"]["message"].startswith('unknown group "nosuch"') and r["error"]["data"]["known"] == ["duo"], r)
r = b.call("aish/teamChat", {"message": "x", "group": "dou"})
check("teamChat to a group typo: did you mean", error_code(r) == -32602 and
      r["error"]["message"] == 'unknown group "dou" (did you mean duo?)', r)

# ---- context ----
ctx = [{"name": "src/cache.c", "text": "int hits;\n", "language": "c"},
       {"name": "notes.md", "text": "use ``` and ```` here"}]
CTX = ("src/cache.c\n```c\nint hits;\n```\n\nnotes.md\n`````\nuse ``` and ```` here\n`````")
r = b.call("aish/pipeline", {"input": "the input", "pipeline": "athena review this | apollo",
                             "context": ctx})
check("context: first stage gets the items, then instruction and input",
      r and r["result"]["stages"][0]["output"] == "athena: " + CTX + "\n\nreview this\n\nthe input", r)
check("context: later stages do not get it again", output(r) ==
      "apollo: athena: " + CTX + "\n\nreview this\n\nthe input", r)
r = b.call("aish/send", {"ai": "hermes", "content": "q", "context": ctx[:1]})
check("context on send", r and r["result"]["content"] == "hermes: src/cache.c\n```c\nint hits;\n```\n\nq", r)
r = b.call("aish/teamChat", {"message": "q", "group": "duo", "context": ctx[:1]}, 10)
got = sorted(x["content"] for x in r["result"]["responses"]) if r and "result" in r else r
check("context on teamChat: every member gets it", got ==
      ["apollo: src/cache.c\n```c\nint hits;\n```\n\nq", "athena: src/cache.c\n```c\nint hits;\n```\n\nq"], got)
r = b.call("aish/write", {"ai": "metis", "content": "q", "context": [{"name": "a", "text": ""}]})
wid = r and r.get("result", {}).get("id")
m = b.wait_for(lambda x: isinstance(x, dict) and x.get("method") == "aish/message" and
               x["params"].get("in_reply_to") == wid and x["params"].get("role") == "assistant", 5)
check("context on write", m and m["params"]["content"] == "metis: a\n```\n```\n\nq", m)

for c, what in [(5, "no array"), ([{"text": "x"}], "no name"), ([{"name": "a\nb", "text": "x"}], "a name of two lines"),
                ([{"name": "a"}], "no text"), ([{"name": "a", "text": "x", "language": "c c"}], "a language with a blank"),
                ([{"name": "a", "text": "x", "lang": "c"}], "an unknown key"), (["a"], "an item that is no object")]:
    r = b.call("aish/send", {"ai": "apollo", "content": "x", "context": c})
    check("context with " + what + ": -32602", error_code(r) == -32602 and "context" in r["error"]["message"], r)

# the context counts against the 4 MiB content limit
before = history_size("prometheus")
big = [{"name": "big", "text": "x" * (4 * 1024 * 1024 - 100)}]
r = b.call("aish/send", {"ai": "prometheus", "content": "y" * 200, "context": big}, 20)
check("over the content limit with context: -32602 naming the limit", error_code(r) == -32602 and
      "4194304" in r["error"]["message"] and "context" in r["error"]["message"], r)
check("the refused one wrote nothing", history_size("prometheus") == before, history_size("prometheus"))
r = b.call("aish/pipeline", {"input": "y", "pipeline": "prometheus", "context": big}, 20)
check("just within the limit: runs", r and "result" in r and len(output(r)) > 4 * 1024 * 1024 - 100, error_code(r))

# ---- time-outs count from the last progress ----
http("POST", "/api/ai/socket/create", {"ai_name": "stream", "socket_id": "stream-1",
                                       "context": {"echo": {"delay_ms": 2000, "chunks": 8}}})
http("POST", "/api/ai/socket/create", {"ai_name": "mute", "socket_id": "mute-1",
                                       "context": {"echo": {"delay_ms": 2500}}})
r = b.call("aish/send", {"ai": "stream-1", "content": "go", "timeout_ms": 900}, 10)
check("a reply streaming for 2 s under timeout_ms 900 is not cut", r and "result" in r and
      r["result"]["content"] == "stream: go", r)
start = time.time()
r = b.call("aish/send", {"ai": "mute-1", "content": "go", "timeout_ms": 900}, 10)
took = time.time() - start
check("a reply silent for 900 ms is cut: -32003", error_code(r) == -32003 and 0.8 < took < 2.0, (r, took))
r = b.call("aish/pipeline", {"input": "go", "pipeline": "stream-1 | stream-1", "timeout_ms": 900}, 15)
check("a pipeline of two streaming stages (4 s) under timeout_ms 900", output(r) == "stream: stream: go", r)

b.close()
check("exit 0", b.wait_exit(10) == 0)
done()
EOF
export TEST_TMP
py_checks "$TEST_TMP/t.py"
finish
