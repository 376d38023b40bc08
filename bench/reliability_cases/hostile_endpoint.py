"""Every mode of the hostile fake Images API (tests/fakes/hostile.py), on the OpenAI and Azure routes."""

from __future__ import annotations

from pathlib import Path

from bench.reliability_cases import CaseResult

GROUP = "hostile endpoint"
DESCRIPTION = ("each bad-answer mode beside a good cell (wrong types, absurd usage, wrong image count, non-images, "
               "bombs, drips, stalls, cut connections, odd Retry-After, echoed keys, markdown in errors); held = grid "
               "finished, bad cell not ok with a reason, good cell ok, billed answers still counted as spent, no "
               "attempt past its deadline, the key in no event, export or SQLite file")


def run(tmp: Path) -> list[CaseResult]:
    from tests.hostile_cases import all_cases, cli_case

    return [*all_cases(tmp / "hostile-home"), cli_case(tmp)]
