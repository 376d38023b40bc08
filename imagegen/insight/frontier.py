"""The cost–quality frontier: which settings are worth their price, and the cheapest one as good as the best."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from imagegen.insight.ranking import Ranking


def pareto(points: Mapping[str, tuple[Decimal, float]]) -> list[str]:
    """Settings no other setting beats on both axes (cost ≤ and score ≥, one of them strictly), cheapest first."""
    out = []
    for s, (cost, score) in points.items():
        dominated = any(c2 <= cost and q2 >= score and (c2 < cost or q2 > score)
                        for t, (c2, q2) in points.items() if t != s)
        if not dominated:
            out.append(s)
    return sorted(out, key=lambda s: (points[s][0], -points[s][1], s))


def cheapest_as_good_as_best(ranking: Ranking, costs: Mapping[str, Decimal]) -> str | None:
    """The cheapest setting whose interval overlaps the top setting's interval (statistically indistinguishable).

    Settings without a known cost are left out; ``None`` when no ranked setting has one. A tie in cost goes
    to the higher score.
    """
    candidates = [s for s in ranking.indistinguishable_from_best() if s in costs]
    if not candidates:
        return None
    score = dict(zip(ranking.settings, ranking.score))
    return min(candidates, key=lambda s: (costs[s], -score[s], s))
