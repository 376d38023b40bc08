"""Dependency rules: the library never imports Streamlit; the SDK stays inside providers; pages stay thin."""

import ast
import subprocess
import sys
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
