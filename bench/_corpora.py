"""Benchmark corpora as the product sees them: articles chunked into passages by ``corpus``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from bench._common import split, squad
from bench._data import dataset
from corpus import Article, Passage


@dataclass
class Question:
    text: str
    answers: list[str]          # empty: should be refused
    gold: set[str] = field(default_factory=set)  # article ids that answer it
    grades: dict[str, int] = field(default_factory=dict)
    date: dt.date | None = None  # when it was asked (relative time words are read against it)


@dataclass
class Corpus:
    articles: list[Article]
    passages: list[Passage]
    questions: list[Question]


def _article(aid: str, title: str, text: str) -> Article:
    return Article(id=aid, title=title, text=text,
                   content_hash=hashlib.sha256(text.encode()).hexdigest())


def chunk_all(articles: list[Article], encoder, tokens: int | None = None) -> list[Passage]:
    """Passages as ``qa index`` cuts them for ``encoder`` (at ``tokens`` word pieces with the
    context header, if given)."""
    from qa.indexing.run import chunk_for_model, passage_tokens

    tokens = tokens or passage_tokens(encoder)
    return [p for a in articles for p in chunk_for_model(a, encoder, tokens)]


def squad_corpus(encoder, version: str = "1.1", part: str = "all") -> Corpus:
    """Every dev paragraph is an article; questions of the articles in ``part`` (dev: even
    article positions, test: odd). v2.0 unanswerable questions get no answers."""
    data = squad(version)
    articles, questions = [], []
    chosen = {id(a) for a in split(data, part)}
    for ai, art in enumerate(data):
        for pi, para in enumerate(art["paragraphs"]):
            aid = f"s{ai}-{pi}"
            articles.append(_article(aid, art["title"].replace("_", " "), para["context"]))
            if id(art) not in chosen:
                continue
            for qa in para["qas"]:
                answers = [] if qa.get("is_impossible") else sorted(
                    {a["text"] for a in qa["answers"]})
                questions.append(Question(qa["question"].strip(), answers, {aid}))
    return Corpus(articles, chunk_all(articles, encoder), questions)


def scifact_corpus(encoder, qrels: str = "test") -> Corpus:
    articles = []
    with dataset("scifact", "corpus.jsonl").open() as fh:
        for line in fh:
            doc = json.loads(line)
            # BEIR scores title + abstract; the title goes in as the first paragraph
            text = "\n\n".join(x for x in (doc["title"].strip(), doc["text"].strip()) if x)
            articles.append(_article(f"d{doc['_id']}", doc["title"], text))
    queries = {}
    with dataset("scifact", "queries.jsonl").open() as fh:
        for line in fh:
            q = json.loads(line)
            queries[q["_id"]] = q["text"]
    grades: dict[str, dict[str, int]] = {}
    for line in dataset("scifact", "qrels", f"{qrels}.tsv").read_text().splitlines()[1:]:
        qid, did, score = line.split("\t")
        if int(score) > 0:
            grades.setdefault(qid, {})[f"d{did}"] = int(score)
    questions = [Question(queries[q], [], set(g), g) for q, g in grades.items()]
    return Corpus(articles, chunk_all(articles, encoder), questions)
