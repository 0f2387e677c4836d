"""A conversation: questions asked in turn, where a follow-up ("What did he urge?") is read in
the light of the turns before it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.engine.terms import STOPWORDS, words
from qa.models import Answer

_REFERRING = frozenset("""he she they it him her them his hers their theirs its this that these
those there then such one ones""".split())
# Names: runs of capitalised words ("Jens Stoltenberg", "NATO"), allowing "al-Assad".
_NAME = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:al-|bin\s+)?[A-Z][\w’'-]*)*")
FOLLOW_UP_TERMS = 4   # a question with fewer content words leans on the turn before it
TURNS = 2             # earlier turns that can lend context


def names(text: str) -> list[str]:
    """Capitalised names in ``text``, leaving out a sentence-initial common word."""
    out = []
    for m in _NAME.finditer(text):
        name = m.group(0)
        first, _, rest = name.partition(" ")
        if first.lower() in STOPWORDS:
            if not rest:
                continue
            name = rest
        out.append(name)
    return list(dict.fromkeys(out))


_PERSONAL = re.compile(r"\b(he|she|him|her|his|hers)\b", re.I)


def is_follow_up(question: str) -> bool:
    toks = words(question)
    content = [t for t in toks if t not in STOPWORDS]
    return bool(set(toks) & _REFERRING) or len(content) < FOLLOW_UP_TERMS and not names(question)


def referent(turn: Answer) -> str:
    """Who or what an answer was about: for a "who" question, the name its answer gives next
    to the words of the question ("NATO Secretary General Jens Stoltenberg" -> "Jens
    Stoltenberg"); otherwise the names in the question itself."""
    asked = set(words(turn.question))
    own = [n for n in names(turn.question) if n.lower() not in {"who", "what"}]
    if not re.match(r"\s*(who|whom|whose)\b", turn.question, re.I) and own:
        return own[0]
    if not turn.found:
        return own[0] if own else ""
    quotes = " ".join(c.quote for c in turn.citations if c.role == "answer")
    found = []
    for n in names(quotes):
        ws = n.split()
        new = [w for w in ws if not set(words(w)) <= asked]
        if not new:
            continue
        found.append((-len(set(words(n)) & asked), -len(new), " ".join(new)))
    return min(found)[2] if found else ""


def context_for(question: str, history: Sequence[Answer] | None) -> tuple[str, str, str]:
    """``(rewritten question, context, referent)`` for a follow-up: "he"/"she" replaced by
    the person the last turn was about, the earlier questions as context. A question that
    stands on its own comes back unchanged, with no context."""
    if not history or not is_follow_up(question):
        return question, "", ""
    turns = list(history)[-TURNS:][::-1]
    who = referent(turns[0])
    rewritten = question
    if who and _PERSONAL.search(question):
        rewritten = _PERSONAL.sub(lambda m: who + ("'s" if m.group(0).lower() in {"his", "hers"}
                                                   else ""), question, count=1)
    parts = [t.question for t in turns]
    return rewritten, " ".join(parts), who
