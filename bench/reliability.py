"""The README's reliability table: every case group in bench/reliability_cases/, run and counted.

    python bench/reliability.py                 # every group; prints the markdown table; exit 1 if a case failed
    python bench/reliability.py --only "hostile endpoint"
    python bench/reliability.py --list

Each group module names its cases and what "held" means (see bench/reliability_cases/__init__.py).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import bench.reliability_cases as cases_pkg  # noqa: E402  (after the path set-up above)

COMMAND = "python bench/reliability.py"


def groups() -> list:
    """Every group module, in file-name order."""
    mods = [importlib.import_module(f"{cases_pkg.__name__}.{m.name}")
            for m in sorted(pkgutil.iter_modules(cases_pkg.__path__), key=lambda m: m.name)]
    return [m for m in mods if hasattr(m, "GROUP") and hasattr(m, "run")]


def table(rows: list[tuple[str, list, float]]) -> str:
    """The markdown table: one row per case group (``CaseResult.group``), cases tried, held, wall time."""
    out = ["| group | cases tried | held | time in its cases |", "| --- | --- | --- | --- |"]
    for _module_group, results, _wall in rows:
        by_group: dict[str, list] = {}
        for r in results:
            by_group.setdefault(r.group, []).append(r)
        for group, members in by_group.items():
            held = sum(r.held for r in members)
            out.append(f"| {group} | {len(members)} | **{held}** | {sum(r.wall_s for r in members):.1f} s |")
    total = sum(len(r) for _, r, _ in rows)
    held = sum(sum(x.held for x in r) for _, r, _ in rows)
    out.append(f"| **all** | {total} | **{held}** | {sum(w for *_, w in rows):.1f} s wall |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", help="run only this group (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the groups and exit")
    args = parser.parse_args(argv)
    mods = groups()
    if args.list:
        for m in mods:
            print(f"{m.GROUP}: {getattr(m, 'DESCRIPTION', '')}")
        return 0
    if args.only:
        unknown = set(args.only) - {m.GROUP for m in mods}
        if unknown:
            print(f"unknown group(s) {sorted(unknown)}; have {[m.GROUP for m in mods]}", file=sys.stderr)
            return 2
        mods = [m for m in mods if m.GROUP in args.only]
    rows = []
    with tempfile.TemporaryDirectory(prefix="imagegen-reliability-") as tmp:
        for m in mods:
            t0 = time.perf_counter()
            scratch = Path(tmp) / m.__name__.rsplit(".", 1)[-1]
            scratch.mkdir()
            results = m.run(scratch)
            rows.append((m.GROUP, results, time.perf_counter() - t0))
    print(table(rows))
    print()
    for m, (group, results, _) in zip(mods, rows):
        print(f"- **{group}**: {getattr(m, 'DESCRIPTION', '')}")
        for r in results:
            for k, v in r.figures.items():
                print(f"  - {r.name}: {k} = {v}")
    failed = [r for _, results, _ in rows for r in results if not r.held]
    for r in failed:
        print(f"FAILED {r.group} / {r.name}: {'; '.join(r.problems)}", file=sys.stderr)
    print(f"\nProduced by `{COMMAND}`.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
