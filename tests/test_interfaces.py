"""``qa.Assistant`` satisfies the Protocols the chat and the HTTP server are typed against:
checked by mypy (the assignments below) and, quickly, by comparing signatures at run time."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from qa import Assistant, AssistantAPI, Conversation, ConversationAPI


def typed_as_the_interfaces(assistant: Assistant) -> AssistantAPI:
    """mypy rejects this file if Assistant or Conversation drift from the Protocols."""
    api: AssistantAPI = assistant
    chat: ConversationAPI = assistant.chat()
    chat.reset()
    return api


def members(protocol: type) -> list[str]:
    return [name for name, value in vars(protocol).items()
            if not name.startswith("_") and (callable(value) or isinstance(value, property))]


@pytest.mark.parametrize("protocol, cls", [(AssistantAPI, Assistant),
                                           (ConversationAPI, Conversation)])
def test_the_implementation_accepts_every_argument_of_the_protocol(protocol, cls):
    names = members(protocol)
    assert names, "the protocol lists no methods"
    for name in names:
        wanted = vars(protocol)[name]
        if isinstance(wanted, property):
            continue  # an attribute satisfies it (Conversation.history); mypy checks the type
        have = inspect.signature(getattr(cls, name)).parameters
        for param in inspect.signature(wanted).parameters.values():
            assert param.name in have, f"{cls.__name__}.{name} lacks {param.name}"
            assert have[param.name].kind == param.kind, f"{cls.__name__}.{name}({param.name})"
            assert have[param.name].default == param.default, f"{cls.__name__}.{name}({param.name})"


@pytest.mark.slow
def test_mypy_accepts_the_assistant_as_the_protocol():
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary",
                           "--follow-imports=silent", __file__],
                          cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
