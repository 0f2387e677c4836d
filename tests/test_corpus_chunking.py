"""Passages: sentence-aware, offset-exact, sized for the model, and losing nothing."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corpus
from corpus import Article, chunk_article, estimate_tokens, split_sentences
from qa.indexing.run import passage_tokens


def article(text: str) -> Article:
    return Article(id="a1", title="t", text=text, content_hash="h")


def check_invariants(art: Article, max_tokens: int, count=estimate_tokens) -> None:
    passages = chunk_article(art, max_tokens=max_tokens, count_tokens=count)
    assert all(count([p.text])[0] <= max_tokens for p in passages)
    check_cover(art, passages)


def check_cover(art: Article, passages) -> None:
    """Exact offsets, whole sentences, and every non-space character in some passage."""
    covered = [False] * len(art.text)
    for i, p in enumerate(passages):
        assert p.index == i and p.id == f"{art.id}-{i}" and p.article_id == art.id
        assert art.text[p.start : p.end] == p.text
        assert p.text and not p.text[0].isspace() and not p.text[-1].isspace()
        assert p.sentences[0].start == p.start and p.sentences[-1].end == p.end
        for s in p.sentences:
            assert p.start <= s.start < s.end <= p.end
            for k in range(s.start, s.end):
                covered[k] = True
    lost = [c for c, done in zip(art.text, covered, strict=True) if not done and not c.isspace()]
    assert lost == []


def test_sentence_splitter_keeps_abbreviations_decimals_and_quotes():
    text = ('Gen. Smith met U.S. officials at No. 10 Downing St. on Monday. The rate rose 2.5 '
            'percent. "We will fight," he said. "Is it over?" she asked.')
    got = [text[s:e] for s, e in split_sentences(text)]
    assert got == ["Gen. Smith met U.S. officials at No. 10 Downing St. on Monday.",
                   "The rate rose 2.5 percent.", '"We will fight," he said.',
                   '"Is it over?" she asked.']


def test_passages_of_the_samples_hold_whole_sentences_and_overlap():
    for art in corpus.load_articles(corpus.sample_path()):
        passages = chunk_article(art)
        check_invariants(art, corpus.chunking.DEFAULT_MAX_TOKENS)
        sentences = {(s.start, s.end) for s in
                     (Sentence for p in passages for Sentence in p.sentences)}
        assert sentences == set(split_sentences(art.text))
        for a, b in zip(passages, passages[1:], strict=False):
            last = art.text[a.sentences[-1].start : a.sentences[-1].end]
            # neighbours share a sentence, unless that sentence is too long to repeat
            shares = b.start <= a.sentences[-1].start
            assert shares or estimate_tokens([last])[0] - 2 > (corpus.chunking.DEFAULT_MAX_TOKENS
                                                                - 2) // 3
            overlap = {(s.start, s.end) for s in a.sentences} & {(s.start, s.end)
                                                                  for s in b.sentences}
            assert len(overlap) <= 1


def test_paragraphs_are_respected_when_possible():
    para = "This is a sentence about the topic at hand. " * 6
    text = "\n\n".join(para.strip() for _ in range(4))
    passages = chunk_article(article(text), max_tokens=120)
    for p in passages:  # each passage starts at a paragraph start or with an overlap sentence
        assert p.text.count("\n\n") <= 1


def test_one_endless_sentence_is_cut_only_because_it_must_be():
    text = "word " * 2000 + "end."
    art = article(text.strip())
    check_invariants(art, 64)
    passages = chunk_article(art, max_tokens=64)
    assert len(passages) > 10
    assert all(re.fullmatch(r"[\w .]+", p.text) for p in passages)
    assert not any(p.text.startswith("ord") for p in passages)  # cut at spaces


def test_a_run_with_no_spaces_is_cut_anywhere_and_nothing_is_lost():
    check_invariants(article("x" * 5000), 32)


def test_empty_text_has_no_passages():
    assert chunk_article(article("")) == []
    assert chunk_article(article(" \n\n  ")) == []


def test_a_token_counter_is_respected():
    words = lambda texts: [2 + len(t.split()) * 3 for t in texts]  # noqa: E731
    for art in corpus.load_articles(corpus.sample_path()):
        check_invariants(art, 100, count=words)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000), st.integers(min_value=16, max_value=300))
def test_invariants_hold_for_any_text(text, max_tokens):
    check_invariants(article(text), max_tokens)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["Dr. No.", "U.S. 2.5%.", "Hi!", "\n\n", " ", "“Quote.”",
                                 "ok", "é", "\u200b", "a" * 50, "Mr. Smith went."]),
                max_size=200),
       st.integers(min_value=16, max_value=80))
def test_invariants_hold_for_news_like_text(parts, max_tokens):
    check_invariants(article("".join(parts)), max_tokens)


def _words(texts):
    return [2 + len(t.split()) for t in texts]


def _sentence(n: int, i: int) -> str:
    return " ".join(f"w{i}x{k}" for k in range(n)) + "."


def check_packed(paragraphs: list[list[int]], max_tokens: int) -> list:
    """Passages take sentences until the next would overflow, and end early only at a
    paragraph end that leaves them ``PARAGRAPH_FILL`` full."""
    text = "\n\n".join(" ".join(_sentence(n, i * 100 + j) for j, n in enumerate(para))
                       for i, para in enumerate(paragraphs))
    art = article(text)
    check_invariants(art, max_tokens, count=_words)
    passages = chunk_article(art, max_tokens=max_tokens, count_tokens=_words)
    starts = [s for s, _ in split_sentences(text)]
    budget = max_tokens - 2
    for p in passages[:-1]:
        nxt = next(s for s in starts if s >= p.end)
        used = len(p.text.split()) + len(p.sentences) - 1
        fits = used + len(text[nxt:].split(".")[0].split()) + 1 + 1 <= budget
        if fits:  # only a paragraph end, and a full enough passage, ends it early
            assert text[p.end:nxt].count("\n") >= 2
            assert used >= corpus.chunking.PARAGRAPH_FILL * budget
    return passages


def test_short_news_paragraphs_are_packed_up_to_the_budget():
    paragraphs = [[12, 9], [15], [8, 11], [20], [6], [14, 10], [9], [18], [7, 7], [13]] * 3
    passages = check_packed(paragraphs, 100)
    assert max(p.text.count("\n\n") for p in passages) >= 2  # several paragraphs in one
    full = [len(p.text.split()) for p in passages[:-1]]
    assert min(full) >= corpus.chunking.PARAGRAPH_FILL * 98 - len(full)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=4),
                min_size=1, max_size=40),
       st.integers(min_value=40, max_value=200))
def test_passages_end_early_only_at_full_enough_paragraph_ends(paragraphs, max_tokens):
    check_packed(paragraphs, max_tokens)


def test_context_header_names_the_headline_outlet_and_date():
    import datetime as dt

    from corpus.chunking import context_header, indexed_text

    assert context_header("Fed raises rates.", "www.reuters.com", dt.date(2023, 6, 4)) == \
        "Fed raises rates. reuters.com, June 4, 2023."
    assert context_header("") == "" and indexed_text("Body.", "") == "Body."
    assert indexed_text("The bank said.", "Fed raises rates") == \
        "Fed raises rates.\n\nThe bank said."
    long = context_header("word " * 100)
    assert len(long) <= corpus.chunking.HEADER_CHARS + 1 and long.endswith("word.")


def test_packed_sizes_bound_the_real_word_piece_counts():
    """``chunk_sized`` gives each passage an upper bound of its word pieces (exact up to a
    token a join) from one count of its sentences, so indexing need not tokenize a passage
    again to know it fits; ``chunk_for_model`` still never lets one exceed the model."""
    from corpus.chunking import chunk_sized
    from embeddings import load_encoder
    from qa.indexing.run import chunk_for_model

    encoder = load_encoder()
    count = encoder.count_tokens
    long_one = article("Word " * 900 + "end.\n\n" + "Short one. " * 60)
    for art in [*corpus.load_articles(corpus.sample_path()), long_one]:
        sized = chunk_sized(art, max_tokens=120, count_tokens=count)
        assert [p for p, _ in sized] == chunk_article(art, max_tokens=120, count_tokens=count)
        for p, size in sized:
            real = count([p.text])[0]
            assert real <= size <= real + len(p.sentences)
        prefix = corpus.context_prefix(art.title, art.source, art.published)
        for p in chunk_for_model(art, encoder, passage_tokens(encoder)):
            assert count([prefix + p.text])[0] <= encoder.max_tokens


@pytest.fixture(scope="module")
def minilm():
    from embeddings import load_encoder

    return load_encoder()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from("Fed raises rates ÉTÉ 2.5% U.S. “q” — |"), max_size=300),
       st.lists(st.sampled_from(["The bank said rates would rise.", "Dr. Smith, 45, agreed.",
                                 "\n\n", " ", "Prices rose 2.5% in the U.S. in May.",
                                 "“Never,” she said.", "x" * 40, "Ünïcödé wörds here."]),
                max_size=150))
def test_passages_with_their_header_fill_the_window_and_lose_nothing(minilm, title, parts):
    """As ``qa index`` cuts them: the header (any headline) and the passage together never
    exceed the model's window, the offsets are exact and no text is lost."""
    from qa.indexing.run import chunk_for_model

    art = Article(id="a1", title=title, text="".join(parts), content_hash="h", source="cnn.com")
    if not art.text.strip():
        return
    passages = chunk_for_model(art, minilm, passage_tokens(minilm))
    prefix = corpus.context_prefix(art.title, art.source, art.published)
    sizes = minilm.count_tokens([prefix + p.text for p in passages])
    assert max(sizes) <= minilm.max_tokens == 256
    check_cover(art, passages)
