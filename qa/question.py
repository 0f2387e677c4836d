"""What a question asks for: its content terms and the kind of answer it expects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.terms import QUESTION_WORDS, terms, words

MAX_CHARS = 1000  # longer than any real question; the model reads 256 word pieces at most

# kind -> the opening words that ask for it
_KINDS = [
    ("number", re.compile(r"\b(how (many|much|long|far|old|large|big|tall|high|often)|what "
                          r"(number|percentage|proportion|share|amount|size|total)|"
                          r"death toll)\b", re.I)),
    ("date", re.compile(r"\b(when|what (year|date|day|month|time)|which (year|date|day|month))"
                        r"\b", re.I)),
    ("person", re.compile(r"\b(who|whom|whose)\b", re.I)),
    ("place", re.compile(r"\b(where|what (country|city|place|region|province|town)|which "
                         r"(country|city|place|region|province|town))\b", re.I)),
]
_NUMBER_WORDS = frozenset("""one two three four five six seven eight nine ten eleven twelve
dozen dozens twenty thirty forty fifty hundred hundreds thousand thousands million millions
billion half""".split())
_MONTHS = frozenset("""january february march april may june july august september october
november december jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday
thursday friday saturday sunday""".split())
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]+")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)s?\b")
_DIGIT = re.compile(r"\d")


@dataclass
class Question:
    text: str
    terms: list[str] = field(default_factory=list)   # stemmed content terms
    kind: str = "other"                              # number, date, person, place, other
    context_terms: list[str] = field(default_factory=list)  # from earlier turns (follow-ups)
    referent_terms: list[str] = field(default_factory=list)  # who "he"/"she" stands for

    @classmethod
    def parse(cls, text: str, context: str = "", referent: str = "") -> Question:
        kind = next((k for k, pattern in _KINDS if pattern.search(text)), "other")
        own = [t for t in terms(text) if t not in QUESTION_WORDS]
        ref = [t for t in terms(referent) if t not in own]
        ctx = [t for t in terms(context) if t not in own and t not in ref
               and t not in QUESTION_WORDS]
        return cls(text=text, terms=own, kind=kind, context_terms=list(dict.fromkeys(ctx)),
                   referent_terms=ref)

    def type_match(self, sentence: str) -> float:
        """1.0 if ``sentence`` holds the kind of thing asked for, beyond the question's words."""
        if self.kind == "other":
            return 0.0
        asked = set(words(self.text))
        if self.kind == "number":
            new = [w for w in words(sentence) if w not in asked]
            return float(any(_DIGIT.search(w) or w in _NUMBER_WORDS for w in new))
        if self.kind == "date":
            new = [w for w in words(sentence) if w not in asked]
            return float(any(w in _MONTHS for w in new)
                         or any(m.group(0) not in asked for m in _YEAR.finditer(sentence)))
        names = {w.lower() for w in _CAPITALISED.findall(sentence[1:])} - asked
        return float(bool(names))
