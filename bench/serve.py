"""``qa serve`` under concurrent load from a second process, on loopback only.

Starts ``qa serve`` as a child process on a free loopback port, then N client threads (here,
in this process) send /search or /ask requests back to back for a fixed time, each over its own
keep-alive connection. Prints requests per second and p50/p95 latency for each endpoint and
client count, and checks every reply answers the request that was sent.

    python -m bench serve [--index DIR] [--clients 1,4,16] [--seconds 10] [--workers 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench._common import OUT, percentile

QUESTIONS = [
    "How many Turkish soldiers were killed in Idlib?",
    "What did NATO urge Russia and the Syrian regime to do?",
    "Who is the UN spokesman?",
    "What did the defence ministers of Turkiye and Russia discuss?",
    "How many regime targets did the Turkish military hit?",
    "Where is Idlib?",
    "What did Stoltenberg condemn?",
    "Who won the football match?",
]
QUERIES = ["Turkish observation posts", "humanitarian aid Idlib", "NATO solidarity",
           "air strike blamed on Damascus", "ceasefire talks", "Russian defence ministry",
           "civilian casualties", "UN Security Council"]


def start_server(index: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--index", str(index),
                             "--host", "127.0.0.1", "--port", "0", "--workers", str(workers)],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True).start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        print(f"  {line.rstrip()}", flush=True)
        m = re.search(r"on (http://127\.0\.0\.1:\d+) ", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise SystemExit("bench: qa serve did not start")


def client(url: str, path: str, bodies: list[dict], echo: str, offset: int, deadline: float,
           out: list) -> None:
    """Send requests back to back (at least one) until ``deadline``; append (seconds, ok) to
    ``out``."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    i = offset
    while True:
        body = bodies[i % len(bodies)]
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = json.loads(resp.read())
            ok = resp.status == 200 and data.get(echo) == body[echo]
        except (OSError, http.client.HTTPException, ValueError):
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
            ok = False
        out.append((time.perf_counter() - t0, ok))
        if time.monotonic() >= deadline:
            break
    conn.close()


def load(url: str, path: str, bodies: list[dict], echo: str, clients: int,
         seconds: float) -> dict:
    results: list[tuple[float, bool]] = []
    t0 = time.monotonic()
    deadline = t0 + seconds
    threads = [threading.Thread(target=client, args=(url, path, bodies, echo, n, deadline,
                                                     results)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    times = [s * 1000 for s, ok in results if ok]
    return {"requests": len(results), "rps": len(times) / elapsed, "errors":
            sum(not ok for _, ok in results), "p50": percentile(times, 50),
            "p95": percentile(times, 95)}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench serve", description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=OUT / "serve-index",
                    help="index to serve (default: the bundled samples, built on first use "
                    "in bench/out/serve-index)")
    ap.add_argument("--clients", default="1,4,16", help="concurrent clients to try, e.g. 1,4,16")
    ap.add_argument("--seconds", type=float, default=10.0, help="load time per measurement")
    ap.add_argument("--workers", type=int, default=1, help="qa serve --workers")
    ap.add_argument("--endpoints", default="search,ask", help="search, ask or both")
    args = ap.parse_args(argv)
    counts = [int(c) for c in args.clients.split(",")]
    plans = {"search": ("/search", [{"query": q, "k": 5} for q in QUERIES], "query"),
             "ask": ("/ask", [{"question": q} for q in QUESTIONS], "question")}
    OUT.mkdir(parents=True, exist_ok=True)
    proc, url = start_server(args.index, args.workers)
    try:
        for name in args.endpoints.split(","):  # one pass each to fill the caches
            path, bodies, echo = plans[name]
            warm: list = []
            for i in range(len(bodies)):
                client(url, path, bodies, echo, i, 0.0, warm)
        print(f"{'endpoint':<9}{'clients':>8}{'requests':>10}{'req/s':>8}{'p50 ms':>9}"
              f"{'p95 ms':>9}{'errors':>8}")
        for name in args.endpoints.split(","):
            path, bodies, echo = plans[name]
            for n in counts:
                r = load(url, path, bodies, echo, n, args.seconds)
                print(f"{path:<9}{n:>8}{r['requests']:>10}{r['rps']:>8.1f}{r['p50']:>9.1f}"
                      f"{r['p95']:>9.1f}{r['errors']:>8}", flush=True)
    finally:
        proc.terminate()
        code = proc.wait(timeout=30)
    print(f"server stopped with exit code {code}")
    return 0
