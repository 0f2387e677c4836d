"""Hostile input: whatever a folder holds, each bad file, line or folder is skipped with one line
naming it, the rest loads, and memory stays bounded."""

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import tracemalloc
from inspect import signature
from pathlib import Path

import pytest

import corpus
from corpus import CorpusError

BODY = (
    "The council met on Tuesday. It approved the budget of $3.5 million after a long debate.\n\n"
    "Gen. Smith said the U.S. plan was sound. Officials at No. 10 declined to comment."
)
GOOD = "A good story\n\n" + BODY
DEEP = "[" * 100_000 + "]" * 100_000


def skips():
    seen: list[tuple[str, str]] = []
    return seen, lambda where, reason: seen.append((where, reason))


def record(title: str, **extra: object) -> str:
    return json.dumps({"title": title, "text": BODY, **extra})


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# 1. JSON nested too deeply for the parser


def test_a_deeply_nested_json_file_is_one_warning_and_the_folder_loads(tmp_path, caplog):
    (tmp_path / "deep.json").write_text(DEEP)
    (tmp_path / "good.txt").write_text(GOOD)
    arts = list(corpus.load_articles(tmp_path))
    assert [a.title for a in arts] == ["A good story"]
    assert warnings(caplog) == [f"skipped {tmp_path / 'deep.json'}: JSON nested too deeply to read"]


def test_a_deeply_nested_jsonl_line_is_reported_as_file_line(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_text("\n".join([record("A"), DEEP, record("B")]) + "\n")
    seen, on_skip = skips()
    assert [a.title for a in corpus.load_articles(f, on_skip=on_skip)] == ["A", "B"]
    assert seen == [(f"{f}:2", "JSON nested too deeply to read")]


# 2. Folders that cannot be read


def test_an_unreadable_folder_is_reported_by_name(tmp_path, monkeypatch, caplog):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "inside.txt").write_text(GOOD)
    (tmp_path / "good.txt").write_text(GOOD)
    real_scandir = os.scandir

    def scandir(path=".", *args, **kwargs):  # tests run as root, which ignores mode 000
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    assert list(corpus.iter_files(tmp_path)) == [tmp_path / "good.txt"]
    assert warnings(caplog) == [f"skipped {locked}: cannot read the folder (Permission denied); "
                                "its articles are left out"]
    seen, on_skip = skips()
    assert len(list(corpus.load_articles(tmp_path, on_skip=on_skip))) == 1
    assert [where for where, _ in seen] == [str(locked)]


# Run as an unprivileged user (root ignores mode 000). Only the stdlib is needed: the child loads
# corpus/files.py on its own, so any Python the user may run will do.
_WALK = """
import importlib.util, pathlib, sys
spec = importlib.util.spec_from_file_location("files", sys.argv[1])
files = importlib.util.module_from_spec(spec)
spec.loader.exec_module(files)
print([p.name for p in files.iter_files(pathlib.Path(".").resolve())])
"""


def _walk_as_nobody(top: Path) -> subprocess.CompletedProcess[str]:
    def drop() -> None:
        os.setgid(65534)
        os.setuid(65534)

    script = str(Path(corpus.__file__).parent / "files.py")
    for python in (sys.executable, shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")):
        try:
            return subprocess.run(
                [str(python), "-c", _WALK, script], cwd=top, capture_output=True, text=True,
                timeout=60, preexec_fn=drop if os.geteuid() == 0 else None)
        except (OSError, subprocess.SubprocessError):
            continue
    pytest.skip("no Python that an unprivileged user may run")


def test_a_mode_000_folder_is_reported_for_a_real_user():
    top = Path(tempfile.mkdtemp(prefix="corpus-perm-"))
    try:
        top.chmod(0o755)
        (top / "good.txt").write_text(GOOD)
        (top / "locked").mkdir()
        (top / "locked" / "inside.txt").write_text(GOOD)
        (top / "locked").chmod(0)
        done = _walk_as_nobody(top)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "['good.txt']"
        assert done.stderr.strip() == (f"skipped {top / 'locked'}: cannot read the folder "
                                       "(Permission denied); its articles are left out")
    finally:
        (top / "locked").chmod(0o755)
        for p in sorted(top.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        top.rmdir()


# 3. Binary data is judged per line in JSONL, per file elsewhere


def test_a_nul_byte_drops_only_its_jsonl_line(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_bytes(b"\n".join([record("A").encode(), b'{"title": "x\x00y"}', record("B").encode()]))
    seen, on_skip = skips()
    assert [a.title for a in corpus.load_articles(f, on_skip=on_skip)] == ["A", "B"]
    assert seen == [(f"{f}:2", "binary data, not text")]


def test_a_jsonl_of_blank_lines_is_one_empty_file_warning(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_text("\n  \n\n")
    seen, on_skip = skips()
    assert list(corpus.load_articles(f, on_skip=on_skip)) == []
    assert seen == [(str(f), "empty file")]


def test_a_bad_utf8_byte_drops_only_its_jsonl_line(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_bytes(b"\n".join([record("A").encode(), b'{"title": "caf\xe9"}', record("B").encode()]))
    seen, on_skip = skips()
    assert [a.title for a in corpus.load_articles(f, on_skip=on_skip)] == ["A", "B"]
    assert [(w, r.split(";")[0]) for w, r in seen] == [(f"{f}:2", "not UTF-8 text")]


def test_utf16_jsonl_is_still_read(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_bytes("\n".join([record("A"), record("B")]).encode("utf-16"))
    assert [a.title for a in corpus.load_articles(f)] == ["A", "B"]


@pytest.mark.parametrize("name", ["a.txt", "a.md", "a.html", "a.json"])
def test_a_nul_byte_still_drops_a_whole_document(tmp_path, name):
    (tmp_path / name).write_bytes(b"Headline\n\n" + BODY.encode() + b"\x00")
    seen, on_skip = skips()
    assert list(corpus.load_articles(tmp_path, on_skip=on_skip)) == []
    assert seen == [(str(tmp_path / name), "binary file, not text")]


# 4. Size limits


def test_the_default_limit_is_5_mb():
    assert corpus.DEFAULT_MAX_ARTICLE_BYTES == 5_000_000
    for api in (corpus.load_articles, corpus.load_file):
        assert signature(api).parameters["max_article_bytes"].default == 5_000_000


def test_an_article_over_the_limit_is_skipped_and_one_at_it_loads(tmp_path):
    text = "Headline\n\n" + "word " * 250
    (tmp_path / "at.txt").write_text(text[: 1000])
    (tmp_path / "over.txt").write_text(text[: 1001])
    seen, on_skip = skips()
    arts = list(corpus.load_articles(tmp_path, on_skip=on_skip, max_article_bytes=1000))
    assert [a.path for a in arts] == [str(tmp_path / "at.txt")]
    assert seen == [(str(tmp_path / "over.txt"), "article text is 1.0 kB, over the limit; the "
                     "limit is 1.0 kB of text per article; raise --max-article-bytes to read it")]


def test_the_default_limit_applies(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"Headline\n\n" + b"word " * 1_000_000)  # 5,000,010 B
    seen, on_skip = skips()
    assert list(corpus.load_articles(tmp_path, on_skip=on_skip)) == []
    assert seen[0][1].startswith("article text is 5.0 MB, over the limit")


@pytest.mark.parametrize(("name", "limit"), [("big.txt", 2_000), ("big.html", 4_000)])
def test_a_file_far_over_the_limit_is_not_read(tmp_path, name, limit):
    big = tmp_path / name
    with big.open("wb") as f:
        f.write(b"<p>Headline</p>\n\n" + b"word " * 2_000_000)  # 10 MB, one line
    (tmp_path / "good.txt").write_text(GOOD)
    seen, on_skip = skips()
    tracemalloc.start()
    try:
        arts = list(corpus.load_articles(tmp_path, on_skip=on_skip, max_article_bytes=1_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [a.title for a in arts] == ["A good story"]
    assert seen == [(str(big), "10.0 MB file, too big to be one article (the limit is 1.0 kB "
                     "of text per article; raise --max-article-bytes to read it)")]
    assert peak < 1_000_000


def test_an_over_long_jsonl_line_is_skipped_unparsed(tmp_path):
    f = tmp_path / "feed.jsonl"
    with f.open("w") as out:
        out.write(record("A") + "\n")
        out.write('{"title": "huge", "text": "' + "word " * 4_000_000 + '"}\n')  # 20 MB
        out.write(record("B") + "\n")
    seen, on_skip = skips()
    tracemalloc.start()
    try:
        titles = [a.title for a in corpus.load_articles(f, on_skip=on_skip,
                                                        max_article_bytes=1_000)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert titles == ["A", "B"]
    assert seen == [(f"{f}:2", "line is over 3.0 kB, too long to be one article; "
                     "raise --max-article-bytes to read it")]
    assert peak < 1_000_000


def test_a_jsonl_record_over_the_limit_is_skipped(tmp_path):
    f = tmp_path / "feed.jsonl"
    huge = json.dumps({"title": "X", "text": "é" * 600}, ensure_ascii=False)  # 1,200 bytes
    f.write_text(record("A") + "\n" + huge)
    seen, on_skip = skips()
    assert [a.title for a in corpus.load_articles(f, on_skip=on_skip, max_article_bytes=1_000)
            ] == ["A"]
    assert seen == [(f"{f}:2", "article text is 1.2 kB, over the limit; the limit is 1.0 kB "
                     "of text per article; raise --max-article-bytes to read it")]


def test_a_json_file_over_its_cap_is_skipped_with_its_own_reason(tmp_path):
    f = tmp_path / "all.json"
    f.write_text(json.dumps([{"title": f"T{i}", "text": BODY} for i in range(100)]))
    seen, on_skip = skips()
    assert list(corpus.load_articles(f, on_skip=on_skip, max_article_bytes=1_000)) == []
    [(where, reason)] = seen
    assert where == str(f)
    assert f"{f.stat().st_size / 1000:.1f} kB file, over the 10.0 kB allowed for one .json file" \
        in reason and ".jsonl" in reason
    assert len(list(corpus.load_articles(f, max_article_bytes=20_000))) == 100


@pytest.mark.parametrize("bad", [0, -1, 2.5, "5MB", True])
def test_a_bad_limit_is_one_clear_error(tmp_path, bad):
    with pytest.raises(CorpusError, match="max article size must be a whole number of bytes"):
        list(corpus.load_articles(tmp_path, max_article_bytes=bad))


# 5. trafilatura's own log lines


def test_a_script_only_page_gives_only_our_warning(tmp_path, caplog, capfd):
    page = tmp_path / "script.html"
    page.write_text("<html><script>var x=1;</script></html>")
    caplog.set_level(logging.DEBUG)
    assert list(corpus.load_articles(tmp_path)) == []
    assert [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO] == [
        ("corpus", f"skipped {page}: no article text found in the page")]
    assert "discarding" not in capfd.readouterr().err
    trafilatura_log = logging.getLogger("trafilatura.core")
    assert not trafilatura_log.disabled and trafilatura_log.isEnabledFor(logging.WARNING)


# 6. List-valued fields


def test_list_valued_fields_are_joined(tmp_path):
    f = tmp_path / "one.json"
    f.write_text(json.dumps({
        "title": ["Budget", "passes"], "source": ["AP", "Reuters"],
        "text": ["The council met on Tuesday.", "It approved the budget of $3.5 million."],
        "url": ["https://x.test/1", "https://x.test/2"], "date": ["2020-02-28"],
    }))
    [art] = corpus.load_articles(f)
    assert (art.title, art.source, art.url) == ("Budget, passes", "AP, Reuters", "https://x.test/1")
    assert art.text == "The council met on Tuesday.\n\nIt approved the budget of $3.5 million."
    assert str(art.published) == "2020-02-28"


def test_fields_that_are_not_text_are_left_out(tmp_path):
    f = tmp_path / "one.jsonl"
    f.write_text(record("A", source={"name": "AP"}) + "\n"
                 + record("B", source=[["nested"], {"x": 1}, "Wire"]) + "\n")
    assert [(a.title, a.source) for a in corpus.load_articles(f)] == [("A", None), ("B", "Wire")]


# Odd but valid input that used to raise


def test_lone_surrogates_in_json_fields_do_not_raise(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_text('{"title": "T \\ud800", "source": "AP \\ud800", "url": "https://x.test/\\udc00",'
                 ' "id": "\\ud800", "text": "The council met on Tuesday and approved it."}\n')
    [art] = corpus.load_articles(f)
    assert art.url == "https://x.test/?"


def test_a_file_name_that_is_not_utf8_does_not_raise(tmp_path):
    (tmp_path / os.fsdecode(b"caf\xe9.txt")).write_text(GOOD)
    assert [a.title for a in corpus.load_articles(tmp_path)] == ["A good story"]
