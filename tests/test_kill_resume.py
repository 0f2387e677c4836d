"""``qa index`` killed with SIGKILL at seeded random points (while the model loads, while
passages and their sentences are embedded, while answers are prepared: what used to be the
sentence phase, now BM25 and any sentence vectors a format-1 index lacks), then run again to the
end: the index holds exactly what a clean build holds, stays consistent, and answers.

(tests/test_cli_index.py kills a run once after its first commit and interrupts one with Ctrl-C;
this test spreads kills over both phases, and compares against a clean build.)
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from embeddings import IndexLayout, IndexStore

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("QA_DATASETS", ROOT.parent / "shared" / "datasets"))
BBC = DATASETS / "bbc" / "bbc_articles.jsonl"
SEED = 20261130
ARTICLES = 30


def env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "QA_INDEX": "/nonexistent/use-the-index-flag"}


def write_articles(folder: Path, rng: random.Random) -> None:
    """The first BBC article (the question below is about it) and a seeded sample of others,
    one .txt file each."""
    lines = BBC.read_text(encoding="utf-8").splitlines()
    picked = [lines[0], *rng.sample(lines[1:], ARTICLES - 1)]
    folder.mkdir()
    for i, line in enumerate(picked):
        record = json.loads(line)
        (folder / f"{i:02d}.txt").write_text(f"{record['title']}\n\n{record['body']}",
                                             encoding="utf-8")


def scalar(db: Path, sql: str) -> int:
    """One number from a database another process is writing; 0 if not readable yet."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            row = conn.execute(sql).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row and row[0] is not None else 0


def passages_committed(index: Path) -> Callable[[], bool]:
    """True once the run has committed passages beyond those stored when it started."""
    database = IndexLayout(index).database
    before = scalar(database, "SELECT count(*) FROM passages")
    return lambda: scalar(database, "SELECT count(*) FROM passages") > before


def preparing_answers(index: Path) -> Callable[[], bool]:
    """True once every file is stamped: the passages (with their sentence vectors) are all
    committed and the run prepares answers."""
    database = IndexLayout(index).database
    return lambda: scalar(database, "SELECT count(*) FROM files") >= ARTICLES


def started(index: Path) -> Callable[[], bool]:
    return lambda: True


def kill_when(cmd: list[str], ready: Callable[[], bool], delay: float) -> int | None:
    """Run ``cmd``; once ``ready()``, wait ``delay`` seconds and SIGKILL it. Returns the exit
    code if it finished first, else None."""
    proc = subprocess.Popen(cmd, env=env(), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not ready():
        if proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else ""
            assert "Traceback" not in err, err
            return proc.returncode
        assert time.monotonic() < deadline, "the run made no progress in time"
        time.sleep(0.05)
    time.sleep(delay)
    proc.kill()
    proc.wait()
    if proc.stderr:
        proc.stderr.close()
    return None


def consistent(index: Path) -> tuple[int, int]:
    """No passage without its vector, sentence vectors or article, no vector without its
    passage; the faiss index holds every vector. Returns (articles, passages)."""
    conn = sqlite3.connect(IndexLayout(index).database)
    try:
        for sql in ("SELECT count(*) FROM passages LEFT JOIN vectors USING (vid) "
                    "WHERE vectors.vid IS NULL",
                    "SELECT count(*) FROM vectors LEFT JOIN passages USING (vid) "
                    "WHERE passages.vid IS NULL",
                    "SELECT count(*) FROM passages LEFT JOIN sentence_vectors USING (vid) "
                    "WHERE sentence_vectors.vid IS NULL",
                    "SELECT count(*) FROM sentence_vectors LEFT JOIN passages USING (vid) "
                    "WHERE passages.vid IS NULL",
                    "SELECT count(*) FROM passages p LEFT JOIN articles a ON a.id = p.article_id "
                    "WHERE a.id IS NULL"):
            assert conn.execute(sql).fetchone()[0] == 0, sql
    finally:
        conn.close()
    with IndexStore.open(index) as store:
        articles, passages = store.counts()
        assert store.search(store.vectors([next(store.iter_passages()).vid]), 1)[0][0, 0] > 0.99
        return articles, passages


@pytest.mark.skipif(not BBC.exists(), reason=f"needs {BBC} (../shared/datasets beside the "
                    "checkout, or $QA_DATASETS)")
def test_killed_anywhere_then_rerun_equals_a_clean_build(tmp_path):
    from embeddings import load_encoder
    from qa.indexing import index_paths

    rng = random.Random(SEED)
    articles, index = tmp_path / "articles", tmp_path / "index"
    write_articles(articles, rng)
    cmd = [sys.executable, "-m", "qa", "index", str(articles), "--index", str(index), "--quiet"]

    # Four kills, in seeded random order after the first: at a random moment of startup (the
    # model loading, the index being created), in the passage phase, and while answers are
    # prepared.
    phases = [started, passages_committed, preparing_answers, passages_committed]
    phases[1:] = rng.sample(phases[1:], len(phases) - 1)
    finished_early = []
    for phase in phases:
        delay = rng.uniform(0.0, 2.0) if phase is started else rng.uniform(0.0, 0.3)
        code = kill_when(cmd, phase(index), delay)
        if code is not None:  # it got to the end before the kill
            assert code == 0
            finished_early.append(phase.__name__)
        if IndexLayout(index).database.exists() and scalar(
                IndexLayout(index).database, "SELECT count(*) FROM passages"):
            consistent(index)  # after every kill
    assert len(finished_early) < len(phases), "no kill landed: the runs were too short"

    done = subprocess.run(cmd[:-1] + ["--json"], env=env(), cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["added"] + summary["updated"] + summary["unchanged"] == ARTICLES

    encoder = load_encoder()
    clean = index_paths([articles], tmp_path / "clean", encoder=encoder, prepare=False)
    assert clean.added == ARTICLES
    assert consistent(index) == (ARTICLES, clean.passages)
    with IndexStore.open(index) as store:  # every sentence has its vector, none missing
        assert store.passages_without_sentence_vectors() == []
        vids = [p.vid for p in store.iter_passages()]
        assert sum(len(v) for v in store.sentence_vectors(vids).values()) == sum(
            len(p.sentences) for p in store.iter_passages())

    ask = subprocess.run([sys.executable, "-m", "qa", "ask", "By how much did Time Warner's "
                          "quarterly profits jump?", "--index", str(index), "--json"],
                         env=env(), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert answer["found"] and "76%" in answer["answer"], answer["answer"]
