"""What a question asks for: its content terms and the kind of answer it expects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from corpus import split_sentences
from qa.engine.answer_spans import MONTH
from qa.engine.answer_spans import names as name_spans
from qa.engine.terms import QUESTION_WORDS, STOPWORDS, terms, words

MAX_CHARS = 1000  # longer than any real question; the model reads 256 word pieces at most

# kind -> the opening words that ask for it. "which" and "what" may take a few modifiers before
# the noun that says the kind ("which North African country", "which NFL team").
_WHICH = r"(?:which|what)\s+(?:[\w.’'-]+\s+){0,3}?"
_PERSON_NOUNS = (r"person|man|woman|player|author|writer|actor|actress|celebrity|musician|"
                 r"singer|rapper|artist|star|athlete|coach|host|candidate|politician|senator|"
                 r"governor|president|leader|ceo|executive|billionaire|director|member|figure|guest|"
                 r"nominee|journalist|anchor|official|minister|judge|lawmaker|comedian|entrepreneur|"
                 r"founder|scientist|chef|designer|pope|king|queen|prince|princess|monarch|"
                 r"quarterback|pitcher|golfer|skier|swimmer|boxer|driver|rider|tennis player")
_PLACE_NOUNS = (r"country|countries|city|cities|place|region|province|town|state|states|"
                r"county|nation|island|continent|capital|venue|stadium|airport|park")
_NAME_NOUNS = (r"team|company|companies|firm|airline|automaker|carmaker|retailer|chain|brand|"
               r"show|series|film|movie|novel|book|album|song|band|group|network|app|platform|"
               r"organi[sz]ation|agency|party|university|club|league|restaurant|"
               r"publication|newspaper|website|game|franchise|bank|character|sitcom|tournament|"
               r"championship|festival|product|service|streamer|channel|magazine|studio|label|"
               r"museum|school|college|hospital|ship|virus|variant|planet|letter")
_KINDS = [
    ("number", re.compile(r"\b(how (many|much|long|far|old|large|big|tall|high|often)|what "
                          r"(number|percentage|proportion|share|amount|size|total)|"
                          r"death toll|what (?:is|was|are|were) the (?:\w+ ){0,2}(?:score|"
                          r"magnitude|rate|price|cost|wage|limit|population|temperature|speed|age|salary|"
                          r"budget|value))\b", re.I)),
    ("date", re.compile(r"\b(when|what (year|date|day|month|time)|which (year|date|day|month))"
                        r"\b", re.I)),
    ("person", re.compile(rf"\b(who|whom|whose|{_WHICH}({_PERSON_NOUNS})s?)\b", re.I)),
    ("place", re.compile(rf"\b(where|{_WHICH}({_PLACE_NOUNS})s?)\b", re.I)),
    ("name", re.compile(rf"\b({_WHICH}({_NAME_NOUNS})s?|what (is|was|are|were) (the|its|their) "
                        r"[\w ]{1,30}? (called|named)|what is the (name|title) of|renamed)\b",
                        re.I)),
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
_HOW_MANY = re.compile(r"\bhow (?:many|much)\s+(.*)", re.I | re.S)
# Quiz phrasing that names no fact: "this week", "according to a new study", "True or false:"
# ("published" goes with it when the time words have already been read off the question).
# Such words are in many articles and in none more than another; they leave the search and the
# question's terms (the kind of answer is still read from the full question).
_QUIZ = re.compile(
    r"\b(?:(?:this|last) (?:week|weekend)(?:['’]s)?|true or false:?|recently|in total|"
    r"approximately|(?:according to|in|per) (?:a|an|the)? ?(?:new|recent|latest)? ?"
    r"(?:report|study|survey|poll|research|analysis|data)(?: (?:published|released)"
    r"(?: this week| on \w+)?)?|(?:new|recent) (?:research|study|report|survey|data) "
    r"(?:finds|found|shows|showed|says|suggests)|according to (?:reports|officials))\b", re.I)
FOCUS_WORDS = 4  # the counted phrase is at most this long
NEAR = 1          # a name this many words from a question word stands beside it
PERSON_APART = 0.5  # type match of a sentence whose names all stand apart from them


def _names(text: str) -> list[str]:
    """The names ``text`` gives ("Singapore Grand Prix", "Chicago"), each sentence's own. A name
    that opens a sentence loses its first word, whose capital says nothing ("Approximately",
    "Beloved actress Cindy Williams"); a month ("Aug.") or a name of short words alone ("US",
    "TV") is left out.
    A question in capitals or title case gives none: its capitals say nothing."""
    capitals = [w[:1].isupper() for w in re.findall(r"[^\W\d_][\w'’-]*", text)]
    if len(capitals) > 3 and sum(capitals) > 0.8 * len(capitals):
        return []
    out = []
    for start, end in split_sentences(text):
        sentence = text[start:end]
        for span in name_spans(sentence):
            name = sentence[span.start:span.end]
            if not sentence[:span.start].strip(" \"'“‘([-–—•"):
                name = name.partition(" ")[2]
            calendar = MONTH.fullmatch(name) or MONTH.fullmatch(f"{name}.")  # "Aug. 14"
            if not calendar and name_terms(name):
                out.append(name)
    return list(dict.fromkeys(out))


def name_terms(name: str) -> list[str]:
    """The terms of a name that say which it is: those of more than two letters ("US" says
    little)."""
    return [t for t in terms(name) if len(t) > 2]


def _counted(text: str) -> list[str]:
    """The stemmed terms of what a "how many" question counts: "How many Russian soldiers were
    killed?" -> ["russian", "soldier"]. The phrase ends at the first stopword or past-tense verb
    ("How many members urged ..." -> ["member"])."""
    m = _HOW_MANY.search(text)
    if not m:
        return []
    phrase = []
    for w in words(m.group(1))[:FOCUS_WORDS]:
        if w in STOPWORDS or (w.endswith("ed") and len(w) > 4):
            break
        phrase.append(w)
    return terms(" ".join(phrase))


def search_text(text: str) -> str:
    """``text`` without quiz phrasing (see ``_QUIZ``); the text itself if nothing would remain."""
    out = " ".join(_QUIZ.sub(" ", text).split())
    return out if terms(out) else text


@dataclass
class Question:
    text: str
    terms: list[str] = field(default_factory=list)   # stemmed content terms
    kind: str = "other"                      # number, date, person, place, name, other
    context_terms: list[str] = field(default_factory=list)  # from earlier turns (follow-ups)
    referent_terms: list[str] = field(default_factory=list)  # who "he"/"she" stands for
    focus: list[str] = field(default_factory=list)  # what is counted: "how many Russian soldiers"
    rewritten: str = ""  # a follow-up with "he"/"she" replaced by whom it means (else empty)
    names: list[str] = field(default_factory=list)  # the names it gives ("Singapore Grand Prix")

    @property
    def standalone(self) -> str:
        """The question as it reads on its own: the rewritten follow-up, or the text."""
        return self.rewritten or self.text

    @classmethod
    def parse(cls, text: str, context: str = "", referent: str = "") -> Question:
        kind = next((k for k, pattern in _KINDS if pattern.search(text)), "other")
        own = [t for t in terms(search_text(text)) if t not in QUESTION_WORDS]
        ref = [t for t in terms(referent) if t not in own]
        ctx = [t for t in terms(context) if t not in own and t not in ref
               and t not in QUESTION_WORDS]
        return cls(text=text, terms=own, kind=kind, context_terms=list(dict.fromkeys(ctx)),
                   referent_terms=ref, focus=_counted(text), names=_names(text))

    def contradicted_by(self, sentence: str) -> bool:
        """True if ``sentence`` counts the same thing with another name in front of it ("33
        Turkish soldiers" for "How many Russian soldiers"), and not the one asked about."""
        names = [w for w in _CAPITALISED.findall(self.text[1:]) if terms(w)[:1] in
                 ([t] for t in self.focus[:-1])]
        if not names or not self.focus:
            return False
        have = set(terms(sentence))
        if all(t in have for t in terms(" ".join(names))):
            return False
        head, asked = self.focus[-1], {w.lower() for w in names}
        toks = sentence.split()
        for before, word in zip(toks, toks[1:]):
            if terms(word)[:1] == [head] and _CAPITALISED.fullmatch(before) \
                    and before.lower() not in asked:
                return True
        return False

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
        if not names or self.kind != "person":
            return float(bool(names))
        # a person is best named right beside the words asked about ("NATO Secretary General
        # Jens Stoltenberg"), less surely elsewhere in the sentence
        toks = words(sentence)
        near = {i for i, w in enumerate(toks) if w in asked and w not in STOPWORDS}
        beside = any(w in names and w not in STOPWORDS and any(abs(i - j) <= NEAR for j in near)
                     for i, w in enumerate(toks))
        return 1.0 if beside else PERSON_APART
