"""Terms for lexical matching: lower-cased, stemmed words and normalised numbers."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

# Numbers keep their decimals and lose thousands separators ("950,000" -> "950000"); words are
# runs of letters and digits ("M5", "2254", "al-Assad" -> "al", "assad").
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:\s+(?:million|billion|thousand|hundred))?", re.I)
# Figures written as words ("six Turkish troops"); "one" is left out: it is mostly a pronoun.
_WORD_NUMBERS = {w: float(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split()) if i >= 2}
_WORD_NUMBERS |= {"thirty": 30.0, "forty": 40.0, "fifty": 50.0, "sixty": 60.0, "seventy": 70.0,
                  "eighty": 80.0, "ninety": 90.0}
_WORD_NUMBER = re.compile(r"\b(" + "|".join(_WORD_NUMBERS) + r")\b", re.I)

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over own
same she should so some such than that the their theirs them themselves then there these they this
those through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself yourselves s t d ll m o re ve y
""".split())

# Question words that say what kind of answer is wanted; never matched as content.
QUESTION_WORDS = frozenset("what which who whom whose when where why how".split())


@lru_cache(maxsize=1)
def _stemmer() -> Any:  # PyStemmer has no type information
    import Stemmer

    return Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Lower-case and strip accents: "Doğan" -> "dogan"."""
    text = unicodedata.normalize("NFKD", text.lower())
    if text.isascii():  # no combining marks to drop (the usual case: a Python loop is slow)
        return text
    return _NON_ASCII.sub(_drop_combining, text)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _drop_combining(match: re.Match[str]) -> str:
    return "".join(c for c in match.group() if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Raw tokens, folded, numbers normalised; stopwords kept."""
    folded = fold(text)  # (NFKD makes "，" a comma)
    found: list[str] = _TOKEN.findall(folded)
    # only a number can hold a comma ("950,000"): words are letters and digits alone
    return [t.replace(",", "") for t in found] if "," in folded else found


def terms(text: str) -> list[str]:
    """Content terms, stemmed: what BM25 indexes and sentence overlap compares."""
    toks = [t for t in words(text) if t not in STOPWORDS]
    return _stemmer().stemWords(toks) if toks else []


@lru_cache(maxsize=1 << 16)
def word_terms(word: str) -> tuple[str, ...]:
    """``terms`` of one word, remembered: for code that reads sentences word by word."""
    return tuple(terms(word))


def numbers(text: str) -> list[float]:
    """The numeric values written in ``text``: "950,000" -> 950000.0, "3.6 million" -> 3.6e6,
    "six" -> 6.0 (digits first, then words)."""
    scale = {"thousand": 1e3, "hundred": 1e2, "million": 1e6, "billion": 1e9}
    out = []
    for m in _NUMBER.finditer(text):
        parts = m.group(0).split()
        raw = parts[0]
        if re.fullmatch(r"\d{1,3}(?:,\d{3,4})+", raw):
            raw = raw.replace(",", "")
        elif "," in raw:  # "2,5" style or a list "1,2": take the leading number
            raw = raw.split(",")[0]
        try:
            value = float(raw)
        except ValueError:
            continue
        if len(parts) > 1:
            value *= scale[parts[1].lower()]
        out.append(value)
    out += [_WORD_NUMBERS[m.group(1).lower()] for m in _WORD_NUMBER.finditer(text)]
    return out
