#!/usr/bin/env python3
"""Drives Campus's main job over HTTP against a running server (used by scripts/e2e-humaneval).

Registers a student, finds every HumanEval task through the reading API, submits each
problem's canonical solution and a body that only returns None, waits for every verdict
(GET /attempts/{id}?wait=30) and prints the counts and the wall time. Exit status 0 only
when all canonical solutions are accepted and no None body is.
"""
import concurrent.futures as cf
import gzip
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

base, dataset = sys.argv[1], sys.argv[2]


def call(method, path, body=None, token=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for attempt in range(60):
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            if e.code in (429, 503) and attempt < 59:
                time.sleep(float(e.headers.get("Retry-After") or 1))
                continue
            return e.code, json.loads(e.read() or b"null")
    raise RuntimeError("unreachable")


problems = [json.loads(line) for line in gzip.open(dataset, "rt") if line.strip()]
assert len(problems) == 164, f"expected 164 HumanEval problems, found {len(problems)}"

started = time.monotonic()
name = "e2e-" + uuid.uuid4().hex[:10]
status, auth = call("POST", "/auth/register", {"username": name, "password": "e2e-password-" + name})
assert status == 201, (status, auth)
token = auth["accessToken"]

status, topics = call("GET", "/topics", token=token)
assert status == 200, (status, topics)
topic = next(t for t in topics if t["slug"] == "humaneval")
status, detail = call("GET", f"/topics/{topic['id']}", token=token)
task_by_title = {}
for lesson in detail["lessons"]:
    status, payload = call("GET", f"/lessons/{lesson['lessonId']}", token=token)
    assert status == 200, (status, payload)
    for t in payload["tasks"]:
        assert "referenceSolution" not in t["data"], "a student payload leaked the reference solution"
        task_by_title[t["title"]] = t["id"]
assert len(task_by_title) == 164, f"found {len(task_by_title)} tasks over HTTP"

jobs = []
for p in problems:
    tid = task_by_title[p["task_id"]]
    jobs.append(("canonical", p["task_id"], tid, p["prompt"] + p["canonical_solution"]))
    jobs.append(("none", p["task_id"], tid, p["prompt"] + "    return None\n"))


def run(job):
    kind, title, tid, code = job
    status, body = call("POST", f"/tasks/{tid}/submissions", {"code": code}, token=token)
    if status != 202:
        return kind, title, f"http_{status}"
    aid = body["attemptId"]
    for _ in range(40):
        status, a = call("GET", f"/attempts/{aid}?wait=30", token=token, timeout=60)
        if status == 200 and a["status"] == "done":
            return kind, title, a["verdict"]
    return kind, title, "never_finished"


results = {"canonical": {}, "none": {}}
with cf.ThreadPoolExecutor(max_workers=16) as pool:
    for kind, title, verdict in pool.map(run, jobs):
        results[kind][title] = verdict
wall = time.monotonic() - started

canon_ok = sum(v == "accepted" for v in results["canonical"].values())
none_bad = sum(v == "accepted" for v in results["none"].values())
from collections import Counter
print(f"canonical solutions accepted: {canon_ok}/164")
print(f"None bodies accepted:         {none_bad}/164 (verdicts: {dict(Counter(results['none'].values()))})")
print(f"wall time: {wall:.1f} s for {len(jobs)} submissions over HTTP")
failed = sorted(t for t, v in results["canonical"].items() if v != "accepted")
if failed:
    print("canonical solutions not accepted:", ", ".join(f"{t}={results['canonical'][t]}" for t in failed))
sys.exit(0 if canon_ok == 164 and none_bad == 0 else 1)
