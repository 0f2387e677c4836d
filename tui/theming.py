"""The chat's theme: ``--theme`` for one run, else the one last chosen (kept in the settings
file, see tui/settings.py), else the default. A theme picked in the command palette is saved."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.theme import Theme

from tui.settings import Settings
from tui.settings import load as load_settings
from tui.settings import save as save_settings

if TYPE_CHECKING:
    _AppBase = App[None]
else:
    _AppBase = object

DEFAULT_THEME = "tokyo-night"


class KeptTheme(_AppBase):
    """Mixed into the app: call ``_init_theme`` in ``__init__`` and ``_apply_theme`` on mount."""

    def _init_theme(self, theme: str | None, settings_path: str | Path | None) -> None:
        self._theme_asked = theme   # --theme: for this run, not saved
        # settings kept between runs; None: nothing is read or saved
        self.settings: Settings | None = (load_settings(Path(settings_path)) if settings_path
                                          else None)
        self._saved_theme: str | None = None

    def _apply_theme(self) -> None:
        """--theme, else the saved theme, else the default; a theme chosen later is saved."""
        settings = self.settings
        saved = settings.theme if settings else None
        if settings and saved and saved not in self.available_themes:
            settings.forget_theme(f"there is no theme {saved!r} any more: using the default")
            saved = None
        self.theme = self._theme_asked or saved or DEFAULT_THEME
        if settings is None:
            return
        if settings.problem:
            self.notify(f"Settings ignored: {settings.problem}", severity="warning",
                        markup=False, timeout=10)
        self._saved_theme = self.theme
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        if self.settings is None or theme.name == self._saved_theme:
            return
        self._saved_theme = theme.name
        problem = save_settings(self.settings, theme=theme.name)
        if problem:
            self.notify(f"The theme is not kept: {problem}", severity="warning", markup=False)
