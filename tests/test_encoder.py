"""The encoder with the real bundled model: the default backend (ONNX int8) against torch fp32."""

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
    assert default.backend == "onnx-int8"
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


def test_default_backend_matches_torch_fp32(default, fp32, long_text):
    texts = SENTENCES + [long_text]
    assert _cos(default.encode(texts), fp32.encode(texts)).min() >= 0.99


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


def _seed_cache(default: Encoder, cache: Path) -> Path:
    """A private cache holding the shared raw and fp32 exports, so only int8 gets built."""
    from embeddings.cache import cache_dir

    src, dst = cache_dir() / "onnx", cache / "onnx"
    dst.mkdir(parents=True)
    for variant in ("raw", "fp32"):
        name = f"{DEFAULT_SHA256[:16]}-{variant}-{RECIPE}.onnx"
        os.symlink(src / name, dst / name)
    return dst / f"{DEFAULT_SHA256[:16]}-int8-{RECIPE}.onnx"


def test_two_processes_quantizing_at_once_both_succeed(tmp_path, default):
    target = _seed_cache(default, tmp_path / "cache")
    code = "from embeddings import load_encoder; print(load_encoder().encode_query('x').shape)"
    env = {**os.environ, "QA_CACHE_DIR": str(tmp_path / "cache"), "QA_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all(o[0].strip() == "(384,)" for o in outs)
    assert target.stat().st_size > 10_000_000
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_a_damaged_cached_model_is_rebuilt(tmp_path, monkeypatch, default):
    target = _seed_cache(default, tmp_path / "cache")
    target.write_bytes(b"truncated")
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    enc = load_encoder()
    assert _cos(enc.encode(SENTENCES), default.encode(SENTENCES)).min() > 0.9999
    assert target.stat().st_size > 10_000_000


PASSAGE = ("The central bank raised interest rates by half a point on Thursday. Markets fell "
           "sharply after the announcement. Analysts expect two more increases this year.")


def _spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for end in [i + 1 for i, c in enumerate(text) if c == "."]:
        spans.append((start + (text[start] == " "), end))
        start = end
    return spans


@pytest.mark.parametrize("name", ["default", "fp32"])
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
    seen: list[str] = []
    real = runtime.embed_tokens
    runtime.embed_tokens = lambda batch: (seen.extend(batch), real(batch))[1]
    try:
        enc.encode_passages(texts, spans)
    finally:
        del runtime.embed_tokens
    assert sorted(seen) == sorted(set(texts))
