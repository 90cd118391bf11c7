#!/usr/bin/env python3
"""fake-providers.py: a small local server that speaks the wire formats of
Ollama (POST /api/chat, NDJSON), OpenAI (POST /v1/chat/completions, SSE)
and Anthropic (POST /v1/messages, SSE), for the provider tests.

    fake-providers.py [--port 0] [--key KEY]

The first line on stdout is "listening on PORT".  With --key, the OpenAI and
Anthropic endpoints want that key (Authorization: Bearer / x-api-key) and
answer 401 with the provider's own error body otherwise.

The model name of a request, up to an "@" (after which a test may add a
tag of its own to tell its requests apart), picks what the answer does:

    ok          the reply "[KIND] <last user message>" in a few pieces
    count       the reply "n=N roles=ROLE,... system=PROMPT": what was sent
    split       a reply with accents, a snowman and an emoji, sent 3 bytes
                at a time, so chunks end mid-line and mid-character
    error404    HTTP 404 with the provider's JSON error body
    error500    HTTP 500 with the provider's JSON error body
    midstream   a few pieces, then the provider's in-stream error
    malformed   a few pieces, then a line that is not JSON
    cut         a few pieces, then the connection closes mid-stream
    stall       one piece, then nothing for 5 s
    slow        the ok reply spread over 500 ms
    slowstream  a piece every 100 ms for 10 s (for cancel tests)
    drip        the reply "0123456789", one character every 300 ms (3 s)
    silent      nothing at all (not even the status line) for 2 s, then
                the ok reply

GET /_events lists what each request was: path, model, number of
messages, whether the client went away before the end ("closed"),
whether the answer is over ("done"), and the request's own JSON body
("request": its messages, system, ...), in the order they came.
Python 3 standard library only.
"""

import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SPLIT_TEXT = "Ünïcödé ☃ 😀 — split across chunks: "
EVENTS = []
EVENTS_LOCK = threading.Lock()


class ClientGone(Exception):
    """The client closed the connection while we were writing."""


def error_body(kind, status, model, key=None):
    """The JSON error body each provider sends with an HTTP error."""
    if kind == "ollama":
        if status == 404:
            return {"error": f"model \"{model}\" not found, try pulling it first"}
        return {"error": "llama runner process has terminated: exit status 2"}
    if kind == "openai":
        if status == 401:
            return {"error": {"message": f"Incorrect API key provided: {key}. "
                              "You can find your API key at "
                              "https://platform.openai.com/account/api-keys.",
                              "type": "invalid_request_error", "param": None,
                              "code": "invalid_api_key"}}
        if status == 404:
            return {"error": {"message": f"The model `{model}` does not exist "
                              "or you do not have access to it.",
                              "type": "invalid_request_error", "param": None,
                              "code": "model_not_found"}}
        return {"error": {"message": "The server had an error while "
                          "processing your request.", "type": "server_error",
                          "param": None, "code": None}}
    if status == 401:
        return {"type": "error", "error": {"type": "authentication_error",
                                           "message": f"invalid x-api-key {key}"}}
    if status == 404:
        return {"type": "error", "error": {"type": "not_found_error",
                                           "message": f"model: {model}"}}
    return {"type": "error", "error": {"type": "api_error",
                                       "message": "Internal server error"}}


def pieces_of(text, size=4):
    """The reply cut into pieces of a few characters."""
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


class Wire:
    """Encodes a streamed reply in one provider's format."""

    def __init__(self, kind, model):
        self.kind = kind
        self.model = model

    def start(self):
        if self.kind == "openai":
            return self.sse(None, {"id": "chatcmpl-1", "object": "chat.completion.chunk",
                                   "model": self.model, "choices": [
                                       {"index": 0, "delta": {"role": "assistant", "content": ""},
                                        "finish_reason": None}]})
        if self.kind == "anthropic":
            return (self.sse("message_start", {"type": "message_start", "message": {
                "id": "msg_1", "type": "message", "role": "assistant", "content": [],
                "model": self.model, "stop_reason": None, "usage": {"input_tokens": 5,
                                                                    "output_tokens": 1}}})
                    + self.sse("content_block_start", {"type": "content_block_start", "index": 0,
                                                       "content_block": {"type": "text", "text": ""}})
                    + b"event: ping\ndata: {\"type\": \"ping\"}\n\n")
        return b""

    def piece(self, text):
        if self.kind == "ollama":
            return self.line({"model": self.model, "created_at": "2026-11-26T10:00:00Z",
                              "message": {"role": "assistant", "content": text}, "done": False})
        if self.kind == "openai":
            return self.sse(None, {"id": "chatcmpl-1", "object": "chat.completion.chunk",
                                   "model": self.model, "choices": [
                                       {"index": 0, "delta": {"content": text},
                                        "finish_reason": None}]})
        return self.sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                "delta": {"type": "text_delta", "text": text}})

    def end(self):
        if self.kind == "ollama":
            return self.line({"model": self.model, "created_at": "2026-11-26T10:00:01Z",
                              "message": {"role": "assistant", "content": ""}, "done": True,
                              "done_reason": "stop", "total_duration": 1000, "eval_count": 3})
        if self.kind == "openai":
            return (self.sse(None, {"id": "chatcmpl-1", "object": "chat.completion.chunk",
                                    "model": self.model, "choices": [
                                        {"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    + b"data: [DONE]\n\n")
        return (self.sse("content_block_stop", {"type": "content_block_stop", "index": 0})
                + self.sse("message_delta", {"type": "message_delta",
                                             "delta": {"stop_reason": "end_turn",
                                                       "stop_sequence": None},
                                             "usage": {"output_tokens": 15}})
                + self.sse("message_stop", {"type": "message_stop"}))

    def stream_error(self):
        if self.kind == "ollama":
            return self.line({"error": "an error was encountered while running the model"})
        if self.kind == "openai":
            return self.sse(None, {"error": {"message": "The server is overloaded",
                                             "type": "server_error"}})
        return self.sse("error", {"type": "error", "error": {"type": "overloaded_error",
                                                             "message": "Overloaded"}})

    def malformed(self):
        if self.kind == "ollama":
            return b"{\"message\": {\"content\": not json\n"
        return b"data: {\"choices\": not json\n\n"

    @staticmethod
    def line(obj):
        return (json.dumps(obj, ensure_ascii=False) + "\n").encode()

    @staticmethod
    def sse(event, obj):
        head = f"event: {event}\n" if event else ""
        return (head + "data: " + json.dumps(obj, ensure_ascii=False) + "\n\n").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-providers/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # --- plumbing ---------------------------------------------------------

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start_stream(self, kind):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson" if kind == "ollama"
                         else "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def chunk(self, data):
        """Sends data as one HTTP chunk, now."""
        if not data:
            return
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError) as exc:
            raise ClientGone() from exc

    def end_chunks(self):
        self.chunk(b"")
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError as exc:
            raise ClientGone() from exc

    def cut(self):
        """Closes the connection in the middle of the body."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def record(self, event):
        with EVENTS_LOCK:
            EVENTS.append(event)

    # --- requests ---------------------------------------------------------

    def do_GET(self):
        if self.path == "/api/tags":
            self.send_json(200, {"models": [{"name": "ok"}, {"name": "count"}]})
        elif self.path == "/_events":
            with EVENTS_LOCK:
                self.send_json(200, {"events": list(EVENTS)})
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        kinds = {"/api/chat": "ollama", "/v1/chat/completions": "openai",
                 "/v1/messages": "anthropic"}
        kind = kinds.get(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if kind is None:
            self.send_json(404, {"error": f"no such endpoint {self.path}"})
            return
        try:
            req = json.loads(raw)
        except ValueError:
            self.send_json(400, {"error": "request body is not JSON"})
            return
        event = {"path": self.path, "model": req.get("model"),
                 "messages": len(req.get("messages", [])), "closed": False,
                 "stream": req.get("stream"), "request": req, "done": False}
        # Listed at once, so that a test sees the request as soon as the
        # reply reaches it; the fields after it change under the lock.
        self.record(event)
        closed = False
        try:
            self.answer(kind, req, event)
        except ClientGone:
            closed = True
        with EVENTS_LOCK:
            event["closed"] = closed
            event["done"] = True

    def key_problem(self, kind):
        """The key given when it is wrong, else None."""
        key = self.server.key
        if kind == "openai":
            auth = self.headers.get("Authorization", "")
            given = auth[7:] if auth.startswith("Bearer ") else auth
        elif kind == "anthropic":
            given = self.headers.get("x-api-key", "")
        else:
            return None
        if key is not None and given != key:
            return given
        return None

    def answer(self, kind, req, event):
        model = (req.get("model") or "").split("@")[0]
        messages = req.get("messages") or []
        last = messages[-1].get("content", "") if messages else ""
        if kind == "anthropic" and self.headers.get("anthropic-version") is None:
            self.send_json(400, {"type": "error", "error": {
                "type": "invalid_request_error",
                "message": "anthropic-version: header is required"}})
            return
        bad = self.key_problem(kind)
        if bad is not None:
            self.send_json(401, error_body(kind, 401, model, bad))
            return
        if model in ("error404", "error500"):
            status = int(model[5:])
            self.send_json(status, error_body(kind, status, model))
            return
        wire = Wire(kind, model)
        if model == "silent":
            time.sleep(2)
        if model == "count":
            roles = [m.get("role", "?") for m in messages]
            system = req.get("system") or next(
                (m.get("content") for m in messages if m.get("role") == "system"), "-")
            text = f"n={len(messages)} roles={','.join(roles)} system={system}"
        elif model == "split":
            text = SPLIT_TEXT + last
        else:
            text = f"[{kind}] {last}"
        self.start_stream(kind)
        self.chunk(wire.start())
        pieces = pieces_of(text)
        if model == "split":
            body = b"".join(wire.piece(p) for p in pieces) + wire.end()
            for i in range(0, len(body), 3):
                self.chunk(body[i:i + 3])
                time.sleep(0.001)
            self.end_chunks()
            return
        if model in ("midstream", "malformed", "cut"):
            for p in pieces[:2]:
                self.chunk(wire.piece(p))
            time.sleep(0.05)
            if model == "midstream":
                self.chunk(wire.stream_error())
                self.end_chunks()
            elif model == "malformed":
                self.chunk(wire.malformed())
                self.end_chunks()
            else:
                self.cut()
            return
        if model == "stall":
            self.chunk(wire.piece(pieces[0]))
            time.sleep(5)
            self.cut()
            return
        if model == "drip":
            for c in "0123456789":
                self.chunk(wire.piece(c))
                time.sleep(0.3)
            self.chunk(wire.end())
            self.end_chunks()
            return
        if model == "slowstream":
            for i in range(100):
                self.chunk(wire.piece(f"{i} "))
                time.sleep(0.1)
            self.chunk(wire.end())
            self.end_chunks()
            return
        delay = 0.5 / len(pieces) if model == "slow" else 0
        for p in pieces:
            self.chunk(wire.piece(p))
            if delay:
                time.sleep(delay)
        self.chunk(wire.end())
        self.end_chunks()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--key", default=None)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.key = args.key
    print(f"listening on {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
