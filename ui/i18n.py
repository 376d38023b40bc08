"""The UI's languages: gettext message catalogs (Babel), the language of this session, ``_()``.

Every user-facing string goes through :func:`_` (or :func:`ngettext` for counts) so that
``pybabel extract`` finds it (README, "Languages"). The catalogs are
``locales/<lang>/LC_MESSAGES/messages.po``; they are compiled in memory the first time a language is
used (:func:`translations`), so a fresh clone needs only ``pip install -r requirements.txt`` and no
build step, and a stale ``.mo`` can never be shown. Fuzzy entries are not used (Babel skips them).

The language of a run (:func:`resolve`, called by ``ui.page_setup``): the ``?lang=`` query parameter
(a shared link opens in its language), else the one chosen earlier in this session with the sidebar
switch, else the browser's (``st.context.locale``), else English. The chosen language is written back
to the URL so the address bar can be shared as it is.

Format strings keep named placeholders (``_("{n} cells").format(n=n)``), never f-strings: the
translation must be looked up before the values are filled in.
"""

from __future__ import annotations

import gettext as _gettext
import io
from functools import cache
from pathlib import Path

from ui import state

LOCALES = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "messages"
#: The UI's languages (code -> its own name, as the switch shows it), in the switch's order.
LANGUAGES = {"en": "English", "ja": "日本語"}
DEFAULT = "en"
QUERY_KEY = "lang"


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang`` (read from its .po, compiled in memory once per process)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    path = LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT or not path.exists():
        return _gettext.NullTranslations()  # English is the source language: msgids are the text
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def normalize(value: object) -> str | None:
    """``"ja"``, ``"ja-JP"``, ``"ja_JP"`` -> ``"ja"``; anything not a UI language -> None."""
    if not isinstance(value, str) or not value.strip():
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def choose(query: object = None, session: object = None, browser: object = None) -> str:
    """The language from (query parameter, this session's choice, browser locale), first valid wins."""
    for candidate in (query, session, browser):
        code = normalize(candidate)
        if code:
            return code
    return DEFAULT


def current() -> str:
    """The language of this script run (English outside a Streamlit run, e.g. in unit tests)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if get_script_run_ctx(suppress_warning=True) is None:
            return DEFAULT
        return state.app.lang or DEFAULT
    except Exception:  # noqa: BLE001 - no session (bare import): the source language
        return DEFAULT


def _(message: str) -> str:
    """``message`` in the current language (the English text when untranslated)."""
    return translations(current()).gettext(message)


def gettext(message: str) -> str:
    """Same as :func:`_` (for code that shadows ``_``)."""
    return _(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return translations(current()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, told apart by ``context`` (e.g. a one-word label)."""
    return translations(current()).pgettext(context, message)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a string for extraction without translating it now (module-level tables; translate on use)."""
    return message


def resolve() -> str:
    """Decide this run's language (query parameter > session choice > browser), remember it, put it in the URL."""
    import streamlit as st

    try:
        browser = st.context.locale
    except Exception:  # noqa: BLE001 - AppTest and old clients may have none
        browser = None
    query = st.query_params.get(QUERY_KEY)
    lang = choose(query, state.app.lang, browser)
    state.app.lang = lang
    if query != lang:
        st.query_params[QUERY_KEY] = lang  # keep the link shareable in this language
    return lang


def _switched() -> None:
    """The sidebar switch changed: the new language wins over the URL's for this and later runs."""
    import streamlit as st

    lang = normalize(state.widget_value(state.LANG_PICK))
    if lang is None:  # the selected option clicked again (deselected): keep the language
        return
    state.app.lang = lang
    st.query_params[QUERY_KEY] = lang


def language_switch() -> None:
    """The sidebar's English / 日本語 switch (its label is in both languages on purpose)."""
    import streamlit as st

    lang = current()
    state.set_language_pick(lang)
    st.segmented_control("Language / 言語", options=list(LANGUAGES), format_func=LANGUAGES.__getitem__,
                         key=state.LANG_PICK, on_change=_switched, label_visibility="collapsed")


def source_note(text: str) -> str:
    """Catalog notes and library messages stay in their source language (English); in another UI language they
    are marked 原文（英語） so nobody takes them for an untranslated slip."""
    if not text or current() == DEFAULT:
        return text
    return _("(source text, English)") + " " + text


#: Where a figure comes from (README, "Where every number comes from"): the labels every figure keeps.
FIGURE_LABELS = {"measured": N_("measured"), "simulated": N_("simulated"), "documented": N_("documented"),
                 "derived": N_("derived"), "estimated": N_("estimated"), "assumed": N_("assumed"),
                 "replayed": N_("replayed"), "catalog": N_("catalog"), "reused": N_("reused")}


def label(value: str) -> str:
    """A figure's label (``simulated``, ``documented + derived`` ...) in the UI's language; others unchanged."""
    if not isinstance(value, str):
        return value
    return " + ".join(_(FIGURE_LABELS[p]) if p in FIGURE_LABELS else p for p in value.split(" + "))


#: A run's status as pages show it.
RUN_STATUS = {"finished": N_("finished"), "cancelled": N_("cancelled"), "stopped": N_("stopped"),
              "interrupted": N_("interrupted"), "failed": N_("failed"), "running": N_("running")}


def run_status(value: str) -> str:
    """A run's status (``finished``, ``cancelled`` ...) in the UI's language; unknown ones unchanged."""
    return _(RUN_STATUS[value]) if value in RUN_STATUS else value
