"""tekton_client.py: the requests the first aish (github ckoons/aish, the
Python client of Tekton's Rhetor) makes, sent as it sends them, and its
answers read as it reads them.

That client's socket registry writes to an AI by POST
/api/ai/specialists/{id}/message {"message","temperature"} when Tekton's
discovery gave it a specialist id, reading "response" (or "content");
without Tekton, and on a 404, it falls back to POST /api/team-chat with
{"message":"[To NAME] text","moderation_mode":"pass_through",
"timeout":10.0} and reads responses[NAME + "-ai"]["content"] (or the
first response's).  A team chat is the same request without "[To ...]",
each local socket's AI reading responses[NAME + "-ai"].  It sends with
python-requests: JSON bodies with its headers, to http://localhost:PORT.

This module reproduces those requests byte for byte in what matters (the
method, path, headers, body shape and serialisation) with the standard
library only, for tests/server-tekton.sh.
"""

import http.client
import json
import os

import rawws

URL = os.environ["URL"]
HOST, PORT = rawws.hostport(URL)
# What python-requests sends besides the body's own headers.
HEADERS = {
    "Host": "localhost:%d" % PORT,
    "User-Agent": "python-requests/2.31.0",
    "Accept-Encoding": "gzip, deflate",
    "Accept": "*/*",
    "Connection": "keep-alive",
}


def post(path, payload):
    """requests.post(url, json=payload, timeout=30): (status, headers,
    parsed JSON or None)."""
    body = json.dumps(payload).encode()      # requests' own serialisation
    headers = dict(HEADERS)
    headers["Content-Length"] = str(len(body))
    headers["Content-Type"] = "application/json"
    c = http.client.HTTPConnection(HOST, PORT, timeout=30)
    c.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
    for k, v in headers.items():
        c.putheader(k, v)
    c.endheaders(body)
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    return r.status, dict(r.getheaders()), doc


def team_chat(message):
    """The client's team-chat request."""
    return post("/api/team-chat", {"message": message,
                                   "moderation_mode": "pass_through",
                                   "timeout": 10.0})


def specialist(specialist_id, message):
    """The client's specialist request."""
    return post("/api/ai/specialists/%s/message" % specialist_id,
                {"message": message, "temperature": 0.7})


class Registry:
    """The client's socket registry: local sockets, one queue each."""

    def __init__(self, discovered=None):
        self.sockets = {}       # socket id -> ai name
        self.queues = {}        # socket id -> [reply, ...]
        self.discovered = discovered or {}   # ai name -> specialist id
        self.n = 0

    def create(self, ai_name):
        """Local only, as the client's create() is."""
        self.n += 1
        sid = "%s-%d" % (ai_name, self.n)
        self.sockets[sid] = ai_name
        self.queues[sid] = []
        return sid

    def write(self, sid, message):
        """A write fails (False) on any error, as the client's does."""
        try:
            return self._write(sid, message)
        except (AttributeError, KeyError, TypeError, ValueError, OSError):
            return False

    def _write(self, sid, message):
        if sid == "team-chat-all":
            return self._team(message)
        ai = self.sockets[sid]
        if ai in self.discovered:
            st, _, doc = specialist(self.discovered[ai], message)
            if st == 200:
                self.queues[sid].append(doc.get("response",
                                                doc.get("content", "")))
                return True
            if st != 404:
                return False
        return self._to_one(sid, ai, message)

    def _to_one(self, sid, ai, message):
        """The team-chat fallback for one AI."""
        st, _, doc = team_chat("[To %s] %s" % (ai, message))
        if st != 200:
            return False
        responses = doc.get("responses", {})
        key = ai + "-ai"
        if key in responses:
            self.queues[sid].append(responses[key].get("content", ""))
            return True
        if responses:
            first = list(responses.keys())[0]
            self.queues[sid].append(responses[first].get("content", ""))
            return True
        return False

    def _team(self, message):
        if not self.sockets:
            return False
        st, _, doc = team_chat(message)
        if st != 200:
            return False
        responses = doc.get("responses", {})
        for sid, ai in self.sockets.items():
            if ai + "-ai" in responses:
                self.queues[sid].append(responses[ai + "-ai"])
        return True

    def read(self, sid):
        """Drains the local queues, with the client's source header."""
        out = []
        sids = list(self.queues) if sid == "team-chat-all" else [sid]
        for s in sids:
            while self.queues.get(s):
                out.append("[team-chat-from-%s] %s" % (self.sockets[s],
                                                       self.queues[s].pop(0)))
        return out


def pipe(reg, sockets, stages, text):
    """The client's pipeline: each stage writes, then reads its reply."""
    for ai in stages:
        if ai not in sockets:
            sockets[ai] = reg.create(ai)
        sid = sockets[ai]
        if not reg.write(sid, text):
            return "Failed to write to %s" % ai
        got = reg.read(sid)
        if not got:
            return "No response from %s" % ai
        text = got[0].split("] ", 1)[1]
    return text
