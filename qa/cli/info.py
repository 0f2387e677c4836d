"""``qa info``: what the index holds."""

from __future__ import annotations

import argparse
import json
from typing import Any

from qa.cli.options import add_index


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "info", help="show what the index holds",
        description="Articles, passages, model, index type, size on disk and last update of the "
        "index.")
    add_index(parser, model=False)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)
    return parser


def _size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


def _encoder(model: str) -> str:
    """The backend ``qa index`` and ``qa ask`` would run, and why (the model is not loaded)."""
    try:
        from embeddings import load_encoder

        enc = load_encoder(model)
    except Exception as exc:  # noqa: BLE001 - info still shows the rest
        return f"unavailable ({exc})"
    return f"{enc.backend} ({enc.backend_reason})"


def _collection(raw: dict[str, Any], *, json_ready: bool = False) -> dict[str, Any]:
    """The rows of an index kept in Qdrant: its collection, points and shards."""
    if "collection" not in raw:
        return {}
    if json_ready:
        keys = ("store", "collection", "points", "shards", "replicas", "status", "quantization",
                "on_disk")
        return {k: raw[k] for k in keys}
    return {
        "store": raw["store"],
        "collection": f"{raw['collection']} ({raw['status']})",
        "points": f"{raw['points']:,} (articles, passages, files, term statistics, metadata)",
        "shards": f"{raw['shards']} x {raw['replicas']} replica(s)",
        "dense vectors": "float32" + (", on disk" if raw["on_disk"] else "") + (
            ", int8 scalar quantization in RAM" if raw["quantization"] == "int8" else ""),
    }


def run(args: argparse.Namespace) -> int:
    from qa.indexing.location import open_index
    from qa.models import IndexInfo

    store = open_index(args.index)
    try:
        raw = store.info()
        info = IndexInfo(**raw)
    finally:
        store.close()
    if args.json:
        print(info.model_dump_json() if "collection" not in raw else
              json.dumps({**info.model_dump(mode="json"), **_collection(raw, json_ready=True)}))
        return 0
    kind = "exact" if info.index_type.endswith("Flat") else "approximate"
    dates = (f"{info.earliest} to {info.latest}" if info.earliest else "unknown")
    rows = [
        ("index", info.path),
        ("articles", f"{info.articles:,}"),
        ("passages", f"{info.passages:,}"),
        ("stories", f"{info.copy_groups:,} (an article and its copies count once)"
         if info.copy_groups is not None else "unknown"),
        ("model", f"{info.model} ({info.dim}-dim)"),
        ("index type", f"{info.index_type} ({kind})"),
        ("encoder", _encoder(info.model)),
        ("size on disk", _size(info.size_bytes) if "collection" not in raw or info.size_bytes
         else "on the server"),
        *((k, str(v)) for k, v in _collection(raw).items()),
        ("last update", info.updated.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
         if info.updated else "never"),
        ("published", dates),
        ("sources", ", ".join(info.sources) or "none named"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0
