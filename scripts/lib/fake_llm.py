"""A stand-in OpenAI-compatible chat-completions server on 127.0.0.1 for scripts that run
Campus whole (schemathesis): feedback requests get a short text, task-draft requests a valid
draft of the kind the prompt asks for. Usage: fake_llm.py PORT. Never reachable off loopback."""
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DRAFTS = {
    "code": {
        "title": "Double it",
        "data": {
            "kind": "code",
            "statement": "Write `double(x)` returning twice `x`.",
            "starterCode": "def double(x):\n    pass\n",
            "entryPoint": "double",
            "tests": [{"name": "two", "body": {"assert": {"code": "assert double(2) == 4"}}}],
            "referenceSolution": "def double(x):\n    return x * 2\n",
        },
    },
    "quiz": {
        "title": "Lists",
        "data": {"kind": "quiz", "questions": [
            {"prompt": "len([1, 2])?", "options": ["1", "2"], "correct": [1]}]},
    },
    "reading": {"title": "About lists", "data": {"kind": "reading", "body": "Lists hold values."}},
}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
        asked = re.search(r"Write a (code|quiz|reading) task", prompt)
        text = json.dumps(DRAFTS[asked.group(1)]) if asked else "Check the failing case first."
        answer = json.dumps({"id": "fake", "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *_):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
