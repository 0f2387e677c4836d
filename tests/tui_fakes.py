"""A fake assistant for the chat's layout and flow tests only (the chat's behaviour with real
answers is tested against the real sample index and model in test_tui_real.py).

It has the interface of ``qa.Assistant`` and returns real ``qa`` records with fixed contents,
so snapshots do not depend on the model. Its articles contain markup-like text ("[bold]",
"[/]") that must show as written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

from corpus.models import Article
from qa import Answer, ArticleNotFound, Citation, Hit, IndexInfo, QAError
from qa.models import Copy, ShortAnswer


def _article(article_id: str, title: str, paragraphs: list[str], source: str | None,
             published: dt.date | None) -> Article:
    text = "\n\n".join(paragraphs)
    return Article(id=article_id, title=title, text=text, source=source, published=published,
                   path=f"/news/{article_id}.txt",
                   content_hash=hashlib.sha256(text.encode()).hexdigest())


MARKUP = _article(
    "markup-01", "Council passes [bold]budget[/] after [red]late[/] vote",
    ["The city council passed the budget on Tuesday after a late vote.",
     "The finance chair wrote \"[bold]approved[/]\" on the ballot, and [/] closed the "
     "session; the budget totals 4.2 million euros.",
     "Critics said the [link=http://x]process[/link] was rushed."],
    "Daily [Courier]", dt.date(2024, 3, 5))

FILLER = [f"Paragraph {i} of the harbour report describes routine matters: tides, cranes and "
          "the schedule of the ferry, which has not changed this year." for i in range(1, 25)]
LONG = _article(
    "harbour-02", "Harbour expansion approved",
    [*FILLER, "The harbour authority said the expansion will cost 4.2 million euros.",
     "Work starts in May.", *FILLER[:6]],
    "Coastal Times", dt.date(2024, 3, 6))

OTHER = _article(
    "wire-03", "Regional roundup",
    ["A wire report put the budget at 3.9 million euros, citing an earlier draft.",
     "Other news: the ferry strike ended."],
    "Wire Agency", dt.date(2024, 3, 7))

ARTICLES = {a.id: a for a in (MARKUP, LONG, OTHER)}


def citation(n: int, article: Article, quote: str, role: str = "answer",
             score: float = 0.8) -> Citation:
    start = article.text.index(quote)
    return Citation(n=n, article_id=article.id, title=article.title, source=article.source,
                    published=article.published, path=article.path,
                    passage_id=f"{article.id}-0", quote=quote, start=start,
                    end=start + len(quote), score=score, role=role)


def hit(article: Article, paragraph: int, score: float) -> Hit:
    text = article.text.split("\n\n")[paragraph]
    start = article.text.index(text)
    return Hit(passage_id=f"{article.id}-{paragraph}", article_id=article.id, text=text,
               score=score, title=article.title, source=article.source,
               published=article.published, path=article.path, start=start,
               end=start + len(text))


FOUND_TEXT = ("The harbour authority said the expansion will cost 4.2 million euros. [1] "
              "The finance chair wrote \"[bold]approved[/]\" on the ballot, and [/] closed the "
              "session; the budget totals 4.2 million euros. [2]")
CITATIONS = [
    citation(1, LONG, "The harbour authority said the expansion will cost 4.2 million euros.",
             score=0.91),
    citation(2, MARKUP, "The finance chair wrote \"[bold]approved[/]\" on the ballot, and [/] "
             "closed the session; the budget totals 4.2 million euros.", "corroborating", 0.74),
    citation(3, OTHER, "A wire report put the budget at 3.9 million euros, citing an earlier "
             "draft.", "conflicting", 0.62),
]
RELATED = [hit(OTHER, 1, 0.31), hit(LONG, 0, 0.22)]


def evidence_answer(question: str) -> Answer:
    """FOUND_TEXT with what a news reader weighs: the short answer, who says so, hedging,
    copies of the same story, as of when, and how many independent stories."""
    first = CITATIONS[0].model_copy(update={
        "attribution": "The harbour authority",
        "copies": [Copy(article_id="copy-04", source="Harbour Herald",
                        published=dt.date(2024, 3, 6)),
                   Copy(article_id="copy-05", source="Wire Agency", published=None)]})
    third = CITATIONS[2].model_copy(update={"hedged": True})
    short = "4.2 million euros"
    start = first.start + first.quote.index(short)
    return Answer(question=question, found=True, answer=FOUND_TEXT, confidence=0.87,
                  citations=[first, CITATIONS[1], third], related=RELATED,
                  short_answer=ShortAnswer(text=short, citation=1, start=start,
                                           end=start + len(short)),
                  as_of=dt.date(2024, 3, 6), independent_outlets=2,
                  time_reading="the newest reports")


class FakeConversation:
    def __init__(self, assistant: FakeAssistant) -> None:
        self.assistant = assistant
        self.history: list[Answer] = []

    def ask(self, question: str) -> Answer:
        answer = self.assistant.ask(question, history=self.history)
        self.history.append(answer)
        return answer

    def reset(self) -> None:
        self.history.clear()


class FakeAssistant:
    """Fixed answers: a question with "weather" is refused, one with "explode" raises, any
    other gets FOUND_TEXT with three citations. ``gate``: warm_up waits for it to be set;
    ``answer_gate``: each ask waits for it."""

    def __init__(self, gate: threading.Event | None = None,
                 answer_gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.answer_gate = answer_gate
        self.asked: list[tuple[str, int]] = []   # (question, length of the history given)
        self.conversations: list[FakeConversation] = []
        self.warmed = False

    def info(self) -> IndexInfo:
        return IndexInfo(path="/news/index", articles=3, passages=42,
                         sources=sorted({a.source for a in ARTICLES.values()}),
                         earliest=dt.date(2024, 3, 5), latest=dt.date(2024, 3, 7),
                         model="sentence-transformers/all-MiniLM-L6-v2", dim=384,
                         index_type="IDMap2,Flat", size_bytes=123456)

    def warm_up(self) -> None:
        if self.gate is not None and not self.gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        self.warmed = True

    def chat(self) -> FakeConversation:
        conv = FakeConversation(self)
        self.conversations.append(conv)
        return conv

    def ask(self, question: str, *, history=None, **filters) -> Answer:
        assert self.warmed, "asked before warm_up"
        self.asked.append((question, len(history or [])))
        if self.answer_gate is not None and not self.answer_gate.wait(timeout=30):
            raise TimeoutError("the test never opened the answer gate")
        if "explode" in question:
            raise RuntimeError("the fake assistant exploded [on purpose]")
        if "weather" in question:
            return Answer(question=question, found=False,
                          answer="The articles do not cover this question.", confidence=0.12,
                          related=RELATED)
        if "how much" in question.lower():
            return evidence_answer(question)
        return Answer(question=question, found=True, answer=FOUND_TEXT, confidence=0.87,
                      citations=CITATIONS, related=RELATED)

    def search(self, query: str, k: int = 5, **filters) -> list[Hit]:
        if not query.strip():
            raise QAError("the query is empty: give some words to look for")
        hits = [hit(LONG, 24, 0.71), hit(MARKUP, 1, 0.64), hit(OTHER, 0, 0.52)]
        return hits[:k]

    def article(self, article_id: str) -> Article:
        if article_id not in ARTICLES:
            raise ArticleNotFound(f"no article with id {article_id!r} in the index")
        return ARTICLES[article_id]

    def close(self) -> None:
        pass


# -- Pilot helpers shared by the chat's tests -------------------------------------------------

async def settle(app, pilot, rounds: int = 600) -> None:
    """Wait until the app has nothing loading, queued or running (workers included)."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app.busy and not any(w.is_running for w in app.workers):
            await pilot.pause()
            return
    raise AssertionError("the chat never settled")


async def type_text(pilot, text: str) -> None:
    """Type ``text`` key by key, as a user would."""
    keys = {" ": "space", "?": "question_mark", "/": "slash", "'": "apostrophe",
            ",": "comma", ".": "full_stop", "-": "minus"}
    await pilot.press(*[keys.get(c, c) for c in text])


async def ask(app, pilot, text: str) -> None:
    """Put ``text`` in the question box, press Enter and wait for the reply."""
    from tui.prompt import PromptInput

    app.query_one(PromptInput).value = text
    await pilot.press("enter")
    await settle(app, pilot)


def notes_of(app) -> list[tuple[str, dict]]:
    """Record the app's notifications: (message, options)."""
    notes: list[tuple[str, dict]] = []

    def notify(message, **options):
        notes.append((str(message), options))

    app.notify = notify
    return notes


def screen_text(app) -> str:
    """The screen as the SVG screenshot draws it, unescaped (each style run separately)."""
    import html

    return html.unescape(app.export_screenshot()).replace("\xa0", " ")
