#!/bin/bash
# chat-live.sh: one conversation live in two editors.  Two aish-bridge
# processes on the same server: the second opens the socket's chat
# (aish/open) and hears every turn of the first one's writes as
# aish/message, the user's own ("role": "user", pushed by the server)
# and the reply ("role": "assistant"), with the seqs the history route
# gives them, and the reply's pieces as aish/delta.  A fresh write pushes
# no user turn and its reply is marked "fresh".  Writes over HTTP and to
# a team chat are turns too; the writer's own bridge tells its editor of
# its turn as well.
. "$(dirname "$0")/setup.sh"

start_server
http POST /api/ai/socket/create \
	'{"ai_name":"slow","socket_id":"slow","context":{"echo":{"delay_ms":300,"chunks":3}}}'
check "create slow" 201 "$STATUS"
http PUT /api/ai/groups/duo '{"members":["athena","apollo"]}'
check "create group duo" 200 "$STATUS"

cat > "$TEST_TMP/t.py" <<'EOF'
import json, os, urllib.request
from bridge_client import Bridge, check, error_code, done

URL = os.environ["URL"]

def messages(b, pred):
    return [m["params"] for m in b.notifications("aish/message") if pred(m["params"])]

def wait_msg(b, pred, timeout=5):
    m = b.wait_for(lambda x: isinstance(x, dict) and x.get("method") == "aish/message"
                   and pred(x["params"]), timeout)
    return m and m["params"]

def history(sid):
    with urllib.request.urlopen(URL + "/api/ai/socket/%s/history" % sid, timeout=5) as f:
        return json.load(f)["turns"]

a = Bridge(["--rhetor", URL, "--no-spawn"], "ndjson")
b = Bridge(["--rhetor", URL, "--no-spawn"], "lsp")
a.initialize()
b.initialize()

# ---- aish/open: the chat's socket is open once it answers ----
r = b.call("aish/open", {"ai": "athena"})
check("open: answers with the socket and its AI", r and r.get("result") ==
      {"socket_id": "athena", "ai_name": "athena"}, r)
r = b.call("aish/open", {"ai": "nosuch"})
check("open an unknown AI: -32602 naming it", error_code(r) == -32602 and
      "nosuch" in r["error"]["message"], r)
r = b.call("aish/open", {})
check("open without a socket: -32602", error_code(r) == -32602, r)

# ---- a write by the first editor reaches the second: both turns ----
r = a.call("aish/write", {"ai": "athena", "content": "hello from A"})
wid = r and r.get("result", {}).get("id")
check("write: accepted", isinstance(wid, str), r)
user = wait_msg(b, lambda p: p.get("in_reply_to") == wid and p.get("role") == "user")
reply = wait_msg(b, lambda p: p.get("in_reply_to") == wid and p.get("role") == "assistant")
check("second editor: the user's turn", user and user["content"] == "hello from A"
      and user["socket_id"] == "athena" and user["ai_name"] == "athena", user)
check("second editor: then the reply", reply and reply["content"] == "athena: hello from A"
      and reply["socket_id"] == "athena" and reply["ai_name"] == "athena", reply)
order = [m["params"]["role"] for m in b.notifications("aish/message")
         if m["params"].get("in_reply_to") == wid]
check("second editor: user turn first, each once", order == ["user", "assistant"], order)
turns = history("athena")[-2:]
check("the seqs are the history's", user and reply and
      [(t["role"], t["content"], t["seq"]) for t in turns] ==
      [("user", "hello from A", user["seq"]), ("assistant", "athena: hello from A", reply["seq"])],
      (turns, user, reply))
mine = wait_msg(a, lambda p: p.get("in_reply_to") == wid and p.get("role") == "user")
check("the writer's editor hears its own turn too, with the same seq",
      mine and user and mine["content"] == "hello from A" and mine["seq"] == user["seq"], mine)
wait_msg(a, lambda p: p.get("in_reply_to") == wid and p.get("role") == "assistant")
order = [m["params"]["role"] for m in a.notifications("aish/message")
         if m["params"].get("in_reply_to") == wid]
check("the writer's editor: its turn once, then the reply", order == ["user", "assistant"], order)

# ---- the other way round, and the history of both editors agrees ----
r = b.call("aish/write", {"ai": "athena", "content": "hello from B"})
wid2 = r and r.get("result", {}).get("id")
r = a.call("aish/open", {"socket_id": "athena"})
check("open a socket already in use: answers at once", r and "result" in r, r)
u2 = wait_msg(a, lambda p: p.get("in_reply_to") == wid2 and p.get("role") == "user")
check("first editor: the second one's turn", u2 and u2["content"] == "hello from B", u2)

# ---- a fresh write: its reply is marked, no user turn ----
r = a.call("aish/send", {"ai": "athena", "content": "one-shot"})
check("fresh send answers", r and r.get("result", {}).get("content") == "athena: one-shot", r)
fr = wait_msg(b, lambda p: p.get("content") == "athena: one-shot")
check("second editor: the fresh reply is marked fresh", fr and fr.get("fresh") is True
      and fr["role"] == "assistant", fr)
b.read(0.3)
a.read(0.1)
check("no user turn for a fresh write", not messages(b, lambda p: p.get("content") == "one-shot")
      and not messages(a, lambda p: p.get("content") == "one-shot"),
      messages(b, lambda p: p.get("role") == "user"))
check("conversation replies are not marked fresh", "fresh" not in reply, reply)

# ---- the reply streams to the chat: aish/delta ----
r = b.call("aish/open", {"ai": "slow"})
check("open slow", r and "result" in r, r)
r = a.call("aish/write", {"ai": "slow", "content": "one two three"})
wid3 = r and r.get("result", {}).get("id")
fin = wait_msg(b, lambda p: p.get("in_reply_to") == wid3 and p.get("role") == "assistant")
deltas = [m["params"] for m in b.notifications("aish/delta")
          if m["params"].get("in_reply_to") == wid3]
check("deltas reach the chat, in order", len(deltas) == 3 and
      [d["index"] for d in deltas] == [0, 1, 2] and fin and
      "".join(d["content"] for d in deltas) == fin["content"], (deltas, fin))
check("each delta names the socket and its AI", all(d["socket_id"] == "slow" and
      d["ai_name"] == "slow" and d["role"] == "assistant" for d in deltas), deltas)
check("no delta for a socket not opened",
      not [m for m in a.notifications("aish/delta")], a.notifications("aish/delta")[:2])

# ---- a write over HTTP is a turn too ----
req = urllib.request.Request(URL + "/api/ai/socket/athena/write",
                             data=json.dumps({"content": "over http", "id": "h-1"}).encode(),
                             headers={"Content-Type": "application/json"}, method="POST")
urllib.request.urlopen(req, timeout=5).read()
hu = wait_msg(b, lambda p: p.get("in_reply_to") == "h-1" and p.get("role") == "user")
check("an HTTP write's turn reaches the chat", hu and hu["content"] == "over http", hu)

# ---- a team chat that is part of the conversation ----
r = b.call("aish/open", {"socket_id": "team-chat-duo"})
check("open a team chat", r and r.get("result", {}).get("socket_id") == "team-chat-duo", r)
r = a.call("aish/teamChat", {"message": "team q", "group": "duo", "fresh": False}, 10)
check("team chat answers", r and len(r.get("result", {}).get("responses", [])) == 2, r)
tw = wait_msg(b, lambda p: p.get("role") == "user" and p.get("socket_id") == "team-chat-duo")
check("the team chat's user turn reaches its chat", tw and tw["content"] == "team q", tw)
mw = wait_msg(b, lambda p: p.get("role") == "user" and p.get("socket_id") == "athena"
              and p.get("content") == "team q")
check("and the chat of a member, whose history gained it, with its seq",
      mw and tw and mw["seq"] == tw["seq"] and mw["in_reply_to"] == tw["in_reply_to"] and
      ("user", "team q", mw["seq"]) in [(t["role"], t["content"], t["seq"]) for t in history("athena")],
      (mw, tw))

for x in (a, b):
    x.close()
check("both bridges exit 0", a.wait_exit(5) == 0 and b.wait_exit(5) == 0)
done()
EOF
py_checks "$TEST_TMP/t.py"
finish
