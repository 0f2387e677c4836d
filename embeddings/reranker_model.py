"""The answer re-ranker's model: a cross-encoder that scores (question, sentence) pairs, the
bundled MiniLM read as one sequence ``[CLS] question [SEP] sentence [SEP]``, mean-pooled, then a
linear head.

It is the bundled weights plus a small adapter file: low-rank updates (LoRA, rank ``RANK``) of
every linear layer of the six transformer blocks, and the head. ``bench/train_reranker.py``
trains the adapter; the product ships the file it writes and merges it into the bundled weights
when the scorer loads (no download). The adapter records the sha256 of the weights it was
trained on, and loading checks it: on other weights the scorer refuses (``RerankerError``).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.files import atomic_file
from embeddings.model_files import DEFAULT_MODEL, ModelFiles, resolve_model, weights_sha256

RANK = 16
ALPHA = 32.0
MAX_TOKENS = 128          # question and sentence together; a longer sentence is cut
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value",
           "attention.output.dense", "intermediate.dense", "output.dense")


class RerankerError(RuntimeError):
    """The re-ranker cannot be loaded (missing or mismatched files)."""


def bundled_files() -> ModelFiles:
    """The bundled MiniLM the re-ranker is made of (whatever model embeds the passages)."""
    return resolve_model(DEFAULT_MODEL)


def _lora(base: Any, rank: int, alpha: float) -> Any:
    """``base`` (a linear layer, frozen) plus a trainable low-rank update."""
    import torch

    nn = torch.nn

    class LoRALinear(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = base
            for p in self.base.parameters():
                p.requires_grad_(False)
            self.a = nn.Parameter(torch.empty(rank, base.in_features))
            self.b = nn.Parameter(torch.zeros(base.out_features, rank))
            nn.init.kaiming_uniform_(self.a, a=5 ** 0.5)
            self.scale = alpha / rank

        def forward(self, x: Any) -> Any:
            return self.base(x) + (x @ self.a.t() @ self.b.t()) * self.scale

    return LoRALinear()


def _modules(encoder: Any) -> list[tuple[str, Any, str, Any]]:
    """(name, parent, attribute, linear) of every adapted linear layer."""
    out = []
    for i, layer in enumerate(encoder.encoder.layer):
        for target in TARGETS:
            *path, attr = target.split(".")
            parent = layer
            for part in path:
                parent = getattr(parent, part)
            out.append((f"layer.{i}.{target}", parent, attr, getattr(parent, attr)))
    return out


class PairModel:
    """The cross-encoder as a torch module: :meth:`from_bundled` builds it (torch is imported
    only then). Called on token tensors it gives one score a pair (what is exported to ONNX);
    ``score(questions, sentences)`` tokenizes first."""

    @staticmethod
    def from_bundled(*, train_rank: int | None = None, adapter: Path | None = None) -> Any:
        """The bundled MiniLM with a head: adapters of ``train_rank`` to train, or ``adapter``
        (a file ``save_adapter`` wrote) merged in for scoring."""
        import torch
        from transformers import AutoModel, AutoTokenizer

        files = bundled_files()
        nn = torch.nn

        class _PairModel(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.files = files
                self.tokenizer = AutoTokenizer.from_pretrained(str(files.path))
                self.encoder = AutoModel.from_pretrained(str(files.path))
                for p in self.encoder.parameters():
                    p.requires_grad_(False)
                self.head = nn.Linear(self.encoder.config.hidden_size, 1)
                nn.init.normal_(self.head.weight, std=0.02)
                nn.init.zeros_(self.head.bias)
                self.weights_sha256 = weights_sha256(files)

            def encode(self, questions: Sequence[str], sentences: Sequence[str]) -> Any:
                return self.tokenizer(list(questions), list(sentences), padding=True,
                                      truncation="only_second", max_length=MAX_TOKENS,
                                      return_tensors="pt")

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                out = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                   token_type_ids=token_type_ids).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(out.dtype)
                pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                return self.head(pooled).squeeze(-1)

            def score(self, questions: Sequence[str], sentences: Sequence[str]) -> Any:
                x = self.encode(questions, sentences)
                return self(x["input_ids"], x["attention_mask"], x["token_type_ids"])

        model = _PairModel()
        if train_rank is not None:
            for _, parent, attr, linear in _modules(model.encoder):
                setattr(parent, attr, _lora(linear, train_rank, ALPHA))
        if adapter is not None:
            _merge(model, adapter)
            model.eval()
        return model


def save_adapter(model: Any, path: Path, meta: dict[str, Any]) -> None:
    """The trained adapters and head of ``model`` to ``path`` (npz, float16)."""
    arrays: dict[str, np.ndarray] = {}
    for name, parent, attr, _ in _modules(model.encoder):
        lora = getattr(parent, attr)
        arrays[f"{name}.a"] = lora.a.detach().numpy().astype(np.float16)
        arrays[f"{name}.b"] = (lora.b.detach().numpy() * lora.scale).astype(np.float16)
    arrays["head.weight"] = model.head.weight.detach().numpy().astype(np.float32)
    arrays["head.bias"] = model.head.bias.detach().numpy().astype(np.float32)
    info = dict(meta, weights_sha256=model.weights_sha256)
    arrays["meta"] = np.frombuffer(json.dumps(info, sort_keys=True).encode(), dtype=np.uint8)
    with atomic_file(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)  # type: ignore[arg-type]


def _read_adapter(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and arrays of an adapter file, or RerankerError saying what is wrong."""
    try:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(bytes(arrays.pop("meta")).decode())
    except KeyError:
        raise RerankerError(f"the re-ranker adapter {path} has no metadata: rebuild it with "
                            "`python -m bench train-reranker`") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise RerankerError(f"cannot read the re-ranker adapter {path} ({type(exc).__name__}): "
                            "reinstall the package or rebuild it with `python -m bench "
                            "train-reranker`") from None
    return meta, arrays


def adapter_meta(path: Path) -> dict[str, Any]:
    """What the adapter file says of how it was made (and on which weights)."""
    return _read_adapter(path)[0]


def _merge(model: Any, path: Path) -> None:
    import torch

    meta, z = _read_adapter(path)
    if meta.get("weights_sha256") != model.weights_sha256:
        raise RerankerError(f"the re-ranker adapter {path} was trained on other weights than "
                            "the bundled model's: rebuild it with `python -m bench "
                            "train-reranker`")
    try:
        with torch.no_grad():
            for name, _, _, linear in _modules(model.encoder):
                a = torch.from_numpy(z[f"{name}.a"].astype(np.float32))
                b = torch.from_numpy(z[f"{name}.b"].astype(np.float32))
                linear.weight += b @ a
            model.head.weight.copy_(torch.from_numpy(z["head.weight"]))
            model.head.bias.copy_(torch.from_numpy(z["head.bias"]))
    except (KeyError, RuntimeError) as exc:
        raise RerankerError(f"the re-ranker adapter {path} does not fit the model "
                            f"({type(exc).__name__}): rebuild it with `python -m bench "
                            "train-reranker`") from None


__all__ = ["ALPHA", "MAX_TOKENS", "RANK", "PairModel", "RerankerError", "adapter_meta",
           "bundled_files", "save_adapter"]
