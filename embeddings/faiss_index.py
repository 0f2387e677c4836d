"""The faiss side of an index: which index type for which size, and the ``faiss.index`` file.

The file is ``MAGIC``, a 4-byte little-endian header length, a JSON header (``generation``,
``index_type``, ``ntotal``, ``payload_bytes``, ``crc32``) and the ``faiss.serialize_index``
bytes. ``head -c 300 faiss.index`` shows the header. It is derived data: the vectors live in
SQLite, so a missing, stale or damaged file is rebuilt or topped up from there.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.files import atomic_file

MAGIC = b"QAFAISS1"
FLAT = "IDMap2,Flat"
# Past this many passages exact search costs more than it gives (bench/faiss_scale.py: at 100k,
# 14 ms a query and 146 MB; at 1M, 140 ms and 1.5 GB), while IVF + SQ8 with exact re-ranking
# keeps recall@10 >= 0.99 at ~1 ms and a quarter of the memory. Back to exact below half of it.
APPROX_FROM = 100_000
NPROBE = 32  # IVF lists searched per query; recall@10 >= 0.95 at 100k-1M (bench/faiss_scale.py)
HEADER_ROOM = 256  # bytes kept for the JSON header (about 120 are used)
RERANK = 4  # IVF candidates per wanted hit, re-scored with the exact vectors


class IndexFileError(Exception):
    """``faiss.index`` is missing, truncated or unreadable (the store rebuilds it)."""


@dataclass
class LoadedIndex:
    index: Any  # a faiss.Index holding vids as ids
    index_type: str
    generation: int


def choose_type(n: int, current: str | None = None) -> str:
    """The index type for ``n`` passages; ``current`` is kept while it still fits (hysteresis)."""
    if n < APPROX_FROM // 2 or (n < APPROX_FROM and (current is None or current == FLAT)):
        return FLAT
    nlist = ivf_lists(n)
    if current and current.startswith("IVF"):
        have = int(current.split(",")[0][3:])
        if nlist // 2 <= have <= nlist * 2:
            return current
    return f"IVF{nlist},SQ8"


def ivf_lists(n: int) -> int:
    """About 2 * sqrt(n) inverted lists, as a power of two (re-ranking makes up for few)."""
    return 1 << max(6, round(float(np.log2(2 * np.sqrt(max(n, 1))))))


def is_exact(index_type: str) -> bool:
    return index_type == FLAT


def build(index_type: str, dim: int, vids: np.ndarray, vectors: np.ndarray) -> Any:
    """A new index of ``index_type`` holding ``vectors`` under ids ``vids`` (trained on them)."""
    want = training_size(index_type)
    sample = vectors
    if want and len(vectors) > want:
        sample = vectors[np.sort(np.random.default_rng(0).choice(len(vectors), want, False))]
    index = new_index(index_type, dim, sample if want else None)
    add(index, vids, vectors)
    return index


def training_size(index_type: str) -> int:
    """How many vectors to train ``index_type`` on (0: it needs no training)."""
    if not index_type.startswith("IVF"):
        return 0
    return 40 * int(index_type.split(",")[0][3:])


def new_index(index_type: str, dim: int, sample: np.ndarray | None = None) -> Any:
    """An empty index of ``index_type``, trained on ``sample`` if it needs training."""
    import faiss

    index = faiss.index_factory(dim, index_type, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        if sample is None or not len(sample):
            raise ValueError(f"a {index_type} index needs vectors to train on")
        if hasattr(index, "cp"):
            index.cp.niter = 10
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
    return index


def add(index: Any, vids: np.ndarray, vectors: np.ndarray) -> None:
    if len(vids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                           np.ascontiguousarray(vids, dtype=np.int64))


def remove(index: Any, vids: np.ndarray) -> None:
    import faiss

    if len(vids):
        index.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(vids, dtype=np.int64)))


def search(index: Any, index_type: str, queries: np.ndarray, k: int,
           allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, vids)`` of the ``k`` nearest, ``-1`` in empty slots. For IVF, ``k`` should
    already include the re-ranking margin."""
    import faiss

    queries = np.ascontiguousarray(queries, dtype=np.float32)
    keep = []
    if is_exact(index_type):
        params = None
        if allowed is not None:
            sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]
            keep.append(sel)
    else:
        params = faiss.SearchParametersIVF(nprobe=NPROBE)  # type: ignore[call-arg]
        if allowed is not None:
            sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params.sel = sel
            keep.append(sel)
    threads = faiss.omp_get_max_threads()
    if len(queries) < 16:  # threads cost more than they give for a few queries on a busy box
        faiss.omp_set_num_threads(1)
    try:
        scores, ids = index.search(queries, k, params=params)
    finally:
        faiss.omp_set_num_threads(threads)
    scores[ids < 0] = -np.inf
    return scores.astype(np.float32, copy=False), ids.astype(np.int64, copy=False)


def save(index: Any, index_type: str, generation: int, path: Path) -> None:
    """Write ``index`` atomically (temp file, fsync, ``os.replace``), streamed: no second copy
    of the vectors in memory (``serialize_index`` made one: 150 MB more at 100k passages, at
    the end of ``qa index``). Room is left for the header, written once the payload's size and
    checksum are known (padded with spaces: the JSON reads the same)."""
    import faiss

    with atomic_file(path) as tmp, open(tmp, "wb") as fh:
        fh.write(bytes(len(MAGIC) + 4 + HEADER_ROOM))
        crc, size = 0, 0

        def put(chunk: bytes) -> int:
            nonlocal crc, size
            fh.write(chunk)
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)
            return len(chunk)

        faiss.write_index(index, faiss.PyCallbackIOWriter(put))  # type: ignore[attr-defined]
        header = json.dumps({
            "generation": generation, "index_type": index_type, "ntotal": int(index.ntotal),
            "payload_bytes": size, "crc32": crc}).encode()
        if len(header) > HEADER_ROOM:
            raise ValueError(f"faiss.index header of {len(header)} bytes")
        fh.seek(0)
        fh.write(MAGIC + struct.pack("<I", HEADER_ROOM) + header.ljust(HEADER_ROOM))


_HEADER_FIELDS = {"generation": int, "index_type": str, "ntotal": int, "payload_bytes": int,
                  "crc32": int}


def read_header(path: Path) -> dict[str, Any]:
    """The JSON header of ``faiss.index`` with ``offset`` (where the payload starts) added;
    :class:`IndexFileError` unless it is an object with every field, each of the right type."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC) + 4)
            if len(head) < len(MAGIC) + 4 or not head.startswith(MAGIC):
                raise IndexFileError(f"{path} is not a faiss index written by this program")
            (size,) = struct.unpack("<I", head[len(MAGIC):])
            header = json.loads(fh.read(size))
    except FileNotFoundError:
        raise IndexFileError(f"{path} is missing") from None
    except (OSError, ValueError, struct.error) as exc:
        raise IndexFileError(f"{path} is unreadable ({exc})") from None
    if not isinstance(header, dict):
        raise IndexFileError(f"{path} has a malformed header (a JSON {type(header).__name__}, "
                             "not an object)")
    for name, kind in _HEADER_FIELDS.items():
        value = header.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise IndexFileError(f"{path} has a malformed header ({name}: {value!r})")
    if header["generation"] < 0 or header["ntotal"] < 0 or header["payload_bytes"] < 0:
        raise IndexFileError(f"{path} has a malformed header (a negative count)")
    header["offset"] = len(MAGIC) + 4 + size
    return header


def load(path: Path) -> LoadedIndex:
    """Read ``faiss.index``; :class:`IndexFileError` if it is missing, truncated or damaged."""
    import faiss

    header = read_header(path)
    want = header["payload_bytes"]
    try:  # checked whole before faiss reads it (a damaged count could ask for any memory)
        with open(path, "rb") as fh:
            fh.seek(header["offset"])
            crc, size = 0, 0
            while chunk := fh.read(1 << 20):
                crc, size = zlib.crc32(chunk, crc), size + len(chunk)
            if size != want:
                raise IndexFileError(f"{path} is truncated ({size} of {want} bytes)"
                                     if size < want else
                                     f"{path} has {size - want} bytes after its payload")
            if crc != header["crc32"]:
                raise IndexFileError(f"{path} is damaged (checksum mismatch)")
            fh.seek(header["offset"])  # then streamed: never held whole in memory twice
            stream = faiss.PyCallbackIOReader(fh.read)  # type: ignore[attr-defined]
            index = faiss.read_index(stream)
    except OSError as exc:
        raise IndexFileError(f"{path} is unreadable ({exc})") from None
    except RuntimeError as exc:
        raise IndexFileError(f"{path} is unreadable ({str(exc).splitlines()[0]})") from None
    if int(index.ntotal) != header["ntotal"]:
        raise IndexFileError(f"{path} holds {index.ntotal} vectors, its header says "
                             f"{header['ntotal']}")
    return LoadedIndex(index=index, index_type=header["index_type"],
                       generation=header["generation"])

