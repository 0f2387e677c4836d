"""Whole `qa index` time against two encoders over the very same passages, in one run.

``python -m bench index [--limit N] [--backend B] [--data FILE] [--rounds R]``

Per round (the articles are split into ``--rounds`` parts, and the three runs alternate part by
part so all see the same load on a shared machine):

1. ``qa.indexing.index_paths`` into one index (reading, cleaning, chunking, encoding, sentence
   vectors, writing; ``prepare_answers`` included, i.e. everything ``qa index`` does, and as it
   does, the encoder let go of before BM25 is built), in a child process of its own so its
   peak memory is its own;
2. the project's bare encoder (``Encoder.encode``, at the backend's batch size, as qa index
   uses it: 16 for OpenVINO, else 32) on the same passages, as qa index embeds them (context
   header + passage), and once more on the passages alone (what the headers cost, reported
   beside);
3. sentence-transformers, fp32, ``encode(batch_size=32)``, on the same texts as 2, in a child
   process (torch stays out of the other two).

Both children load and warm their models before the first round is timed (a child still
loading torch beside a timed run slowed that run by a third).

Reports total time ÷ each encoder's time, the index folder's size ÷ the articles' text size
(UTF-8 bytes of title + body as loaded), and the indexing process's peak memory. Also writes the
passage vectors to ``bench/out/bbc_vectors.npy`` (real vectors for ``bench faiss_scale``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._data import dataset_path

DATA = dataset_path("bbc", "bbc_articles.jsonl")
OUT = Path(__file__).parent / "out"

_INDEX_CHILD = r"""
import json, resource, sys, time
from embeddings import load_encoder
from qa.indexing.pipeline import index_paths
args = json.loads(sys.argv[1])
encoder = load_encoder(args["model"], args["backend"])
encoder.warm_up(); encoder.encode(["warm up the model " * 40] * 32)
print("ready", flush=True)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
for line in sys.stdin:
    part = line.strip()
    encoder.warm_up()  # loaded again (as qa index loads it before it starts), not timed
    t, c = time.perf_counter(), cpu()
    s = index_paths([part], args["index"], encoder=encoder, release_encoder=True)
    took, c = time.perf_counter() - t, cpu() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": took, "cpu": c, "passages": s.passages, "added": s.added,
                      "peak_mb": peak, "backend": encoder.backend}), flush=True)
"""

_ST_CHILD = r"""
import json, sys, time
import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from embeddings.model_files import resolve_model
model = SentenceTransformer(str(resolve_model(None).path), device="cpu", local_files_only=True)
model.encode(["warm up the model " * 40] * 32, batch_size=32)
print("ready", flush=True)
for line in sys.stdin:
    texts = json.loads(open(line.strip(), encoding="utf-8").read())
    t, c = time.perf_counter(), time.process_time()
    model.encode(texts, batch_size=32)
    print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - c}),
          flush=True)
"""


def _child(code: str, arg: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(arg or {})],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})


def _ask(proc: subprocess.Popen, line: str) -> dict:
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    out = proc.stdout.readline()
    if not out:
        raise SystemExit(f"bench index: a child process failed (exit {proc.wait()})")
    return json.loads(out)


def _ready(proc: subprocess.Popen) -> None:
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit(f"bench index: a child process failed to start (exit {proc.wait()})")


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()
               and f.name != ".write.lock")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench index")
    ap.add_argument("--data", type=Path, default=DATA, help="a .jsonl of articles")
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles")
    ap.add_argument("--backend", default=None)
    ap.add_argument("--model", default=None)
    ap.add_argument("--rounds", type=int, default=4, help="alternate the three runs")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.data.exists():
        print(f"bench index: {args.data} not found (needs ../shared/datasets beside the checkout "
              "or $QA_DATASETS)")
        return 2
    from corpus import context_prefix, load_articles
    from embeddings import load_encoder
    from qa.indexing.run import chunk_for_model as _chunk
    from qa.indexing.run import passage_tokens

    work = Path(tempfile.mkdtemp(prefix="bench-index-"))
    lines = args.data.read_text(encoding="utf-8").splitlines(True)
    if args.limit:
        lines = lines[:args.limit]
    parts = []
    for r in range(args.rounds):
        part = work / f"part{r}.jsonl"
        part.write_text("".join(lines[r::args.rounds]), encoding="utf-8")
        parts.append(part)
    encoder = load_encoder(args.model, args.backend)
    encoder.warm_up()
    encoder.encode(["warm up the model " * 40] * 32)
    indexer = _child(_INDEX_CHILD, {"model": args.model, "backend": args.backend,
                                    "index": str(work / "index")})
    st = _child(_ST_CHILD)
    for proc in (indexer, st):  # loaded and warm before anything is timed: a child still
        _ready(proc)            # loading would slow what the others time
    max_tokens = passage_tokens(encoder)  # as qa index cuts them
    qa_s = bare_s = st_s = qa_c = bare_c = st_c = plain_s = 0.0
    n = text_bytes = 0
    peak, tokens, vectors, backend = 0.0, [], [], ""
    try:
        for r, part in enumerate(parts):
            run = _ask(indexer, str(part))
            backend = run["backend"]
            arts = list(load_articles(part))
            text_bytes += sum(len(a.title.encode()) + len(a.text.encode()) for a in arts)
            plain, texts = [], []  # the passages, and as qa index embeds them (header first)
            for a in arts:
                prefix = context_prefix(a.title, a.source, a.published)
                for p in _chunk(a, encoder, max_tokens):
                    plain.append(p.text)
                    texts.append(prefix + p.text)
            tokens += encoder.count_tokens(texts)
            t, c = time.perf_counter(), time.process_time()
            encoder.encode(texts)
            took, c = time.perf_counter() - t, time.process_time() - c
            t = time.perf_counter()
            vectors.append(encoder.encode(plain))
            plain_took = time.perf_counter() - t
            (work / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
            st_run = _ask(st, str(work / "texts.json"))
            st_took = st_run["seconds"]
            qa_s, bare_s, st_s = qa_s + run["seconds"], bare_s + took, st_s + st_took
            qa_c, bare_c, st_c = qa_c + run["cpu"], bare_c + c, st_c + st_run["cpu"]
            plain_s += plain_took
            n += len(texts)
            peak = max(peak, run["peak_mb"])
            print(f"round {r + 1}/{len(parts)}: {len(arts)} articles, {len(texts)} passages "
                  f"({run['passages']} new): qa index {run['seconds']:.1f} s, bare encoder "
                  f"{took:.1f} s ({plain_took:.1f} s without headers), sentence-transformers "
                  f"{st_took:.1f} s", flush=True)
    finally:
        for proc in (indexer, st):
            proc.stdin.close()
            proc.wait()
    size = _size(work / "index")
    parts_size = {f.name: _size(f) if f.is_dir() else f.stat().st_size
                  for f in (work / "index").iterdir() if f.name != ".write.lock"}
    print(f"data {args.data.name}: {n} passages (mean {np.mean(tokens):.0f}, max {max(tokens)} "
          f"word pieces); qa index backend {backend}, batches of {encoder.batch_size}")
    print(f"qa index total {qa_s:.1f} s; bare encoder {bare_s:.1f} s; sentence-transformers "
          f"fp32 batch 32 {st_s:.1f} s (both on the texts qa index embeds: header + passage)")
    print(f"the context headers' cost: bare encoder on the passages without them {plain_s:.1f} s; "
          f"qa index / that = {qa_s / plain_s:.2f}")
    print(f"qa index time / sentence-transformers fp32 b32 = {qa_s / st_s:.2f} (target <= 0.6)")
    print(f"qa index time / bare project encoder          = {qa_s / bare_s:.2f} (target <= 1.15)")
    print(f"CPU time (all threads; less disturbed by other load): qa index {qa_c:.1f} s, bare "
          f"{bare_c:.1f} s, sentence-transformers {st_c:.1f} s: ratios {qa_c / st_c:.2f} and "
          f"{qa_c / bare_c:.2f}")
    print(f"index size {size / 1e6:.1f} MB / article text {text_bytes / 1e6:.1f} MB = "
          f"{size / text_bytes:.1f} (target <= 6); "
          + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(parts_size.items())))
    print(f"qa index peak memory {peak:.0f} MB ({n} passages)")
    OUT.mkdir(exist_ok=True)
    np.save(OUT / "bbc_vectors.npy", np.concatenate(vectors))
    (OUT / "index.json").write_text(json.dumps({
        "data": str(args.data), "backend": backend, "passages": n, "qa_index_s": qa_s,
        "bare_s": bare_s, "st_s": st_s, "ratio_st": qa_s / st_s, "ratio_bare": qa_s / bare_s,
        "cpu_ratio_st": qa_c / st_c, "cpu_ratio_bare": qa_c / bare_c,
        "size_ratio": size / text_bytes, "peak_mb": peak, "bare_plain_s": plain_s}, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return 0
