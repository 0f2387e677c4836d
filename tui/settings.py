"""What the chat keeps between runs (the theme), in ``settings.json`` in the user config folder
(``platformdirs.user_config_dir("newsqa")``). The file is written atomically; a file that
cannot be read or parsed is ignored with a one-line notice and rewritten on the next change."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(settings.values, out, indent=2, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        return f"could not save the settings to {path}: {exc.strerror or exc}"
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    settings.problem = None
    return None
