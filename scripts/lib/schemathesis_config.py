#!/usr/bin/env python3
"""Writes a schemathesis.toml that pins path ids to real content of a running Campus, so the
fuzzer reaches handlers instead of 404s on random UUIDs. (scripts/schemathesis runs the DELETE
operations in a second pass, so they cannot remove what the others need.) Usage: BASE TOKEN OUT."""
import json
import sys
import urllib.request

base, token, out = sys.argv[1:4]


def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


topics = call("GET", "/topics")
topic = next(t for t in topics if t["slug"] != "humaneval")
detail = call("GET", f"/topics/{topic['id']}")
lessons = detail["lessons"]
tasks = [t for l in lessons for t in call("GET", f"/lessons/{l['lessonId']}")["tasks"]]
code = next(t for t in tasks if t["kind"] == "code")
quiz = next(t for t in tasks if t["kind"] == "quiz")
n_questions = len(quiz["data"]["questions"])
attempt = call("POST", f"/tasks/{quiz['id']}/quiz-answers", {"answers": [[0]] * n_questions})
session = call("POST", "/sessions", {"state": {"code": "print(1)"}})
me = call("GET", "/me")

pins = [
    ("/topics/{id}", topic["id"]),
    ("/lessons/{id}", lessons[0]["lessonId"]),
    ("/tasks/{id}", code["id"]),
    ("/tasks/{id}/submissions", code["id"]),
    ("/tasks/{id}/quiz-answers", quiz["id"]),
    ("/attempts/{id}", attempt["id"]),
    ("/sessions/{id}", session["id"]),
    ("/teacher/topics/{id}/lessons", topic["id"]),
    ("/teacher/topics/{id}/lessons/order", topic["id"]),
    ("/teacher/lessons/{id}/tasks", lessons[0]["lessonId"]),
    ("/teacher/lessons/{id}/tasks/order", lessons[0]["lessonId"]),
    ("/teacher/tasks/{id}", quiz["id"]),
    ("/teacher/tasks/{id}/publish", quiz["id"]),
    ("/teacher/tasks/{id}/rejudge", code["id"]),
    ("/teacher/analytics/tasks/{id}", quiz["id"]),
    ("/teacher/analytics/students/{id}", me["id"]),
]
with open(out, "w") as f:
    for path, value in pins:
        f.write("[[operations]]\n")
        f.write(f"include-path = {json.dumps(path)}\n")
        f.write(f"parameters = {{ \"path.id\" = {json.dumps(value)} }}\n\n")
print(f"pinned {len(pins)} paths to real ids", file=sys.stderr)
