"""What the chat keeps between runs (the theme), in ``settings.json`` in the user config folder
(``platformdirs.user_config_dir("newsqa")``). The file is written atomically; a file that
cannot be read or parsed is ignored with a one-line notice and rewritten on the next change."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embeddings import atomic_write

APP_NAME = "newsqa"
FILE_NAME = "settings.json"
MAX_BYTES = 64 * 1024   # a settings file is a few dozen bytes; anything this big is not ours


def default_path() -> Path:
    """``settings.json`` in the user config folder (``$XDG_CONFIG_HOME/newsqa`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME)) / FILE_NAME


@dataclass
class Settings:
    """The settings read from ``path``; ``problem`` says why the file was ignored, if it was."""

    path: Path
    values: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    @property
    def theme(self) -> str | None:
        theme = self.values.get("theme")
        return theme if isinstance(theme, str) and theme else None

    def forget_theme(self, why: str) -> None:
        self.values.pop("theme", None)
        self.problem = f"{self.path}: {why}"


def load(path: Path) -> Settings:
    """The settings in ``path``: empty if there is no file, ignored (with ``problem`` set) if
    it cannot be read, is not a JSON object or is too large. Never raises."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return Settings(path, problem=f"{path} is over {MAX_BYTES} bytes: ignored")
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Settings(path, problem=f"{path} could not be read ({why}): ignored")
    if not isinstance(values, dict):
        return Settings(path, problem=f"{path} does not hold a JSON object: ignored")
    return Settings(path, values)


def save(settings: Settings, **changes: Any) -> str | None:
    """Write ``settings`` with ``changes`` atomically (a temporary file then a rename). Returns
    a one-line message if it could not be written, else None. Never raises."""
    settings.values.update(changes)
    path = settings.path
    text = json.dumps(settings.values, indent=2, sort_keys=True) + "\n"
    try:
        atomic_write(path, [text.encode("utf-8")])
    except OSError as exc:
        return f"could not save the settings to {path}: {exc.strerror or exc}"
    settings.problem = None
    return None
