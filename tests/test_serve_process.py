"""``qa serve`` as a real process on a free loopback port: start, query over HTTP, stop."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from qa.assistant import Assistant  # noqa: E402

pytestmark = pytest.mark.slow

START_TIMEOUT = 120.0
QUESTION = "How many Turkish soldiers were killed in Idlib?"


class Served:
    """A ``qa serve`` child process; ``url`` is read from its start-up line."""

    def __init__(self, index: str, *extra: str) -> None:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qa", "serve", "--index", index, "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_url()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            m = re.search(r"on (http://127\.0\.0\.1:\d+) \(this machine only\)", line)
            if m:
                return m.group(1)
        self.proc.kill()
        raise AssertionError("qa serve did not start:\n" + "".join(self.stderr))

    def get(self, path: str) -> tuple[int, dict]:
        return self._call(urllib.request.Request(self.url + path))

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        return self._call(req)

    @staticmethod
    def _call(req) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self, sig: int) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_qa_serve_answers_over_http_and_stops_cleanly(qa_index, sig):
    served = Served(qa_index)
    try:
        status, health = 0, {}
        for _ in range(50):  # it says it is serving once it is: this should pass at once
            try:
                status, health = served.get("/health")
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200 and health["status"] == "ok"
        assert health["index"]["articles"] == 5

        status, answer = served.post("/ask", {"question": QUESTION})
        assert status == 200
        assert answer["found"] and "33" in answer["answer"]
        with Assistant.open(qa_index) as assistant:
            assert answer == assistant.ask(QUESTION).model_dump(mode="json")

        # concurrent clients each get their own result
        queries = ["Idlib ceasefire", "NATO solidarity", "humanitarian aid", "air strike"] * 2
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda q: served.post("/search", {"query": q, "k": 3}),
                                    queries))
        assert all(s == 200 for s, _ in results)
        assert [r["query"] for _, r in results] == queries
        assert results[0][1] == results[4][1] and results[1][1] == results[5][1]

        status, err = served.get("/articles/not-an-id")
        assert status == 404 and err["error"] == "not_found"
    finally:
        code = served.stop(sig)
    assert code == 0, "".join(served.stderr)
    assert "qa serve: stopped" in "".join(served.stderr)
    assert "Traceback" not in "".join(served.stderr)


def test_binding_beyond_loopback_warns(qa_index, monkeypatch, capsys):
    import uvicorn

    from qa.cli import main

    bound = []

    def run(self, sockets=None):  # do not really open a public port in a test
        bound.append((self.config.host, self.config.port))
        self.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)
    assert main(["serve", "--index", qa_index, "--host", "0.0.0.0", "--port", "8765"]) == 0
    assert bound == [("0.0.0.0", 8765)]
    err = capsys.readouterr().err
    assert "warning: listening on 0.0.0.0, not loopback" in err

    assert main(["serve", "--index", qa_index, "--port", "8765"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_bad_port_is_a_usage_error(capsys):
    from qa.cli import main

    assert main(["serve", "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err
