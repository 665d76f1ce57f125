#!/usr/bin/env python3
"""fake_agent_api.py: a fake model API for driving real agent CLIs, tests only.

Speaks four wire formats on 127.0.0.1, streamed with real SSE framing:

  Anthropic Messages       POST .../messages              (claude)
  OpenAI Responses         POST .../responses             (codex)
  OpenAI Chat Completions  POST .../chat/completions      (qwen, opencode)
  Gemini                   POST .../models/M:streamGenerateContent?alt=sse
                           (and :generateContent, :countTokens)  (gemini)

    python3 fake_agent_api.py --scenario S.json --log LOG.jsonl --port-file F

The port is written to F (temp file + rename) once the server listens.

Each conversation is a short scripted session, decided from the request
itself rather than from a request counter, so that the side requests a CLI
makes (titles, summaries, "next speaker" checks) neither consume nor shift
the script:

  step 0 (no tool call in the history yet): call the CLI's read tool on
         the scenario's file;
  step 1 (one call made): call the CLI's edit tool replacing "old" by
         "new" in that file;
  step 2 and later: answer with the scenario's final text.

A request that offers no tools is a side request: it gets a short text.

The tools are the ones the request offers, picked from a table by name
(READ_TOOLS, EDIT_TOOLS, in order of preference), and their argument names
are taken from the tool's own JSON schema, so Claude Code's Edit
(file_path/old_string/new_string), Gemini's replace, Qwen's edit and
opencode's edit (filePath/oldString/newString) all work from one table.
Codex offers a shell (exec_command or shell) and, for models it knows, a
freeform apply_patch; the edit is an apply_patch when offered, else a
shell command.  Paths are absolute when the tool wants them: the working
directory is read from the request (each CLI states it in its system
prompt), or from the scenario's "cwd".

Scenario (JSON): {"file": "calc.py", "old": "a - b", "new": "a + b",
  "answer": "Fixed.", "usage": {"in": 1000, "out": 50, "cached": 0},
  "cwd": null, "delay_ms": 0, "hang": false, "shell_edit": false,
  "direct": false}
  direct    answer every request with the final text at once, no tool
            call (one model round trip: bench/roundtrip.sh)
  usage     reported on every reply (side requests too)
  hang      accept requests, then never answer (a CLI's turn that hangs)
  shell_edit  codex: edit with the shell even when apply_patch is offered
  shell_extra shell text run before a shell edit (what an agent might do
            to its HOME or /tmp, for the tests that it does not survive)

Other requests: GET and unknown paths get 404 JSON.  Every request is
logged, one JSON line written and flushed before answering:
{"n", "method", "path", "wire", "step", "action", "tool", "headers",
"body", "t"} (the authorization and key headers are replaced by their
length: keys never reach a log).
"""
import argparse
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (tool name, needs an absolute path), most specific first.
READ_TOOLS = [("Read", True), ("read_file", True), ("read", True)]
EDIT_TOOLS = [("Edit", True), ("replace", True), ("edit", True)]
SHELL_TOOLS = ["exec_command", "shell", "local_shell", "Bash",
               "run_shell_command", "bash"]
PATH_KEYS = ["file_path", "absolute_path", "filePath", "path"]
OLD_KEYS = ["old_string", "oldString"]
NEW_KEYS = ["new_string", "newString"]

CWD_PATTERNS = [
    r"<cwd>([^<]+)</cwd>",
    r"[Pp]rimary working directory: (/[^\s\"\\<]+)",
    r"[Ww]orking directory: (/[^\s\"\\<]+)",
    r"working in the directory:? (/[^\s\"\\<]+)",
    r"current working directory[^/]{0,40}(/[^\s\"\\<]+)",
]
SECRET_HEADERS = ("authorization", "x-api-key", "x-goog-api-key",
                  "api-key")


class Log:
    def __init__(self, path):
        self.f = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()
        self.n = 0

    def next(self):
        with self.lock:
            self.n += 1
            return self.n

    def write(self, rec):
        with self.lock:
            self.f.write(json.dumps(rec) + "\n")
            self.f.flush()


def sse(event, obj):
    head = "event: %s\n" % event if event else ""
    data = obj if isinstance(obj, str) else json.dumps(obj)
    return (head + "data: %s\n\n" % data).encode()


def pieces(text, size=24):
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def new_id(prefix):
    return prefix + uuid.uuid4().hex[:24]


# -- what a request offers and has done, per wire ----------------------------

def tools_anthropic(body):
    return {t.get("name"): t.get("input_schema") or {}
            for t in body.get("tools") or [] if isinstance(t, dict)}


def tools_chat(body):
    out = {}
    for t in body.get("tools") or []:
        f = t.get("function") if isinstance(t, dict) else None
        if isinstance(f, dict):
            out[f.get("name")] = f.get("parameters") or {}
    return out


def tools_responses(body):
    out = {}
    for t in body.get("tools") or []:
        if not isinstance(t, dict):
            continue
        if t.get("type") == "function":
            out[t.get("name")] = t.get("parameters") or {}
        elif t.get("type") == "custom":
            out[t.get("name")] = {"custom": True}
        elif t.get("type") == "local_shell":
            out["local_shell"] = {"local_shell": True}
    return out


def tools_gemini(body):
    out = {}
    for t in body.get("tools") or []:
        for d in (t or {}).get("functionDeclarations") or []:
            out[d.get("name")] = (d.get("parametersJsonSchema") or
                                  d.get("parameters") or {})
    return out


def calls_anthropic(body):
    n = 0
    for m in body.get("messages") or []:
        if m.get("role") == "assistant" and isinstance(m.get("content"), list):
            n += sum(1 for c in m["content"]
                     if isinstance(c, dict) and c.get("type") == "tool_use")
    return n


def calls_chat(body):
    return sum(len(m.get("tool_calls") or []) for m in body.get("messages") or []
               if isinstance(m, dict) and m.get("role") == "assistant")


def calls_responses(body):
    items = body.get("input")
    if not isinstance(items, list):
        return 0
    return sum(1 for i in items if isinstance(i, dict) and i.get("type") in (
        "function_call", "custom_tool_call", "local_shell_call"))


def calls_gemini(body):
    n = 0
    for c in body.get("contents") or []:
        if c.get("role") == "model":
            n += sum(1 for p in c.get("parts") or []
                     if isinstance(p, dict) and "functionCall" in p)
    return n


WIRES = {
    "anthropic": (tools_anthropic, calls_anthropic),
    "chat": (tools_chat, calls_chat),
    "responses": (tools_responses, calls_responses),
    "gemini": (tools_gemini, calls_gemini),
}


def wire_of(path):
    p = path.split("?", 1)[0]
    if p.endswith("/messages"):
        return "anthropic"
    if p.endswith("/messages/count_tokens"):
        return "anthropic_count"
    if p.endswith("/chat/completions"):
        return "chat"
    if p.endswith("/responses"):
        return "responses"
    if ":streamGenerateContent" in p:
        return "gemini"
    if ":generateContent" in p:
        return "gemini_whole"
    if ":countTokens" in p:
        return "gemini_count"
    return None


# -- the scripted step ---------------------------------------------------------

def schema_props(schema):
    props = schema.get("properties") if isinstance(schema, dict) else None
    return props if isinstance(props, dict) else {}


def pick_key(props, keys, default):
    for k in keys:
        if k in props:
            return k
    return default


def fill_required(schema, args):
    """Gives every other required argument a harmless value."""
    props = schema_props(schema)
    for k in schema.get("required") or [] if isinstance(schema, dict) else []:
        if k in args:
            continue
        t = (props.get(k) or {}).get("type")
        args[k] = {"boolean": False, "integer": 1, "number": 1,
                   "array": []}.get(t, "Fix the failing check")
    return args


class Step:
    """What to answer: ("tool", name, args-or-input, kind) or ("text", s)."""

    def __init__(self, scen, tools, calls, raw):
        self.scen = scen
        self.tools = tools
        self.calls = calls
        self.cwd = scen.get("cwd") or find_cwd(raw)

    def path(self, absolute):
        f = self.scen["file"]
        if absolute and self.cwd and not f.startswith("/"):
            return os.path.join(self.cwd, f)
        return f

    def decide(self):
        if self.scen.get("direct"):
            return ("text", self.scen.get("answer", "Done: the check passes now."))
        if not self.tools:
            return ("text", "Fix the failing check")
        if self.calls == 0:
            return self.read()
        if self.calls == 1:
            return self.edit()
        return ("text", self.scen.get("answer", "Done: the check passes now."))

    def shell(self):
        for name in SHELL_TOOLS:
            if name in self.tools:
                return name
        return None

    def shell_call(self, name, script):
        props = schema_props(self.tools[name])
        if name == "local_shell" or "command" in props and \
                (props["command"].get("type") == "array"):
            return ("tool", name, {"command": ["bash", "-lc", script]}, "function")
        key = pick_key(props, ["cmd", "command"], "command")
        return ("tool", name, fill_required(self.tools[name], {key: script}),
                "function")

    def read(self):
        for name, absolute in READ_TOOLS:
            if name in self.tools:
                props = schema_props(self.tools[name])
                key = pick_key(props, PATH_KEYS, "file_path")
                args = fill_required(self.tools[name],
                                     {key: self.path(absolute)})
                return ("tool", name, args, "function")
        sh = self.shell()
        if sh:
            return self.shell_call(sh, "cat " + self.scen["file"])
        return ("text", "I cannot read files here.")

    def edit(self):
        s = self.scen
        if "apply_patch" in self.tools and not s.get("shell_edit"):
            patch = "*** Begin Patch\n*** Update File: %s\n@@\n-%s\n+%s\n*** End Patch\n" % (
                s["file"], s["old_line"], s["new_line"])
            if self.tools["apply_patch"].get("custom"):
                return ("tool", "apply_patch", patch, "custom")
            return ("tool", "apply_patch", {"input": patch}, "function")
        for name, absolute in EDIT_TOOLS:
            if name in self.tools:
                schema = self.tools[name]
                props = schema_props(schema)
                args = {pick_key(props, PATH_KEYS, "file_path"): self.path(absolute),
                        pick_key(props, OLD_KEYS, "old_string"): s["old"],
                        pick_key(props, NEW_KEYS, "new_string"): s["new"]}
                return ("tool", name, fill_required(schema, args), "function")
        sh = self.shell()
        if sh:
            script = (s.get("shell_extra", "") +
                      "python3 -c 'import sys; p=sys.argv[1]; t=open(p).read(); "
                      "open(p, \"w\").write(t.replace(sys.argv[2], sys.argv[3], 1))' "
                      "%s %s %s" % (shq(s["file"]), shq(s["old"]), shq(s["new"])))
            return self.shell_call(sh, script)
        return ("text", "I cannot edit files here.")


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


def find_cwd(raw):
    for pat in CWD_PATTERNS:
        m = re.search(pat, raw)
        if m:
            return m.group(1).rstrip(".,;:)")
    return None


# -- the wire encoders -----------------------------------------------------------

class Usage:
    def __init__(self, scen):
        u = scen.get("usage") or {}
        self.inp = int(u.get("in", 1000))
        self.out = int(u.get("out", 50))
        self.cached = int(u.get("cached", 0))


def anthropic_events(model, step, u):
    msg = {"id": new_id("msg_"), "type": "message", "role": "assistant",
           "model": model, "content": [], "stop_reason": None,
           "stop_sequence": None,
           "usage": {"input_tokens": u.inp, "output_tokens": 1,
                     "cache_creation_input_tokens": 0,
                     "cache_read_input_tokens": u.cached}}
    out = [sse("message_start", {"type": "message_start", "message": msg}),
           sse("ping", {"type": "ping"})]
    if step[0] == "text":
        out.append(sse("content_block_start", {
            "type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}))
        for p in pieces(step[1]):
            out.append(sse("content_block_delta", {
                "type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": p}}))
        stop = "end_turn"
    else:
        out.append(sse("content_block_start", {
            "type": "content_block_start", "index": 0,
            "content_block": {"type": "tool_use", "id": new_id("toolu_"),
                              "name": step[1], "input": {}}}))
        for p in pieces(json.dumps(step[2]), 20):
            out.append(sse("content_block_delta", {
                "type": "content_block_delta", "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": p}}))
        stop = "tool_use"
    out.append(sse("content_block_stop", {"type": "content_block_stop",
                                          "index": 0}))
    out.append(sse("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": None},
        "usage": {"output_tokens": u.out}}))
    out.append(sse("message_stop", {"type": "message_stop"}))
    return out


def chat_events(model, step, u, include_usage):
    base = {"id": new_id("chatcmpl-"), "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model,
            "system_fingerprint": "fp_fake"}

    def chunk(choices, **extra):
        return sse(None, dict(base, choices=choices, **extra))
    out = []
    if step[0] == "text":
        out.append(chunk([{"index": 0, "finish_reason": None,
                           "delta": {"role": "assistant", "content": ""}}]))
        for p in pieces(step[1]):
            out.append(chunk([{"index": 0, "finish_reason": None,
                               "delta": {"content": p}}]))
        finish = "stop"
    else:
        args = json.dumps(step[2])
        out.append(chunk([{"index": 0, "finish_reason": None, "delta": {
            "role": "assistant", "content": None, "tool_calls": [{
                "index": 0, "id": new_id("call_"), "type": "function",
                "function": {"name": step[1], "arguments": ""}}]}}]))
        for p in pieces(args, 20):
            out.append(chunk([{"index": 0, "finish_reason": None, "delta": {
                "tool_calls": [{"index": 0, "function": {"arguments": p}}]}}]))
        finish = "tool_calls"
    out.append(chunk([{"index": 0, "delta": {}, "finish_reason": finish}]))
    usage = {"prompt_tokens": u.inp, "completion_tokens": u.out,
             "total_tokens": u.inp + u.out,
             "prompt_tokens_details": {"cached_tokens": u.cached}}
    if include_usage:
        out.append(chunk([], usage=usage))
    else:  # some clients read usage from the last choice chunk only
        out[-1] = chunk([{"index": 0, "delta": {}, "finish_reason": finish}],
                        usage=usage)
    out.append(sse(None, "[DONE]"))
    return out


def responses_events(model, step, u):
    rid = new_id("resp_")
    seq = [0]

    def ev(kind, **fields):
        obj = {"type": kind, "sequence_number": seq[0]}
        obj.update(fields)
        seq[0] += 1
        return sse(kind, obj)

    def response(status, output, usage=None):
        return {"id": rid, "object": "response", "created_at": int(time.time()),
                "status": status, "model": model, "output": output,
                "usage": usage, "error": None, "incomplete_details": None}
    out = [ev("response.created", response=response("in_progress", [])),
           ev("response.in_progress", response=response("in_progress", []))]
    if step[0] == "text":
        iid = new_id("msg_")
        item = {"type": "message", "id": iid, "status": "in_progress",
                "role": "assistant", "content": []}
        out.append(ev("response.output_item.added", output_index=0, item=item))
        out.append(ev("response.content_part.added", item_id=iid,
                      output_index=0, content_index=0,
                      part={"type": "output_text", "text": "",
                            "annotations": []}))
        for p in pieces(step[1]):
            out.append(ev("response.output_text.delta", item_id=iid,
                          output_index=0, content_index=0, delta=p))
        out.append(ev("response.output_text.done", item_id=iid,
                      output_index=0, content_index=0, text=step[1]))
        part = {"type": "output_text", "text": step[1], "annotations": []}
        out.append(ev("response.content_part.done", item_id=iid,
                      output_index=0, content_index=0, part=part))
        done = dict(item, status="completed", content=[part])
    elif step[3] == "custom":
        iid = new_id("ctc_")
        item = {"type": "custom_tool_call", "id": iid, "status": "in_progress",
                "call_id": new_id("call_"), "name": step[1], "input": ""}
        out.append(ev("response.output_item.added", output_index=0, item=item))
        for p in pieces(step[2], 20):
            out.append(ev("response.custom_tool_call_input.delta",
                          item_id=iid, output_index=0, delta=p))
        out.append(ev("response.custom_tool_call_input.done", item_id=iid,
                      output_index=0, input=step[2]))
        done = dict(item, status="completed", input=step[2])
    else:
        iid = new_id("fc_")
        args = json.dumps(step[2])
        item = {"type": "function_call", "id": iid, "status": "in_progress",
                "call_id": new_id("call_"), "name": step[1], "arguments": ""}
        out.append(ev("response.output_item.added", output_index=0, item=item))
        for p in pieces(args, 20):
            out.append(ev("response.function_call_arguments.delta",
                          item_id=iid, output_index=0, delta=p))
        out.append(ev("response.function_call_arguments.done", item_id=iid,
                      output_index=0, arguments=args))
        done = dict(item, status="completed", arguments=args)
    out.append(ev("response.output_item.done", output_index=0, item=done))
    usage = {"input_tokens": u.inp,
             "input_tokens_details": {"cached_tokens": u.cached},
             "output_tokens": u.out,
             "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": u.inp + u.out}
    out.append(ev("response.completed",
                  response=response("completed", [done], usage)))
    return out


def gemini_parts(step):
    if step[0] == "text":
        return [[{"text": p}] for p in pieces(step[1])]
    return [[{"functionCall": {"name": step[1], "args": step[2]}}]]


def gemini_chunks(model, step, u):
    usage = {"promptTokenCount": u.inp, "candidatesTokenCount": u.out,
             "totalTokenCount": u.inp + u.out}
    if u.cached:
        usage["cachedContentTokenCount"] = u.cached
    rid = new_id("")
    parts = gemini_parts(step)
    out = []
    for i, p in enumerate(parts):
        cand = {"content": {"parts": p, "role": "model"}, "index": 0}
        obj = {"candidates": [cand], "modelVersion": model, "responseId": rid}
        if i == len(parts) - 1:
            cand["finishReason"] = "STOP"
            obj["usageMetadata"] = usage
        out.append(obj)
    return out


# -- the server ------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-agent-api/1"

    def log_message(self, fmt, *args):
        pass

    def headers_for_log(self):
        h = {}
        for k, v in self.headers.items():
            k = k.lower()
            h[k] = "[%d bytes]" % len(v) if k in SECRET_HEADERS else v
        return h

    def do_GET(self):
        self.server.log.write({"n": self.server.log.next(), "method": "GET",
                               "path": self.path, "wire": None,
                               "headers": self.headers_for_log(),
                               "t": time.time()})
        self.send_json(404, {"error": {"message": "not found", "code": 404}})

    def do_HEAD(self):
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self):
        srv = self.server
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        wire = wire_of(self.path)
        rec = {"n": srv.log.next(), "method": "POST", "path": self.path,
               "wire": wire, "headers": self.headers_for_log(), "body": body,
               "t": time.time()}
        scen = srv.scenario
        if wire in WIRES:
            tools_of, calls_of = WIRES[wire]
            step = Step(scen, tools_of(body), calls_of(body), raw)
            rec["step"] = step.calls
            rec["tools"] = sorted(k for k in step.tools if k)
            answer = step.decide()
            rec["action"] = answer[0]
            rec["tool"] = answer[1] if answer[0] == "tool" else None
            rec["cwd"] = step.cwd
        srv.log.write(rec)
        if scen.get("hang"):
            time.sleep(3600)
            return
        if scen.get("delay_ms"):
            time.sleep(scen["delay_ms"] / 1000.0)
        u = Usage(scen)
        if wire == "anthropic_count" or wire == "gemini_count":
            key = "input_tokens" if wire == "anthropic_count" else "totalTokens"
            return self.send_json(200, {key: u.inp})
        if wire not in WIRES and wire != "gemini_whole":
            return self.send_json(404, {"error": {"message": "no such path"}})
        model = body.get("model") or self.path.split("/models/")[-1].split(":")[0]
        if wire == "gemini_whole":
            step = Step(scen, tools_gemini(body), calls_gemini(body), raw)
            merged = gemini_chunks(model, step.decide(), u)
            parts = [p for c in merged for p in c["candidates"][0]["content"]["parts"]]
            whole = merged[-1]
            whole["candidates"][0]["content"]["parts"] = parts
            return self.send_json(200, whole)
        if wire == "gemini":
            events = [sse(None, c) for c in gemini_chunks(model, answer, u)]
        elif wire == "anthropic":
            events = anthropic_events(model, answer, u)
        elif wire == "chat":
            opts = body.get("stream_options") or {}
            if not body.get("stream"):
                return self.chat_whole(model, answer, u)
            events = chat_events(model, answer, u, opts.get("include_usage"))
        else:
            events = responses_events(model, answer, u)
        self.stream(events)

    def chat_whole(self, model, step, u):
        msg = {"role": "assistant", "content": None}
        if step[0] == "text":
            msg["content"] = step[1]
        else:
            msg["tool_calls"] = [{"id": new_id("call_"), "type": "function",
                                  "function": {"name": step[1],
                                               "arguments": json.dumps(step[2])}}]
        self.send_json(200, {
            "id": new_id("chatcmpl-"), "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": msg, "finish_reason":
                         "stop" if step[0] == "text" else "tool_calls"}],
            "usage": {"prompt_tokens": u.inp, "completion_tokens": u.out,
                      "total_tokens": u.inp + u.out}})

    def stream(self, events):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for e in events:
                self.wfile.write(e)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


def load_scenario(path):
    with open(path, encoding="utf-8") as f:
        s = json.load(f)
    for k in ("file", "old", "new"):
        if not isinstance(s.get(k), str):
            raise SystemExit("scenario: %r must be a string" % k)
    # apply_patch works on whole lines: the lines holding old and new
    s.setdefault("old_line", s["old"])
    s.setdefault("new_line", s["new"])
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.scenario = load_scenario(args.scenario)
    server.log = Log(args.log)
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
