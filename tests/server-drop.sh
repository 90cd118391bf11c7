#!/bin/bash
# server-drop.sh: no reply is lost when its writer drops the connection at
# once, whatever the moment: before the ack is read, right after it, while
# the reply is made or while it is sent.  A loop of writers that write and
# drop at random delays, on an AI that answers at once and on one that
# streams its reply; each new connection is the next reader of what the
# earlier ones left.  Every accepted write's reply is got exactly once.
# Then a write sent again gets its reply when it was never got, even while
# a connection that went away unseen still holds it, and never twice.
. "$(dirname "$0")/setup.sh"

start_server
http POST /api/ai/socket/create '{"ai_name":"quick"}'
quick=$(jget "$BODY" .socket_id)
http POST /api/ai/socket/create \
	'{"ai_name":"chunky","context":{"echo":{"delay_ms":3,"chunks":3}}}'
chunky=$(jget "$BODY" .socket_id)
http POST /api/ai/socket/create \
	'{"ai_name":"later","context":{"echo":{"delay_ms":200}}}'
later=$(jget "$BODY" .socket_id)
# The reader that keeps up reads a socket of its own: the loop's last
# step sends its writes again to learn which were accepted, and one that
# was not is then a new write, whose reply waits in its socket's queue.
http POST /api/ai/socket/create '{"ai_name":"keepup"}'
keepup=$(jget "$BODY" .socket_id)
check "sockets made" "quick-1 chunky-1 later-1 keepup-1" \
	"$quick $chunky $later $keepup"

# DROP_TRIES sets the loop's length; DROP_VERBOSE=1 shows every copy.
# A thousand tries: a race that loses one reply in a few hundred shows
# in nearly every run.
PY_TIMEOUT=60 py_checks "$top_srcdir/tests/tools/drop_loop.py" \
	"${DROP_TRIES:-1000}" "$quick" "$chunky"

cat > "$TEST_TMP/resend.py" <<'PYEOF'
import json, os, socket, sys, time
import rawws
from bridge_client import check, done

URL = os.environ["URL"]
SOCK = sys.argv[1]


def connect():
    s, st, rest = rawws.upgrade(URL, "/ws/socket/" + SOCK)
    return s, rawws.Reader(s, rest)


def frames(rd, seconds, until=lambda got: False):
    return rd.json_frames(until, seconds)


def write(s, wid):
    s.sendall(rawws.frame(json.dumps({"type": "write", "content": wid,
                                       "id": wid})))


def final(got, wid):
    return [f for f in got if f.get("type") in ("read", "error")
            and f.get("in_reply_to") == wid]


# 1. A connection that took the reply and went away unseen (it neither
# reads nor closes) still holds it; the writer comes back on a new one.
s1, rd1 = connect()
write(s1, "r1")
check("r1 acked", any(f.get("type") == "ack" for f in
                      frames(rd1, 2, lambda g: any(f.get("type") == "ack" for f in g))))
time.sleep(0.4)        # the reply is written to s1, which reads no more
s2, rd2 = connect()
got = frames(rd2, 0.15)
check("r1: a new reader does not get what another holds", not final(got, "r1"), got)
write(s2, "r1")
got = frames(rd2, 2, lambda g: bool(final(g, "r1")))
ack = [f for f in got if f.get("type") == "ack"]
check("r1 sent again: acked as a duplicate",
      ack and ack[0].get("id") == "r1" and ack[0].get("duplicate") is True, got)
check("r1 sent again: its reply comes", len(final(got, "r1")) == 1 and
      final(got, "r1")[0].get("content") == "later: r1", got)
s1.close()
s2.close()

# 2. A writer that drops before the reply: the reply waits; the next
# connection gets it first, and sending the write again does not double it.
s3, rd3 = connect()
write(s3, "r2")
frames(rd3, 2, lambda g: any(f.get("type") == "ack" for f in g))
s3.close()
time.sleep(0.4)
s4, rd4 = connect()
write(s4, "r2")
got = frames(rd4, 0.6)
check("r2: the reply waited for the next connection", len(final(got, "r2")) >= 1, got)
check("r2 sent again: its reply comes once", len(final(got, "r2")) == 1, got)
s4.close()

# 3. What a reader's TCP took and the reader kept for a second is got,
# whatever it does then; a reset at once says nothing of what it read,
# and the reply comes again, with the same seq.
import struct
def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
for wid, keep, again in (("r3", 1.3, False), ("r4", 0, True)):
    s5, rd5 = connect()
    write(s5, wid)
    got = frames(rd5, 2, lambda g: bool(final(g, wid)))
    first = final(got, wid)
    time.sleep(keep)
    reset(s5)
    time.sleep(0.1)
    s6, rd6 = connect()
    got = frames(rd6, 0.4)
    s6.close()
    if again:
        check("%s: reset at once: the reply comes again, same seq" % wid,
              len(first) == 1 and [f.get("seq") for f in final(got, wid)] ==
              [first[0].get("seq")], (first, got))
    else:
        check("%s: kept a second, then reset: got, not sent again" % wid,
              len(first) == 1 and not final(got, wid), (first, got))

# 4. A reader that keeps up takes 3,000 replies in a few tenths of a
# second: what it holds never fills the queue (1,000), nothing is
# dropped.
import http.client
def drops():
    c = http.client.HTTPConnection(*rawws.hostport(URL), timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    return [l for l in text.splitlines() if l.startswith("aish_queue_drops_total")]
before = drops()
SOCK = sys.argv[2]      # an AI that answers at once, read by nobody else
s7, rd7 = connect()
reads = 0
for k in range(30):
    for i in range(100):
        write(s7, "q%d-%d" % (k, i))
    got = frames(rd7, 10, lambda g: len([f for f in g if f.get("type") == "read"]) >= 100)
    reads += len([f for f in got if f.get("type") == "read"])
s7.close()
check("a reader that keeps up: 3,000 replies read", reads == 3000, reads)
check("a reader that keeps up: none dropped from the queue",
      drops() == before, (before, drops()))
done()
PYEOF
py_checks "$TEST_TMP/resend.py" "$later" "$keepup"

# An HTTP reader (GET /read) that drops its connection in the middle of
# the answer loses nothing: the replies it carried come back to the
# queue, with their seqs, for the next reader; one that read the answer
# whole got it, and it is not sent again.
http POST /api/ai/socket/create '{"ai_name":"bulky"}'
bulky=$(jget "$BODY" .socket_id)
big=$(head -c 100000 /dev/zero | tr '\0' x)
for i in $(seq 1 20); do
	http POST "/api/ai/socket/$bulky/write" \
		"{\"content\":\"b$i $big\",\"id\":\"b$i\"}"
done
check "20 replies of 100 KB queued" 20 "$(wait_queue "$bulky" 20)"
# curl stops once head has the first 200,000 bytes of the 2 MB answer
# (its next write fails), closing its connection with the rest unread.
curl -s -N "$URL/api/ai/socket/$bulky/read" | head -c 200000 > "$TEST_TMP/part"
rc=${PIPESTATUS[0]}
got=$(wc -c < "$TEST_TMP/part")
check "curl dropped in the middle of the answer" "23 200000" "$rc $got"
check "curl dropped mid-answer: its 20 replies are back in the queue" 20 \
	"$(wait_queue "$bulky" 20)"

cat > "$TEST_TMP/httpread.py" <<'PYEOF'
import http.client, json, os, socket, struct, sys, time
import rawws
from bridge_client import check, done

URL = os.environ["URL"]
HOST, PORT = rawws.hostport(URL)
SOCK = sys.argv[1]
PATH = "/api/ai/socket/%s/read" % SOCK


def answer(s):
    """Reads one whole answer from S: its messages."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(1 << 16)
    head, _, body = buf.partition(b"\r\n\r\n")
    n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
         if l.lower().startswith(b"content-length:")][0]
    while len(body) < n:
        body += s.recv(1 << 16)
    return json.loads(body)["messages"]


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def queued(want, seconds=3):
    """The socket's queue size once it is WANT (or after SECONDS)."""
    end = time.time() + seconds
    while True:
        c = http.client.HTTPConnection(HOST, PORT, timeout=10)
        c.request("GET", "/api/ai/socket/" + SOCK)
        n = json.loads(c.getresponse().read())["queue_size"]
        c.close()
        if n == want or time.time() > end:
            return n
        time.sleep(0.05)


def read_all(headers={}):
    c = http.client.HTTPConnection(HOST, PORT, timeout=10)
    c.request("GET", PATH, headers=headers)
    r = c.getresponse()
    msgs = json.loads(r.read())["messages"]
    c.close()
    return msgs


def seqs(msgs):
    return [m["seq"] for m in msgs]


# A reader that read the answer whole, then reset its connection at once:
# the server cannot tell that it read it, so it comes again, same seqs.
s = socket.create_connection((HOST, PORT), timeout=10)
s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (PATH, HOST, PORT)).encode())
first = answer(s)
reset(s)
check("read whole, then reset: 20 replies", len(first) == 20, len(first))
check("read whole, then reset: they are back in the queue", queued(20) == 20)

# A reader that reads it whole and closes: got, every seq as before.
again = read_all()
check("the next reader gets them, with the same seqs, once each",
      seqs(again) == seqs(first) and len(set(seqs(again))) == 20,
      (seqs(first), seqs(again)))
s, st, rest = rawws.upgrade(URL, "/ws/socket/" + SOCK)
rd = rawws.Reader(s, rest)
ws = [f for f in rd.json_frames(lambda g: False, 0.4) if f.get("type") == "read"]
s.close()
check("read whole and closed: got, not sent again", not ws and not read_all(),
      seqs(ws))

# A reader that keeps its connection a second after the answer got it;
# so did one that asked for the connection to close after the answer.
def write(i):
    c = http.client.HTTPConnection(HOST, PORT, timeout=10)
    c.request("POST", "/api/ai/socket/%s/write" % SOCK,
              json.dumps({"content": "k%d" % i, "id": "k%d" % i}),
              {"Content-Type": "application/json"})
    c.getresponse().read()
    c.close()
for i in range(3):
    write(i)
queued(3)
c = http.client.HTTPConnection(HOST, PORT, timeout=10)
c.request("GET", PATH)
kept = json.loads(c.getresponse().read())["messages"]
time.sleep(1.3)
c.request("GET", PATH)
more = json.loads(c.getresponse().read())["messages"]
reset(c.sock)
check("kept a second: 3 replies got", len(kept) == 3 and not more,
      (seqs(kept), seqs(more)))
check("kept a second, then reset: not sent again",
      queued(3, 0.4) == 0 and not read_all())
for i in range(3, 5):
    write(i)
queued(2)
closed = read_all({"Connection": "close"})
check("Connection: close: 2 replies, got", len(closed) == 2 and
      queued(2, 0.4) == 0 and not read_all(), seqs(closed))
done()
PYEOF
py_checks "$TEST_TMP/httpread.py" "$bulky"
finish
