#!/bin/bash
# server-tekton.sh: Tekton compatibility.  The requests of the first aish
# (the Python client of Tekton's Rhetor), shaped exactly as it sends them
# (tests/tools/tekton_client.py), are answered in the shape it reads: its
# three tests (an echo, a pipeline, a team chat) run against aish-rhetor,
# through its team-chat fallback and through the specialist route.
. "$(dirname "$0")/setup.sh"

start_server
cat > "$TEST_TMP/t.py" <<'PYEOF'
from bridge_client import check, done
import tekton_client as t

# The client as it runs without Tekton: every write is a team chat.
reg, socks = t.Registry(), {}
out1 = t.pipe(reg, socks, ["apollo"], "Hello")
check("test 1: echo Hello | apollo", out1 == "apollo: Hello", out1)
out2 = t.pipe(reg, socks, ["athena", "apollo"], "Design a cache")
check("test 2: athena | apollo", out2 == "apollo: athena: Design a cache", out2)
ok = reg.write("team-chat-all", "What's the best programming language?")
lines = reg.read("team-chat-all")
check("test 3: team chat written", ok, lines)
check("test 3: a reply for each of the client's AIs",
      sorted(l.split("]", 1)[0] for l in lines) ==
      ["[team-chat-from-apollo", "[team-chat-from-athena"], lines)
check("test 3: each reply is the AI's",
      all(("%s: What's the best" % l[16:l.index("]")]) in l for l in lines), lines)

# The answers, as that client reads them.
st, hdr, doc = t.team_chat("[To apollo] Hello")
check("[To apollo]: 200, JSON", st == 200 and
      {k.lower(): v for k, v in hdr.items()}.get("content-type", "")
      .startswith("application/json"), (st, hdr))
check("[To apollo]: responses keyed by specialist id, apollo alone",
      list(doc["responses"]) == ["apollo-ai"], doc)
check("[To apollo]: apollo got the text without the address",
      doc["responses"]["apollo-ai"]["content"] == "apollo: Hello", doc)
st, hdr, doc = t.team_chat("Roll call")
keys = sorted(doc.get("responses", {}))
check("team chat: every member, keyed NAME-ai",
      st == 200 and "apollo-ai" in keys and "athena-ai" in keys and
      all(doc["responses"][k]["content"].endswith(": Roll call") for k in keys),
      doc)
check("team chat: timed_out and moderation_mode",
      doc.get("timed_out") == [] and doc.get("moderation_mode") == "pass_through", doc)
st, hdr, doc = t.team_chat("[To nobody] Hello")
check("[To an unknown AI]: the whole team answers (the client takes the first)",
      st == 200 and len(doc["responses"]) == len(keys), doc)

# With Tekton's discovery the client asks specialists first.
st, hdr, doc = t.specialist("apollo-ai", "Hello")
check("specialist apollo-ai: 200 and its response",
      st == 200 and doc.get("response") == "apollo: Hello" and
      doc.get("specialist_id") == "apollo-ai", (st, doc))
st, hdr, doc = t.specialist("athena", "Hi")
check("specialist by bare name", st == 200 and doc.get("response") == "athena: Hi", (st, doc))
st, hdr, doc = t.specialist("nobody-ai", "Hello")
check("unknown specialist: 404, so the client falls back",
      st == 404 and doc["error"]["code"] == "unknown_socket", (st, doc))
st, hdr, doc = t.specialist("team-chat-all", "Hello")
check("team-chat-all is no specialist", st == 404, (st, doc))
reg2, socks2 = t.Registry(discovered={"apollo": "apollo-ai", "hermes": "nobody-ai"}), {}
out = t.pipe(reg2, socks2, ["apollo"], "via the specialist")
check("client with discovery: specialist route", out == "apollo: via the specialist", out)
out = t.pipe(reg2, socks2, ["hermes"], "fallback")
check("client with a stale id: 404, then the team-chat fallback",
      out == "hermes: fallback", out)

# Bad Tekton requests are refused clearly.
st, _, doc = t.post("/api/team-chat", {"message": "x", "moderation_mode": "chaos"})
check("unknown moderation_mode: 400", st == 400 and
      doc["error"]["code"] == "bad_request" and "pass_through" in doc["error"]["message"], doc)
st, _, doc = t.post("/api/team-chat", {"message": "x", "timeout": "soon"})
check("timeout not a number: 400", st == 400, doc)
st, _, doc = t.post("/api/ai/specialists/apollo-ai/message", {"temperature": 0.7})
check("specialist without message: 400", st == 400, doc)
done()
PYEOF
py_checks "$TEST_TMP/t.py"

# aish's own team chat keeps its shape.
http POST /api/team-chat '{"message":"hi","timeout_ms":5000}'
check "aish team chat: responses stay a list" array "$(jget "$BODY" '.responses | type')"
finish
