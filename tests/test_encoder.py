"""The encoder with the real bundled model: the default backend (the CPU's best: OpenVINO int8
with VNNI, else ONNX int8), ONNX int8 and OpenVINO int8 against torch fp32."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from embeddings import Encoder, ModelError, load_encoder
from embeddings.backends.onnx_export import RECIPE
from embeddings.model_files import DEFAULT_MODEL, DEFAULT_SHA256, ModelFiles, weights_sha256

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = [
    "The central bank raised interest rates by half a percentage point on Thursday.",
    "Rebel groups shelled the town overnight, killing at least twelve civilians.",
    "Who won the presidential election in 2020?",
    "Heavy rain caused flooding across the north of the country.",
    "Shares in the carmaker fell 8% after it cut its profit forecast.",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session", autouse=True)
def _offline():
    os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def default() -> Encoder:
    enc = load_encoder()
    enc.warm_up()  # exports and quantizes into the user cache on the first run
    return enc


@pytest.fixture(scope="session")
def onnx8() -> Encoder:
    enc = load_encoder(backend="onnx-int8")
    enc.warm_up()
    return enc


@pytest.fixture(scope="session")
def openvino8() -> Encoder:
    enc = load_encoder(backend="openvino-int8")
    enc.warm_up()  # quantizes into the user cache on the first run
    return enc


@pytest.fixture(scope="session")
def fp32() -> Encoder:
    return load_encoder(backend="torch-fp32")


@pytest.fixture(scope="session")
def long_text() -> str:
    """Real article text of well over 256 word pieces."""
    return "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(
        (ROOT / "corpus" / "samples").glob("*.txt"))[:2])


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=-1)


def test_metadata_of_the_default_model(default):
    assert default.name == DEFAULT_MODEL
    from embeddings.cpu import best_backend

    assert default.backend == best_backend()[0]
    assert (default.dim, default.max_tokens) == (384, 256)
    assert default.weights_sha256 == DEFAULT_SHA256


def test_vectors_are_float32_normalised_and_shaped(default):
    vecs = default.encode(SENTENCES, batch_size=2)
    assert vecs.shape == (len(SENTENCES), 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert default.encode([]).shape == (0, 384)
    query = default.encode_query(SENTENCES[2])
    assert query.shape == (384,) and query.dtype == np.float32
    assert _cos(query, vecs[2]) > 0.999


@pytest.mark.parametrize("name", ["default", "onnx8", "openvino8"])
def test_int8_backends_match_torch_fp32(name, fp32, long_text, request):
    enc = request.getfixturevalue(name)
    texts = SENTENCES + [long_text]
    assert _cos(enc.encode(texts), fp32.encode(texts)).min() >= 0.98


def test_torch_fp32_matches_sentence_transformers(fp32):
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(fp32.files.path), device="cpu")
    want = st.encode(SENTENCES, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(fp32.encode(SENTENCES), want, atol=1e-5)


def test_a_paraphrase_scores_higher_than_an_unrelated_sentence(default):
    q, para, other = default.encode([
        "The government raised taxes on petrol.",
        "Fuel duty was increased by ministers.",
        "The striker scored twice in the cup final.",
    ])
    assert _cos(q, para) > _cos(q, other) + 0.2


def test_backends_say_their_batch_size_without_loading():
    from embeddings.backends import batch_size

    assert load_encoder(backend="openvino-int8").batch_size == 16 == batch_size("openvino-fp32")
    assert load_encoder(backend="onnx-int8").batch_size == 32 == batch_size("torch-fp32")
    assert not load_encoder(backend="openvino-int8").loaded


def test_a_released_encoder_loads_again_and_gives_the_same_vectors(openvino8):
    before = openvino8.encode(["the bank raised rates", "a storm hit the coast"])
    openvino8.release()
    assert not openvino8.loaded
    after = openvino8.encode(["the bank raised rates", "a storm hit the coast"])
    assert openvino8.loaded and np.allclose(before, after, atol=1e-6)


def test_batches_keep_input_order_and_report_progress(default):
    texts = [s * (i + 1) for i, s in enumerate(SENTENCES)]  # different lengths, shuffled by sort
    done: list[int] = []
    vecs = default.encode(texts, batch_size=2, progress=done.append)
    assert done == [2, 2, 1]
    alone = np.stack([default.encode_query(t) for t in texts])
    assert (np.argmax(vecs @ alone.T, axis=1) == np.arange(len(texts))).all()
    assert _cos(vecs, alone).min() > 0.99


def test_long_text_is_truncated_to_max_tokens(fp32, long_text):
    from embeddings.tokenizer import Tokenizer

    assert fp32.count_tokens([long_text])[0] > 256
    cut = Tokenizer(fp32.files, 256).cut(long_text, 256)
    assert fp32.count_tokens([cut]) == [256]
    assert _cos(fp32.encode_query(long_text), fp32.encode_query(cut)) > 0.9999


def test_count_tokens_matches_the_model_tokenizer(default, long_text):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(default.files.path))
    texts = SENTENCES + [long_text, ""]
    assert default.count_tokens(texts) == [len(tok(t)["input_ids"]) for t in texts]


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, **env}, timeout=300)


def test_import_count_and_default_query_do_not_import_torch(default):
    out = _python("""
        import sys
        import embeddings
        assert "torch" not in sys.modules, "import embeddings"
        enc = embeddings.load_encoder()
        enc.count_tokens(["a few words"])
        assert "torch" not in sys.modules, "count_tokens"
        assert enc.encode_query("who won?").shape == (384,)
        assert "torch" not in sys.modules and "sentence_transformers" not in sys.modules, "query"
        print("ok")
    """)
    assert out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("model", ["no-such-model-xyz", "someone/no-such-model", "./no/such/dir"])
def test_a_missing_model_is_a_one_line_model_error(model, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty hub cache
    with pytest.raises(ModelError) as err:
        load_encoder(model)
    msg = str(err.value)
    assert "\n" not in msg and "--model" in msg and ("QA_MODEL" in msg)
    monkeypatch.setenv("QA_MODEL", model)
    with pytest.raises(ModelError):
        load_encoder()


def test_a_folder_that_is_not_a_model_is_refused(tmp_path):
    with pytest.raises(ModelError, match="not a sentence-transformers model folder"):
        load_encoder(str(tmp_path))


def test_unknown_backend_and_qa_backend_env(monkeypatch):
    with pytest.raises(ModelError, match="choose one of"):
        load_encoder(backend="gpu")
    monkeypatch.setenv("QA_BACKEND", "torch")
    assert load_encoder().backend == "torch-fp32"  # nothing loaded yet: cheap


def test_another_model_folder_by_path_works(tmp_path, default, fp32):
    copy = tmp_path / "my-model"
    shutil.copytree(default.files.path, copy)
    enc = load_encoder(str(copy))
    assert enc.name == str(copy) and enc.backend == "onnx-fp32"
    assert enc.weights_sha256 == DEFAULT_SHA256  # same weights: the cached export is reused
    assert _cos(enc.encode(SENTENCES), fp32.encode(SENTENCES)).min() > 0.9999


def test_weights_are_hashed_once_and_damage_is_reported(tmp_path, monkeypatch, default):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    fake = tmp_path / "model"
    fake.mkdir()
    (fake / "config.json").write_text("{}")
    (fake / "model.safetensors").write_bytes(b"not the real weights")
    files = ModelFiles(name=DEFAULT_MODEL, path=fake, weights=fake / "model.safetensors",
                       bundled=True)
    with pytest.raises(ModelError) as err:
        weights_sha256(files)
    assert "damaged" in str(err.value) and "\n" not in str(err.value)
    own = ModelFiles(name="mine", path=fake, weights=fake / "model.safetensors", bundled=False)
    first = weights_sha256(own)
    import embeddings.model_files as mf

    monkeypatch.setattr(mf, "_hash_file", lambda path: pytest.fail("re-hashed"))
    assert weights_sha256(own) == first


def _seed_cache(onnx8: Encoder, cache: Path) -> Path:
    """A private cache holding the shared raw and fp32 exports, so only int8 gets built."""
    from embeddings.cache import cache_dir

    src, dst = cache_dir() / "onnx", cache / "onnx"
    dst.mkdir(parents=True)
    for variant in ("raw", "fp32"):
        name = f"{DEFAULT_SHA256[:16]}-{variant}-{RECIPE}.onnx"
        os.symlink(src / name, dst / name)
    return dst / f"{DEFAULT_SHA256[:16]}-int8-{RECIPE}.onnx"


def test_two_processes_quantizing_at_once_both_succeed(tmp_path, onnx8):
    target = _seed_cache(onnx8, tmp_path / "cache")
    code = ("from embeddings import load_encoder; "
            "print(load_encoder(backend='onnx-int8').encode_query('x').shape)")
    env = {**os.environ, "QA_CACHE_DIR": str(tmp_path / "cache"), "QA_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all(o[0].strip() == "(384,)" for o in outs)
    assert target.stat().st_size > 10_000_000
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_a_damaged_cached_model_is_rebuilt(tmp_path, monkeypatch, onnx8):
    target = _seed_cache(onnx8, tmp_path / "cache")
    target.write_bytes(b"truncated")
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    enc = load_encoder(backend="onnx-int8")
    assert _cos(enc.encode(SENTENCES), onnx8.encode(SENTENCES)).min() > 0.9999
    assert target.stat().st_size > 10_000_000


PASSAGE = ("The central bank raised interest rates by half a point on Thursday. Markets fell "
           "sharply after the announcement. Analysts expect two more increases this year.")


def _spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for end in [i + 1 for i, c in enumerate(text) if c == "."]:
        spans.append((start + (text[start] == " "), end))
        start = end
    return spans


@pytest.mark.parametrize("name", ["onnx8", "openvino8", "fp32"])
def test_late_chunking_gives_passage_and_sentence_vectors_in_one_pass(name, request):
    """encode_passages: the passage vectors are encode()'s; each sentence's vector is the mean
    of its word pieces in the passage's forward pass (close to the sentence encoded alone,
    unit length); an identical passage is encoded once."""
    enc: Encoder = request.getfixturevalue(name)
    assert enc.late_chunking
    texts = [PASSAGE, "Turkey said 33 soldiers were killed in Idlib. The attack came overnight.",
             PASSAGE]
    spans = [_spans(t) for t in texts]
    calls: list[int] = []
    out, sents = enc.encode_passages(texts, spans, progress=calls.append)
    assert sum(calls) == len(texts)
    assert np.allclose(_cos(out, enc.encode(texts)), 1.0, atol=1e-3)
    assert [s.shape for s in sents] == [(len(sp), enc.dim) for sp in spans]
    for text, sp, sv in zip(texts, spans, sents, strict=True):
        assert np.allclose(np.linalg.norm(sv, axis=1), 1.0, atol=1e-4)
        alone = enc.encode([text[a:b] for a, b in sp])
        assert _cos(sv, alone).min() > 0.4  # the same sentence, with its passage's context
    assert np.array_equal(sents[0], sents[2]) and sents[0] is not sents[2]
    runtime = enc._load()
    rows: list[int] = []  # texts per forward pass
    real_embed = runtime.embed_tokens
    runtime.embed_tokens = lambda batch: (rows.append(len(batch)), real_embed(batch))[1]
    if hasattr(runtime, "launch_tokens"):  # OpenVINO: started, then waited for
        real_launch = runtime.launch_tokens
        runtime.launch_tokens = lambda feed: (rows.append(len(feed["input_ids"])),
                                              real_launch(feed))[1]
    try:
        enc.encode_passages(texts, spans)
    finally:
        del runtime.embed_tokens
        runtime.__dict__.pop("launch_tokens", None)
    assert sum(rows) == len(set(texts))


def test_openvino_int8_is_quantized_once_checked_and_close_to_fp32(openvino8, fp32, long_text):
    """The OpenVINO model is quantized statically from the bundled weights, cached as a pair of
    files, and its passage, query and late-chunked sentence vectors stay close to fp32."""
    from embeddings.backends.openvino_export import RECIPE as OV_RECIPE
    from embeddings.cache import cache_dir

    xml = cache_dir() / "openvino" / f"{DEFAULT_SHA256[:16]}-int8-{OV_RECIPE}.xml"
    assert xml.is_file() and xml.with_suffix(".bin").stat().st_size > 5_000_000
    assert openvino8.backend == "openvino-int8"
    texts = [PASSAGE, long_text]
    spans = [_spans(PASSAGE), [(0, 200), (201, 400)]]
    out, sents = openvino8.encode_passages(texts, spans)
    want, want_sents = fp32.encode_passages(texts, spans)
    assert _cos(out, want).min() > 0.98
    for got, ref in zip(sents, want_sents, strict=True):
        assert _cos(got, ref).min() > 0.9
    assert _cos(openvino8.encode_query(SENTENCES[2]), fp32.encode_query(SENTENCES[2])) > 0.98


def test_a_default_backend_that_cannot_load_falls_back_and_says_why(monkeypatch):
    """Without OpenVINO the CPU's choice is onnxruntime int8; a chosen-by-default backend that
    fails to load falls back to the next, and the reason says so; one asked for by name fails
    with a one-line error."""
    import embeddings.backends as backends
    import embeddings.encoder as encoder_module
    from embeddings import cpu

    monkeypatch.delenv("QA_BACKEND", raising=False)
    monkeypatch.setattr(cpu, "cpu_class", lambda have=None: "avx512-vnni")
    monkeypatch.setattr(cpu, "_installed", lambda *modules: False)
    assert cpu.best_backend()[0] == "onnx-int8"
    assert "OpenVINO not installed" in cpu.best_backend()[1]
    monkeypatch.setattr(cpu, "_installed", lambda *modules: True)
    assert cpu.best_backend()[0] == "openvino-int8"

    real = backends.create_backend

    def broken(name, *args, **kwargs):
        if name.startswith("openvino"):
            raise ModelError("OpenVINO is not installed: `pip install openvino`")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(encoder_module, "create_backend", broken)
    enc = load_encoder()
    assert enc.encode_query("who won?").shape == (384,)
    assert enc.backend == "onnx-int8" and "fell back: OpenVINO is not installed" in \
        enc.backend_reason
    with pytest.raises(ModelError, match="^OpenVINO is not installed"):
        load_encoder(backend="openvino-int8").encode_query("who won?")


def test_quantizing_for_openvino_prints_nothing_on_stdout(tmp_path, onnx8):
    """The one-time quantization (in a fresh cache) leaves stdout clean for `--json` output and
    says what it does in one warning line on stderr."""
    from embeddings.cache import cache_dir

    onnx = tmp_path / "cache" / "onnx"
    onnx.mkdir(parents=True)
    name = f"{DEFAULT_SHA256[:16]}-raw-{RECIPE}.onnx"
    os.symlink(cache_dir() / "onnx" / name, onnx / name)
    out = _python("""
        import logging
        logging.basicConfig()
        from embeddings import load_encoder
        enc = load_encoder(backend="openvino-int8")
        print(enc.encode_query("who won?").shape)
    """, QA_CACHE_DIR=str(tmp_path / "cache"))
    assert out.returncode == 0, out.stderr
    assert out.stdout == "(384,)\n"
    assert "quantizing the embedding model to int8 for OpenVINO" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    xml = list((tmp_path / "cache" / "openvino").glob("*.xml"))
    assert len(xml) == 1
    # a damaged cached model is quantized again, once, and works
    xml[0].with_suffix(".bin").write_bytes(b"truncated")
    again = _python("""
        from embeddings import load_encoder
        print(load_encoder(backend="openvino-int8").encode_query("who won?").shape)
    """, QA_CACHE_DIR=str(tmp_path / "cache"))
    assert again.returncode == 0 and again.stdout == "(384,)\n", again.stderr
    assert xml[0].with_suffix(".bin").stat().st_size > 5_000_000


def test_openvino_pads_lengths_into_buckets_without_changing_vectors(openvino8, monkeypatch):
    """Inputs are padded (masked) to a power-of-two number of texts and a multiple of BUCKET
    word pieces, which bounds OpenVINO's per-shape memory; the vectors are those of the
    unpadded input, cut back to the real texts and length."""
    import embeddings.backends.openvino_backend as ovb

    runtime = openvino8._load()
    texts = [PASSAGE, "Who won?", SENTENCES[0]]  # 3 texts: padded to 4
    pooled, tokens, offsets = runtime.embed_tokens(texts)
    assert pooled.shape == (3, 384) and tokens.shape[:2] == offsets.shape[:2]
    assert runtime.embed(texts).shape == (3, 384)
    assert offsets.shape[1] % ovb.BUCKET != 0  # the case padding is for
    monkeypatch.setattr(ovb, "BUCKET", 1)
    exact, exact_tokens, _ = runtime.embed_tokens(texts)
    assert _cos(pooled, exact).min() > 0.9999
    singly = np.concatenate([runtime.embed_tokens([t])[0] for t in texts])
    assert _cos(pooled, singly).min() > 0.999
    mask = offsets[..., 1] > 0
    assert _cos(tokens[mask], exact_tokens[mask]).min() > 0.999


def test_pipelined_batches_come_back_in_order(openvino8):
    """With OpenVINO a batch runs while the next is tokenized: batch size 1 over several texts
    of different lengths gives each text its own vectors, in order."""
    texts = [s * k for k, s in enumerate(SENTENCES, start=1)]
    spans = [[(0, len(s))] for s in SENTENCES]
    out, sents = openvino8.encode_passages(texts, spans, batch_size=1)
    assert _cos(out, openvino8.encode(texts, batch_size=8)).min() > 0.999
    for text, sv in zip(texts, sents, strict=True):
        alone, _ = openvino8.encode_passages([text], [[(0, len(text) // 2)]])
        assert sv.shape == (1, 384)
        assert _cos(out[texts.index(text)], alone[0]) > 0.999
