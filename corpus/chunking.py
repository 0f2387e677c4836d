"""Cut an article into passages that fit the embedding model, on sentence boundaries.

- A passage is a run of whole sentences; a sentence is cut only when it alone exceeds the limit.
- Passages fill up to the budget, then end at their last paragraph end if that leaves them
  ``PARAGRAPH_FILL`` full (else after their last whole sentence).
- Neighbouring passages overlap by one sentence, when that sentence is short enough to share.
- The token count comes from ``count_tokens`` (the model's tokenizer, from the embeddings layer)
  or, without one, a conservative estimate of word pieces. Nothing is cut off silently: every
  non-space character of the article lies in some passage.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence

from corpus.models import Article, Passage, Sentence
from corpus.sentences import paragraph_spans, split_sentences

TokenCounter = Callable[[Sequence[str]], list[int]]

DEFAULT_MAX_TOKENS = 200
HEADER_CHARS = 150  # a longer headline is cut at a word: passage and header fit 256 word pieces
PARAGRAPH_FILL = 0.6  # a passage ends at a paragraph end only if that leaves it this full
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


def context_header(title: str | None, source: str | None = None,
                   published: dt.date | None = None) -> str:
    """What every passage of an article is indexed with, before its own text: the headline,
    the outlet and the date ("Fed raises rates. reuters.com, June 14, 2023"). A passage of a
    news article rarely names what its article is about ("the bank said")."""
    head = " ".join((title or "").split())
    if len(head) > HEADER_CHARS:
        head = head[:HEADER_CHARS].rsplit(" ", 1)[0]
    extra = []
    if source:
        extra.append(source.removeprefix("www."))
    if published:
        extra.append(f"{published:%B} {published.day}, {published.year}")
    parts = [x for x in (head.rstrip("."), ", ".join(extra)) if x]
    return ". ".join(parts) + "." if parts else ""


def context_prefix(title: str | None, source: str | None = None,
                   published: dt.date | None = None) -> str:
    """What comes before a passage's text in :func:`indexed_text`: the context header and a
    blank line, or nothing. Offsets into the passage shift by its length."""
    header = context_header(title, source, published)
    return f"{header}\n\n" if header else ""


def indexed_text(text: str, title: str | None, source: str | None = None,
                 published: dt.date | None = None) -> str:
    """A passage's text as embedded and as BM25 indexes it: its context header, a blank line,
    the text. Citations still point into the article's text (the header is no part of it)."""
    return context_prefix(title, source, published) + text


def chunk_article(
    article: Article,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    count_tokens: TokenCounter | None = None,
) -> list[Passage]:
    """The passages of ``article``, in order. ``article.text[p.start:p.end] == p.text``."""
    return [p for p, _ in chunk_sized(article, max_tokens=max_tokens, count_tokens=count_tokens)]


def chunk_sized(
    article: Article,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    count_tokens: TokenCounter | None = None,
) -> list[tuple[Passage, int]]:
    """:func:`chunk_article`, each passage with its size in tokens as packing counted it: its
    sentences' counts, the special tokens once, and one more token at each join (an upper
    bound for a tokenizer that splits at spaces, as word-piece ones do)."""
    if max_tokens < 16:
        raise ValueError("max_tokens must be at least 16")
    count = count_tokens or estimate_tokens
    text = article.text
    units, sizes = _units(text, max_tokens, count)
    if not units:
        return []
    groups = _pack(units, sizes, max_tokens)
    passages = []
    for index, (first, last) in enumerate(groups):
        start, end = units[first][0], units[last][1]
        size = sum(sizes[first : last + 1]) - (last - first)  # specials once, +1 a join
        passage = Passage(
            id=f"{article.id}-{index}",
            article_id=article.id,
            index=index,
            text=text[start:end],
            start=start,
            end=end,
            sentences=[Sentence(start=s, end=e) for s, e, _ in units[first : last + 1]],
        )
        passages.append((passage, size))
    return passages


def _units(
    text: str, max_tokens: int, count: TokenCounter
) -> tuple[list[tuple[int, int, int]], list[int]]:
    """Sentences as ``(start, end, paragraph_number)``, with over-long ones cut into pieces,
    and their token counts (each counted once)."""
    paragraphs = paragraph_spans(text)
    sentences = split_sentences(text)
    units: list[tuple[int, int, int]] = []
    sizes: list[int | None] = []
    para = 0
    counted = count([text[s:e] for s, e in sentences])
    for (start, end), size in zip(sentences, counted, strict=True):
        while para + 1 < len(paragraphs) and start >= paragraphs[para + 1][0]:
            para += 1
        if size <= max_tokens:
            units.append((start, end, para))
            sizes.append(size)
        else:
            for s, e in _cut(text, start, end, max_tokens, count):
                units.append((s, e, para))
                sizes.append(None)
    cut = [i for i, size in enumerate(sizes) if size is None]
    for i, size in zip(cut, count([text[units[i][0] : units[i][1]] for i in cut]), strict=True):
        sizes[i] = size
    return units, [int(x) for x in sizes if x is not None]


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
    """Group consecutive units into passages: ``(first, last)`` unit indices, inclusive.

    A passage takes sentences until the next one would overflow the budget; it then ends at the
    last paragraph end it holds if that keeps it at least ``PARAGRAPH_FILL`` full, else after
    the last sentence that fits. News paragraphs are one or two sentences: ending every passage
    at the first paragraph end past half the budget made them small."""
    budget = max_tokens - 2  # each unit's count includes the two special tokens once
    body = [s - 2 for s in sizes]
    groups: list[tuple[int, int]] = []
    first, used = 0, body[0]
    i = 1
    while i < len(units):
        if used + body[i] + 1 <= budget:
            used += body[i] + 1
            i += 1
            continue
        last = i - 1
        filled = used
        for k in range(i - 1, first, -1):  # the last paragraph end, if full enough
            filled -= body[k] + 1
            if units[k][2] != units[k - 1][2]:
                if filled >= PARAGRAPH_FILL * budget:
                    last = k - 1
                break
        groups.append((first, last))
        nxt = last + 1
        # overlap: start the next passage with the previous sentence if it is short enough
        prev = body[last]
        if last > first and prev + body[nxt] + 1 <= budget and prev <= budget // 3:
            first, used = last, prev + body[nxt] + 1
        else:
            first, used = nxt, body[nxt]
        i = nxt + 1
    groups.append((first, len(units) - 1))
    return groups
