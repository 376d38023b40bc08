"""What the pages write: no emoji (a server or CI browser without an emoji font draws a box instead)."""

import ast
import re
from pathlib import Path

from ui import grid_view

ROOT = Path(__file__).resolve().parents[1]
#: Pictographs, dingbats and the clock/hourglass block (⌚ ⏳ ⏰ …): what renders as a box without an emoji font.
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u231A-\u23FF\u2B00-\u2BFF\uFE0F]")


def ui_strings():
    for path in [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield path.relative_to(ROOT), node.lineno, node.value


def test_no_emoji_in_any_string_the_pages_show():
    found = [(str(p), line, EMOJI.findall(text)) for p, line, text in ui_strings() if EMOJI.search(text)]
    assert not found, f"use a Material icon (:material/name:) or text instead: {found}"


def test_the_detector_sees_the_hourglass_emoji():
    assert EMOJI.search("⏳ waiting…") and not EMOJI.search("F1レーサー · × → ↓ — …")


def test_a_waiting_cell_uses_a_material_icon():
    assert grid_view.PENDING.startswith(":material/hourglass_empty:")


def test_a_multiselect_with_a_maximum_never_offers_select_all():
    """Streamlit offers "Select all" on every multiselect unless told not to; with max_selections it cannot work."""
    capped = []
    for path in [*sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "multiselect":
                kw = {k.arg: k.value for k in node.keywords}
                if "max_selections" in kw:
                    capped.append((str(path.relative_to(ROOT)), node.lineno,
                                   isinstance(kw.get("select_all"), ast.Constant) and kw["select_all"].value is False))
    assert capped and all(ok for *_, ok in capped), capped


def test_no_page_code_assigns_to_the_translator_name():
    """``a, _ = st.columns(2)`` in a function makes every ``_("...")`` after it call a column (a TypeError)."""
    found = []
    for path in [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, f"name it _spare (or anything but _): {found}"
