"""Cut an article into passages that fit the embedding model, on sentence boundaries.

- A passage is a run of whole sentences; a sentence is cut only when it alone exceeds the limit.
- Passages prefer to end at a paragraph's end once they are half full.
- Neighbouring passages overlap by one sentence, when that sentence is short enough to share.
- The token count comes from ``count_tokens`` (the model's tokenizer, from the embeddings layer)
  or, without one, a conservative estimate of word pieces. Nothing is cut off silently: every
  non-space character of the article lies in some passage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from corpus.models import Article, Passage, Sentence
from corpus.sentences import paragraph_spans, split_sentences

TokenCounter = Callable[[Sequence[str]], list[int]]

DEFAULT_MAX_TOKENS = 200
_PIECE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def estimate_tokens(texts: Sequence[str]) -> list[int]:
    """An upper-leaning estimate of BERT word pieces: one a punctuation mark, and one for every
    four characters of a word beyond its first four; plus the two special tokens."""
    out = []
    for text in texts:
        n = 2
        for piece in _PIECE.findall(text):
            n += 1 + max(0, len(piece) - 4) // 4 if piece[0].isalnum() else 1
        out.append(n)
    return out


def chunk_article(
    article: Article,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    count_tokens: TokenCounter | None = None,
) -> list[Passage]:
    """The passages of ``article``, in order. ``article.text[p.start:p.end] == p.text``."""
    if max_tokens < 16:
        raise ValueError("max_tokens must be at least 16")
    count = count_tokens or estimate_tokens
    text = article.text
    units = _units(text, max_tokens, count)
    if not units:
        return []
    sizes = count([text[s:e] for s, e, _ in units])
    groups = _pack(units, sizes, max_tokens)
    passages = []
    for index, (first, last) in enumerate(groups):
        start, end = units[first][0], units[last][1]
        passages.append(
            Passage(
                id=f"{article.id}-{index}",
                article_id=article.id,
                index=index,
                text=text[start:end],
                start=start,
                end=end,
                sentences=[Sentence(start=s, end=e) for s, e, _ in units[first : last + 1]],
            )
        )
    return passages


def _units(text: str, max_tokens: int, count: TokenCounter) -> list[tuple[int, int, int]]:
    """Sentences as ``(start, end, paragraph_number)``, with over-long ones cut into pieces."""
    paragraphs = paragraph_spans(text)
    sentences = split_sentences(text)
    units: list[tuple[int, int, int]] = []
    para = 0
    sizes = count([text[s:e] for s, e in sentences])
    for (start, end), size in zip(sentences, sizes, strict=True):
        while para + 1 < len(paragraphs) and start >= paragraphs[para + 1][0]:
            para += 1
        if size <= max_tokens:
            units.append((start, end, para))
        else:
            units.extend((s, e, para) for s, e in _cut(text, start, end, max_tokens, count))
    return units


def _cut(
    text: str, start: int, end: int, max_tokens: int, count: TokenCounter
) -> Iterator[tuple[int, int]]:
    """Cut one over-long sentence at spaces (or anywhere, for a run with no spaces) into pieces
    that fit."""
    pos = start
    while pos < end:
        lo, hi = pos + 1, end  # find the longest piece text[pos:cut] that fits, by bisection
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count([text[pos:mid]])[0] <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        cut = lo
        if cut < end:
            space = text.rfind(" ", pos + 1, cut + 1)
            if space > pos + (cut - pos) // 2:
                cut = space
        piece_end = cut
        while piece_end > pos and text[piece_end - 1].isspace():
            piece_end -= 1
        if piece_end > pos:
            yield pos, piece_end
        pos = cut
        while pos < end and text[pos].isspace():
            pos += 1


def _pack(units: list[tuple[int, int, int]], sizes: list[int], max_tokens: int
          ) -> list[tuple[int, int]]:
    """Group consecutive units into passages: ``(first, last)`` unit indices, inclusive."""
    budget = max_tokens - 2  # each unit's count includes the two special tokens once
    groups: list[tuple[int, int]] = []
    first, used = 0, sizes[0] - 2
    for i in range(1, len(units)):
        size = sizes[i] - 2
        new_paragraph = units[i][2] != units[i - 1][2]
        if used + size + 1 <= budget and not (new_paragraph and used >= budget // 2):
            used += size + 1
            continue
        groups.append((first, i - 1))
        # overlap: start the next passage with the previous sentence if it is short enough
        prev = sizes[i - 1] - 2
        if i - 1 > first and prev + size + 1 <= budget and prev <= budget // 3:
            first, used = i - 1, prev + size + 1
        else:
            first, used = i, size
    groups.append((first, len(units) - 1))
    return groups
