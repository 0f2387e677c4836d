"""Latency of ``ask``: warm (model loaded) on the SQuAD corpus, and a cold ``qa ask`` process on
the sample corpus with the index already built.

    python -m bench latency [-n 200] [--cold-runs 3]

Warm figures come twice: with every sentence vector already stored (the steady state), and with
an empty sentence-vector store (each question embeds the sentences of its top passages).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

from bench._common import percentile


def warm(n: int) -> None:
    from bench.squad import setup
    from embeddings.backends import DEFAULT_BACKEND
    from embeddings.encoder import load_encoder
    from qa.engine.sentence_vectors import SentenceVectors

    assistant, corpus, _ = setup("1.1", "test")  # vectors from the bench cache ($QA_BACKEND)
    backend = os.environ.get("QA_LATENCY_BACKEND", DEFAULT_BACKEND)
    assistant._encoder = load_encoder(backend=backend)  # queries as the product runs them
    sentences = assistant.sentence_vectors
    sentences.encoder = assistant._encoder
    assistant.warm_up()
    print(f"warm figures with the {backend} encoder for queries, the re-ranker on "
          f"{assistant.reranker.name if assistant.reranker else 'none'}", flush=True)
    questions = [q.text for q in corpus.questions[:: max(1, len(corpus.questions) // n)]][:n]
    reranker = assistant.reranker
    for label in ("sentence vectors stored", "sentence vectors stored, no re-ranker",
                  "sentence vectors embedded on demand"):
        assistant._reranker = None if "no re-ranker" in label else reranker
        assistant.rerank = assistant._reranker is not None
        if label.endswith("demand"):
            assistant._sentences = SentenceVectors(assistant.encoder, None)
        times = []
        for q in questions:
            t0 = time.perf_counter()
            assistant.ask(q)
            times.append(time.perf_counter() - t0)
        print(f"warm ask on SQuAD ({len(corpus.passages)} passages), {label}: p50 "
              f"{percentile(times, 50) * 1000:.0f} ms  p95 {percentile(times, 95) * 1000:.0f} ms "
              f"({len(times)} questions)", flush=True)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cold(runs: int) -> None:
    # the product's own settings: no $QA_BACKEND override from the bench's cache
    env = {k: v for k, v in os.environ.items() if k != "QA_BACKEND"}
    env["HF_HUB_OFFLINE"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        # the per-user default index (under $XDG_DATA_HOME) is built from the bundled samples
        # on first use
        env.pop("QA_INDEX", None)
        env["XDG_DATA_HOME"] = tmp
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qa", "ask", "Who is the UN spokesman?"],
                       env=env, check=True, capture_output=True)
        print(f"first qa ask (builds the sample index): {time.perf_counter() - t0:.2f} s")
        times, cpu = [], []
        for _ in range(runs):
            t0, c0 = time.perf_counter(), _cpu()
            subprocess.run([sys.executable, "-m", "qa", "ask",
                            "How many Turkish soldiers were killed in Idlib?"],
                           env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
            cpu.append(_cpu() - c0)
        print(f"cold qa ask on the samples (new process, index built): median "
              f"{percentile(times, 50):.2f} s wall, {percentile(cpu, 50):.2f} s CPU; min "
              f"{min(times):.2f} s wall ({runs} runs; load average now "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import qa.cli"], env=env, check=True)
        print(f"  of which python + import qa.cli: {time.perf_counter() - t0:.2f} s")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench latency")
    ap.add_argument("-n", type=int, default=200, help="questions for the warm figures")
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--skip-warm", action="store_true")
    args = ap.parse_args(argv)
    cold(args.cold_runs)
    if not args.skip_warm:
        warm(args.n)
    return 0
