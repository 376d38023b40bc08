"""Choosing the next blind pair to show: informative (few votes, close scores), fair (random sides), seeded.

Two results are comparable when they come from the same prompt and operation (for edits: the same run,
so the same input images) and differ in setting. Among setting pairs that share such a group, the next
pair is drawn with weight ``exp(−|θa − θb|) / (1 + votes between them)²`` — settings with few votes
and close scores come first, yet nothing is starved. The draw, the results within the settings and the
sides all come from one ``random.Random`` seeded by (seed, rater, number of votes so far), so a session
is reproducible and two raters voting in parallel see different pairs.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from imagegen.insight import ranking


@dataclass(frozen=True)
class Item:
    """One image that can be shown: its result id, the group of comparable results and its setting."""

    result_id: int
    group: str
    setting: str


@dataclass(frozen=True)
class Pair:
    """What the page shows: left and right result ids (labels hidden from the rater)."""

    left_result_id: int
    right_result_id: int
    left_setting: str
    right_setting: str
    group: str


@dataclass(frozen=True)
class PastVote:
    left_result_id: int
    right_result_id: int
    choice: str
    rater: str


def next_pair(items: Sequence[Item], past: Sequence[PastVote], rater: str | None = None, seed: int = 0) -> Pair | None:
    """The next pair for ``rater``, or None when fewer than two settings share a group.

    A pair of results the rater already judged (skips included) is shown again only when every
    comparable pair has been seen.
    """
    by_group: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    setting_of: dict[int, str] = {}
    for it in items:
        by_group[it.group][it.setting].append(it.result_id)
        setting_of[it.result_id] = it.setting
    candidate_pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for group, settings in by_group.items():
        names = sorted(settings)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                candidate_pairs[(a, b)].append(group)
    if not candidate_pairs:
        return None
    rng = random.Random(f"{seed}:{rater}:{len(past)}")
    seen = {frozenset((v.left_result_id, v.right_result_id)) for v in past if rater is None or v.rater == rater}
    counted = [v for v in past if v.choice != "skip" and v.left_result_id in setting_of
               and v.right_result_id in setting_of]
    n_between: dict[frozenset, int] = defaultdict(int)
    for v in counted:
        n_between[frozenset((setting_of[v.left_result_id], setting_of[v.right_result_id]))] += 1
    scores: Mapping[str, float] = {}
    if counted:
        fitted = ranking.rank([setting_of[v.left_result_id] for v in counted],
                              [setting_of[v.right_result_id] for v in counted], [v.choice for v in counted],
                              replicates=0)
        scores = dict(zip(fitted.settings, fitted.score))

    def unseen_pairs(a: str, b: str) -> list[tuple[int, int, str]]:
        out = []
        for group in candidate_pairs[(a, b)]:
            for x in by_group[group][a]:
                for y in by_group[group][b]:
                    if frozenset((x, y)) not in seen:
                        out.append((x, y, group))
        return out

    keys = sorted(candidate_pairs)
    weights = []
    for a, b in keys:
        gap = abs(scores.get(a, 0.0) - scores.get(b, 0.0))
        weights.append(math.exp(-gap) / (1 + n_between[frozenset((a, b))]) ** 2)
    fresh = [k for k in keys if unseen_pairs(*k)]
    pool = fresh or keys
    pool_weights = [weights[keys.index(k)] for k in pool]
    a, b = rng.choices(pool, weights=pool_weights, k=1)[0]
    options = unseen_pairs(a, b) if fresh else [(x, y, g) for g in candidate_pairs[(a, b)]
                                                for x in by_group[g][a] for y in by_group[g][b]]
    x, y, group = rng.choice(options)
    if rng.random() < 0.5:
        return Pair(x, y, a, b, group)
    return Pair(y, x, b, a, group)
