"""What the points of a collection hold. One collection is one index; its points are told apart
by the ``kind`` payload field:

- ``meta``: one point: the model, the generation, term statistics, the writer's lock and its
  journal (see :mod:`embeddings.qdrant.meta`);
- ``article``: an article and its text, no vector (id: uuid5 of the article id);
- ``passage``: a passage (id: its vid, see :func:`vid_of`), with its offsets, sentence spans,
  text and article fields copied for filters and reading; its dense vector, its sparse term
  vector, and its sentence vectors (4-bit codes in the payload: read, never searched);
- ``file``: a file recorded as indexed (id: uuid5 of its path);
- ``df``: term document frequencies, in buckets (see :mod:`embeddings.qdrant.terms`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

import numpy as np
from qdrant_client import models as qm

from corpus.models import Article, Passage, Sentence
from embeddings import database as db
from embeddings.models import StoredPassage

NAMESPACE = uuid.UUID("6f1c1d3e-2a4b-5c6d-8e9f-0a1b2c3d4e5f")
DENSE = "dense"
SPARSE = "terms"
KIND = "kind"
META, ARTICLE, PASSAGE, FILE, DF = "meta", "article", "passage", "file", "df"
SENTENCES = "sv"  # payload key of the sentence vectors
# payload indexes (a server uses them for filters; local mode ignores them)
INDEXES: dict[str, qm.PayloadSchemaType] = {
    KIND: qm.PayloadSchemaType.KEYWORD, "article_id": qm.PayloadSchemaType.KEYWORD,
    "outlets": qm.PayloadSchemaType.KEYWORD, "day": qm.PayloadSchemaType.INTEGER,
    "path": qm.PayloadSchemaType.KEYWORD, "dirs": qm.PayloadSchemaType.KEYWORD,
    "has_sv": qm.PayloadSchemaType.BOOL, "group": qm.PayloadSchemaType.KEYWORD,
    "head": qm.PayloadSchemaType.BOOL, "source": qm.PayloadSchemaType.KEYWORD,
    "seq": qm.PayloadSchemaType.INTEGER,
}
META_ID = str(uuid.uuid5(NAMESPACE, "meta"))


def article_point(article_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"article:{article_id}"))


def file_point(path: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"file:{path}"))


def df_point(bucket: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"df:{bucket}"))


def vid_of(passage_id: str, content_hash: str) -> int:
    """A passage's vid and point id: 63 bits of a hash of its id and its article's content hash.
    Writing the same article again gives the same ids (upserts are idempotent); a changed
    article's passages get new ones, so a vid never names two texts (readers cache by vid)."""
    digest = hashlib.blake2b(f"{passage_id}\0{content_hash}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**63 - 1)


def day(date: dt.date | None) -> int | None:
    """A date as the integer YYYYMMDD: range filters and ordering on one indexed number."""
    return date.year * 10000 + date.month * 100 + date.day if date else None


def dirs(path: str | None) -> list[str]:
    """The folders above ``path``: "files under ROOT" is then one keyword match."""
    if not path:
        return []
    return [str(p) for p in PurePosixPath(path).parents if str(p) not in ("/", ".")]


def outlets(article: Article) -> list[str]:
    """What ``--source`` matches, case-insensitively: the outlet and the site."""
    return sorted({s.lower() for s in (article.source, article.site) if s})


def article_payload(article: Article, *, seq: int, generation: int, passages: int
                    ) -> dict[str, Any]:
    return {
        KIND: ARTICLE, "id": article.id, "title": article.title, "text": article.text,
        "source": article.source, "site": article.site,
        "published": article.published.isoformat() if article.published else None,
        "day": day(article.published), "url": article.url, "path": article.path,
        "dirs": dirs(article.path), "content_hash": article.content_hash,
        "group": None, "head": True, "seq": seq, "generation": generation,
        "passages": passages, "indexed_at": db.now().isoformat(),
    }


def moved_payload(article: Article) -> dict[str, Any]:
    """The fields :meth:`WriteBatch.update_metadata` refreshes (on articles and passages)."""
    return {"path": article.path, "url": article.url, "site": article.site,
            "dirs": dirs(article.path), "outlets": outlets(article)}


def article_from(payload: dict[str, Any]) -> Article:
    published = payload.get("published")
    return Article(id=payload["id"], title=payload["title"], text=payload["text"],
                   source=payload.get("source"), site=payload.get("site"),
                   published=dt.date.fromisoformat(published) if published else None,
                   url=payload.get("url"), path=payload.get("path"),
                   content_hash=payload["content_hash"])


def passage_payload(article: Article, p: Passage, *, dl: int, avgdl: float) -> dict[str, Any]:
    return {
        KIND: PASSAGE, "pid": p.id, "article_id": article.id, "idx": p.index, "start": p.start,
        "end": p.end, "text": p.text, "sentences": [[s.start, s.end] for s in p.sentences],
        "title": article.title, "source": article.source, "site": article.site,
        "outlets": outlets(article),
        "published": article.published.isoformat() if article.published else None,
        "day": day(article.published), "url": article.url, "path": article.path,
        "content_hash": article.content_hash, "dl": dl, "avgdl": avgdl, "has_sv": False,
    }


def stored_passage(vid: int, payload: dict[str, Any]) -> StoredPassage:
    published = payload.get("published")
    return StoredPassage(
        id=payload["pid"], article_id=payload["article_id"], index=payload["idx"],
        text=payload["text"], start=payload["start"], end=payload["end"],
        sentences=[Sentence(start=s, end=e) for s, e in payload["sentences"]], vid=vid,
        title=payload["title"], source=payload.get("source"),
        published=dt.date.fromisoformat(published) if published else None,
        url=payload.get("url"), path=payload.get("path"))


SENTENCE_BITS = 4  # as the folder store keeps them (schema 4 on); collections made before: 8


def encode_sentences(vectors: np.ndarray, dim: int, bits: int = SENTENCE_BITS) -> str:
    """Sentence vectors as the folder store keeps them (4-bit codes and scales; 8-bit in
    collections made before it switched), in base64: both stores then answer with the same
    numbers."""
    v = np.asarray(vectors, np.float32).reshape(-1, dim)
    blob = db.quantize4(v) if bits == 4 else db.quantize(v)
    return base64.b64encode(blob).decode("ascii")


def decode_sentences(text: str, dim: int, bits: int = SENTENCE_BITS) -> np.ndarray:
    blob = base64.b64decode(text)
    return db.dequantize4(blob, dim) if bits == 4 else db.dequantize(blob, dim, legacy=False)


def as_stored(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Passage vectors as the folder store returns them (int8 codes, back to unit length), so
    both stores rank with the very same numbers."""
    v = np.asarray(vectors, np.float32).reshape(-1, dim)
    return db.dequantize(db.quantize(v), dim, legacy=False) if len(v) else v


# -- filters ---------------------------------------------------------------------------------
def match(key: str, value: Any) -> qm.FieldCondition:
    return qm.FieldCondition(key=key, match=qm.MatchValue(value=value))


def kind(name: str, *more: qm.Condition) -> qm.Filter:
    return qm.Filter(must=[match(KIND, name), *more])


def article_conditions(source: str | None, published_from: dt.date | None,
                       published_to: dt.date | None, undated: bool = False
                       ) -> list[qm.Condition]:
    """Payload conditions for ``--source`` (outlet or site, any case) and the date range
    (inclusive; an undated article matches a range only with ``undated``)."""
    out: list[qm.Condition] = []
    if source is not None:
        out.append(match("outlets", source.lower()))
    if published_from is not None or published_to is not None:
        within = qm.FieldCondition(key="day", range=qm.Range(
            gte=day(published_from), lte=day(published_to)))
        out.append(qm.Filter(should=[within, qm.IsEmptyCondition(
            is_empty=qm.PayloadField(key="day"))]) if undated else within)
    return out


def has_ids(ids: Sequence[int]) -> qm.HasIdCondition:
    return qm.HasIdCondition(has_id=[int(i) for i in ids])
