"""Every bad spec of issue 10 through the real CLI (tests/spec_cases.py)."""

from __future__ import annotations

from pathlib import Path

GROUP = "bad specs"
DESCRIPTION = ("each bad spec of issue 10 (wrong types, tables that are not tables, nan/inf/0 limits, floats and "
               "booleans for integers, non-canonical sizes, edits, duplicate axis values, control characters, "
               "unknown keys, non-UTF-8, a directory) through `run` and `estimate`, plus unwritable export paths; "
               "held = exit 2 naming the file, key, value and fix, no traceback, no provider built, nothing sent "
               "or recorded")


def run(tmp: Path) -> list:
    from tests.spec_cases import all_cases

    return all_cases(tmp, GROUP)
