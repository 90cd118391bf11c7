"""seed_calls.py: the calls of the first aish's socket registry, as its
implementation guide gives them, run against aish-rhetor several times.

Each run is one session of that client: it creates a socket for every AI
it names (POST /api/ai/socket/create with ai_name, model, prompt and
context, nulls included), pre-creates the special sockets
("team-chat-all", "rhetor") as the guide's step 3 does, then runs the
guide's three tests over the WebSocket URLs that create returned: an echo
to apollo, the pipeline athena | apollo, and a team chat.  At its end the
session closes its connections, as a shell that exits does.

After the runs, team-chat-all must have the members it had before: the
sockets the sessions made go with them (doc/protocol.md, "Sockets a
session makes").

Usage: seed_calls.py RUNS   (URL in the environment; prints "ok - " lines)
"""

import http.client
import json
import os
import struct
import sys
import time

import rawws
from bridge_client import check, done

URL = os.environ["URL"]
HOST, PORT = rawws.hostport(URL)


def call(method, path, doc=None):
    """One HTTP request; (status, JSON)."""
    c = http.client.HTTPConnection(HOST, PORT, timeout=10)
    body = json.dumps(doc).encode() if doc is not None else None
    c.request(method, path, body, {"Content-Type": "application/json"}
              if body is not None else {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data or b"null")


def create(ai_name, model=None, prompt=None, context=None):
    """The guide's create(): POST create, keep socket_id and ws_url."""
    st, doc = call("POST", "/api/ai/socket/create",
                   {"ai_name": ai_name, "model": model, "prompt": prompt,
                    "context": context})
    return st, doc


class Session:
    """One run of the client: its sockets and their connections."""

    def __init__(self):
        self.sockets = {}       # socket_id -> ws_url
        self.conns = {}         # socket_id -> (sock, reader)
        self.by_ai = {}         # ai name -> socket_id
        self.team = None        # what create("team-chat-all") gave

    def create(self, ai_name, **kw):
        st, doc = create(ai_name, **kw)
        if st in (200, 201) and doc:
            self.sockets[doc["socket_id"]] = doc["websocket_url"]
        return st, doc

    def socket_for(self, ai_name):
        """The shell's _get_or_create_socket: one socket per AI."""
        if ai_name not in self.by_ai:
            st, doc = self.create(ai_name)
            self.by_ai[ai_name] = doc["socket_id"] if doc else None
        return self.by_ai[ai_name]

    def conn(self, socket_id):
        """The guide's _get_connection: lazy, from the create's URL."""
        if socket_id not in self.conns:
            path = "/" + self.sockets[socket_id].split("/", 3)[3]
            s, st, rest = rawws.upgrade(URL, path)
            self.conns[socket_id] = (s, rawws.Reader(s, rest))
        return self.conns[socket_id]

    def write(self, socket_id, message):
        """The guide's write(): {"type":"write","content"} (no id)."""
        s, rd = self.conn(socket_id)
        s.sendall(rawws.frame(json.dumps({"type": "write",
                                           "content": message})))

    def frames_until(self, socket_id, until, timeout=5):
        s, rd = self.conn(socket_id)
        return rd.json_frames(until, timeout)

    def ask(self, socket_id, message):
        """Writes, then reads the one reply (a read frame)."""
        self.write(socket_id, message)
        got = self.frames_until(socket_id, lambda g: any(
            f.get("type") in ("read", "error") for f in g))
        reads = [f for f in got if f.get("type") == "read"]
        return reads[0]["content"] if reads else None

    def team_chat(self, message):
        """Writes to the socket create("team-chat-all") gave; reads every
        member's reply."""
        self.write(self.team, message)
        members = []

        def all_in(g):
            acks = [f for f in g if f.get("type") == "ack"]
            if not acks:
                return False
            members[:] = acks[0].get("members", [])
            return len([f for f in g if f.get("type") in
                        ("read", "error")]) >= len(members)
        got = self.frames_until(self.team, all_in)
        return members, [f for f in got if f.get("type") == "read"]

    def close(self):
        """A shell that exits: close frames, then the connections."""
        for s, rd in self.conns.values():
            try:
                s.sendall(rawws.frame(struct.pack(">H", 1000), opcode=8))
                s.settimeout(1)
                while s.recv(1 << 16):
                    pass
            except OSError:
                pass
            s.close()


def team_members():
    """team-chat-all's members now: who an HTTP team chat asks (its
    replies come in its answer, and are not queued)."""
    st, doc = call("POST", "/api/team-chat", {"message": "roll call"})
    if st != 200:
        return None
    return sorted([r["socket_id"] for r in doc["responses"]] +
                  doc["timed_out"])


def main():
    runs = int(sys.argv[1])
    before = team_members()
    check("team-chat-all has members to start with", before, before)
    seen = set()
    for run in range(runs):
        ses = Session()
        # The guide's step 3: the special sockets, pre-created.
        st1, tca = ses.create("team-chat-all", prompt="Broadcast to all AIs")
        st2, rh = ses.create("rhetor", prompt="Rhetor's listening socket")
        ses.team = tca["socket_id"]
        if run == 0:
            check("create('team-chat-all') is team-chat-all",
                  st1 == 200 and tca.get("socket_id") == "team-chat-all"
                  and tca.get("existing") is True and
                  tca.get("websocket_url", "").endswith(
                      "/ws/socket/team-chat-all"), (st1, tca))
            check("create('rhetor') is rhetor",
                  st2 == 200 and rh.get("socket_id") == "rhetor" and
                  rh.get("existing") is True, (st2, rh))
        # Test 1: echo "Hello" | apollo
        out1 = ses.ask(ses.socket_for("apollo"), "Hello")
        # Test 2: echo "Design a cache" | athena | apollo
        mid = ses.ask(ses.socket_for("athena"), "Design a cache")
        out2 = ses.ask(ses.socket_for("apollo"), mid or "")
        # Test 3: team-chat "What's the best programming language?"
        members, replies = ses.team_chat("What's the best programming "
                                         "language?")
        if run == 0:
            check("test 1: apollo answers", out1 == "apollo: Hello", out1)
            check("test 2: athena, then apollo",
                  out2 == "apollo: athena: Design a cache", out2)
        seen.update(members)
        check("run %d: team chat answered by every member" % (run + 1),
              members and len(replies) == len(members) and
              sorted(f["socket_id"] for f in replies) == sorted(members),
              (members, [f.get("socket_id") for f in replies]))
        check("run %d: no AI made of a special socket's name" % (run + 1),
              not [m for m in members if m.startswith("team-chat-") or
                   m.startswith("rhetor")], members)
        ses.close()
    # The sessions are over: what they made goes, once their readers have
    # been gone for --abandon-ms.
    after = None
    end = time.time() + 5
    while time.time() < end:
        after = team_members()
        if after == before:
            break
        time.sleep(0.1)
    check("after %d runs team-chat-all's members are as they were" % runs,
          after == before, {"before": before, "after": after})
    st, doc = call("GET", "/api/ai/sockets")
    ids = [s["socket_id"] for s in doc["sockets"]]
    check("no socket of the sessions is left",
          not [i for i in ids if i.startswith(("apollo-", "athena-"))], ids)
    done()


main()
