#!/usr/bin/env python3
"""fake_model.py: the project's fake model server, for tests only.

Speaks the OpenAI Chat Completions and Anthropic Messages wire formats on
127.0.0.1, answering each request from the next entry of a script, with
real SSE framing and scripted faults.

    python3 fake_model.py --script SCRIPT.json --log LOG.jsonl --port-file FILE
        [--tls-cert CERT.pem --tls-key KEY.pem]     (https)

The port is written to FILE (temp file + rename) once the server listens.

Script: {"replies": [ENTRY, ...], "repeat_last": false, "cycle": false}.
Each request takes the next entry; when none is left the last one is
repeated if repeat_last, the list starts over from the first entry if cycle
(cycle wins over repeat_last; used by bench/ for replies that alternate
forever), else the answer is 500 "fake server script exhausted".  ENTRY
fields:

  content / content_file   assistant text (file relative to the script)
  number                   true: "{n}" in the content becomes the request
                           number (bench/: every reply, so every tree, differs)
  usage {"in": N, "out": M}  default in = len(body)//4, out = max(1, len//4)
  no_usage                 omit usage everywhere
  finish_reason            default "stop" (OpenAI) / "end_turn" (Anthropic)
  status, body             HTTP status (default 200); raw error body, else a
  error_type, error_code   provider-shaped error JSON built from these
  error_message
  headers {name: value}    extra response headers (e.g. retry-after)
  delay_ms                 sleep before answering (with "stall": the pause)
  chunk_size               characters per streamed delta (default 16)
  keepalive                true: a streamed reply is sent with
                           transfer-encoding: chunked and the connection
                           stays open for the next request, as the real
                           APIs do (default: "connection: close", the body
                           ends when the server closes)
  tool_calls [{id, name, arguments}]  the reply calls these tools (arguments:
                           an object, or a string sent as is, e.g. invalid
                           JSON): OpenAI tool_calls (streamed as
                           function.arguments fragments), Anthropic tool_use
                           blocks (streamed as input_json_delta); the finish
                           reason becomes tool_calls / tool_use
  fault                    reset | truncate | error_event | invalid_json | stall
                           | endless (a stream that never ends: comment lines
                           of 64 KiB forever) | http09 (a body with no status
                           line) | trickle_headers (the status line, then one
                           header line every delay_ms, forever)

Per-model replies: {"models": {"NAME": {"replies": [...], "repeat_last":
...}}, ...}: a request whose body names model NAME takes its entries from
that list (with its own repeat_last / cycle); other requests use the
top-level replies.  Request numbers count all requests.

Routed replies: {"routes": [{"contains": "TEXT", "replies": [...], ...}]}:
a request whose raw body contains TEXT takes its entries from that list
(the first route that matches; before models), so concurrent callers (a
fan-out's workers) get their own answers whatever order they come in.

Log: one JSON line per request, written and flushed before answering:
{"n", "path", "headers", "body", "raw", "t", "entry", "peer"} (peer: the
client's port, the same for requests sent over one kept-alive connection).
"""
import argparse
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OPENAI_PATHS = ("/v1/chat/completions", "/chat/completions")
ANTHROPIC_PATHS = ("/v1/messages", "/messages")


class Script:
    """The scripted replies, consumed in order by concurrent requests."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        self.dir = os.path.dirname(os.path.abspath(path))
        self.count = 0
        self.lock = threading.Lock()
        self.queues = {None: Queue(doc)}
        for name, sub in (doc.get("models") or {}).items():
            self.queues[name] = Queue(sub)
        self.routes = [(r["contains"], Queue(r)) for r in doc.get("routes") or []]

    def take(self, model=None, raw=""):
        """Returns (request number, entry index or None, entry or None)."""
        with self.lock:
            self.count += 1
            q = next((q for text, q in self.routes if text in raw), None)
            if q is None:
                q = self.queues.get(model, self.queues[None])
            return (self.count,) + q.take()

    def content(self, entry):
        if "content_file" in entry:
            with open(os.path.join(self.dir, entry["content_file"]),
                      encoding="utf-8") as f:
                return f.read()
        return entry.get("content", "")


class Queue:
    """One list of scripted replies with its own position."""

    def __init__(self, doc):
        self.replies = doc.get("replies", [])
        self.repeat_last = bool(doc.get("repeat_last", False))
        self.cycle = bool(doc.get("cycle", False))
        self.next = 0

    def take(self):
        """Returns (entry index or None, entry or None); caller locks."""
        if self.cycle and self.replies and self.next >= len(self.replies):
            self.next = 0
        if self.next < len(self.replies):
            i = self.next
            self.next += 1
        elif self.repeat_last and self.replies:
            i = len(self.replies) - 1
        else:
            return None, None
        return i, self.replies[i]


class Log:
    def __init__(self, path):
        self.f = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()

    def write(self, rec):
        with self.lock:
            self.f.write(json.dumps(rec) + "\n")
            self.f.flush()


def chunks(text, size):
    size = max(1, int(size))
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def entry_delay(delay):
    """The pause of a trickle: delay_ms, or 200 ms."""
    return delay if delay else 0.2


def args_text(tool):
    """A scripted tool call's arguments as the JSON text a model sends."""
    a = tool.get("arguments", {})
    return a if isinstance(a, str) else json.dumps(a)


def sse(event, obj):
    """One SSE event; obj may be a dict (JSON-encoded) or a raw string."""
    data = obj if isinstance(obj, str) else json.dumps(obj)
    head = "event: %s\n" % event if event else ""
    return (head + "data: %s\n\n" % data).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-model/1"

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    # -- request -----------------------------------------------------------

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        srv = self.server
        model = body.get("model") if isinstance(body, dict) else None
        n, index, entry = srv.script.take(model, raw)
        self.request_number = n
        srv.log.write({
            "n": n, "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body, "raw": raw, "t": time.time(), "entry": index,
            "peer": self.client_address[1],
        })
        if self.path in OPENAI_PATHS:
            self.api = "openai"
        elif self.path in ANTHROPIC_PATHS:
            self.api = "anthropic"
        else:
            return self.send_json(404, {"error": {"message": "no such path"}})
        self.req = body if isinstance(body, dict) else {}
        self.raw_len = len(raw)
        if entry is None:
            return self.send_json(500, {"error": {
                "message": "fake server script exhausted",
                "type": "server_error"}})
        self.answer(entry)

    def answer(self, entry):
        fault = entry.get("fault")
        delay = entry.get("delay_ms", 0) / 1000.0
        if delay and fault != "stall":
            time.sleep(delay)
        if fault == "reset":
            return self.reset()
        if fault in ("http09", "trickle_headers"):
            return self.bad_head(fault, delay)
        status = entry.get("status", 200)
        if status != 200:
            return self.send_error_reply(entry, status)
        text = self.server.script.content(entry)
        if entry.get("number"):
            # "{n}" becomes the request number: every reply differs
            text = text.replace("{n}", str(self.request_number))
        usage = entry.get("usage", {})
        u_in = usage.get("in", self.raw_len // 4)
        u_out = usage.get("out", max(1, len(text) // 4))
        if entry.get("no_usage"):
            u_in = u_out = None
        ctx = {"text": text, "in": u_in, "out": u_out, "fault": fault,
               "delay": delay, "headers": entry.get("headers", {}),
               "finish": entry.get("finish_reason"),
               "chunk": entry.get("chunk_size", 16),
               "keepalive": bool(entry.get("keepalive")),
               "tools": entry.get("tool_calls") or []}
        if ctx["tools"] and not ctx["finish"]:
            ctx["finish"] = "tool_calls" if self.api == "openai" else "tool_use"
        if self.req.get("stream"):
            self.stream(ctx)
        else:
            self.whole(ctx)

    # -- faults and errors -------------------------------------------------

    def reset(self):
        """Closes the socket so the kernel sends RST, before any reply."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def bad_head(self, fault, delay):
        try:
            if fault == "http09":
                self.write(b'{"choices": []}\n')
            else:
                self.write(b"HTTP/1.1 200 OK\r\n")
                i = 0
                while True:
                    time.sleep(entry_delay(delay))
                    i += 1
                    self.write(b"x-slow-%d: y\r\n" % i)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def send_error_reply(self, entry, status):
        if "body" in entry:
            data = entry["body"].encode()
        else:
            etype = entry.get("error_type", "api_error")
            msg = entry.get("error_message", "fake error %d" % status)
            if self.api == "anthropic":
                obj = {"type": "error",
                       "error": {"type": etype, "message": msg}}
            else:
                obj = {"error": {"message": msg, "type": etype,
                                 "code": entry.get("error_code")}}
            data = json.dumps(obj).encode()
        self.send_raw(status, "application/json", data, entry.get("headers"))

    def send_json(self, status, obj):
        self.send_raw(status, "application/json", json.dumps(obj).encode())

    def send_raw(self, status, ctype, data, headers=None):
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    # -- whole (non-streamed) replies --------------------------------------

    def whole(self, c):
        model = self.req.get("model", "fake")
        if self.api == "openai":
            obj = {"id": "chatcmpl-fake", "object": "chat.completion",
                   "created": int(time.time()), "model": model,
                   "choices": [{"index": 0, "finish_reason": c["finish"] or "stop",
                                "message": {"role": "assistant",
                                            "content": c["text"] or (None if c["tools"] else "")}}]}
            if c["tools"]:
                obj["choices"][0]["message"]["tool_calls"] = [
                    {"id": t["id"], "type": "function",
                     "function": {"name": t["name"], "arguments": args_text(t)}}
                    for t in c["tools"]]
            if c["in"] is not None:
                obj["usage"] = {"prompt_tokens": c["in"],
                                "completion_tokens": c["out"],
                                "total_tokens": c["in"] + c["out"]}
        else:
            obj = {"id": "msg_fake", "type": "message", "role": "assistant",
                   "model": model,
                   "content": ([{"type": "text", "text": c["text"]}] if c["text"] else []) + [
                       {"type": "tool_use", "id": t["id"], "name": t["name"],
                        "input": t["arguments"] if isinstance(t["arguments"], dict) else {}}
                       for t in c["tools"]],
                   "stop_reason": c["finish"] or "end_turn",
                   "stop_sequence": None}
            if c["in"] is not None:
                obj["usage"] = {"input_tokens": c["in"],
                                "output_tokens": c["out"]}
        data = json.dumps(obj).encode()
        if c["fault"] == "invalid_json":
            data = b'{"choices": [ this is not json'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        for k, v in c["headers"].items():
            self.send_header(k, str(v))
        if c["fault"] == "truncate":
            # Announce more than is sent, then hang up.
            self.send_header("content-length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if c["fault"] == "stall":
            half = len(data) // 2
            self.wfile.write(data[:half])
            self.wfile.flush()
            time.sleep(c["delay"])
            data = data[half:]
        self.wfile.write(data)
        self.wfile.flush()

    # -- streamed replies --------------------------------------------------

    def stream(self, c):
        """Sends the events one by one; the body ends when we close."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.chunked = c["keepalive"]
        if self.chunked:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.send_header("connection", "close")
        for k, v in c["headers"].items():
            self.send_header(k, str(v))
        self.end_headers()
        self.close_connection = not self.chunked
        events = (self.openai_events(c) if self.api == "openai"
                  else self.anthropic_events(c))
        deltas = [i for i, (_, kind) in enumerate(events) if kind == "delta"]
        cut = deltas[len(deltas) // 2] if deltas else 1
        fault = c["fault"]
        try:
            for i, (data, kind) in enumerate(events):
                if fault in ("truncate", "error_event") and i == cut:
                    if fault == "error_event":
                        self.write(self.error_event())
                    return
                if fault == "invalid_json" and kind == "delta":
                    self.write(sse(None, '{"choices": [ this is not json'))
                    return
                self.write(data)
                if fault == "stall" and i == 0:
                    time.sleep(c["delay"])
                if fault == "endless" and i == 0:
                    pad = b": " + b"x" * 65533 + b"\n\n"
                    while True:
                        self.write(pad)
            if self.chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                self.chunked = False
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (read timeout, deadline): fine
        finally:
            if self.chunked:  # cut short by a fault: the body ends at close
                self.close_connection = True
                self.chunked = False

    chunked = False

    def write(self, data):
        if self.chunked and data:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(data)
        self.wfile.flush()

    def error_event(self):
        if self.api == "anthropic":
            return sse("error", {"type": "error", "error": {
                "type": "overloaded_error", "message": "Overloaded"}})
        return sse(None, {"error": {"message": "The server had an error",
                                    "type": "server_error", "code": None}})

    def openai_events(self, c):
        """[(bytes, kind)] for a Chat Completions stream."""
        model = self.req.get("model", "fake")
        include_usage = (self.req.get("stream_options") or {}).get("include_usage")
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model}

        def chunk(choices, **extra):
            obj = dict(base, choices=choices, **extra)
            if include_usage and "usage" not in obj:
                obj["usage"] = None
            return sse(None, obj)
        out = [(chunk([{"index": 0, "finish_reason": None,
                        "delta": {"role": "assistant", "content": ""}}]), "start")]
        for piece in chunks(c["text"], c["chunk"]):
            out.append((chunk([{"index": 0, "finish_reason": None,
                                "delta": {"content": piece}}]), "delta"))
        for i, t in enumerate(c["tools"]):
            text = args_text(t)
            out.append((chunk([{"index": 0, "finish_reason": None, "delta": {"tool_calls": [
                {"index": i, "id": t["id"], "type": "function",
                 "function": {"name": t["name"], "arguments": ""}}]}}]), "delta"))
            for piece in chunks(text, c["chunk"]):
                out.append((chunk([{"index": 0, "finish_reason": None, "delta": {"tool_calls": [
                    {"index": i, "function": {"arguments": piece}}]}}]), "delta"))
        out.append((chunk([{"index": 0, "delta": {},
                            "finish_reason": c["finish"] or "stop"}]), "finish"))
        if include_usage and c["in"] is not None:
            out.append((chunk([], usage={
                "prompt_tokens": c["in"], "completion_tokens": c["out"],
                "total_tokens": c["in"] + c["out"]}), "usage"))
        out.append((sse(None, "[DONE]"), "done"))
        return out

    def anthropic_events(self, c):
        """[(bytes, kind)] for a Messages stream."""
        msg = {"id": "msg_fake", "type": "message", "role": "assistant",
               "model": self.req.get("model", "fake"), "content": [],
               "stop_reason": None, "stop_sequence": None}
        if c["in"] is not None:
            msg["usage"] = {"input_tokens": c["in"], "output_tokens": 1}
        out = [(sse("message_start", {"type": "message_start", "message": msg}), "start"),
               (sse("content_block_start", {
                   "type": "content_block_start", "index": 0,
                   "content_block": {"type": "text", "text": ""}}), "start"),
               (sse("ping", {"type": "ping"}), "ping")]
        for piece in chunks(c["text"], c["chunk"]):
            out.append((sse("content_block_delta", {
                "type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": piece}}), "delta"))
        out.append((sse("content_block_stop", {"type": "content_block_stop",
                                               "index": 0}), "stop"))
        for i, t in enumerate(c["tools"], start=1):
            out.append((sse("content_block_start", {
                "type": "content_block_start", "index": i,
                "content_block": {"type": "tool_use", "id": t["id"], "name": t["name"],
                                  "input": {}}}), "start"))
            for piece in chunks(args_text(t), c["chunk"]):
                out.append((sse("content_block_delta", {
                    "type": "content_block_delta", "index": i,
                    "delta": {"type": "input_json_delta", "partial_json": piece}}), "delta"))
            out.append((sse("content_block_stop", {"type": "content_block_stop",
                                                   "index": i}), "stop"))
        delta = {"type": "message_delta",
                 "delta": {"stop_reason": c["finish"] or "end_turn",
                           "stop_sequence": None}}
        if c["out"] is not None:
            delta["usage"] = {"output_tokens": c["out"]}
        out.append((sse("message_delta", delta), "finish"))
        out.append((sse("message_stop", {"type": "message_stop"}), "done"))
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--script", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls-cert", help="serve https with this PEM chain")
    ap.add_argument("--tls-key", help="the key of --tls-cert")
    args = ap.parse_args()

    # a deep accept queue: bench/many.sh connects 1,000 clients at once
    ThreadingHTTPServer.request_queue_size = 1024
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.script = Script(args.script)
    server.log = Log(args.log)
    if args.tls_cert:
        # https: each accepted connection's handshake runs in its own
        # handler thread (a client that refuses the certificate must not
        # hold up the others)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
