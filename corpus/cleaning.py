"""Turn a real page's text into a headline, a clean body and the facts about the article.

Real pages carry share buttons, navigation, update stamps, site names glued to the headline,
the headline repeated, datelines, inline "related story" headlines, photo captions and
mojibake. ftfy repairs the encoding damage it can; the rules below cover what no library does.
Facts found along the way (outlet, site, date) go to fields, never into the body.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import ftfy

from corpus.dates import parse_date

# A headline and the site name glued to it: "Headline - Site", "Headline • Site", "Headline | Site".
_TITLE_SEPARATORS = (" | ", " • ", " - ", " — ", " – ", " :: ", " · ")
# Separators that, unlike " - ", almost never occur inside a headline itself.
_SITE_ONLY_SEPARATORS = (" | ", " • ", " :: ")

_NAV = {
    "all news", "related articles", "related", "related stories", "related news",
    "read more", "more news", "home", "menu", "search", "advertisement", "skip to content",
    "share", "share this article", "comments", "most read", "top stories", "latest news",
    "you may also like", "trending", "subscribe", "sign in", "log in", "print",
}
_SOCIAL = (
    "facebook|twitter|x|linkedin|whatsapp|telegram|email|e-mail|reddit|pinterest|tumblr|"
    "messenger|vk|weibo|wechat|print|copy link|comments?|shares?"
)
_JUNK_LINE = [
    re.compile(r"^\S+ sharing button\s*\S*$", re.I),  # "twitter sharing button twitter"
    re.compile(rf"^(?:{_SOCIAL})?\s*\d[\d,.]*[km]?$", re.I),  # share counts: "50", "Facebook 50"
    re.compile(rf"^(?:share (?:on|via) )?(?:{_SOCIAL})$", re.I),
    re.compile(r"^[•·*\-]?\s*last update[sd]?\s*:?.*$", re.I),
    re.compile(r"^[\w.-]+_[\w.-]+$"),  # an image file name: "WEB_Syria"
    re.compile(r"^(?:photo|image|file photo|picture)\s*:.*$", re.I),
    re.compile(r"^the views expressed in this article .*$", re.I),
    re.compile(r"^(?:copyright|©|\(c\)) .*$", re.I),
    re.compile(r"^all rights reserved\.?$", re.I),
    re.compile(r"^(?:read more|related|see also|also read|recommended)\s*:.*$", re.I),
]
_PUBLISHED = re.compile(
    r"^[•·*\-]?\s*(?:published|posted|first published)\b(?:\s*(?:at|on))?", re.I)
_DATE_STAMP = re.compile(
    r"^[•·*\-]?\s*(?:[A-Z][a-z]+day,?\s+)?[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4}$")
_SOURCE_LINE = re.compile(r"^(?:source|sources|via)\s*:\s*(?P<source>.+?)\.?$", re.I)
# "ANKARA - Anadolu Agency" on a line of its own.
_DATELINE_LINE = re.compile(
    r"^(?P<place>[A-Z][A-Z .,'’-]{2,40}?)\s+[-–—]\s+(?P<source>[A-Z][\w .&'’-]{1,60})$")
# "UNITED NATIONS, February 14. /TASS/. ", "LONDON (Reuters) - ", "BEIRUT, March 3 (AP) — "
_DATELINE_PREFIX = [
    re.compile(r"^(?P<place>[A-Z][A-Z .'’-]{2,40}),\s+(?P<date>[A-Z][a-z]+\.? \d{1,2})\.\s*"
               r"/(?P<source>[A-Z][\w-]{1,20})/\.\s+"),
    re.compile(r"^(?P<place>[A-Z][A-Z .'’-]{2,40})(?:,\s+(?P<date>[A-Z][a-z]+\.? \d{1,2}))?\s*"
               r"\((?P<source>[A-Z][\w .&-]{1,30})\)\s*[-–—]+\s*"),
]
_CREDIT = re.compile(r"\s(?:AFP|Reuters|AP|EPA|Getty Images|AP Photo|Anadolu Agency|Xinhua)"
                     r"(?:/[\w .]+)?$")
_TERMINAL = ".!?…:;"
HEADING_MAX_WORDS = 25
_LIST_ITEM = re.compile(r"^(?:[-*•–]\s+|\d{1,3}[.)]?\s+)\S")
_TRAILING_CLOSERS = "\"'”’»)]*"
_WORD_MIDDOT = re.compile(r"(?<=[A-Za-z])·(?=[a-z])")


@dataclass
class Cleaned:
    """A page split into its headline, body and facts."""

    title: str | None
    text: str
    title_line: str | None = None  # the line the headline was read from, site name and all
    source: str | None = None
    site: str | None = None
    published: dt.date | None = None


def fix_text(text: str) -> str:
    """Repair encoding damage and normalise white space, keeping line structure."""
    text = ftfy.fix_text(text, normalization="NFC", uncurl_quotes=False)
    # "St·phane": a letter lost to a lossy re-encoding shows as a word-internal middle dot
    # (ftfy cannot restore a byte that is gone). "é" is by far the likeliest letter in news
    # names; Catalan "l·l" is left alone.
    text = _WORD_MIDDOT.sub(lambda m: m.group(0) if _is_catalan(m) else "é", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = re.sub(r"[\u200b\u200c\u200d\ufeff]", "", text)
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n"))


def _is_catalan(m: re.Match[str]) -> bool:
    s = m.string
    return s[m.start() - 1 : m.start()].lower() == "l" and s[m.end() : m.end() + 1] == "l"


def normalise(line: str) -> str:
    """A line's letters and digits only, case-folded: for comparing headlines."""
    return re.sub(r"[\W_]+", " ", line.casefold()).strip()


def clean_page(raw: str, *, title: str | None = None, site: str | None = None) -> Cleaned:
    """Clean a page's text. Without ``title``, the headline is found in the first lines."""
    lines = fix_text(raw).split("\n")
    found = Cleaned(title=title, text="", site=site)
    if title is None:
        _find_title(lines, found)
    elif site is None:
        found.title, found.site = _split_site(title, lines)
    kept = _filter_lines(lines, found)
    found.text = _join_paragraphs(kept)
    if found.source is None:
        found.source = wire_agency(found.text)
    return found


# The body says which agency reported it: "An AFP correspondent accompanied the rebels",
# "a Reuters reporter saw". Read only when the page names no outlet otherwise. ("told AFP" is
# not enough: other outlets write "told the Associated Press" when quoting an agency.)
_WIRE = r"AFP|Reuters|AP|Associated Press|Anadolu Agency|Xinhua|dpa|EFE"
_WIRE_REPORTING = re.compile(
    rf"\b(?:[Aa]n?|[Tt]he) (?P<a>{_WIRE}) (?:correspondent|reporter|journalist|photographer)s?\b")


def wire_agency(text: str) -> str | None:
    """The news agency the body names as its reporter, when it names exactly one."""
    found = {m.group("a") for m in _WIRE_REPORTING.finditer(text)}
    return found.pop() if len(found) == 1 else None


def _header(lines: list[str], limit: int = 8) -> list[str]:
    return [ln for ln in lines if ln][:limit]


def _find_title(lines: list[str], found: Cleaned) -> None:
    for line in _header(lines):
        if _is_junk(line) or _PUBLISHED.match(line) or _DATE_STAMP.match(line):
            continue
        found.title, found.site = _split_site(line, lines)
        found.title_line = line
        return


def _split_site(line: str, lines: list[str]) -> tuple[str, str | None]:
    """Split "Headline - Site" when the page confirms it (the bare headline or site name stands
    on a line of its own), or when the separator is one headlines do not use."""
    others = {normalise(x) for x in _header(lines, 12) if x != line}
    for sep in _TITLE_SEPARATORS:
        if sep not in line:
            continue
        head, _, tail = line.rpartition(sep)
        if normalise(head) in others or normalise(tail) in others:
            return head.strip(), tail.strip()
        if sep in _SITE_ONLY_SEPARATORS and len(tail.split()) <= 6:
            return head.strip(), tail.strip()
    return line.strip(), None


def _is_junk(line: str) -> bool:
    low = line.casefold().strip(" .:•·*-")
    return low in _NAV or any(p.match(line) for p in _JUNK_LINE)


def _filter_lines(lines: list[str], found: Cleaned) -> list[str]:
    """Drop boilerplate lines, recording the facts they carry. Blank lines are kept."""
    drop = {normalise(x or "") for x in (found.title, found.site, found.title_line)} - {""}
    kept: list[str] = []
    previous = ""
    for line in lines:
        if not line:
            kept.append(line)
            continue
        norm = normalise(line)
        if norm in drop or _is_junk(line) or (norm == previous and not _ends_sentence(line)):
            continue
        previous = norm
        if _take_facts(line, found):
            continue
        kept.append(_strip_dateline(line, found))
    return _drop_headings(kept)


def _take_facts(line: str, found: Cleaned) -> bool:
    """If ``line`` only states a fact about the article, record it and return True."""
    if _PUBLISHED.match(line):
        found.published = parse_date(line) or found.published
        return True
    if _DATE_STAMP.match(line):  # a page's "today" stamp: a date, but not the publication date
        return True
    m = _SOURCE_LINE.match(line)
    if m and len(m.group("source").split()) <= 6:
        found.source = m.group("source").strip()
        return True
    m = _DATELINE_LINE.match(line)
    if m and len(m.group("source").split()) <= 5:
        found.source = found.source or m.group("source").strip()
        return True
    return False


def _strip_dateline(line: str, found: Cleaned) -> str:
    for pattern in _DATELINE_PREFIX:
        m = pattern.match(line)
        if m and len(line) > m.end():
            found.source = found.source or m.group("source").strip()
            return line[m.end() :]
    return line


def _ends_sentence(line: str) -> bool:
    return line.rstrip(_TRAILING_CLOSERS + " ")[-1:] in _TERMINAL


def _drop_headings(lines: list[str]) -> list[str]:
    """Body prose ends its paragraphs with punctuation; headlines, sub-headings, inline related
    stories, captions and navigation do not. Drop those, unless the text has no punctuated
    paragraphs at all (a bare note), where nothing would remain."""
    listed = _list_runs(lines)
    text_lines = [ln for ln in lines if ln]
    prose = [ln for i, ln in enumerate(lines) if ln and (i in listed or not _is_heading(ln))]
    if not prose or sum(map(len, prose)) < 0.5 * sum(map(len, text_lines)):
        return lines
    return [ln for i, ln in enumerate(lines) if not ln or i in listed or not _is_heading(ln)]


def _list_runs(lines: list[str]) -> set[int]:
    """Indices of lines in runs of three or more list items ("- x", "12 x", "Arsenal v Stoke"):
    a list of results or winners is content, while a heading stands alone."""
    items = [i for i, ln in enumerate(lines)
             if ln and (_LIST_ITEM.match(ln) or not _ends_sentence(ln))]
    keep: set[int] = set()
    run: list[int] = []
    for i in [*items, len(lines) + 10]:
        if run and i - run[-1] > 2:  # allow one blank line between items
            if len(run) >= 3:
                keep.update(run)
            run = []
        run.append(i)
    return keep


def _is_heading(line: str) -> bool:
    """A headline, caption or link: unpunctuated and short, or a caption ending in a credit.
    A long unpunctuated line is prose whose full stop was lost, and stays."""
    if _CREDIT.search(line) and len(line.split()) <= 40:
        return True
    return not _ends_sentence(line) and len(line.split()) <= HEADING_MAX_WORDS


def _join_paragraphs(lines: list[str]) -> str:
    """Lines separated by blank lines are paragraphs. Inside a block, a line that continues an
    unfinished sentence in lower case is a soft wrap; any other line starts a new paragraph."""
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
        elif current and not _ends_sentence(current) and line[:1].islower():
            current += " " + line
        else:
            if current:
                paragraphs.append(current)
            current = line
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)
