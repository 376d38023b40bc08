"""Case groups of the README's reliability table (``python bench/reliability.py``).

Add a group: a module here with

    GROUP = "bad specs"                      # the table's row label
    DESCRIPTION = "what is tried and what 'held' means"   # one line, shown under the table
    def run(tmp: Path) -> list[CaseResult]:  # every case of the group, run in the scratch dir ``tmp``

A case *held* when its ``problems`` list is empty; every problem is one sentence saying what went
wrong. ``figures`` (optional) holds measured numbers to print with the group (e.g. a soak's counts).
Keep a group under a minute on 2 cores; the tests run the same cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CaseResult:
    """One case of a group: what was tried, what went wrong (nothing = held), how long it took."""

    group: str
    name: str
    problems: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    figures: dict[str, str] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return not self.problems
