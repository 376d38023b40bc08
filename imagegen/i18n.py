"""A translation hook for the library's user-facing text (chart titles, axes, legends).

``imagegen`` never imports Streamlit or knows the UI's language: text the dashboard shows is written
``_("...")`` here so ``pybabel extract`` finds it, and :func:`_` returns it unchanged until the UI
installs its translator with :func:`set_translator` (``ui/i18n.py`` does, once per process; the
translator itself looks up each session's language). The CLI stays English.
"""

from __future__ import annotations

from collections.abc import Callable

_translator: Callable[[str], str] | None = None


def set_translator(fn: Callable[[str], str] | None) -> None:
    """Install ``fn`` (message -> translated message) for every later :func:`_` call; None removes it."""
    global _translator
    _translator = fn


def _(message: str) -> str:
    """``message`` translated by the installed translator (unchanged when none is installed)."""
    return _translator(message) if _translator is not None else message


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark ``message`` for extraction only (translate it with :func:`_` where it is shown)."""
    return message
