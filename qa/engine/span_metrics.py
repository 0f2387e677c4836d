"""Exact match and F1 of a short answer against gold answers, as SQuAD scores them: both sides
lower-cased, punctuation and the articles a/an/the removed, white space collapsed; the best
score over the gold answers counts. ``qa eval`` and ``bench short-answers`` report these."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = frozenset(string.punctuation) | frozenset("‘’“”–—…")


def normalize(text: str) -> str:
    """SQuAD's answer normalisation: "The U.S." -> "us"."""
    text = "".join(c for c in text.lower() if c not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(pred: str | None, golds: Sequence[str]) -> float:
    """1.0 if ``pred`` equals a gold answer once normalised; 0.0 for no prediction."""
    if pred is None or not golds:
        return 0.0
    p = normalize(pred)
    return float(any(p == normalize(g) for g in golds))


def _f1(pred: str, gold: str) -> float:
    p, g = normalize(pred).split(), normalize(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def f1(pred: str | None, golds: Sequence[str]) -> float:
    """Token-overlap F1 of ``pred`` with the closest gold answer; 0.0 for no prediction."""
    if pred is None or not golds:
        return 0.0
    return max(_f1(pred, g) for g in golds)
