"""Fixtures shared by the test files: the bundled samples indexed once per session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def qa_index(tmp_path_factory) -> str:
    """A real index (real model, real faiss) of the five bundled sample articles."""
    from qa.indexing.location import build_samples

    path = tmp_path_factory.getbasetemp() / "qa-sample-index"
    if not (path / "manifest.json").exists():
        build_samples(path, announce=None)
    return str(path)


@pytest.fixture(scope="session")
def qa_assistant(qa_index):
    """One assistant on the sample index for the session (the model loads once)."""
    from qa.assistant import Assistant

    with Assistant.open(qa_index) as assistant:
        yield assistant
