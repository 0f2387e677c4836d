"""The spans of a sentence that could answer a factoid question: figures ("33", "$2.5 billion",
"18%", "three"), dates ("February 28, 2020", "May", "1992", "last Tuesday") and capitalised
names ("Jens Stoltenberg", "University of Pennsylvania"). No NER model is available offline, so
these are patterns; ``short_answer`` ranks them against the question."""

from __future__ import annotations

import re
from typing import NamedTuple

from qa.engine.terms import STOPWORDS

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|"
          r"December|Jan\.|Feb\.|Mar\.|Apr\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)")
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1\d\d\d|20\d\d)"
_TIME = r"\d{1,2}:\d\d(?:\s?(?:a\.m\.|p\.m\.|am\b|pm\b))?"
DATE = re.compile(
    rf"\b(?:(?:from|between) {_YEAR} (?:to|and) {_YEAR}|{_YEAR}\s?[–-]\s?(?:{_YEAR}|\d\d)\b|"
    rf"{_TIME}|{_MONTH} {_DAY},? {_YEAR}|{_DAY} {_MONTH},? {_YEAR}|{_MONTH} {_DAY}\b|"
    rf"{_DAY} {_MONTH}|{_MONTH},? {_YEAR}|{_MONTH}|(?:the )?{_YEAR}s\b|{_YEAR}\b|"
    rf"(?:(?:last|this|next|early|late) )?{_WEEKDAY}|"
    rf"(?:last|this|next) (?:week|weekend|month|year|season)|yesterday|today|tomorrow|"
    rf"(?:the )?\d{{1,2}}(?:st|nd|rd|th)(?: and \d{{1,2}}(?:st|nd|rd|th))? centur(?:y|ies))")
YEAR = re.compile(rf"\b{_YEAR}\b")
MONTH = re.compile(rf"\b{_MONTH}")
WEEKDAY = re.compile(rf"\b{_WEEKDAY}\b")

_UNITS = ("zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
          "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
          "eighty|ninety|hundred|dozen")
_WORDNUM = rf"(?:{_UNITS})(?:[- ](?:{_UNITS.replace('|hundred|dozen', '')}))?"
_SCALE = r"(?:hundred|thousand|million|billion|trillion)\b"
_PERCENT = r"(?:\s?%|\s(?:percent|per cent)\b)"
NUMBER = re.compile(
    rf"(?<![\w.,])(?:[$€£¥]\s?)?(?:\d+(?:[.,]\d+)*|\b{_WORDNUM}\b)(?:\s{_SCALE})?{_PERCENT}?"
    rf"(?![\w])", re.I)
_ORDINAL_TAIL = re.compile(r"(?:st|nd|rd|th)\b")

# a capitalised word, and the lower-case words that may join two of them inside one name
_CAP_WORD = r"(?:[A-Z][\w'’.&+-]*|[A-Z]{2,}\+?)"
_JOIN = r"(?:of|de|del|da|di|du|la|le|van|von|der|den|al|bin|&)"
NAME = re.compile(rf"{_CAP_WORD}(?:(?: {_JOIN})? {_CAP_WORD})*")
_POSSESSIVE = re.compile(r"['’]s?$")
# office titles, dropped before a person's name; royal and religious ones are part of it
# ("Queen Elizabeth", "Prince William")
_TITLES = frozenset("""mr mrs ms dr prof president vice secretary general
minister prime chancellor governor gov sen senator rep representative mayor judge justice
chief ceo chairman chair director spokesman spokeswoman spokesperson
ambassador commissioner gen col lt capt sgt former acting deputy foreign defence defense
interior finance health premier speaker leader coach""".split())
_NOT_NAMES = frozenset("""i however meanwhile but and yet still also after before when while
if as since although though despite earlier later last next this that these those there here
it its they we he she his her their our you your according asked speaking following under
during in on at for from with by to of among about more most many some other such no not
one two three said says monday tuesday wednesday thursday friday saturday sunday""".split())
OUTLETS = frozenset("""cnn bbc reuters ap afp tass anadolu agency aljazeera al jazeera fox news
nbc abc cbs npr bloomberg guardian times post journal axios politico twitter facebook
instagram tiktok youtube""".split())


# the last word of a name that is no person ("Golden Globe Awards", "Oregon Department")
THING_HEADS = frozenset("""award awards prize day park festival department conference game games
stadium university college school house assembly committee council party league cup bowl
championship museum church street river city county state island center centre hospital
company inc corp group association agency ministry office court act bill resolution law times
news post journal service administration foundation institute club team war series show tour
player players market markets program programme project airport station bridge hall
organization organisation union alliance force forces army navy commission board bank
""".split())
QUOTED = re.compile(r"(?<!\w)[\"“‘']([^\"“”‘’']{2,60}?)[,.]?[\"”’']")


class Span(NamedTuple):
    start: int
    end: int
    kind: str  # number, date or name


def numbers(sentence: str) -> list[Span]:
    """Figures with their currency, scale and percent: "$2.5 billion", "18%", "950,000"; not
    the day of a date ("May 11") nor a time ("10:30"), nor an ordinal's suffix ("23rd" -> "23")."""
    out = []
    for m in NUMBER.finditer(sentence):
        s, e = m.start(), m.end()
        before, after = sentence[max(0, s - 12):s], sentence[e:e + 12]
        if re.search(rf"{_MONTH}\s$", before) or re.match(rf"\s{_MONTH}", after):
            continue
        if before.endswith(":") or after.startswith(":"):
            continue
        text = m.group(0)
        if text.lower() in {"one"} and re.match(r"\s+of\b", after):
            continue  # "one of the ..." counts nothing
        out.append(Span(s, e, "number"))
    for m in re.finditer(r"(?<![\w.,])(\d+)(?:st|nd|rd|th)\b", sentence):
        out.append(Span(m.start(1), m.end(1), "number"))
    return sorted(set(out))


def quoted(sentence: str) -> list[Span]:
    """Short quoted titles: "Wheel of Fortune", “Squid Game” (at most six words, starting with
    a capital)."""
    out = []
    for m in QUOTED.finditer(sentence):
        text = m.group(1)
        if text[:1].isupper() and len(text.split()) <= 6:
            out.append(Span(m.start(1), m.start(1) + len(text.rstrip(",.")), "name"))
    return out


def dates(sentence: str) -> list[Span]:
    """Dates and date-like phrases, longest first where they overlap."""
    return [Span(m.start(), m.end(), "date") for m in DATE.finditer(sentence)]


def _split_possessive(words: list[tuple[int, int]], sentence: str
                      ) -> list[list[tuple[int, int]]]:
    """Break a run of words after a possessive: "Syria's Idlib" -> "Syria", "Idlib"."""
    runs: list[list[tuple[int, int]]] = [[]]
    for ws, we in words:
        word = sentence[ws:we]
        tail = _POSSESSIVE.search(word)
        if tail and len(word) > 2:
            runs[-1].append((ws, we - len(tail.group(0))))
            runs.append([])
        else:
            runs[-1].append((ws, we))
    return [r for r in runs if r]


def names(sentence: str, at_start: bool = True) -> list[Span]:
    """Runs of capitalised words, without a sentence-opening function word ("The", "In"),
    broken after a possessive, with months, weekdays and common words alone left out."""
    out = []
    for m in NAME.finditer(sentence):
        words = [(w.start() + m.start(), w.end() + m.start())
                 for w in re.finditer(r"\S+", m.group(0))]
        for run in _split_possessive(words, sentence):
            while run and (_opening(sentence, run[0][0], at_start)
                           or sentence[run[0][0]:run[0][1]].lower().rstrip(".,") in _NOT_NAMES):
                run = run[1:]
            while run and sentence[run[-1][0]:run[-1][1]].lower() in STOPWORDS | _JOIN_WORDS:
                run = run[:-1]
            if run and not DATE.fullmatch(sentence[run[0][0]:run[-1][1]].rstrip(".,")):
                s, e = run[0][0], run[-1][1]
                while e > s and sentence[e - 1] in ".,’'-&+" and not _abbrev(sentence[s:e]):
                    e -= 1
                if e > s:
                    out.append(Span(s, e, "name"))
    return out


_JOIN_WORDS = frozenset("of de del da di du la le van von der den al bin &".split())


def _abbrev(text: str) -> bool:
    """"U.S." and "Jr." keep their final point; "Friday." does not."""
    return bool(re.search(r"(?:\b[A-Z]\.){2,}$|\b(?:Jr|Sr|Inc|Co|Corp|Ltd|St)\.$", text))


def _opening(sentence: str, pos: int, at_start: bool) -> bool:
    """True for the sentence's first word (after quotes or brackets) if it is a function
    word: "The", "In", "After"... (those are capitalised because they open the sentence)."""
    if not at_start or sentence[:pos].strip(" \"'“‘([-–—•") != "":
        return False
    word = re.match(r"[\w'’.-]+", sentence[pos:])
    return word is not None and word.group(0).lower() in STOPWORDS | _NOT_NAMES


def strip_titles(sentence: str, span: Span) -> Span:
    """A person's name without the titles before it: "NATO Secretary General Jens
    Stoltenberg" -> "Jens Stoltenberg" (the span itself if only titles would remain)."""
    words = list(re.finditer(r"\S+", sentence[span.start:span.end]))
    last = -1
    for i, w in enumerate(words[:-1]):
        if w.group(0).lower().strip(".") in _TITLES:
            last = i
    if last < 0:
        return span
    return Span(span.start + words[last + 1].start(), span.end, span.kind)


def ordinal_or_plain(sentence: str, span: Span) -> bool:
    """True if the figure is an ordinal ("23rd"): it ranks rather than counts."""
    return bool(_ORDINAL_TAIL.match(sentence[span.end:]))
