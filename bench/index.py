"""Whole-pipeline indexing throughput against the bare encoder, in the same run.

``python -m bench index [--limit N] [--backend B] [--data FILE]``

1. ``qa.indexing.index_paths`` on the BBC articles into a fresh index (reading, cleaning,
   chunking, encoding and writing, with the reader thread overlapping the encoder): passages/s
   over the whole run, and the process's peak memory.
2. The bare encoder on the very same passages (already chunked): passages/s of ``encode`` only.

The articles are split into ``--rounds`` parts and the two runs alternate part by part, so both
see the same load on a shared machine. The model is loaded and warmed up before anything is
timed. Also writes the passage vectors to
``bench/out/bbc_vectors.npy`` (real vectors for ``bench faiss_scale``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._data import dataset_path

DATA = dataset_path("bbc", "bbc_articles.jsonl")
OUT = Path(__file__).parent / "out"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench index")
    ap.add_argument("--data", type=Path, default=DATA, help="a .jsonl of articles")
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles")
    ap.add_argument("--backend", default=None)
    ap.add_argument("--model", default=None)
    ap.add_argument("--rounds", type=int, default=4, help="alternate pipeline and bare runs")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.data.exists():
        print(f"bench index: {args.data} not found (needs ../shared/datasets beside the checkout "
              "or $QA_DATASETS)")
        return 2
    from corpus import load_articles
    from embeddings import load_encoder
    from qa.indexing.pipeline import index_paths
    from qa.indexing.run import chunk_for_model as _chunk

    work = Path(tempfile.mkdtemp(prefix="bench-index-"))
    lines = args.data.read_text(encoding="utf-8").splitlines(True)
    if args.limit:
        lines = lines[:args.limit]
    parts = []  # interleaved rounds: both runs see the same (noisy) machine
    for r in range(args.rounds):
        part = work / f"part{r}.jsonl"
        part.write_text("".join(lines[r::args.rounds]), encoding="utf-8")
        parts.append(part)
    encoder = load_encoder(args.model, args.backend)
    t = time.perf_counter()
    encoder.warm_up()
    encoder.encode(["warm up the model " * 40] * 32)
    print(f"model {encoder.name}, backend {encoder.backend}: loaded in "
          f"{time.perf_counter() - t:.1f} s; peak memory {_peak_mb():.0f} MB")
    max_tokens = min(200, encoder.max_tokens)
    pipe_n = pipe_s = bare_n = bare_s = pipe_cpu = bare_cpu = 0.0
    pipe_peak, tokens, vectors = 0.0, [], []
    for r, part in enumerate(parts):
        cpu = time.process_time()
        summary = index_paths([part], work / "index", encoder=encoder, prepare=False)
        pipe_cpu += time.process_time() - cpu
        pipe_n, pipe_s = pipe_n + summary.passages, pipe_s + summary.seconds
        pipe_peak = max(pipe_peak, _peak_mb())
        texts = [p.text for a in load_articles(part) for p in _chunk(a, encoder, max_tokens)]
        tokens += encoder.count_tokens(texts)
        t, cpu = time.perf_counter(), time.process_time()
        vectors.append(encoder.encode(texts, batch_size=32))
        took = time.perf_counter() - t
        bare_cpu += time.process_time() - cpu
        bare_n, bare_s = bare_n + len(texts), bare_s + took
        print(f"round {r + 1}/{len(parts)}: pipeline {summary.passages / summary.seconds:.1f} "
              f"passages/s ({summary.added} articles, {summary.passages} passages), bare "
              f"encoder {len(texts) / took:.1f} passages/s", flush=True)
    assert pipe_n == bare_n, (pipe_n, bare_n)
    pipe_rate, bare_rate = pipe_n / pipe_s, bare_n / bare_s
    vectors = np.concatenate(vectors)
    print(f"pipeline: {int(pipe_n)} passages (mean {np.mean(tokens):.0f}, max {max(tokens)} word "
          f"pieces) in {pipe_s:.1f} s = {pipe_rate:.1f} passages/s; peak memory "
          f"{pipe_peak:.0f} MB")
    print(f"bare encoder: the same passages in {bare_s:.1f} s = {bare_rate:.1f} passages/s")
    print(f"pipeline / bare encoder = {pipe_rate / bare_rate:.1%} (target >= 90%)")
    print(f"CPU time per passage (all threads; less sensitive to other load on the machine): "
          f"pipeline {pipe_cpu / pipe_n * 1000:.0f} ms, bare {bare_cpu / bare_n * 1000:.0f} ms "
          f"= {bare_cpu / pipe_cpu:.1%}")
    from embeddings import IndexStore
    from qa.indexing import prepare_answers

    t = time.perf_counter()
    with IndexStore.open(work / "index", writable=True) as store:
        sentences = prepare_answers(store, encoder)
    took = time.perf_counter() - t
    print(f"then preparing answers (qa index does it after the passages): {sentences} sentences "
          f"embedded and BM25 saved in {took:.1f} s = {sentences / took:.1f} sentences/s; "
          f"peak memory {_peak_mb():.0f} MB")
    OUT.mkdir(exist_ok=True)
    np.save(OUT / "bbc_vectors.npy", vectors)
    (OUT / "index.json").write_text(json.dumps({
        "backend": encoder.backend, "passages": int(pipe_n), "pipeline_rate": pipe_rate,
        "bare_rate": bare_rate, "ratio": pipe_rate / bare_rate, "pipeline_peak_mb": pipe_peak,
        "cpu_ratio": bare_cpu / pipe_cpu,
    }, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return 0
