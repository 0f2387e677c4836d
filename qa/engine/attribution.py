"""Who says so: whom a cited sentence attributes its claim to ("according to UN officials" ->
"UN officials", "Stoltenberg said" -> "Stoltenberg"), and whether the claim is hedged
("reportedly", "allegedly", "is said to"). A reader weighs "the ministry said" differently from a
fact the reporter states in the article's own voice, for which there is no attribution.

Patterns, not a parser: quotes are blanked first so words inside them are never taken for the
speaker; "he"/"she" resolve to the last named speaker before the sentence in the article."""

from __future__ import annotations

import re

from corpus import split_sentences

_VERBS = (r"said|says|say|told|tells|added|adds|wrote|writes|announced|announces|claimed|claims|"
          r"stated|states|explained|noted|stressed|warned|concluded|insisted|argued|tweeted|"
          r"posted|confirmed|reported|reports|declared|acknowledged|admitted|asserted|"
          r"maintained|alleged|alleges|revealed|disclosed|testified|recalled")
_ADVERB = r"(?:\s+(?:also|later|earlier|previously|recently|publicly|repeatedly|then))?"
# a speaker before its verb: a name, a pronoun, or a determiner phrase ("the ministry",
# "a State Department spokesperson", "his spokesman"), with an optional appositive
_NAME = (r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|of|de|al|bin|van|von|der|la|"
         r"[a-z][\w-]*(?=\s+[A-Z]))){0,6}(?:\s+(?!(?:has|have|had|is|was|were|are|will|would|"
         r"could|also|then|who|which|that|and|not|on|in|at)\b)[a-z][\w-]*){0,2}?")
_DET = r"(?:the|a|an|his|her|its|their|our|The|A|An|His|Her|Its|Their|Our)"
_FUNCTION = r"(?:the|a|an|over|of|to|in|on|at|for|with|by|from|and|that|which|who|has|had|is|was)"
_PHRASE = (rf"(?:{_DET}\s+(?:(?!{_FUNCTION}\b)[\w'’.-]+\s+){{0,5}}?(?!{_FUNCTION}\b)[\w'’.-]+|"
           rf"{_NAME})")
_PRONOUN = r"(?:he|she|they|He|She|They|it|It|we|We|I)"
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
ACCORDING = re.compile(r"\baccording to\s+(?P<who>[^,.;:\"”]{2,80}?)(?=\s*(?:[,.;:\"”]|$|"
                       r"\s+(?:on|in|at|who|which|that)\s))", re.I)
HEDGES = re.compile(
    r"\b(?:reportedly|allegedly|alleged|purportedly|supposedly|apparently|unconfirmed|"
    r"unverified|rumou?red|claim(?:s|ed)?\s+(?:that|to)|(?:is|are|was|were)\s+(?:said|believed|"
    r"thought|understood|rumou?red)\s+to|people familiar with|it is understood|"
    r"could not be (?:independently )?(?:verified|confirmed))\b", re.I)
_HEDGING_VERBS = frozenset("claimed claims alleged alleges".split())
_QUOTED = re.compile(r"[\"“][^\"“”]*[\"”]|[\"“][^\"“”]*$|^[^\"“”]*”|(?<!\w)‘[^’]{0,200}’")
_PRONOUNS = frozenset("he she they it we i".split())
_NOT_SPEAKERS = frozenset("it this that which what there".split())
LOOK_BACK = 4000  # characters of the article searched for whom "he" stands


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
        who = _previous_speaker(text, start, names_only=True) or who
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
            if verb in _HEDGING_VERBS and _NOT_SPEECH.match(plain, m.end()):
                continue  # "claimed victory" wins a title, it asserts nothing
            if who and "xxx" not in who and who.lower() not in _NOT_SPEAKERS:
                return who, verb
    return None


_NOT_SPEECH = re.compile(r"\s+(?:victory|the|a|an|his|her|their|its|responsibility|credit|"
                         r"title|\d)", re.I)


def _clean(who: str) -> str:
    who = re.sub(r"^(?:and|but|while|as|that)\s+", "", who.strip(" ,\"”“"))
    who = re.sub(r"(?:\s+(?:on|in|at))?\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|"
                 r"Sunday|today|yesterday)\.?$", "", who)
    if who.endswith(".") and not re.search(r"(?:\b[A-Z]\.){2,}$|\b(?:Jr|Sr|Inc|Co)\.$", who):
        who = who[:-1]
    return who


def _opens_quote(sentence: str) -> bool:
    """True if a quotation opens in the sentence and does not close in it."""
    straight = sentence.count('"') % 2 == 1
    curly = sentence.count("“") > sentence.count("”")
    return straight or curly


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


def _previous_speaker(text: str, start: int, names_only: bool) -> str | None:
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
        named = [m.group(0) for m in _FULL_NAME.finditer(before)
                 if m.group(0).split()[0].lower() not in _OPENERS]
        return named[-1] if named else None
    return None


_FULL_NAME = re.compile(r"(?<![\w-])[A-Z][a-z]+(?: [A-Z][a-z]+){1,2}\b(?! [A-Z])")


_LEAD_NAME = re.compile(r"[A-Z][\w’'-]+(?: [A-Z][\w’'-]+){0,2}(?= [\"“a-z])")
_OPENERS = frozenset("""the a an in on at after before when while as but and however this that
these those it its his her their there here if although""".split())
_DETERMINERS = frozenset("the a an his her its their our".split())
