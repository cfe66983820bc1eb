#!/usr/bin/env python3
"""A model on loopback for bench/rounds: wrong once, right once.

Speaks the two APIs warden's providers speak:
  POST /v1/chat/completions   OpenAI Chat Completions (warden's openai: and compat:)
  POST /v1/messages           Anthropic Messages (warden's anthropic:)
both plain JSON or server-sent events when the request asks for "stream".

The reply is chosen from the conversation, not from a counter, so one server
serves any number of runs side by side: a conversation with no earlier
assistant turn (the first round) gets the wrong patch, a repair round (the
conversation holds the model's earlier reply and the failure summary) gets
the right one. Tool calls are never made.

usage: model.py --wrong PATCH --right PATCH --port-file FILE [--log FILE]
Prints nothing; writes the port it listens on (127.0.0.1 only) to FILE.
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 << 20


def reply_text(patch, wrong):
    why = ("`geti(idx, 3)` never sign-extended: `sign & (ret & 0x800000)` is always 0. "
           "Use a logical and." if wrong else
           "The big-endian case (`geti(idx, -3)`) had the same bitwise `&`; both now use `&&`.")
    return why + "\n\n```diff\n" + patch + ("" if patch.endswith("\n") else "\n") + "```\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bench-model/1"

    def log_message(self, fmt, *args):  # quiet; the log file gets one line a request
        pass

    def send(self, code, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self.send(400, '{"error":{"message":"bad Content-Length"}}')
            return
        try:
            req = json.loads(self.rfile.read(n) or b"{}")
            msgs = req.get("messages") or []
            repair = any(isinstance(m, dict) and m.get("role") == "assistant" for m in msgs)
        except (ValueError, AttributeError):
            self.send(400, '{"error":{"message":"bad JSON"}}')
            return
        cfg = self.server.cfg
        text = reply_text(cfg["right"] if repair else cfg["wrong"], not repair)
        with cfg["lock"]:
            cfg["log"].write("%s %s %s\n" % (self.path, "right" if repair else "wrong", n))
            cfg["log"].flush()
        stream = bool(req.get("stream"))
        model = req.get("model") or "bench"
        if self.path.endswith("/chat/completions"):
            self.openai(text, model, stream)
        elif self.path.endswith("/messages"):
            self.anthropic(text, model, stream)
        else:
            self.send(404, '{"error":{"message":"no such endpoint"}}')

    def openai(self, text, model, stream):
        usage = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}
        if not stream:
            self.send(200, json.dumps({
                "id": "bench", "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": usage}))
            return
        events = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": text}}]},
                  {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                  {"choices": [], "usage": usage}]
        body = "".join("data: %s\n\n" % json.dumps(dict(e, id="bench", model=model))
                       for e in events) + "data: [DONE]\n\n"
        self.send(200, body, "text/event-stream")

    def anthropic(self, text, model, stream):
        usage = {"input_tokens": 1000, "output_tokens": 100}
        if not stream:
            self.send(200, json.dumps({
                "id": "bench", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn", "usage": usage}))
            return
        events = [
            ("message_start", {"type": "message_start", "message": {
                "id": "bench", "type": "message", "role": "assistant", "model": model,
                "content": [], "usage": {"input_tokens": 1000, "output_tokens": 0}}}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "text", "text": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "text_delta", "text": text}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                               "usage": {"output_tokens": 100}}),
            ("message_stop", {"type": "message_stop"})]
        body = "".join("event: %s\ndata: %s\n\n" % (k, json.dumps(v)) for k, v in events)
        self.send(200, body, "text/event-stream")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wrong", required=True)
    ap.add_argument("--right", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", default="/dev/null")
    a = ap.parse_args()
    with open(a.wrong) as f:
        wrong = f.read()
    with open(a.right) as f:
        right = f.read()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.cfg = {"wrong": wrong, "right": right, "lock": threading.Lock(),
               "log": open(a.log, "a")}
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
