"""Word pieces counted once: what the chunker counted is put together for the forward pass, and
it is exactly what tokenizing the passage again gives (ids, mask, types and offsets)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import context_prefix, load_articles, sample_path
from embeddings import load_encoder
from embeddings.tokenizer import Tokenizer, _blank, _parts
from qa.indexing.run import chunk_for_model, passage_tokens


@pytest.fixture(scope="module")
def encoder():
    return load_encoder(backend="openvino-int8")


def passages(encoder):
    """(text as embedded, sentence spans in it) of the sample articles' passages."""
    out = []
    for a in load_articles(sample_path()):
        prefix = context_prefix(a.title, a.source, a.published)
        for p in chunk_for_model(a, encoder, passage_tokens(encoder)):
            out.append((prefix + p.text, [(s.start - p.start + len(prefix),
                                           s.end - p.start + len(prefix)) for s in p.sentences]))
    return out


def same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_the_samples_passages_are_put_together_as_tokenized(encoder):
    found = passages(encoder)  # chunking counted (and kept) every sentence and header
    tokenizer = encoder._counter()
    for i in range(0, len(found), 16):
        texts, spans = zip(*found[i:i + 16], strict=True)
        joined = tokenizer.join(texts, spans)
        assert joined is not None
        same(joined, tokenizer.encode(texts, offsets=True))


def test_texts_not_cut_at_whitespace_or_not_counted_are_tokenized(encoder):
    tokenizer = Tokenizer(encoder.files, encoder.max_tokens)
    tokenizer.count(["Rates rose.", "Prices fell."], keep=True)
    texts = ["Rates rose. Prices fell.", "Rates rose.Prices fell.", "Rates rose. Not counted.",
             "Rates rose.\x1cPrices fell."]  # a control BERT drops: "rose.Prices"
    spans = [[(0, 11), (12, 24)], [(0, 11), (11, 23)], [(0, 11), (12, 24)], [(0, 11), (12, 24)]]
    assert _parts(texts[1], spans[1]) is None  # no space between: a word may span the cut
    assert _parts(texts[3], spans[3]) is None
    same(tokenizer.join(texts, spans), tokenizer.encode(texts, offsets=True))
    assert tokenizer.join(texts[1:], spans[1:]) is None  # nothing to put together


WORDS = st.sampled_from(["The", "bank's", "rate", "rose", "3.5%,", "Zürich", "naïve", "“quoted”",
                         "U.S.", "co-operate", "x" * 40, "東京", "emoji🙂", "—", "A."])
SENTENCES = st.lists(WORDS, min_size=1, max_size=12).map(" ".join)
GAPS = st.sampled_from([" ", "\n\n", "  ", "\u00a0", "\t", " \n", "\x1c", "\u2028"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(SENTENCES, GAPS), min_size=1, max_size=6),
       st.sampled_from(["", "Title. cnn.com, July 1, 2022.\n\n"]))
def test_any_text_cut_at_whitespace_joins_as_it_tokenizes(encoder, sentences, header):
    tokenizer = Tokenizer(encoder.files, encoder.max_tokens)
    text, spans = header, []
    for sentence, gap in sentences:
        spans.append((len(text), len(text) + len(sentence)))
        text += sentence + gap
    tokenizer.count([header] + [s for s, _ in sentences], keep=True)
    joined = tokenizer.join([text], [spans])
    if tokenizer.count([text])[0] > encoder.max_tokens:
        assert joined is None  # would be truncated: tokenized as before
    elif not all(_blank(gap) for _, gap in sentences):
        assert joined is None  # "\x1c" is whitespace to Python, a removed control to BERT
    else:
        assert joined is not None
        same(joined, tokenizer.encode([text], offsets=True))
