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


def test_openvino_runs_float_layers_at_f32_unless_the_cpu_has_amx(monkeypatch):
    from embeddings.backends.base import openvino_config

    monkeypatch.delenv("QA_THREADS", raising=False)
    monkeypatch.setattr(cpu, "cpu_class", lambda have=None: "avx512-vnni")
    assert openvino_config() == {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
    monkeypatch.setattr(cpu, "cpu_class", lambda have=None: "amx")  # bf16 on AMX tiles
    assert openvino_config() == {"PERFORMANCE_HINT": "LATENCY"}
    assert openvino_config(exact=True)["INFERENCE_PRECISION_HINT"] == "f32"  # fp32, references
    monkeypatch.setenv("QA_THREADS", "1")
    assert openvino_config()["INFERENCE_NUM_THREADS"] == 1


def test_the_openvino_models_compile_as_configured_here():
    import openvino as ov

    from embeddings import load_encoder
    from embeddings.reranker import Reranker
    from qa.assistant import RERANKER_ADAPTER

    want = ov.Type.f32 if cpu.cpu_class() != "amx" else None
    runtime = load_encoder(backend="openvino-int8")._load()
    scorer = Reranker(RERANKER_ADAPTER, "openvino")._load()
    for compiled in (runtime.compiled, scorer.model):
        got = compiled.get_property("INFERENCE_PRECISION_HINT")
        assert want is None or got == want
