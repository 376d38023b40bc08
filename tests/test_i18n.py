"""Message catalogs: every string the UI marks is translated to Japanese and present in English; no
user-facing Streamlit call gets a bare literal; translations keep their placeholders; the language rule.

Extraction runs Babel over the source exactly as the README's ``pybabel extract -F babel.cfg`` does,
so a string added without updating the catalogs fails here (fix: the README's "Languages" commands).
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ui import i18n, l10n

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"


def _method_map() -> list[tuple[str, str]]:
    """babel.cfg's [python: pattern] sections, as extract_from_dir takes them."""
    text = (ROOT / "babel.cfg").read_text(encoding="utf-8")
    return [(m.group(2).strip(), m.group(1)) for m in re.finditer(r"^\[(\w+):\s*([^\]]+)\]", text, re.M)]


def extracted() -> dict[str | tuple[str, ...], str]:
    """msgid (or (singular, plural)) -> first file it appears in, from the source."""
    found: dict = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(str(ROOT), _method_map()):
        key = message if isinstance(message, str) else tuple(message)
        found.setdefault(key, filename)
    return found


def catalog(lang: str):
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def _key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def test_extraction_finds_the_ui_strings():
    """The extraction itself works (a test over an empty extraction could not fail)."""
    found = extracted()
    assert "Active provider" in found and "Generate" in found
    assert len(found) > 20


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_marked_string_is_in_the_catalog(lang):
    """Every msgid in the source is in locales/<lang>; in Japanese it is translated, never fuzzy or empty."""
    cat = catalog(lang)
    problems = []
    for key, where in sorted(extracted().items(), key=lambda kv: str(kv[0])):
        msgid = key if isinstance(key, str) else key[0]
        entry = cat.get(msgid)
        if entry is None:
            problems.append(f"missing ({where}): {msgid!r}")
            continue
        if lang == "ja":
            strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            if entry.fuzzy or not all(s and s.strip() for s in strings):
                problems.append(f"untranslated{' (fuzzy)' if entry.fuzzy else ''} ({where}): {msgid!r}")
    assert problems == [], (f"{len(problems)} string(s) not ready in {lang}. Fix: run the README's "
                            "'Languages' commands and translate them:\n" + "\n".join(problems[:60]))


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def test_translations_keep_their_placeholders_and_markup():
    """A translation fills the same {names} (else .format raises) and keeps Markdown code spans."""
    problems = []
    for message in catalog("ja"):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            try:
                if _fields(text) != _fields(ids[-1]) and _fields(text) != _fields(ids[0]):
                    problems.append(f"{_key(message)!r}: {sorted(_fields(ids[0]))} vs {sorted(_fields(text))}")
            except ValueError as exc:
                problems.append(f"{_key(message)!r}: {exc}")
            if ids[0].count("`") != text.count("`"):
                problems.append(f"{_key(message)!r}: backticks differ")
    assert problems == [], "\n".join(problems)


def test_the_japanese_catalog_compiles_and_translates():
    ja = i18n.translations("ja")
    assert ja.gettext("Active provider") != "Active provider"
    assert i18n.translations("en").gettext("Active provider") == "Active provider"


# --- no bare literal in a user-facing Streamlit call ------------------------------------------------

#: Streamlit calls whose first argument (or label/help/placeholder) people read.
TEXT_CALLS = {
    "title", "header", "subheader", "caption", "markdown", "write", "text", "info", "warning", "error",
    "success", "toast", "button", "download_button", "link_button", "form_submit_button", "page_link",
    "selectbox", "multiselect", "radio", "checkbox", "toggle", "text_input", "text_area", "number_input",
    "slider", "select_slider", "segmented_control", "pills", "file_uploader", "date_input", "time_input",
    "metric", "expander", "status", "spinner", "tabs", "popover", "color_picker", "progress",
}
TEXT_KWARGS = ("label", "help", "placeholder", "body", "text")
TRANSLATORS = {"_", "gettext", "ngettext", "pgettext"}
#: Literals that are the same in every language (product names, units, codes); a short, documented list.
ALLOWED = {"OpenAI", "Azure OpenAI", "USD", "JPY", "API: ", "---", "Language / 言語", "gpt-image"}
#: Files whose strings are not wrapped yet (issue 15, part 1): this list only shrinks.
PENDING: set[str] = set()


def _literals(node: ast.AST) -> list[str]:
    """Literal text in ``node`` that reaches the page without a translator call."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else []
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    if isinstance(node, ast.BinOp):
        return _literals(node.left) + _literals(node.right)
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [text for elt in node.elts for text in _literals(elt)]
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in TRANSLATORS:
            return []
        if isinstance(func, ast.Attribute) and func.attr in ("format", "join"):
            return _literals(func.value)  # "...".format() is bare; _("...").format() is not
    return []


def _bare(text: str) -> bool:
    text = re.sub(r":[a-z-]+/[a-z_]+:|:[a-z]+-badge\[|`[^`]*`|\{[^}]*\}", "", text)
    return text.strip() not in ALLOWED and bool(re.search(r"[A-Za-z]{2,}", text))


def bare_literals(path: Path) -> list[str]:
    """``file:line: text`` for every user-facing call in ``path`` given a bare English literal."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in TEXT_CALLS):
            continue
        first = [] if node.func.attr == "page_link" else node.args[:1]  # page_link's first argument is a path
        args = first + [k.value for k in node.keywords if k.arg in TEXT_KWARGS]
        for arg in args:
            for text in _literals(arg):
                if _bare(text):
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text[:60]!r}")
    return out


def _ui_files() -> list[Path]:
    return [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]


def test_no_user_facing_call_gets_a_bare_literal():
    offenders = [line for path in _ui_files() if str(path.relative_to(ROOT)) not in PENDING
                 for line in bare_literals(path)]
    assert offenders == [], "wrap these in _() (ui/i18n.py) and update the catalogs:\n" + "\n".join(offenders)


def test_the_bare_literal_check_catches_one(tmp_path):
    """The check above can fail: a bare label, an f-string and a .format() on a literal are caught."""
    page = ROOT / "ui" / "_probe_for_test.py"
    page.write_text('import streamlit as st\nst.title("Run grid")\nst.info(f"{n} cells to run")\n'
                    'st.button(label="Go {x}".format(x=1))\nst.title(_("Run grid"))\nst.caption("✅")\n',
                    encoding="utf-8")
    try:
        found = bare_literals(page)
    finally:
        page.unlink()
    assert [line.split(": ", 1)[1] for line in found] == ["'Run grid'", "' cells to run'", "'Go {x}'"]


def test_pending_files_exist():  # noqa: D103
    """The pending list names real files (so finishing one means removing it here)."""
    assert all((ROOT / name).exists() for name in PENDING)


# --- the language rule and the formats ----------------------------------------------------------------

@pytest.mark.parametrize(("query", "session", "browser", "expected"), [
    ("ja", "en", "en-US", "ja"),          # a shared link wins
    (None, "ja", "en-US", "ja"),          # the sidebar's choice outlives page switches
    (None, None, "ja-JP", "ja"),          # else the browser
    (None, None, "de-DE", "en"),          # a language we lack: English
    ("xx", None, "ja", "ja"),             # a bad ?lang= is ignored
    (None, None, None, "en"),
])
def test_choose(query, session, browser, expected):
    assert i18n.choose(query, session, browser) == expected


def test_money_dates_and_numbers_per_language():
    from datetime import date
    from decimal import Decimal

    assert l10n.usd(Decimal("0.01234"), "en") == "$0.0123"
    assert l10n.usd(Decimal("1021.255"), "ja") == "$1,021.26"
    assert l10n.jpy(Decimal("153189.5"), "en") == "¥153,190"
    assert l10n.jpy(Decimal("150"), "ja") == "￥150"      # no decimals
    assert l10n.day(date(2026, 12, 1), "ja") == "2026年12月1日"
    assert l10n.day(date(2026, 12, 1), "en") == "2026-12-01"
    assert l10n.number(12345.6, 1, "ja") == "12,345.6"
    assert l10n.money(None) == "–"
