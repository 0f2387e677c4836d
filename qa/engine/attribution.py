"""Who says so: whom a cited sentence attributes its claim to ("according to UN officials" ->
"UN officials", "Stoltenberg said" -> "Stoltenberg"), and whether the claim is hedged
("reportedly", "allegedly", "is said to"). A reader weighs "the ministry said" differently from a
fact the reporter states in the article's own voice, for which there is no attribution.

Patterns, not a parser: quotes are blanked first so words inside them are never taken for the
speaker; "he"/"she" resolve to the last named speaker before the sentence in the article."""

from __future__ import annotations

import re

from corpus import split_sentences
from qa.engine.answer_spans import THING_HEADS
from qa.engine.places import place_class

_VERBS = (r"said|says|say|told|tells|added|wrote|writes|announced|announces|claimed|claims|"
          r"stated|explained|noted|stressed|warned|concluded|insisted|argued|tweeted|"
          r"posted|confirmed|reported|declared|acknowledged|admitted|asserted|"
          r"maintained|alleged|alleges|revealed|disclosed|testified|recalled")
_ADVERB = r"(?:\s+(?:also|later|earlier|previously|recently|publicly|repeatedly|then))?"
# a speaker before its verb: a name, a pronoun, or a determiner phrase ("the ministry",
# "a State Department spokesperson", "his spokesman"), with an optional appositive
_NAME = (r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|of|de|al|bin|van|von|der|la|"
         r"[a-z][\w-]*(?=\s+[A-Z]))){0,6}(?:\s+(?!(?:has|have|had|is|was|were|are|will|would|"
         r"could|also|then|who|which|that|and|not|on|in|at|all|both|recently)\b)[a-z][\w-]*){0,2}?")
_DET = r"(?:the|a|an|his|her|its|their|our|The|A|An|His|Her|Its|Their|Our)"
_FUNCTION = r"(?:the|a|an|over|of|to|in|on|at|for|with|by|from|and|that|which|who|has|had|is|was)"
_PHRASE = (rf"(?:{_DET}\s+(?:(?!{_FUNCTION}\b)[\w'’.-]+\s+){{0,5}}?(?!{_FUNCTION}\b)[\w'’.-]+|"
           rf"{_NAME})")
_PRONOUN = r"(?:he|she|they|He|She|They)"  # "I wrote", "we said": the article's own voice
# speakers named by a plural noun: "officials said", "US officials said", "police say"
_GROUP = (r"(?:[\w-]+\s+)?(?:officials|sources|police|witnesses|analysts|experts|residents|"
          r"authorities|investigators|prosecutors|researchers|scientists|activists|doctors|"
          r"diplomats|lawmakers|observers|organi[sz]ers)")
BEFORE = re.compile(
    rf"(?:^|[,;:—–\"”“(]\s*|\b(?:and|but|while|as|that)\s+)(?P<who>{_PRONOUN}|{_GROUP}|{_PHRASE})"
    rf"(?:\s*,\s*(?:(?:the|a|an|who)\s[^,]{{1,80}}|(?P<app>{_NAME})),)?"
    rf"(?:\s+(?:has|have|had))?{_ADVERB}\s+(?P<verb>{_VERBS})\b")
AFTER = re.compile(
    rf"(?:[,\"”’]\s*)(?P<verb>{_VERBS}){_ADVERB}\s+(?P<who>{_PRONOUN}|{_PHRASE})"
    rf"(?=\s*(?:[,.;:]|$|\s+(?:on|in a|at a|during|after|before|when|while|as)\b))")
# "according to Layoffs.fyi", "according to the U.S. Department of Agriculture": a dot inside
# a word does not end the name
ACCORDING = re.compile(r"\baccording to\s+(?P<who>(?:(?:[A-Z]\.){2,}|[^,.;:\"”]|\.(?=\w)){2,80}?)"
                       r"(?=\s*(?:[,;:\"”]|\.(?!\w)|$|\s+(?:on|in|at|who|which|that)\s))", re.I)
HEDGES = re.compile(
    r"\b(?:reportedly|allegedly|alleged|purportedly|supposedly|apparently|unconfirmed|"
    r"unverified|rumou?red|claim(?:s|ed)?\s+(?:that|to)|(?:is|are|was|were)\s+(?:said|believed|"
    r"thought|understood|rumou?red)\s+to|people familiar with|it is understood|"
    r"could not be (?:independently )?(?:verified|confirmed))\b", re.I)
_HEDGING_VERBS = frozenset("claimed claims alleged alleges".split())
_QUOTED = re.compile(r"[\"“][^\"“”]*[\"”]|[\"“][^\"“”]*$|^[^\"“”]*”|(?<!\w)‘[^’]{0,200}’")
_PRONOUNS = frozenset("he she they it we i".split())
_NOT_SPEAKERS = frozenset("it this that which what there i we".split())  # "I wrote": own voice
LOOK_BACK = 4000  # characters of the article searched for whom "he" stands
FALLBACK_CHARS = 600  # failing a named speaker, a full name this close before "he" is taken


def attribution(text: str, start: int, end: int) -> tuple[str | None, bool]:
    """(speaker, hedged) for the sentence ``text[start:end]`` of an article: the speaker is
    None when the article states the claim in its own voice."""
    sentence = text[start:end]
    found = _speaker(sentence)
    if found is None and _opens_quote(sentence):
        found = _next_speaker(text, end)
    if found is None and _all_quote(sentence):
        earlier = _previous_speaker(text, start, names_only=False)
        found = (earlier, "said") if earlier else None
    hedged = bool(HEDGES.search(sentence))
    if found is None:
        return None, hedged
    who, verb = found
    hedged = hedged or verb in _HEDGING_VERBS
    if who.lower() in _PRONOUNS:
        # a name earlier in the same sentence counts too ("owner Bill Foley ..., he said")
        at = re.search(rf"\b{who}\b", sentence)
        who = _previous_speaker(text, start, names_only=True,
                                upto=start + (at.start() if at else 0)) or who
    elif who.lower().startswith(("his ", "her ")):
        lead = _LEAD_NAME.match(sentence)  # 'Stoltenberg "urged ...", his spokesman said'
        owner = lead.group(0) if lead and lead.group(0).split()[0].lower() not in _OPENERS \
            else _previous_speaker(text, start, names_only=True)
        who = f"{owner}'s {who.split(' ', 1)[1]}" if owner else who
    return who, hedged


def _blank_quotes(sentence: str) -> str:
    """Quoted words replaced by x's (offsets kept), so no speaker is read from inside a quote."""
    return _QUOTED.sub(lambda m: m.group(0)[0] + "x" * (len(m.group(0)) - 2) + m.group(0)[-1],
                       sentence)


def _speaker(sentence: str) -> tuple[str, str] | None:
    """(who, verb) of the sentence's own attribution, if any."""
    plain = _blank_quotes(sentence)
    m = ACCORDING.search(plain)
    if m and "xxx" not in m.group("who"):
        return _clean(m.group("who")), "according"
    for pattern in (AFTER, BEFORE):
        for m in pattern.finditer(plain):
            who = _clean(m.groupdict().get("app") or m.group("who"))
            verb = m.group("verb").lower()
            if verb in _NOT_SPEECH_AFTER and _NOT_SPEECH.match(plain, m.end()) \
                    or plain.startswith(" as ", m.end()):  # "Usher confirmed as headliner"
                continue  # "claimed victory", "wrote the anthem": no claim is reported
            if who and "xxx" not in who and who.lower() not in _NOT_SPEAKERS:
                return who, verb
    return None


_NOT_SPEECH = re.compile(r"\s+(?:victory|the|a|an|his|her|their|its|responsibility|credit|"
                         r"title|\d|\"|“)", re.I)
# "declared a state of emergency", "announced her campaign": an act, not a claim reported
_NOT_SPEECH_AFTER = frozenset("claimed claims wrote writes declared announced announces".split())
# a time after the verb is not the speaker ("..., said Monday on his podcast"), nor after
# the name ("Stoltenberg on Friday"): cleaned off, and a speaker of nothing else is none
_WHEN = re.compile(r"(?:(?:^|\s+)(?:on|in|at))?(?:^|\s+)(?:Monday|Tuesday|Wednesday|Thursday|"
                   r"Friday|Saturday|Sunday|today|yesterday|tonight|earlier|later)\.?$")


def _clean(who: str) -> str:
    who = re.sub(r"^(?:and|but|while|as|that|though|although|because|if|when)\s+", "",
                 who.strip(" ,\"”“"), flags=re.I)
    who = re.sub(r"\s+(?:also|too|later|earlier|then)$", "", who)  # "The FCC also (has said)"
    who = _WHEN.sub("", who)
    first = who.split(" ", 1)[0]
    if first.lower() in _PRONOUNS and " " in who:  # "he did (say)", "she would (add)"
        return first
    if who.endswith(".") and not re.search(r"(?:\b[A-Z]\.){2,}$|\b(?:Jr|Sr|Inc|Co)\.$", who):
        who = who[:-1]
    return who


def _opens_quote(sentence: str) -> bool:
    """True if a quotation of some words opens in the sentence and does not close in it
    (straight quotes open after a space, close before one; mixed pairs count)."""
    opened = [m.start() for m in re.finditer(r"“|(?:^|(?<=\s))\"", sentence)]
    closed = len(re.findall(r"”|\"(?=\s|[,.;:!?]|$)", sentence)) - sum(
        1 for m in re.finditer(r'(?:^|(?<=\s))"(?=\s|$)', sentence))
    return len(opened) > closed and len(sentence[opened[-1]:].split()) >= 3


def _all_quote(sentence: str) -> bool:
    s = sentence.strip()
    return s[:1] in "\"“" and s[-1:] in "\"”" or s[:1] in "\"“" and s[-2:-1] in "\"”"


def _next_speaker(text: str, end: int) -> tuple[str, str] | None:
    """The speaker of the sentences that close a quote opened before ``end`` (at most two)."""
    after = text[end:end + 1500]
    for s, e in split_sentences(after)[:2]:
        found = _speaker('"' + after[s:e])  # still inside the quote: it closes in here
        if found:
            return found
    return None


def _previous_speaker(text: str, start: int, names_only: bool, upto: int | None = None
                      ) -> str | None:
    """The nearest speaker named before ``start`` ("said Stoltenberg" two sentences earlier);
    with ``names_only``, pronouns and "the ..." phrases are passed over."""
    lo = max(0, start - LOOK_BACK)
    before = text[lo:start]
    for s, e in reversed(split_sentences(before)):
        found = _speaker(before[s:e])
        if not found:
            continue
        who = found[0]
        if not names_only and who.lower() not in _PRONOUNS:
            return who
        if names_only and who[:1].isupper() and who.split()[0].lower() not in _DETERMINERS:
            return who
    if names_only:  # no named speaker: the last full name mentioned ("Maria Zakharova")
        near = text[max(0, start - FALLBACK_CHARS):upto or start]
        named = [m.group(0) for m in _FULL_NAME.finditer(near) if _person_like(m.group(0))]
        return named[-1] if named else None
    return None


_FULL_NAME = re.compile(r"(?<![\w-])(?<!at )(?<!in )(?<!of )(?<!the )"
                        r"[A-Z][a-z]+(?: [A-Z][a-z]+){1,2}\b(?! [A-Z])")


def _person_like(name: str) -> bool:
    """"Maria Zakharova", not "United Nations", "South Korea" or "The Syrian"."""
    parts = name.lower().split()
    return parts[0] not in _OPENERS and parts[-1] not in THING_HEADS | _ORG_WORDS \
        and place_class(name) is None


_ORG_WORDS = frozenset("nations states kingdom union ministry government house senate congress "
                       "police army news media times post court".split())
_LEAD_NAME = re.compile(r"[A-Z][\w’'-]+(?: [A-Z][\w’'-]+){0,2}(?= [\"“a-z])")
_OPENERS = frozenset("""the a an in on at after before when while as but and however this that
these those it its his her their there here if although""".split())
_DETERMINERS = frozenset("the a an his her its their our".split())
