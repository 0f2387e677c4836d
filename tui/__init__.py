"""The terminal chat over the articles: ``qa chat``. It talks to the rest only through
``qa``'s public API."""

__all__ = ["ChatApp", "create_app"]


def __getattr__(name: str):
    # Textual loads only when the chat starts, so `qa --help` stays quick.
    if name in __all__:
        from tui import app

        return getattr(app, name)
    raise AttributeError(f"module 'tui' has no attribute {name!r}")
