"""``qa index`` and ``qa info`` through the real CLI, with the real model: output, bad input,
and crash safety (a run killed with SIGKILL or SIGINT mid-way)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from corpus import sample_path
from embeddings import IndexStore
from embeddings import faiss_index as fx

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT.parent / "shared" / "datasets" / "bbc" / "bbc_articles.jsonl"
KEYS = {"added", "updated", "removed", "unchanged", "passages", "seconds"}


def env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "QA_INDEX": "/nonexistent/use-the-index-flag"}


def qa(*args: str, check_one_line: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "qa", *map(str, args)], capture_output=True,
                          text=True, env=env(), cwd=ROOT, timeout=600)
    assert "Traceback" not in done.stderr
    if done.returncode and check_one_line:
        errors = [line for line in done.stderr.splitlines() if line.startswith("qa: error")]
        assert len(errors) == 1, done.stderr
    return done


def consistent(index: Path) -> tuple[int, int]:
    """Every stored passage has its vector and every vector its passage; the index opens and
    answers. Returns (articles, passages)."""
    conn = sqlite3.connect(index / "store.sqlite")
    assert conn.execute("SELECT count(*) FROM passages LEFT JOIN vectors USING (vid) "
                        "WHERE vectors.vid IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM vectors LEFT JOIN passages USING (vid) "
                        "WHERE passages.vid IS NULL").fetchone()[0] == 0
    # sentence vectors are committed with their passage: none missing, none orphaned
    assert conn.execute("SELECT count(*) FROM passages LEFT JOIN sentence_vectors USING (vid) "
                        "WHERE sentence_vectors.vid IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM sentence_vectors LEFT JOIN passages USING (vid) "
                        "WHERE passages.vid IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM passages p LEFT JOIN articles a ON "
                        "a.id = p.article_id WHERE a.id IS NULL").fetchone()[0] == 0
    conn.close()
    with IndexStore.open(index) as store:
        articles, passages = store.counts()
        assert store.faiss_ntotal == passages
        if passages:
            scores, vids = store.search(store.vectors([next(store.iter_passages()).vid]), 3)
            assert scores[0, 0] > 0.99 and len(store.passages(vids[0])) == min(3, passages)
    return articles, passages


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    index = tmp_path_factory.mktemp("cli") / "index"
    done = qa("index", sample_path(), "--index", index, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) == KEYS and summary["added"] == 5 and summary["passages"] > 20
    return index


def copy(built: Path, dest: Path) -> Path:
    shutil.copytree(built, dest, ignore=shutil.ignore_patterns(".write.lock"))
    return dest


def test_summary_and_info(built):
    done = qa("index", sample_path(), "--index", built)
    assert done.returncode == 0
    assert "0 added, 0 updated, 0 removed, 5 unchanged; 0 passages" in done.stdout
    assert qa("index", sample_path(), "--index", built, "--quiet").stdout == ""
    info = qa("info", "--index", built)
    assert info.returncode == 0
    for word in ("articles      5", "all-MiniLM-L6-v2 (384-dim)", "IDMap2,Flat (exact)",
                 "size on disk", "last update", "stories       5 (an article and its copies"):
        assert word in info.stdout
    data = json.loads(qa("info", "--index", built, "--json").stdout)
    assert data["articles"] == 5 and data["index_type"] == "IDMap2,Flat"
    assert data["copy_groups"] == 5  # five different stories
    assert data["passages"] == consistent(built)[1] and data["size_bytes"] > 100_000


def test_rebuild_is_for_folders_only(tmp_path):
    done = qa("index", "--rebuild", "--store", f"qdrant:{tmp_path / 'q'}")
    assert done.returncode == 2 and "--rebuild is for index folders" in done.stderr
    assert done.stderr.count("\n") == 1


def test_bad_paths(tmp_path):
    index = tmp_path / "index"
    done = qa("index", tmp_path / "missing", "--index", index)
    assert done.returncode == 1 and "no such file or folder" in done.stderr
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "empty.txt").write_text("")
    (tmp_path / "nothing" / "blob.txt").write_bytes(b"\x00\x01binary" * 100)
    done = qa("index", tmp_path / "nothing", "--index", index)
    assert done.returncode == 1 and "no readable articles" in done.stderr
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "pdfs" / "a.pdf").write_bytes(b"%PDF")
    done = qa("index", tmp_path / "pdfs", "--index", index)
    assert done.returncode == 1 and "no article files" in done.stderr
    assert not index.exists()  # nothing was left behind
    done = qa("index", sample_path(), "--index", index, "--fields", "body")
    assert done.returncode == 2 and "--fields" in done.stderr


def test_not_an_index_other_model_and_busy(tmp_path, built):
    other = tmp_path / "stuff"
    other.mkdir()
    (other / "notes.md").write_text("my notes")
    for cmd in (("index", sample_path(), "--index", other), ("info", "--index", other)):
        done = qa(*cmd)
        assert done.returncode == 1 and "not an index" in done.stderr, done.stderr
    assert sorted(p.name for p in other.iterdir()) == ["notes.md"]
    IndexStore.create(tmp_path / "small", model="someone/tiny-model", dim=8,
                      weights_sha256="0" * 64).close()
    done = qa("index", sample_path(), "--index", tmp_path / "small")
    assert done.returncode == 1
    assert "someone/tiny-model (8-dim" in done.stderr and "all-MiniLM-L6-v2 (384-dim" in done.stderr
    index = copy(built, tmp_path / "busy")
    with IndexStore.open(index, writable=True):
        done = qa("index", sample_path(), "--index", index)
        assert done.returncode == 1 and "another process is writing" in done.stderr
        assert "--wait" in done.stderr
        assert qa("info", "--index", index).returncode == 0  # readers are not blocked


def test_truncated_faiss_file_heals(tmp_path, built):
    """An exact index keeps no faiss.index (SQLite holds the one copy of the vectors); a
    damaged one left by an older version is ignored, and removed by the next writer. (A
    damaged IVF index file is rebuilt: tests/test_store.py, tests/test_store_hardening.py.)"""
    index = copy(built, tmp_path / "index")
    assert not (index / "faiss.index").exists()
    (index / "faiss.index").write_bytes(fx.MAGIC + b"\x00" * 40)
    done = qa("info", "--index", index)
    assert done.returncode == 0 and "articles      5" in done.stdout
    assert qa("index", sample_path(), "--index", index, "--quiet").returncode == 0
    assert not (index / "faiss.index").exists() and consistent(index)[1] > 0


@contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root) to simulate a full or read-only disk")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_read_only_index_folder(tmp_path, built):
    with tmpfs(tmp_path / "mnt", "16m") as mnt:
        index = copy(built, mnt / "index")
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        done = qa("index", sample_path(), "--index", index)
        assert done.returncode == 1 and "read-only" in done.stderr, done.stderr
        info = qa("info", "--index", index)  # reading still works
        assert info.returncode == 0 and "articles      5" in info.stdout


@pytest.mark.skipif(not BBC.exists(), reason="needs ../shared/datasets/bbc")
def test_full_disk(tmp_path, built):
    articles = tmp_path / "bbc.jsonl"
    articles.write_text("".join(BBC.read_text(encoding="utf-8").splitlines(True)[:15]))
    size = sum(f.stat().st_size for f in built.rglob("*") if f.is_file()) + 48 * 1024
    with tmpfs(tmp_path / "mnt", str(size)) as mnt:
        index = copy(built, mnt / "index")
        done = qa("index", articles, "--index", index)
        assert done.returncode == 1 and "full" in done.stderr, done.stderr
        # once space is freed (here: the folder moved to a disk with room), nothing is lost
        rescued = copy(index, tmp_path / "rescued")
    assert consistent(rescued)[0] >= 5  # the five articles are still there, intact


def wait_for_generation(index: Path, above: int, proc: subprocess.Popen, limit: float = 400,
                        query: str = "SELECT value FROM meta WHERE key = 'generation'"):
    """Wait until ``query`` (default: the index's generation) gives more than ``above``."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            conn = sqlite3.connect(f"file:{index / 'store.sqlite'}?mode=ro", uri=True)
            row = conn.execute(query).fetchone()
            conn.close()
            if row and int(row[0]) > above:
                return int(row[0])
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    raise AssertionError("indexing made no commit in time")


@pytest.mark.skipif(not BBC.exists(), reason="needs ../shared/datasets/bbc")
def test_killed_runs_lose_nothing_and_resume(tmp_path):
    articles, index = tmp_path / "bbc.jsonl", tmp_path / "index"
    n = 300
    articles.write_text("".join(BBC.read_text(encoding="utf-8").splitlines(True)[:n]))
    cmd = [sys.executable, "-m", "qa", "index", str(articles), "--index", str(index)]

    # SIGKILL after the first commit: the index opens, is consistent and answers
    proc = subprocess.Popen(cmd, env=env(), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for_generation(index, 0, proc)
    proc.kill()
    proc.wait()
    killed_articles, killed_passages = consistent(index)
    assert 0 < killed_articles < n

    # SIGINT (Ctrl-C) after one more commit of new articles (the run may first commit the copy
    # groups of the articles the kill left ungrouped): graceful, exit 130, summary printed
    proc = subprocess.Popen(cmd + ["--json"], env=env(), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for_generation(index, killed_articles, proc, query="SELECT count(*) FROM articles")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    summary = json.loads(out)
    assert summary["unchanged"] == killed_articles  # committed work was not redone
    assert summary["added"] > 0
    interrupted_articles, _ = consistent(index)
    assert interrupted_articles == killed_articles + summary["added"]

    # the same command again finishes the job, embedding only what is missing
    done = qa("index", articles, "--index", index, "--json")
    assert done.returncode == 0, done.stderr
    final = json.loads(done.stdout)
    assert final["unchanged"] == interrupted_articles
    assert final["added"] == n - interrupted_articles
    total_articles, total_passages = consistent(index)
    assert total_articles == n
    assert final["passages"] < total_passages


# -- qa index --rebuild: a damaged store.sqlite rebuilt from the article files it lists ---------
def truncate(database: Path) -> None:
    data = database.read_bytes()
    database.write_bytes(data[:len(data) // 2])


@pytest.fixture(scope="module")
def own_articles(tmp_path_factory) -> tuple[Path, Path]:
    """The samples copied to a folder of their own, indexed once."""
    root = tmp_path_factory.mktemp("own")
    shutil.copytree(sample_path(), root / "articles")
    done = qa("index", root / "articles", "--index", root / "index", "--json")
    assert done.returncode == 0, done.stderr
    return root / "articles", root / "index"


def test_rebuild_a_damaged_store_from_its_files(own_articles, tmp_path):
    articles, built_index = own_articles
    index = copy(built_index, tmp_path / "index")
    expected = consistent(index)
    truncate(index / "store.sqlite")
    damaged = (index / "store.sqlite").read_bytes()
    info = qa("info", "--index", index)
    assert info.returncode == 1 and "qa index --rebuild" in info.stderr
    done = qa("index", "--rebuild", "--index", index, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) == KEYS and summary["added"] == 5 and summary["unchanged"] == 0
    assert consistent(index) == expected
    [aside] = [p for p in index.glob("store.sqlite.damaged-*")
               if not p.name.endswith(("-wal", "-shm"))]
    assert aside.read_bytes() == damaged  # kept as it was
    assert not list(index.glob("*rebuild*"))  # the list of files to re-read is gone
    assert qa("ask", "How many Turkish soldiers were killed in Idlib?", "--index",
              index).returncode == 0


def test_a_rebuild_cut_short_after_setting_aside_resumes(own_articles, tmp_path):
    """Killed once the damaged file is set aside and some files re-read: the same command
    again reads the rest from the saved list (the half-built store lists only some)."""
    from embeddings import atomic_write, recover_files, set_aside
    from embeddings.layout import REBUILD_LIST

    articles, built_index = own_articles
    index = copy(built_index, tmp_path / "index")
    expected = consistent(index)
    files = recover_files(index)
    assert len(files) == 5
    database = (index / "store.sqlite").stat()
    atomic_write(index / REBUILD_LIST, [json.dumps({
        "database": [database.st_size, database.st_mtime_ns],
        "files": [{"path": str(f.path), "recipe": f.recipe} for f in files]}).encode()])
    set_aside(index)
    first = qa("index", files[0].path, "--index", index, "--json")  # what the cut run did
    assert json.loads(first.stdout)["added"] == 1
    done = qa("index", "--rebuild", "--index", index, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["added"], summary["unchanged"]) == (4, 1)
    assert consistent(index) == expected
    assert [p for p in index.glob("store.sqlite.damaged-*")
            if not p.name.endswith(("-wal", "-shm"))] != []


def test_rebuild_usage_errors(tmp_path):
    for argv in (("index", "--rebuild", sample_path()), ("index",)):
        done = qa(*argv, "--index", tmp_path / "index")
        assert done.returncode == 2 and "qa: error:" in done.stderr
    done = qa("index", "--rebuild", "--index", tmp_path / "none")
    assert done.returncode == 1 and "nothing to recover" in done.stderr
    assert not (tmp_path / "index").exists()


# -- an explicit --index or $QA_INDEX is never filled with the sample articles -----------------
def test_a_named_index_that_is_not_there_is_exit_2(tmp_path):
    missing = tmp_path / "typo"
    for cmd in (("info", "--index", missing), ("ask", "Who is the UN spokesman?", "--index",
                                                missing), ("search", "UN", "--index", missing)):
        done = qa(*cmd)
        assert done.returncode == 2, done.stderr
        assert f"no index at {missing} (named by --index)" in done.stderr
    done = subprocess.run([sys.executable, "-m", "qa", "info"], capture_output=True, text=True,
                          env={**env(), "QA_INDEX": str(missing)}, cwd=ROOT, timeout=600)
    assert done.returncode == 2 and "named by $QA_INDEX" in done.stderr
    assert not missing.exists()
    created = qa("index", sample_path(), "--index", missing, "--quiet")  # still creates it
    assert created.returncode == 0 and qa("info", "--index", missing).returncode == 0


# -- the progress display -------------------------------------------------------------------------
class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_and_on_a_pipe():
    from qa.cli.progress import IndexProgress
    from qa.indexing import Progress

    term = Terminal()
    with IndexProgress(term) as progress:
        progress(Progress(120, 480, 7, 4.0))
        progress(Progress(240, 480, 15, 8.0))
        progress(Progress(50, None, 0, 2.0, phase="sentences"))
        shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", term.getvalue())  # no colours
    assert "indexing" in shown and "240/480 passages" in shown and "30.0/s" in shown
    assert "ETA 0:08" in shown and "15 articles" in shown
    assert "preparing answers" in shown and "50 sentences" in shown and "25.0/s" in shown
    pipe = io.StringIO()
    with IndexProgress(pipe, every=3600) as progress:
        progress(Progress(0, None, 0, 0.5))  # nothing embedded yet: nothing shown
        progress(Progress(120, 480, 7, 4.0))
        progress(Progress(240, 480, 15, 8.0))  # within `every` of the last line
    assert pipe.getvalue() == ("indexing: 120/480 passages  30.0 passages/s  ETA 0:12  "
                               "(7 articles)\n")
