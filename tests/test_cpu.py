"""The CPU class picks the default backend; --backend / QA_BACKEND override it."""

from __future__ import annotations

from embeddings import cpu


def test_cpu_classes():
    f = frozenset
    assert cpu.cpu_class(f("avx2 avx512f avx512_vnni amx_tile amx_bf16".split())) == "amx"
    assert cpu.cpu_class(f("avx2 avx512f avx512_vnni avx512_bf16".split())) == "avx512-vnni"
    assert cpu.cpu_class(f("avx2 avx_vnni".split())) == "avx-vnni"
    assert cpu.cpu_class(f(["avx2"])) == "avx2"
    assert cpu.cpu_class(f()) == "other"
    assert set(cpu.BEST) == {"amx", "avx512-vnni", "avx-vnni", "avx2", "other"}


def test_load_encoder_says_which_backend_and_why(monkeypatch):
    from embeddings import load_encoder

    monkeypatch.delenv("QA_BACKEND", raising=False)
    enc = load_encoder()
    assert enc.backend == cpu.best_backend()[0] and enc.backend_reason
    assert load_encoder(backend="onnx-fp32").backend_reason == "chosen with --backend"
    monkeypatch.setenv("QA_BACKEND", "torch")
    enc = load_encoder()
    assert enc.backend == "torch-fp32" and enc.backend_reason == "chosen with QA_BACKEND"
