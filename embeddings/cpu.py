"""Which encoder backend suits this CPU: its instruction-set class from ``/proc/cpuinfo`` flags
(no extra dependency), and the backend measured fastest on that class (``bench encoder``).

Classes, best first: ``amx`` (AMX tiles, bf16/int8), ``avx512-vnni`` (AVX-512 with VNNI int8 dot
products, maybe BF16), ``avx-vnni`` (VNNI on AVX2), ``avx2``, ``other``. int8 matrix products run
on VNNI (and AMX) in one instruction per 4 multiply-adds; without VNNI onnxruntime still
quantizes but gains less.
"""

from __future__ import annotations

import functools
import importlib.util
import platform
from pathlib import Path

# class -> (backend, why). Measured with `python -m bench encoder` (256-word-piece passages,
# batch 32): on an AVX-512 VNNI Xeon (2026-11-30, quiet) openvino-int8 93.2 passages/s,
# onnx-int8 47.2, torch-fp32 34.1, onnx-fp32 33.0 (2026-12-01, batch 16, OpenVINO's float layers
# at f32: openvino-int8 97.1, onnx-int8 45.7); on an AVX2-only EPYC (first session)
# onnx-int8 28.5/s, torch-fp32 19.7, onnx-fp32 9.5, torch-bf16 1.7 (OpenVINO int8 not measured
# there). AMX and AVX-VNNI are not measured: OpenVINO is kept for AMX (int8 tiles), onnxruntime
# for AVX-VNNI. Override with --backend / QA_BACKEND.
BEST = {
    "amx": ("openvino-int8", "AMX CPU: static int8 via OpenVINO (AMX itself not measured)"),
    "avx512-vnni": ("openvino-int8", "AVX-512 VNNI CPU: static int8 via OpenVINO measured "
                    "fastest (2x onnx-int8)"),
    "avx-vnni": ("onnx-int8", "AVX-VNNI CPU: int8 dot products in hardware (not measured)"),
    "avx2": ("onnx-int8", "AVX2 CPU: int8 measured fastest"),
    "other": ("onnx-int8", "CPU class not recognised: int8"),
}


@functools.lru_cache(maxsize=1)
def flags() -> frozenset[str]:
    """The CPU's feature flags (empty when ``/proc/cpuinfo`` is not there, e.g. macOS)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_class(have: frozenset[str] | None = None) -> str:
    have = flags() if have is None else have
    if {"amx_tile", "amx_bf16"} <= have or {"amx_tile", "amx_int8"} <= have:
        return "amx"
    if "avx512_vnni" in have or "avx512vnni" in have:
        return "avx512-vnni"
    if "avx_vnni" in have:
        return "avx-vnni"
    if "avx2" in have:
        return "avx2"
    return "other"


def best_backend() -> tuple[str, str]:
    """``(backend, reason)`` for this CPU (OpenVINO's only where it and NNCF are installed)."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i686", "x86"):
        return "onnx-int8", f"{platform.machine() or 'unknown'} CPU: int8"
    name, why = BEST[cpu_class()]
    if name.startswith("openvino") and not _installed("openvino", "nncf"):
        return "onnx-int8", f"{why.split(':')[0]}: int8 via onnxruntime (OpenVINO not installed)"
    return name, why


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)
