"""The answer-sentence re-ranker: the shipped adapter on the bundled MiniLM, exported to int8,
tells answers from the sentences around them; a missing, damaged or mismatched adapter is
refused with one line, and the assistant answers without it."""

from __future__ import annotations

import datetime as dt
import json
import random
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from embeddings.reranker import PairModel, Reranker, RerankerError, adapter_meta
from qa.assistant import RERANKER_ADAPTER

pytestmark = pytest.mark.slow

PAIRS = [
    ("How many Turkish soldiers were killed in Idlib?",
     "At least 33 Turkish soldiers were killed in an air strike in Idlib on Thursday.",
     "Turkey is a member of NATO and hosts millions of Syrian refugees."),
    ("Who is the secretary general of NATO?",
     "NATO Secretary General Jens Stoltenberg urged Russia and Syria to stop the offensive.",
     "The alliance met in Brussels at the request of Turkey."),
    ("Where is the UN headquartered?",
     "The United Nations is headquartered in New York City.",
     "World leaders gathered for the annual General Assembly this week."),
    ("Which company confirmed it was laying off 10,000 employees?",
     "Microsoft confirmed on Wednesday that it is laying off 10,000 employees.",
     "Layoffs have swept the technology industry in recent months."),
]


@pytest.fixture(scope="module")
def reranker() -> Reranker:
    r = Reranker(RERANKER_ADAPTER)
    r.warm_up()
    return r


def test_the_shipped_adapter_is_small_and_says_what_made_it():
    assert RERANKER_ADAPTER.stat().st_size < 3_000_000
    meta = adapter_meta(RERANKER_ADAPTER)
    assert meta["weights_sha256"] == (
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db")
    assert {"squad", "seed", "rank", "epochs"} <= set(meta)


@pytest.mark.parametrize("question, answer, other", PAIRS, ids=[p[0] for p in PAIRS])
def test_the_answer_scores_above_the_sentence_beside_it(reranker, question, answer, other):
    a, b = reranker.scores(question, [answer, other])
    assert a > b


def test_int8_scores_follow_the_merged_torch_model(reranker):
    model = PairModel.from_bundled(adapter=RERANKER_ADAPTER)
    questions = [q for q, a, b in PAIRS for _ in (a, b)]
    sentences = [s for _, a, b in PAIRS for s in (a, b)]
    import torch

    with torch.inference_mode():
        want = model.score(questions, sentences).numpy()
    got = np.concatenate([reranker.scores(q, [a, b]) for q, a, b in PAIRS])
    assert np.corrcoef(got, want)[0, 1] > 0.98
    assert np.abs(got - want).max() < 1.0


def test_pairs_of_unequal_length_run_in_groups_with_the_scores_each_has_alone(reranker):
    question = PAIRS[0][0]
    sentences = [PAIRS[0][1], "NATO urged calm.", " ".join(["The offensive went on."] * 20),
                 PAIRS[0][2], "Ankara said 33 soldiers had died in the strike on Thursday."]
    scorer = reranker._load()
    groups = scorer.tokens.batches([(question, s) for s in sentences])
    assert len(groups) > 1  # the long sentence does not pad the short ones
    assert sorted(i for group, _ in groups for i in group) == list(range(len(sentences)))
    together = reranker.scores(question, sentences)
    alone = np.concatenate([reranker.scores(question, [s]) for s in sentences])
    assert np.abs(together - alone).max() < 1e-3


@given(st.lists(st.integers(1, 128), max_size=12), st.sampled_from([1, 16]),
       st.integers(1, 4))
def test_length_groups_cover_every_pair_once_and_never_cost_more(lengths, bucket, most):
    from embeddings.reranker_export import CALL_TOKENS, length_groups

    def cost(group: list[int]) -> int:
        return CALL_TOKENS + len(group) * -(-max(lengths[i] for i in group) // bucket) * bucket

    groups = length_groups(lengths, bucket, most)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert len(groups) <= most and all(groups)
    spans = [(min(lengths[i] for i in g), max(lengths[i] for i in g)) for g in groups]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # runs of the sorted lengths
    if lengths:
        assert sum(cost(g) for g in groups) <= cost(list(range(len(lengths))))


def test_no_sentences_no_scores(reranker):
    assert reranker.scores("Who?", []).shape == (0,)


def test_a_missing_adapter_is_refused_in_one_line(tmp_path):
    with pytest.raises(RerankerError, match="no re-ranker adapter at .*nothing.npz"):
        Reranker(tmp_path / "nothing.npz").warm_up()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "no meta", "other weights"])
def test_a_damaged_or_mismatched_adapter_is_refused(tmp_path, damage):
    bad = tmp_path / "adapter.npz"
    data = RERANKER_ADAPTER.read_bytes()
    if damage == "garbage":
        bad.write_bytes(b"not an adapter at all")
    elif damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    else:
        with np.load(RERANKER_ADAPTER) as z:
            arrays = {k: z[k] for k in z.files}
        if damage == "no meta":
            del arrays["meta"]
        else:
            meta = json.loads(bytes(arrays["meta"]).decode())
            meta["weights_sha256"] = "0" * 64
            arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        np.savez(bad, **arrays)
    with pytest.raises(RerankerError) as err:
        Reranker(bad).warm_up()
    assert "\n" not in str(err.value) and "adapter" in str(err.value)
    assert zipfile  # (np.load reads npz files as zip archives)


def test_the_assistant_answers_without_a_reranker_that_cannot_load(qa_index, tmp_path,
                                                                     monkeypatch, caplog):
    import qa.assistant
    from qa.assistant import Assistant

    monkeypatch.setattr(qa.assistant, "RERANKER_ADAPTER", tmp_path / "missing.npz")
    with Assistant.open(qa_index) as a:
        answer = a.ask("How many Turkish soldiers were killed in Idlib?")
        assert a.reranker is None
    assert answer.found and "33" in answer.answer
    assert "answering without the re-ranker" in caplog.text


def test_the_assistant_reranks_the_best_sentences(qa_assistant):
    from qa.engine import answering

    assert qa_assistant.reranker is not None
    plan = qa_assistant.plan("How many Turkish soldiers were killed in Idlib?",
                             today=dt.date(2020, 2, 28))
    qvec = qa_assistant.encoder.encode_query(plan.query)
    cands = qa_assistant.retriever.retrieve(plan.query, qvec, answering.PASSAGES)
    ranked = qa_assistant.score(plan.parsed, qvec, cands).ranked
    read = [s for s in ranked if s.answers is not None]
    assert len(read) == min(answering.RERANK_SENTENCES, len(ranked))
    assert ranked[: len(read)] == read  # the sentences read lead, best first
    assert [s.score for s in read] == sorted((s.score for s in read), reverse=True)
    assert "33" in ranked[0].text


def test_training_lists_put_the_answer_sentence_first():
    from bench.train_reranker import NEGATIVES, squad_lists

    lists = squad_lists(40, random.Random(0))
    assert len(lists) == 40
    for question, sentences, gold in lists:
        assert gold == 0 and 2 <= len(sentences) <= NEGATIVES + 1
        assert question.strip() and all(s.strip() for s in sentences)
    assert squad_lists(40, random.Random(0)) == lists  # reproducible


def test_a_follow_up_is_reread_with_whom_it_means(qa_assistant, monkeypatch):
    from qa.engine import answering

    seen = []
    real = answering.reranked

    def spy(question, ranked, rerank, *args, **kwargs):
        seen.append(question)
        return real(question, ranked, rerank, *args, **kwargs)

    monkeypatch.setattr(answering, "reranked", spy)
    chat = qa_assistant.chat()
    chat.ask("Who is the NATO secretary general?")
    answer = chat.ask("What did he urge?")
    assert answer.found
    assert "Stoltenberg" in seen[-1] and "he urge" not in seen[-1]
    assert qa_assistant.plan("What did NATO urge?").parsed.standalone == "What did NATO urge?"


def test_training_is_reproducible_and_writes_a_loadable_adapter(tmp_path, monkeypatch):
    from bench.train_reranker import main

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))  # its int8 model goes there

    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for out in (a, b):
        assert main(["--squad", "8", "--news-repeat", "0", "--out", str(out)]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert adapter_meta(a)["squad"] == 8
    r = Reranker(a)
    assert r.scores("Who leads NATO?", ["Stoltenberg leads NATO.", "It rained."]).shape == (2,)
    assert any((tmp_path / "cache").rglob("reranker-*-int8-*"))


def test_a_sentence_that_asks_gets_no_bonus():
    from qa.engine import answering

    class S:
        def __init__(self, text, score):
            self.text, self.score, self.answers = text, score, None

    ranked = [S("Which park allows wild camping again?", 2.0),
              S("Wild camping is allowed in Dartmoor again, a court ruled.", 1.9)]
    out = answering.reranked("Which park allows wild camping?", ranked,  # type: ignore[arg-type]
                             lambda q, texts: np.array([5.0, 5.0]))
    assert out[0].text.startswith("Wild camping") and out[1].answers == 0.0
    assert out[0].answers == pytest.approx(1 / (1 + np.exp(-5.0)))


def test_which_report_leads_is_decided_on_the_features_not_the_bonus(qa_assistant):
    from qa.engine import answering

    plan = qa_assistant.plan("How many people have been displaced?")
    qvec = qa_assistant.encoder.encode_query(plan.query)
    cands = qa_assistant.retriever.retrieve(plan.query, qvec, answering.PASSAGES)
    ranked = qa_assistant.score(plan.parsed, qvec, cands).ranked
    read = [s for s in ranked if s.answers is not None]
    assert read and all(s.score == pytest.approx(s.base + answering.RERANKER_WEIGHT * s.answers)
                        for s in read)
    assert all(s.score == s.base for s in ranked if s.answers is None)


def test_a_reranker_failing_at_run_time_is_switched_off(qa_index, monkeypatch, caplog):
    from qa.assistant import Assistant

    with Assistant.open(qa_index) as a:
        assert a.reranker is not None

        def broken(question, sentences):
            raise RuntimeError("inference failed\nwith details")

        monkeypatch.setattr(a.reranker, "scores", broken)
        answer = a.ask("How many Turkish soldiers were killed in Idlib?")
        assert answer.found and "33" in answer.answer
        assert a.reranker is None and not a.rerank
        assert a.ask("What did NATO urge?").found
    assert "the re-ranker failed (inference failed): answering without it" in caplog.text
