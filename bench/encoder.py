"""Encoder backends compared: speed on 256-token passages, cosine to torch fp32, start-up time,
and SQuAD paragraph retrieval (recall@5, MRR@10) for fp32 against the default backend.

    python -m bench encoder [--backends a,b] [--passages 500] [--timed 96] [--squad 300]

Passages are BBC article bodies cut to exactly 256 word pieces (../shared/datasets). The machine
is shared, so it prints CPU-time rates too: passages per CPU-second with one thread is the
figure least disturbed by other processes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench._data import dataset, dataset_path

BBC = dataset_path("bbc", "bbc_articles.jsonl")
SQUAD = dataset_path("squad", "dev-v1.1.json")
ALL = ["torch-fp32", "torch-bf16", "onnx-fp32", "onnx-int8", "openvino-fp32", "openvino-int8"]


def bbc_passages(n: int, tokens: int = 256) -> list[str]:
    """The first ``n`` BBC bodies long enough, each cut to exactly ``tokens`` word pieces."""
    from embeddings.model_files import resolve_model
    from embeddings.tokenizer import Tokenizer

    tok = Tokenizer(resolve_model(), 10_000)
    out: list[str] = []
    with open(BBC, encoding="utf-8") as fh:
        for line in fh:
            body = json.loads(line)["body"].replace("\n\n", " ")
            text = tok.cut(body, tokens)
            if tok.count([text])[0] == tokens:
                out.append(text)
            if len(out) == n:
                break
    return out


def squad_sample(questions: int, articles: int = 8, seed: int = 0):
    """All paragraphs of the first ``articles`` SQuAD v1.1 dev articles, and a seeded sample of
    their questions as (question, index of its paragraph)."""
    data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"][:articles]
    paragraphs, qas = [], []
    for article in data:
        for para in article["paragraphs"]:
            qas += [(qa["question"], len(paragraphs)) for qa in para["qas"]]
            paragraphs.append(para["context"])
    return paragraphs, random.Random(seed).sample(qas, min(questions, len(qas)))


def speed(encoder, texts: list[str], batch: int) -> tuple[float, float]:
    """(passages per wall second, passages per CPU second) for one pass, best of two."""
    best_wall = best_cpu = 0.0
    for _ in range(2):
        cpu, wall = time.process_time(), time.perf_counter()
        encoder.encode(texts, batch_size=batch)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        best_wall, best_cpu = max(best_wall, len(texts) / wall), max(best_cpu, len(texts) / cpu)
    return best_wall, best_cpu


def startup(backend: str) -> float:
    """Seconds for a fresh interpreter to import, load the model and encode one query."""
    code = ("import time; t = time.perf_counter(); from embeddings import load_encoder; "
            f"load_encoder(backend={backend!r}).encode_query('warm up'); "
            "print(time.perf_counter() - t)")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    return float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else float("nan")


def retrieval(encoder, paragraphs, qas) -> tuple[float, float, np.ndarray]:
    """recall@5, MRR@10 and the per-question rank of the gold paragraph (0-based)."""
    p = encoder.encode(paragraphs, batch_size=32)
    q = encoder.encode([question for question, _ in qas], batch_size=32)
    order = np.argsort(-(q @ p.T), axis=1)
    gold = np.array([g for _, g in qas])
    ranks = np.argmax(order == gold[:, None], axis=1)
    return float((ranks < 5).mean()), float(np.where(ranks < 10, 1 / (ranks + 1), 0).mean()), ranks


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench encoder", description=__doc__.split("\n")[0])
    ap.add_argument("--backends", default=",".join(ALL), help="comma-separated backends")
    ap.add_argument("--passages", type=int, default=500, help="passages for the cosine check")
    ap.add_argument("--timed", type=int, default=96, help="passages per timed run")
    ap.add_argument("--batches", default="16,32", help="batch sizes to time")
    ap.add_argument("--squad", type=int, default=300, help="SQuAD questions (0: skip)")
    ap.add_argument("--no-startup", action="store_true", help="skip the start-up timing")
    args = ap.parse_args(argv)
    dataset("bbc", "bbc_articles.jsonl")  # exits 2 if missing
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from embeddings import load_encoder
    from embeddings.backends import DEFAULT_BACKEND, check_backend
    from embeddings.cpu import best_backend

    backends = [check_backend(b) for b in args.backends.split(",") if b.strip()]
    batches = [int(b) for b in args.batches.split(",")]
    texts = bbc_passages(args.passages)
    print(f"{len(texts)} BBC passages of 256 word pieces; timed on {args.timed}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    reference = load_encoder(backend="torch-fp32").encode(texts, batch_size=32)
    head = " ".join(f"{'bs' + str(b) + ' p/s':>10} {'p/cpu-s':>8}" for b in batches)
    print(f"{'backend':14} {head} {'cos mean':>9} {'cos min':>8} {'start s':>8}")
    for name in backends:
        try:
            enc = load_encoder(backend=name)
            enc.warm_up()
        except Exception as exc:  # a missing optional runtime: say so, go on
            print(f"{name:14} unavailable: {exc}")
            continue
        enc.encode(texts[:16], batch_size=16)
        rates = [speed(enc, texts[:args.timed], b) for b in batches]
        cos = (enc.encode(texts, batch_size=32) * reference).sum(axis=1)
        start = float("nan") if args.no_startup else startup(name)
        cells = " ".join(f"{w:10.1f} {c:8.1f}" for w, c in rates)
        print(f"{name:14} {cells} {cos.mean():9.5f} {cos.min():8.5f} {start:8.2f}", flush=True)
    if args.squad and SQUAD.is_file():
        paragraphs, qas = squad_sample(args.squad)
        print(f"SQuAD v1.1 dev: {len(qas)} questions against {len(paragraphs)} paragraphs")
        base = None
        for name in dict.fromkeys(["torch-fp32", DEFAULT_BACKEND, best_backend()[0]]):
            r5, mrr, ranks = retrieval(load_encoder(backend=name), paragraphs, qas)
            changed = "" if base is None else (
                f"  gold-in-top-5 changed for {int(((ranks < 5) != (base < 5)).sum())} questions")
            base = ranks if base is None else base
            print(f"{name:14} recall@5 {r5:.3f}  MRR@10 {mrr:.3f}{changed}")
    return 0
