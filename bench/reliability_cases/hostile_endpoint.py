"""Every mode of the hostile fake Images API (tests/fakes/hostile.py), on the OpenAI and Azure routes."""

from __future__ import annotations

from pathlib import Path

from bench.reliability_cases import CaseResult

GROUP = "hostile endpoint"
DESCRIPTION = ("each bad-answer mode beside a good cell (wrong types, absurd usage, wrong image count, non-images, "
               "bombs, drips, stalls, cut connections, odd Retry-After, echoed keys, markdown in errors); held = grid "
               "finished, bad cell not ok with a reason, good cell ok, billed answers still counted as spent, no "
               "attempt past its deadline, the key in no event, export, SQLite file, CLI output or page (AppTest); "
               "pages show planted markdown literally and a placeholder for missing, truncated or bomb images")


def run(tmp: Path) -> list[CaseResult]:
    from tests.hostile_cases import all_cases, cli_case, page_cases

    return [*all_cases(tmp / "hostile-home"), cli_case(tmp), *page_cases(tmp)]
