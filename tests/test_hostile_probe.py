"""The hostile-input probe, kept: a folder of bad files (empty, binary, latin-1, NUL bytes, broken
and wrong-typed JSON, script-only HTML, nested JSON, an article over --max-article-bytes, odd
names, a symlink loop) beside valid articles, indexed by the real ``qa index`` in a subprocess.

Each bad file (or JSONL line, or JSON array element) gets exactly one warning naming it, every
valid article is indexed, and the exit codes are the README's: 0 ok, 1 runtime, 2 usage.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
KEYS = {"added", "updated", "removed", "unchanged", "passages", "seconds"}
LIMIT = 3000  # --max-article-bytes for the probe: big.txt is over it, every valid article under

BODY = ("The council met on Tuesday in {city}. It approved a budget of {n} million dollars after a "
        "long debate about roads, schools and the harbour of {city}.\n\nThe mayor of {city} said "
        "the plan was sound. Officials declined to comment further.")


def story(city: str, n: int = 3) -> str:
    return f"Council of {city} approves budget\n\n" + BODY.format(city=city, n=n)


def record(city: str, n: int = 3) -> bytes:
    return json.dumps({"title": f"Budget in {city}", "text": BODY.format(city=city, n=n)}).encode()


def hostile_folder(root: Path) -> tuple[dict[str, str], dict[str, int]]:
    """Write the probe. Returns the skips expected (where -> the start of its reason) and the
    valid articles per file name."""
    root.mkdir()
    valid = {"good one.txt": 1, "ünïcødé.md": 1, "-dash.txt": 1, "utf16.txt": 1,
             "utf16.jsonl": 2, "feed.jsonl": 2, "list.json": 1}
    (root / "good one.txt").write_text(story("Oslo"), encoding="utf-8")
    (root / "ünïcødé.md").write_text(story("Lima"), encoding="utf-8")
    (root / "-dash.txt").write_text(story("Quito"), encoding="utf-8")
    (root / "utf16.txt").write_bytes(story("Bern").encode("utf-16"))
    (root / "utf16.jsonl").write_bytes(b"\n".join([record("Perth"), record("Turku")])
                                       .decode().encode("utf-16"))
    (root / "feed.jsonl").write_bytes(b"\n".join([
        record("Turin"), b'{"title": "x\x00y", "text": "a NUL byte"}', b'{"title": "cut", "text": ',
        b"42", b'{"title": ["a"], "text": {"not": "text"}}', record("Basel")]) + b"\n")
    (root / "list.json").write_text(f'[{record("Porto").decode()}, 7]', encoding="utf-8")
    (root / "empty.txt").write_text("")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02binary" * 200)
    (root / "latin1.txt").write_bytes(story("Genève").encode("latin-1"))
    (root / "types.json").write_text(json.dumps({"title": 5, "text": 7}))
    (root / "script.html").write_text("<html><script>var x = 1;</script></html>")
    (root / "deep.json").write_text("[" * 10_000 + "]" * 10_000)  # under the size cap
    (root / "big.txt").write_text("A long one\n\n" + "word " * (LIMIT // 4))
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "loop")  # a folder loop: not followed, not an error
    skips = {
        "empty.txt": "empty file",
        "binary.txt": "binary file, not text",
        "latin1.txt": "not UTF-8 text",
        "types.json": "no article text found",
        "script.html": "no article text found in the page",
        "deep.json": "JSON nested too deeply to read",
        "big.txt": "article text is 3.8 kB, over the limit",
        "feed.jsonl:2": "binary data, not text",
        "feed.jsonl:3": "invalid JSON",
        "feed.jsonl:4": "not a JSON object",
        "feed.jsonl:5": "no article text",
        "list.json[1]": "not a JSON object",
    }
    return skips, valid


def qa(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "QA_INDEX": "/nonexistent/use-the-index-flag"}
    done = subprocess.run([sys.executable, "-m", "qa", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def skipped(stderr: str, articles: Path) -> dict[str, str]:
    """``where -> reason`` of each warning, ``where`` relative to ``articles``; a second warning
    for the same place fails."""
    out: dict[str, str] = {}
    for line in stderr.splitlines():
        if not line.startswith("WARNING:"):
            continue
        prefix = f"WARNING: skipped {articles}{os.sep}"
        assert line.startswith(prefix), line
        where, _, reason = line[len(prefix):].partition(": ")
        assert where not in out, f"two warnings for {where}: {stderr}"
        out[where] = reason
    return out


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> tuple[
        Path, Path, subprocess.CompletedProcess[str], dict[str, str], dict[str, int]]:
    root = tmp_path_factory.mktemp("probe")
    articles, index = root / "articles", root / "index"
    skips, valid = hostile_folder(articles)
    done = qa("index", articles, "--index", index, "--max-article-bytes", LIMIT, "--json")
    return articles, index, done, skips, valid


def test_each_bad_input_is_one_warning_naming_it(probe):
    articles, _, done, skips, _ = probe
    assert done.returncode == 0, done.stderr
    got = skipped(done.stderr, articles)
    assert set(got) == set(skips), done.stderr
    for where, reason in skips.items():
        assert got[where].startswith(reason), (where, got[where])
    assert "raise --max-article-bytes" in got["big.txt"]


def test_every_valid_article_is_indexed(probe):
    articles, index, done, _, valid = probe
    summary = json.loads(done.stdout)
    assert set(summary) == KEYS
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (sum(valid.values()),
                                                                           0, 0)
    info = qa("info", "--index", index, "--json")
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["articles"] == sum(valid.values())
    conn = sqlite3.connect(index / "store.sqlite")
    paths = [Path(p).name for (p,) in conn.execute("SELECT path FROM articles")]
    conn.close()
    assert {name: paths.count(name) for name in valid} == valid
    hit = qa("search", "budget of the harbour of Quito", "--index", index, "--json")
    assert hit.returncode == 0 and "Quito" in json.loads(hit.stdout)["hits"][0]["text"]


def test_raising_the_limit_reads_what_it_skipped(probe, tmp_path):
    """The limit is passed to the loader, and is part of how a file was read: run again with
    the default limit, the article skipped as too big is added, the rest is unchanged."""
    articles, index, _, _, valid = probe
    again = qa("index", articles, "--index", index, "--json")
    assert again.returncode == 0, again.stderr
    assert "big.txt" not in again.stderr
    summary = json.loads(again.stdout)
    assert (summary["added"], summary["unchanged"]) == (1, sum(valid.values()))


@pytest.mark.parametrize("bad", ["0", "-5", "lots", "1.5", ""])
def test_a_bad_limit_is_one_line_and_exit_2(tmp_path, bad):
    done = qa("index", tmp_path, "--index", tmp_path / "index", "--max-article-bytes", bad)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: ") and "--max-article-bytes" in \
        lines[0] and repr(bad) in lines[0], done.stderr
    assert not (tmp_path / "index").exists()


def test_only_bad_files_is_a_runtime_error_and_leaves_no_index(tmp_path):
    articles, index = tmp_path / "articles", tmp_path / "index"
    articles.mkdir()
    (articles / "empty.txt").write_text("")
    (articles / "latin1.txt").write_bytes(story("Genève").encode("latin-1"))
    done = qa("index", articles, "--index", index)
    assert done.returncode == 1
    assert set(skipped(done.stderr, articles)) == {"empty.txt", "latin1.txt"}
    errors = [line for line in done.stderr.splitlines() if line.startswith("qa: error")]
    assert len(errors) == 1 and "no readable articles" in errors[0]
    assert not index.exists()


def test_a_file_symlink_loop_is_one_warning(tmp_path):
    import corpus

    (tmp_path / "good.txt").write_text(story("Oslo"))
    os.symlink("loop.txt", tmp_path / "loop.txt")
    seen: list[str] = []
    titles = [a.title for a in corpus.load_articles(tmp_path, on_skip=lambda w, r: seen.append(w))]
    assert titles == ["Council of Oslo approves budget"]
    assert seen == [str(tmp_path / "loop.txt")]
