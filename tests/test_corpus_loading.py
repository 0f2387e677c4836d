"""Reading articles in every supported format, and what bad input gets."""

import datetime as dt
import json

import pytest

import corpus
from corpus import CorpusError

BODY = (
    "The council met on Tuesday. It approved the budget of $3.5 million after a long debate.\n\n"
    "Gen. Smith said the U.S. plan was sound. Officials at No. 10 declined to comment."
)

HTML = """<!doctype html><html><head><title>Council approves budget | Town Herald</title>
<meta property="og:site_name" content="Town Herald">
<meta property="article:published_time" content="2021-03-04T10:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/news">All news</a> <a href="/sport">Sport</a></nav>
<header><h1>Council approves budget</h1></header>
<article><h1>Council approves budget</h1>
<p>The council met on Tuesday. It approved the budget of $3.5 million after a long debate
that ran late into the evening, with members from every ward taking part.</p>
<p>Gen. Smith said the U.S. plan was sound. Officials at No. 10 declined to comment on what
the budget means for the town, which has waited two years for the new library.</p>
<p>The mayor thanked residents for their patience and promised work would start in spring.</p>
</article>
<aside>Related: Mayor opens new bridge</aside>
<footer>Copyright 2021 Town Herald. All rights reserved.</footer></body></html>"""


def skips():
    seen: list[tuple[str, str]] = []
    return seen, lambda where, reason: seen.append((where, reason))


def test_txt_and_md(tmp_path):
    (tmp_path / "a.txt").write_text("Council approves budget\n\n" + BODY)
    (tmp_path / "b.md").write_text("Second story headline\n\n" + BODY.replace("council", "board"))
    arts = sorted(corpus.load_articles(tmp_path), key=lambda a: a.path)
    assert [a.title for a in arts] == ["Council approves budget", "Second story headline"]
    assert arts[0].text == BODY
    assert arts[0].path == str(tmp_path / "a.txt")


def test_html_uses_the_main_content(tmp_path):
    (tmp_path / "page.html").write_text(HTML)
    [art] = corpus.load_articles(tmp_path)
    assert art.title == "Council approves budget"
    assert "approved the budget of $3.5 million" in art.text
    assert "mayor thanked residents" in art.text
    for junk in ("All news", "Sport", "Copyright", "Mayor opens new bridge", "Town Herald"):
        assert junk not in art.text
    assert art.published == dt.date(2021, 3, 4)
    assert art.source == "Town Herald"


def test_json_and_jsonl_with_field_names(tmp_path):
    (tmp_path / "one.json").write_text(json.dumps(
        {"headline": "Budget passes", "body": BODY, "link": "https://x.test/1",
         "publish_date": "2020-02-28", "outlet": "Herald"}))
    lines = [
        {"title": "First", "content": BODY, "date": "March 3, 2021", "source": "Wire"},
        {"title": "Second", "article_body": BODY},
    ]
    (tmp_path / "many.jsonl").write_text("\n".join(json.dumps(x) for x in lines))
    arts = {a.title: a for a in corpus.load_articles(tmp_path, fields={"text": "article_body"})}
    assert set(arts) == {"Budget passes", "First", "Second"}
    one = arts["Budget passes"]
    assert (one.url, one.source, one.published) == ("https://x.test/1", "Herald",
                                                     dt.date(2020, 2, 28))
    assert arts["First"].published == dt.date(2021, 3, 3)
    assert arts["Second"].text == BODY


def test_jsonl_bad_line_reported_and_rest_loaded(tmp_path):
    f = tmp_path / "feed.jsonl"
    f.write_text(json.dumps({"title": "A", "text": BODY}) + "\n{not json\n"
                 + json.dumps({"title": "B", "text": BODY}) + "\n")
    seen, on_skip = skips()
    arts = list(corpus.load_articles(f, on_skip=on_skip))
    assert [a.title for a in arts] == ["A", "B"]
    assert seen[0][0] == f"{f}:2" and "invalid JSON" in seen[0][1]
    assert arts[0].id != arts[1].id


def test_ids_follow_the_url_when_there_is_one(tmp_path):
    rec = {"title": "A", "text": BODY, "url": "https://x.test/a"}
    (tmp_path / "1.jsonl").write_text(json.dumps(rec))
    (tmp_path / "2.json").write_text(json.dumps(rec))
    ids = {a.id for a in corpus.load_articles(tmp_path)}
    assert len(ids) == 1


def test_missing_path_is_one_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="no-such-folder: no such file or folder"):
        list(corpus.load_articles(tmp_path / "no-such-folder"))


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"   \n\n  ", "empty file"),
        ("binary.txt", b"\x00\x01\x02PNG\x00" * 50, "binary"),
        ("latin1.txt", "Caf\xe9 news\n\nUne histoire tr\xe8s longue ici.".encode("latin-1"),
         "not UTF-8"),
        ("nothing.txt", b"Headline only\n\n", "no article text"),
        ("noid.json", b'{"title": "x"}', "no article text"),
        ("list.jsonl", b"[1, 2]", "not a JSON object"),
    ],
)
def test_bad_files_are_skipped_with_a_reason(tmp_path, name, data, reason):
    (tmp_path / name).write_bytes(data)
    (tmp_path / "good.txt").write_text("A good story\n\n" + BODY)
    seen, on_skip = skips()
    arts = list(corpus.load_articles(tmp_path, on_skip=on_skip))
    assert [a.title for a in arts] == ["A good story"]
    assert len(seen) == 1
    assert seen[0][0].startswith(str(tmp_path / name)) and reason in seen[0][1]


def test_default_skip_handler_logs_a_warning_naming_the_file(tmp_path, caplog):
    (tmp_path / "empty.txt").write_bytes(b"")
    assert list(corpus.load_articles(tmp_path)) == []
    assert f"skipped {tmp_path / 'empty.txt'}: empty file" in caplog.text


def test_unsupported_and_hidden_files_are_not_read(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.txt").write_text("Hidden\n\n" + BODY)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.txt").write_text("Deep story\n\n" + BODY)
    assert [a.title for a in corpus.load_articles(tmp_path)] == ["Deep story"]
