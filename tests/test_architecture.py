"""Dependency rules: the library never imports Streamlit; the SDK stays inside providers; pages stay thin."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "imagegen"


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def lib_files():
    return sorted(LIB.rglob("*.py"))


def test_import_linter_contracts_hold():
    """The layers in pyproject.toml ([tool.importlinter]): one direction, no Streamlit, the SDK in providers."""
    exe = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "broken" in done.stdout and " 0 broken" in done.stdout


def test_pages_import_no_sdk_or_sqlite():
    for page in [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py"))]:
        if page.exists():
            mods = imports(page)
            assert not {m for m in mods if m.split(".")[0] in ("openai", "httpx2", "sqlite3")}, page.name


def _ui_and_pages() -> list[Path]:
    files = [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
    return [f for f in files if f.exists()]


def test_only_ui_state_touches_session_state():
    """Every session key is declared in ui/state.py; nothing else reads or writes st.session_state."""
    offenders = []
    for path in _ui_and_pages():
        if path == ROOT / "ui" / "state.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
            if name == "session_state" or (isinstance(node, ast.alias) and node.name == "session_state"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], "use a page's state object in ui/state.py instead: " + ", ".join(offenders)


def test_results_does_not_import_generates_run_panel():
    """Starting and resuming runs is shared (ui/runs.py); the live-run panel belongs to Generate alone."""
    for path in _ui_and_pages():
        if path.name not in ("run_panel.py", "1_Generate.py"):
            mods = imports(path)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "ui"
                     for a in n.names}
            assert "ui.run_panel" not in mods and "run_panel" not in names, path.name


PAGES = [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py"))]
#: What a page may import: Streamlit, the ui package, the facade and a little of the standard library.
PAGE_IMPORTS = {"streamlit", "ui", "imagegen.facade", "imagegen", "datetime"}
MAX_PAGE_LINES = 40


def _page_imports(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
            if node.module == "imagegen":
                found.update(f"imagegen.{a.name}" for a in node.names)
    return found


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_import_only_ui_and_the_facade(page):
    tree = ast.parse(page.read_text(encoding="utf-8"))
    mods = _page_imports(tree)
    allowed = {m for m in mods if m in PAGE_IMPORTS or m.startswith("ui.")}
    assert mods - allowed == set(), f"{page.name} imports {sorted(mods - allowed)}; go through ui or imagegen.facade"
    assert not {m for m in mods if m.startswith("imagegen.") and m != "imagegen.facade"}


#: What ui/ may import from the library: the facade (its functions, and what it re-exports, facade.REEXPORTS) and
#: the project's errors (shared by every layer, shown as str(err)). Every ui module, and any new one, holds to it.
UI_LIBRARY_IMPORTS = {"imagegen.facade", "imagegen.errors"}


def _library_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "imagegen")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "imagegen":
            if node.module == "imagegen":  # from imagegen import facade
                found.update(f"imagegen.{a.name}" for a in node.names)
            else:
                found.add(node.module)
    return found


@pytest.mark.parametrize("module", sorted((ROOT / "ui").glob("*.py")), ids=lambda p: p.name)
def test_ui_reaches_the_library_only_through_the_facade(module):
    direct = _library_imports(module) - UI_LIBRARY_IMPORTS
    assert direct == set(), (f"ui/{module.name} imports {sorted(direct)}: go through imagegen.facade (a function, or "
                             "a name added to facade.REEXPORTS)")


def test_the_facade_re_exports_what_it_lists():
    """Each re-exported name is the library's own object (no copy), and a function or class says what it does."""
    import importlib
    import inspect

    from imagegen import facade

    tables = (facade.FORM_HELPERS, facade.FRAME_HELPERS, facade.VIEW_HELPERS)
    assert sum(map(len, tables)) == len(facade.REEXPORTS), "a name is in two of the facade's tables"
    for name in facade.REEXPORTS:
        module, attr = facade.reexported(name)
        value = getattr(facade, name)
        assert value is getattr(importlib.import_module(module), attr), name
        if inspect.isfunction(value) or inspect.isclass(value):
            assert (value.__doc__ or "").strip(), f"{module}.{attr} (facade.{name}) has no docstring"
    with pytest.raises(AttributeError):
        facade.no_such_name  # noqa: B018


def test_the_facade_defines_nothing_it_also_re_exports():
    """A facade function and a re-export of the same name: the function would win, silently."""
    import ast as _ast

    tree = _ast.parse((LIB / "facade.py").read_text(encoding="utf-8"))
    defined = {n.name for n in tree.body if isinstance(n, (_ast.FunctionDef, _ast.ClassDef))}
    from imagegen import facade

    assert defined & set(facade.REEXPORTS) == set()


def test_importing_the_facade_loads_none_of_what_it_re_exports():
    """The re-exports load on first use: importing the facade costs only imagegen.errors (and its redaction)."""
    probe = ("import sys; before = set(sys.modules); import imagegen.facade; "
             "print(' '.join(sorted(m for m in set(sys.modules) - before if m.startswith('imagegen'))))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(done.stdout.split()) <= {"imagegen", "imagegen.errors", "imagegen.redaction", "imagegen.facade"}, done.stdout


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_are_thin(page):
    """At most ~40 lines: widgets, one facade call and rendering; no functions, loops or error handling."""
    text = page.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_PAGE_LINES, f"{page.name} has {len(text.splitlines())} lines"
    tree = ast.parse(text)
    imported = {a.asname or a.name.split(".")[0] for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names}
    for node in ast.walk(tree):
        assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.While,
                                     ast.Try, ast.Lambda)), f"{page.name}:{node.lineno}: logic belongs in ui/"
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    # Every call starts from something the page imported (st, ui, a ui module, facade, date) or a value
    # one of those returned (ctx.catalog, found.pool ...): never a helper defined on the page.
    names = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in ast.walk(n) if isinstance(t, ast.Name)}
    for call in calls:
        root = _root_name(call.func)
        assert root in imported | names, f"{page.name}:{call.lineno}: {ast.unparse(call.func)}"
    facade_calls = [c for c in calls if "facade." in ast.unparse(c)]
    assert len(facade_calls) <= 1, f"{page.name} makes {len(facade_calls)} facade calls; one door, one call"
