"""Copy groups at index time: articles that carry one story (wire copies, syndicated reprints,
the same text under another headline) get one group, so an answer counts outlets, not prints.

Incremental: after each committed batch, :meth:`CopyGrouper.group` compares only the articles
that batch wrote, against the whole index (and each other), and puts each in the group of its
best match, or in a group of its own. Nothing else is regrouped: a group is joined, never merged
or split later (a changed or removed article hands its label on, see :mod:`embeddings.groups`).

Two steps per article:

1. Candidates, from the passage vectors already stored: a faiss search of the article's
   passages; articles with a passage at cosine >= :data:`VECTOR_MIN` are candidates. Passages
   are embedded under their article's headline, outlet and date, so the same paragraph under
   another headline scores ~0.91 and a paragraph cut at other boundaries ~0.85-0.88 (seed 0,
   MiniLM): hence 0.85, with the text to decide.
2. Confirmation on the texts (word 5-shingles): the shorter text must be mostly in the longer
   one (:data:`TEXT_MIN`), so must the two ledes (first :data:`LEDE_WORDS` words, against each
   other, :data:`LEDE_MIN`): pages that share a long sidebar or live-blog tail but open on
   different stories are not copies, nor is this week's update of last week's template
   article. And each headline must be borne out by the text, unless the two are the same: a
   paywall or registration page saved under many headlines is no story, even under alike
   headlines ("Quiz of The Week: 8 July - 14 July", "... 5 - 11 August").

Tuned on realtimeqa-2023 (``python -m bench copies``; the only dev set, so the figures there are
not held out). Among the candidate pairs, the ones read as one story (re-headlined and reprinted
versions) had text >= 0.72, lede >= 0.8 and headline support >= 0.5; the CNN World Cup and NFL
pages sharing 85-92% of their (sidebar) shingles had ledes of 0.0-0.49; two Mega Millions
drawings three days apart, text 0.69 and lede 0.63; the 24 copies of one registration form
bore 0-33% of their headlines' words.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from corpus.models import Article
from embeddings import PassageStore

VECTOR_MIN = 0.85  # passage cosine that makes another article a candidate
NEIGHBOURS = 10  # passages fetched per passage searched
MAX_CANDIDATES = 5  # candidate articles whose text is read, most shared passages first
SHINGLE = 5  # words per shingle
TEXT_MIN = 0.6  # share of the shorter text's shingles found in the other text
LEDE_WORDS = 300
LEDE_MIN = 0.7  # share of the shorter lede's shingles found in the other lede
TITLE_BORNE = 0.5  # share of a headline's words (4+ letters) the text must hold
STEM = 5  # letters a headline word and a text word must share ("escalates", "escalation")

_WORD = re.compile(r"\w+")
_SITE_SUFFIX = re.compile(r"\s+\|\s+[^|]{1,40}$")  # "Headline | The Week UK" (not " - 30 June")


@runtime_checkable
class _Ungrouped(Protocol):
    """A store that can list the articles never compared (:meth:`IndexStore.ungrouped`)."""

    def ungrouped(self) -> dict[str, list[int]]: ...


@dataclass(frozen=True)
class StoryText:
    """What the comparison needs of one article."""

    shingles: frozenset[int]
    lede: frozenset[int]
    words: frozenset[str]  # the text's word stems (first STEM letters)
    title: frozenset[str]  # the headline's, without a trailing "| Site"
    headline: str  # in lower case

    @classmethod
    def of(cls, article: Article) -> StoryText:
        words = _WORD.findall(article.text.lower())
        title = _SITE_SUFFIX.sub("", article.title).lower()
        return cls(_shingles(words), _shingles(words[:LEDE_WORDS]),
                   frozenset(w[:STEM] for w in words),
                   frozenset(w[:STEM] for w in _WORD.findall(title) if len(w) >= 4),
                   " ".join(_WORD.findall(article.title.lower())))


def _shingles(words: Sequence[str]) -> frozenset[int]:
    n = max(1, len(words) - SHINGLE + 1)
    return frozenset(hash(tuple(words[i:i + SHINGLE])) for i in range(n))


def _contained(a: frozenset[int], b: frozenset[int]) -> float:
    """The share of the smaller set found in the other."""
    small = min(len(a), len(b))
    return len(a & b) / small if small else 0.0


def same_story(a: StoryText, b: StoryText) -> float:
    """How much of the shorter text the other holds, when the two are one story; else 0."""
    overlap = _contained(a.shingles, b.shingles)
    if overlap < TEXT_MIN or _contained(a.lede, b.lede) < LEDE_MIN:
        return 0.0
    if a.headline == b.headline:  # the same page saved twice
        return overlap
    for x in (a, b):
        if x.title and len(x.title & x.words) / len(x.title) < TITLE_BORNE:
            return 0.0
    return overlap


class CopyGrouper:
    """Puts newly written articles of ``store`` in copy groups (one transaction a call)."""

    def __init__(self, store: PassageStore) -> None:
        self.store = store
        self._texts: dict[str, StoryText | None] = {}

    def group(self, articles: Mapping[str, Sequence[int]]) -> int:
        """Compare ``articles`` (``{id: its passages' vids}``, in the order written) with the
        index and with each other, in that order: each joins the group of its best match among
        the articles already compared, or forms its own. Returns how many joined a group."""
        if not articles:
            return 0
        self._texts.clear()
        candidates = self._candidates(articles)
        pending = set(articles)
        decided: dict[str, str] = {}
        for aid in articles:
            pending.discard(aid)
            match = self._best_match(aid, [c for c in candidates.get(aid, ()) if c not in pending])
            if match is None:
                decided[aid] = aid
            else:
                decided[aid] = (decided.get(match)
                                or self.store.copy_groups([match]).get(match, match))
        with self.store.batch() as batch:
            for aid, group in decided.items():
                batch.set_copy_group(aid, group)
        self._texts.clear()
        return sum(aid != group for aid, group in decided.items())

    def group_ungrouped(self, chunk: int = 200) -> int:
        """Compare the articles never compared (an index from before copy groups, or a run
        killed between a batch and its grouping), ``chunk`` articles per transaction, oldest
        first. Returns how many joined a group; 0 for a store that cannot list them."""
        if not isinstance(self.store, _Ungrouped):
            return 0
        todo = self.store.ungrouped()
        ids = list(todo)
        joined = 0
        for i in range(0, len(ids), chunk):
            joined += self.group({aid: todo[aid] for aid in ids[i:i + chunk]})
        return joined

    # -- the two steps -----------------------------------------------------------------------
    def _candidates(self, articles: Mapping[str, Sequence[int]]) -> dict[str, list[str]]:
        """Per article, the other articles with a near-identical passage, most such first."""
        owner = {int(v): aid for aid, vids in articles.items() for v in vids}
        if not owner:
            return {}
        queries = list(owner)
        scores, hits = self.store.search(self.store.vectors(queries), NEIGHBOURS)
        near = {int(v) for v, s in zip(hits.ravel(), scores.ravel(), strict=True)
                if s >= VECTOR_MIN and int(v) not in owner and v >= 0}
        hit_owner = dict(owner)
        hit_owner.update({p.vid: p.article_id for p in self.store.passages(sorted(near))})
        shared: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for vid, row, row_scores in zip(queries, hits, scores, strict=True):
            aid = owner[vid]
            found = {hit_owner[int(h)] for h, s in zip(row, row_scores, strict=True)
                     if s >= VECTOR_MIN and int(h) in hit_owner}
            for other in found - {aid}:
                shared[aid][other] += 1
        return {aid: sorted(c, key=lambda o: -c[o]) for aid, c in shared.items()}

    def _best_match(self, aid: str, candidates: list[str]) -> str | None:
        """The candidate whose text holds most of the shorter of the two, if one is a copy."""
        if not candidates:
            return None
        mine = self._text(aid)
        if mine is None:
            return None
        best, best_score = None, 0.0
        for other in candidates[:MAX_CANDIDATES]:
            theirs = self._text(other)
            score = same_story(mine, theirs) if theirs is not None else 0.0
            if score > best_score:
                best, best_score = other, score
        return best

    def _text(self, aid: str) -> StoryText | None:
        if aid not in self._texts:
            article = self.store.article(aid)
            self._texts[aid] = StoryText.of(article) if article is not None else None
        return self._texts[aid]


__all__ = ["CopyGrouper", "StoryText", "same_story"]
