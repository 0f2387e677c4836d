"""`qa ask`, `qa search` and `qa eval` on the sample index: output, JSON shape, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.cli import main
from qa.models import Answer, Hit

pytestmark = pytest.mark.slow
QUESTIONS = Path(__file__).parent / "data" / "sample_questions.jsonl"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_prints_the_answer_and_numbered_sources(capsys, qa_index):
    code, out, err = run(capsys, "ask", "How many Turkish soldiers were killed in Idlib?",
                         "--index", qa_index)
    assert code == 0, err
    assert out.startswith("33 [1]\nThe latest report (2020-02-28, AFP) says: At least 33 Turkish "
                          "soldiers were killed")
    assert "[1]" in out and "Sources:" in out
    assert "\n[1] 33 Turkish soldiers killed in Syria's Idlib - AFP, 2020-02-28" in out


def test_ask_json_is_the_answer_model(capsys, qa_index):
    code, out, _ = run(capsys, "ask", "Who is the UN spokesman?", "--index", qa_index, "--json")
    assert code == 0
    answer = Answer.model_validate_json(out)
    assert answer.found and "Dujarric" in answer.citations[0].quote


def test_ask_refuses_out_of_corpus_and_lists_related(capsys, qa_index):
    code, out, _ = run(capsys, "ask", "Who won the 2018 World Cup?", "--index", qa_index)
    assert code == 0
    assert "do not cover" in out and "Closest passages" in out


def test_ask_with_a_source_filter(capsys, qa_index):
    code, out, _ = run(capsys, "ask", "Who is the UN spokesman?", "--index", qa_index,
                       "--source", "TASS", "--json")
    assert code == 0
    answer = Answer.model_validate_json(out)
    assert all(c.source == "TASS" for c in answer.citations)
    assert all(h.source == "TASS" for h in answer.related)


def test_search_json_shape(capsys, qa_index):
    code, out, _ = run(capsys, "search", "Turkish observation posts", "-k", "3", "--index",
                       qa_index, "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"query", "hits"} and data["query"] == "Turkish observation posts"
    hits = [Hit.model_validate(h) for h in data["hits"]]
    assert 1 <= len(hits) <= 3 and "observation posts" in hits[0].text


def test_search_text_output(capsys, qa_index):
    code, out, _ = run(capsys, "search", "Zakharova", "--index", qa_index)
    assert code == 0 and out.startswith("1. [") and "Zakharova" in out


@pytest.mark.parametrize("argv", [
    ["ask", ""],
    ["ask", "   "],
    ["ask", "why " * 300],
    ["search", "Idlib", "-k", "0"],
    ["search", "Idlib", "-k", "1000"],
    ["search", "Idlib", "-k", "many"],
    ["search", ""],
    ["ask", "Idlib?", "--from", "yesterday"],
    ["ask", "Idlib?", "--from", "2020-03-01", "--to", "2020-02-01"],
])
def test_bad_arguments_exit_2_with_one_line(capsys, qa_index, argv):
    code, out, err = run_exit(capsys, *argv, "--index", qa_index)
    assert code == 2
    assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("qa: error:")


def run_exit(capsys, *argv):
    try:
        return run(capsys, *argv)
    except SystemExit as exc:  # argparse's own errors
        out, err = capsys.readouterr()
        return exc.code, out, err


def test_runtime_failure_exits_1_with_one_line_and_no_traceback(tmp_path):
    not_an_index = tmp_path / "file.txt"
    not_an_index.write_text("hello")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "qa", "ask", "Who?", "--index",
                           str(not_an_index)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_eval_reports_every_measure(capsys, qa_index):
    code, out, _ = run(capsys, "eval", str(QUESTIONS), "--index", qa_index, "--json")
    assert code == 0
    report = json.loads(out)
    for key in ("hit_at_1", "hit_at_5", "mrr_at_10", "answer_accuracy", "refusal_precision",
                "refusal_recall", "latency_p50_ms", "latency_p95_ms"):
        assert report[key] is not None
    lines = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    assert report["questions"] == len(lines)
    assert report["unanswerable"] == sum(not q["answers"] for q in lines)
    assert report["answer_accuracy"] >= 0.8
    assert report["refusal_recall"] >= 0.6 and report["refusal_precision"] >= 0.8


def test_eval_rejects_a_bad_file(capsys, tmp_path, qa_index):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"answers": []}\n')
    code, _, err = run(capsys, "eval", str(bad), "--index", qa_index)
    assert code == 2 and "q.jsonl:1" in err


def test_undecodable_bytes_in_the_question_are_replaced_not_a_crash(capsys, qa_index):
    # what Python makes of the bytes \xff\xfe in argv: lone surrogates (surrogateescape)
    question = os.fsdecode(b"Turkish soldiers killed \xff\xfe")
    code, out, err = run(capsys, "ask", question, "--index", qa_index, "--json")
    assert code == 0, err
    answer = Answer.model_validate_json(out)
    assert answer.question == "Turkish soldiers killed \ufffd\ufffd"
    assert answer.found and "33" in answer.answer


def test_undecodable_bytes_in_a_real_argv(qa_index):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LC_ALL": "C.UTF-8"}
    done = subprocess.run([sys.executable, "-m", "qa", "search", b"Zakharova \xff", "--index",
                           qa_index, "--json", "-k", "1"], capture_output=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    report = json.loads(done.stdout)
    assert report["query"] == "Zakharova \ufffd"
    assert "Zakharova" in report["hits"][0]["text"]
