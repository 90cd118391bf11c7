#!/bin/bash
# bridge-methods.sh: every method of aish-bridge against a real
# aish-rhetor, in both framings: create, write, read (inbox and server
# queue), send, pipeline (string and array), teamChat, list, reset,
# delete, with aish/progress and aish/message notifications, and the
# errors for unknown AIs and bad params.
. "$(dirname "$0")/setup.sh"

start_server
cat > "$TEST_TMP/t.py" <<'EOF'
import os, time
from bridge_client import Bridge, check, error_code, done

URL = os.environ["URL"]

def session(framing, n):
    t = framing + ": "
    b = Bridge(["--rhetor", URL, "--no-spawn"], framing)
    r = b.initialize()
    check(t + "initialize lists the methods", r and set(r["result"]["capabilities"]["methods"]) >=
          {"aish/create", "aish/write", "aish/read", "aish/send", "aish/pipeline", "aish/teamChat",
           "aish/list", "aish/reset", "aish/delete", "aish/cancel"}, r)

    # create: a streaming echo socket (3 deltas over 300 ms)
    r = b.call("aish/create", {"ai_name": "scribe", "socket_id": "scribe-%s" % n,
                                "context": {"echo": {"delay_ms": 300, "chunks": 3}}})
    sid = r and r.get("result", {}).get("socket_id")
    check(t + "create answers the socket id", sid == "scribe-%s" % n, r)
    r = b.call("aish/create", {"ai_name": "bad name"})
    check(t + "create with a bad name: -32602", error_code(r) == -32602, r)
    r = b.call("aish/create", {"ai_name": "x", "context": 5})
    check(t + "create with a context that is no object: -32602", error_code(r) == -32602, r)
    r = b.call("aish/create", {})
    check(t + "create without ai_name: -32602", error_code(r) == -32602, r)

    # list
    r = b.call("aish/list")
    ids = [s["socket_id"] for s in r["result"]["sockets"]] if r and "result" in r else []
    check(t + "list shows roster and created sockets", "athena" in ids and sid in ids, ids)

    # send with streaming progress
    rid = b.request("aish/send", {"ai": sid, "content": "streamed"})
    r = b.response(rid, 5)
    check(t + "send answers the reply", r and r["result"]["content"] == "scribe: streamed"
          and r["result"]["socket_id"] == sid and isinstance(r["result"]["headers"], list), r)
    prog = [p["params"] for p in b.notifications("aish/progress") if p["params"]["request_id"] == rid]
    kinds = [p["kind"] for p in prog]
    check(t + "send progress: begin, deltas, end", kinds[:1] == ["begin"] and kinds[-1:] == ["end"]
          and kinds.count("delta") == 3, kinds)
    deltas = "".join(p["content"] for p in prog if p["kind"] == "delta")
    check(t + "deltas join to the reply", deltas == "scribe: streamed", deltas)
    msgs = [m["params"] for m in b.notifications("aish/message")]
    check(t + "aish/message for the reply", any(m["content"] == "scribe: streamed" and m["socket_id"] == sid
          and isinstance(m["seq"], int) and "in_reply_to" in m and m["ai_name"] == "scribe" for m in msgs), msgs)

    # pipeline, as a string and as an array
    rid = b.request("aish/pipeline", {"input": "hi", "pipeline": "athena | apollo"})
    r = b.response(rid, 5)
    check(t + "pipeline string", r and r["result"]["output"] == "apollo: athena: hi" and
          [s["ai"] for s in r["result"]["stages"]] == ["athena", "apollo"] and
          r["result"]["stages"][0]["output"] == "athena: hi" and
          all(isinstance(s["ms"], (int, float)) for s in r["result"]["stages"]), r)
    prog = [(p["params"]["stage"], p["params"]["ai"], p["params"]["kind"]) for p in b.notifications("aish/progress")
            if p["params"]["request_id"] == rid]
    check(t + "pipeline progress per stage", prog == [(0, "athena", "begin"), (0, "athena", "end"),
                                                    (1, "apollo", "begin"), (1, "apollo", "end")], prog)
    rid = b.request("aish/pipeline", {"input": "x", "stages": ["hermes", sid, "metis"]})
    r = b.response(rid, 5)
    check(t + "pipeline array", r and r["result"]["output"] == "metis: scribe: hermes: x", r)
    check(t + "a stage names its AI and its socket", r and r["result"]["stages"][1]["ai"] == "scribe"
          and r["result"]["stages"][1]["socket_id"] == sid, r)
    prog = [p["params"] for p in b.notifications("aish/progress") if p["params"]["request_id"] == rid
            and p["params"]["stage"] == 1]
    check(t + "progress names the AI, not the socket", prog and all(p["ai"] == "scribe" and
          p["socket_id"] == sid for p in prog), prog)
    r = b.call("aish/pipeline", {"input": "x", "pipeline": "athena | | apollo"})
    check(t + "pipeline with an empty stage: -32602", error_code(r) == -32602, r)
    r = b.call("aish/pipeline", {"input": "x"})
    check(t + "pipeline without stages: -32602", error_code(r) == -32602, r)
    r = b.call("aish/pipeline", {"input": "x", "pipeline": "athena | nosuch"})
    check(t + "pipeline with an unknown AI: -32602 naming it, the known in data.known",
          error_code(r) == -32602 and r["error"]["message"].startswith('unknown AI "nosuch"') and
          "athena" not in r["error"]["message"] and "athena" in r["error"]["data"]["known"], r)
    check(t + "an unknown AI's stage never begins", not any(p["params"]["ai"] == "nosuch"
          for p in b.notifications("aish/progress")))

    # unknown AI
    r = b.call("aish/send", {"ai": "nobody", "content": "x"})
    check(t + "send to an unknown AI: -32602, the names in data.known", error_code(r) == -32602 and
          "nobody" in r["error"]["message"] and "apollo" in r["error"]["data"]["known"], r)
    r = b.call("aish/send", {"ai": "../etc", "content": "x"})
    check(t + "send to a bad name: -32602", error_code(r) == -32602, r)
    r = b.call("aish/send", {"ai": "athena"})
    check(t + "send without content: -32602", error_code(r) == -32602, r)

    # teamChat
    rid = b.request("aish/teamChat", {"message": "all hands"})
    r = b.response(rid, 10)
    resp = r["result"]["responses"] if r and "result" in r else []
    names = {x["ai"] for x in resp}
    check(t + "teamChat: every roster AI and the created one answer",
          {"apollo", "athena", "terma", "scribe"} <= names and r["result"]["timed_out"] == [], r)
    check(t + "teamChat: content, socket_id, ms", all(x["content"] == x["ai"] + ": all hands" and
          "socket_id" in x and "ms" in x for x in resp), resp[:2])
    prog = [p["params"] for p in b.notifications("aish/progress") if p["params"]["request_id"] == rid]
    begins = {p["socket_id"] for p in prog if p["kind"] == "begin"}
    ends = {p["socket_id"] for p in prog if p["kind"] == "end"}
    check(t + "teamChat progress per member", begins == ends == {x["socket_id"] for x in resp}
          and all(p["stage"] == 0 for p in prog), (begins, ends))
    # A team chat and a send to the same streaming AI at once: the AI's
    # deltas reach the bridge on two connections, each counted once.
    tid = b.request("aish/teamChat", {"message": "both"})
    sid2 = b.request("aish/send", {"ai": sid, "content": "both"})
    rt, rs = b.response(tid, 10), b.response(sid2, 10)
    for rid, what in ((tid, "teamChat"), (sid2, "send")):
        prog = [p["params"] for p in b.notifications("aish/progress")
                if p["params"]["request_id"] == rid and p["params"].get("socket_id") == sid]
        deltas = "".join(p["content"] for p in prog if p["kind"] == "delta")
        check(t + what + " beside another request: deltas join to the reply once",
              deltas == "scribe: both", deltas)

    # A group, and a team chat moderated by rhetor.
    import json, urllib.request
    req = urllib.request.Request(URL + "/api/ai/groups/duo%s" % n, method="PUT",
                                 headers={"Content-Type": "application/json"},
                                 data=json.dumps({"members": ["athena", "apollo"]}).encode())
    urllib.request.urlopen(req, timeout=5).read()
    r = b.call("aish/teamChat", {"message": "pair", "group": "duo%s" % n}, 10)
    got = sorted(x["ai"] for x in r["result"]["responses"]) if r and "result" in r else r
    check(t + "teamChat to a group: its members answer", got == ["apollo", "athena"], got)
    r = b.call("aish/teamChat", {"message": "pair", "group": "duo%s" % n,
                                 "moderation": "synthesis"}, 10)
    res = r.get("result", {}) if r else {}
    syn = res.get("synthesis", {})
    check(t + "moderated teamChat: members in responses, rhetor's synthesis apart",
          sorted(x["ai"] for x in res.get("responses", [])) == ["apollo", "athena"]
          and syn.get("socket_id") == "rhetor" and syn.get("content", "").startswith("rhetor: ")
          and "apollo: pair" in syn.get("content", ""), r)
    r = b.call("aish/teamChat", {"message": "x", "moderation": "vote"})
    check(t + "teamChat with an unknown moderation: -32602", error_code(r) == -32602, r)

    r = b.call("aish/teamChat", {"message": "x", "group": "nogroup"})
    check(t + "teamChat to an unknown group: -32602", error_code(r) == -32602, r)
    r = b.call("aish/create", {"ai_name": "mute", "socket_id": "mute-%s" % n,
                                "context": {"echo": {"delay_ms": 3000}}})
    mute = r and r.get("result", {}).get("socket_id")
    r = b.call("aish/teamChat", {"message": "slow ones", "timeout_ms": 600}, 10)
    # mute is silent for 3 s: it is timed out; the scribe streams every
    # 100 ms for 300 ms and is not
    check(t + "teamChat time-out lists the silent", r and r["result"]["timed_out"] == [mute] and
          "athena" in [x["ai"] for x in r["result"]["responses"]] and
          "scribe: slow ones" in [x["content"] for x in r["result"]["responses"]], r)
    b.call("aish/delete", {"socket_id": mute})

    # write, then the reply arrives as aish/message and waits in the inbox
    r = b.call("aish/write", {"socket_id": "hermes", "content": "note"})
    wid = r and r.get("result", {}).get("id")
    check(t + "write answers the write id", isinstance(wid, str) and wid != "", r)
    m = b.wait_for(lambda x: isinstance(x, dict) and x.get("method") == "aish/message" and
                   x["params"].get("in_reply_to") == wid and x["params"].get("role") == "assistant", 5)
    check(t + "the written AI's reply arrives unasked", m and m["params"]["content"] == "hermes: note", m)
    r = b.call("aish/read", {"socket_id": "hermes"})
    check(t + "read drains the inbox", r and [x["content"] for x in r["result"]["messages"]] == ["hermes: note"], r)
    r = b.call("aish/read", {"socket_id": "hermes"})
    check(t + "read again: empty", r and r["result"]["messages"] == [], r)
    # with team-chat-all open, a reply can reach the bridge before its
    # ack: it still waits in the inbox
    # (a socket made now: its connection is the newest)
    b.call("aish/create", {"ai_name": "quick", "socket_id": "quick-%s" % n})
    got = []
    for i in range(20):
        r = b.call("aish/write", {"socket_id": "quick-%s" % n, "content": "n%d" % i})
        wid = r and r.get("result", {}).get("id")
        b.wait_for(lambda x: isinstance(x, dict) and x.get("method") == "aish/message" and
                   x["params"].get("in_reply_to") == wid, 5)
        r = b.call("aish/read", {"socket_id": "quick-%s" % n})
        got += [x["content"] for x in r["result"]["messages"]] if r and "result" in r else []
    check(t + "every reply of 20 writes reaches the inbox once",
          got == ["quick: n%d" % i for i in range(20)], got)
    # read waits for a reply that is still coming
    b.call("aish/write", {"ai": sid, "content": "later"})
    rid = b.request("aish/read", {"socket_id": sid, "timeout_ms": 3000})
    r = b.response(rid, 5)
    check(t + "read with timeout_ms waits for the reply", r and
          [x["content"] for x in r["result"]["messages"]] == ["scribe: later"], r)
    r = b.call("aish/write", {"socket_id": "nosuch", "content": "x"})
    check(t + "write to an unknown socket: -32602", error_code(r) == -32602, r)

    # reset and delete
    r = b.call("aish/reset", {"ai": "athena"})
    check(t + "reset", r and r.get("result") == {"ok": True}, r)
    r = b.call("aish/delete", {"socket_id": "athena"})
    check(t + "delete of a roster AI: an error", error_code(r) is not None and error_code(r) != -32603, r)
    r = b.call("aish/delete", {"socket_id": sid})
    check(t + "delete", r and r.get("result") == {"ok": True}, r)
    r = b.call("aish/delete", {"socket_id": sid})
    check(t + "delete again: -32602", error_code(r) == -32602, r)
    r = b.call("aish/reset", {})
    check(t + "reset without a socket: -32602", error_code(r) == -32602, r)
    r = b.call("aish/nothing")
    check(t + "unknown method: -32601", error_code(r) == -32601, r)
    b.close()
    check(t + "end of stdin: status 0", b.wait_exit(5) == 0)

session("ndjson", 1)
session("lsp", 2)

# A message the server queued while no bridge listened: aish/read gets it
# from the server's queue.
import json, urllib.request
req = urllib.request.Request(URL + "/api/ai/socket/sophia/write", data=json.dumps({"content": "queued"}).encode(),
                             headers={"Content-Type": "application/json"}, method="POST")
urllib.request.urlopen(req).read()
for _ in range(300):    # queued: 3 s at most
    with urllib.request.urlopen(URL + "/api/ai/socket/sophia") as q:
        if json.load(q)["queue_size"] >= 1:
            break
    time.sleep(0.01)
b = Bridge(["--rhetor", URL, "--no-spawn"])
b.initialize()
r = b.call("aish/read", {"ai": "sophia", "timeout_ms": 2000})
check("read from the server's queue", r and [x["content"] for x in r["result"]["messages"]] == ["sophia: queued"], r)
b.close()
b.wait_exit(5)
done()
EOF
py_checks "$TEST_TMP/t.py"
finish
