"""Dependency rules: the library never imports Streamlit; the SDK stays inside providers; pages stay thin."""

import ast
from pathlib import Path

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


def test_imagegen_never_imports_streamlit():
    offenders = [str(p.relative_to(ROOT)) for p in lib_files() if any(m.split(".")[0] == "streamlit" for m in imports(p))]
    assert offenders == []


def test_openai_sdk_only_in_providers_and_simulator():
    allowed = ("providers", "simulator")
    offenders = [
        str(p.relative_to(ROOT)) for p in lib_files()
        if any(m.split(".")[0] in ("openai", "httpx2") for m in imports(p))
        and not any(part in allowed for part in p.relative_to(LIB).parts)
    ]
    assert offenders == []


def test_core_modules_do_not_reach_up():
    """catalog/request/pricing/grid/tokens never import the runner, store, providers or UI layers."""
    core = ["catalog.py", "tokens.py", "request.py", "pricing.py", "grid.py", "errors.py", "columns.py"]
    upper = ("imagegen.runner", "imagegen.store", "imagegen.providers", "imagegen.simulator", "ui")
    for name in core:
        mods = imports(LIB / name)
        rel = {m for m in mods if m.startswith(upper)}
        tree = ast.parse((LIB / name).read_text())
        rel |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level and n.module
                and n.module.split(".")[0] in ("runner", "store", "providers", "simulator")}
        assert rel == set(), f"{name} imports {rel}"


def test_pages_import_no_sdk_or_sqlite():
    for page in [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py"))]:
        if page.exists():
            mods = imports(page)
            assert not {m for m in mods if m.split(".")[0] in ("openai", "httpx2", "sqlite3")}, page.name
