"""``qa ... | head``: when the reader goes away, qa stops quietly with 141, as Unix tools do."""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys

import pytest

from qa.cli import main
from qa.cli.main import EXIT_BROKEN_PIPE

cli_main = importlib.import_module("qa.cli.main")  # the module: `qa.cli.main` is the function

QUESTION = "How many Turkish soldiers were killed in Idlib?"


@pytest.mark.slow
@pytest.mark.parametrize("command", [["ask", QUESTION], ["search", "Idlib", "--json"]],
                         ids=["ask", "search"])
def test_a_reader_that_has_gone_ends_qa_quietly(qa_index, command):
    read_end, write_end = os.pipe()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "qa", *command, "--index", qa_index],
                            stdout=write_end, stderr=subprocess.PIPE, env=env)
    os.close(write_end)
    # The reader goes before qa has written anything (opening the index takes a second or
    # more), as `head -c 10` does once it has its ten bytes.
    os.close(read_end)
    _, err = proc.communicate(timeout=120)
    assert err.decode() == ""
    assert proc.returncode == EXIT_BROKEN_PIPE == 141


@pytest.mark.slow
def test_a_reader_that_stays_gets_the_whole_answer(qa_index):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "qa", "ask", QUESTION, "--index", qa_index],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stderr == ""
    assert "33" in done.stdout


class _GoneReader(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_broken_pipe_in_process_is_not_reported_as_an_error(monkeypatch, capsys):
    def run(args):
        print("an answer")

    monkeypatch.setattr(cli_main, "build_parser", lambda: _parser_running(run))
    monkeypatch.setattr(sys, "stdout", _GoneReader())
    assert main(["fake"]) == EXIT_BROKEN_PIPE
    assert capsys.readouterr().err == ""


def _parser_running(run):
    import argparse

    parser = argparse.ArgumentParser(prog="qa")
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("command")
    parser.set_defaults(run=run)
    return parser
