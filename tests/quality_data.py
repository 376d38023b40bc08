"""Shared data for the quality tests: a real simulator run and seeded synthetic raters of known strength."""

from __future__ import annotations

import math
import random

from imagegen.insight import pairing, quality
from imagegen.storage import votes as vote_store
from tests.clock import TODAY

SPEC = '''name = "quality x size"
provider = "simulator"
model = "gpt-image-1.5"
prompts = ["a red fox", "a sign that reads OPEN"]
repeats = 1
[axes]
quality = ["low", "medium", "high"]
size = ["1024x1024", "1536x1024"]
[limits]
concurrency = 8
'''
#: The simulated raters' true preference (log-strength) per quality; size does not matter to them.
STRENGTH = {"low": -1.5, "medium": 0.0, "high": 1.5}


def strength(setting: str) -> float:
    return STRENGTH[setting.split(" · ")[1]]


def make_run(home):
    """One real 2 prompts x 3 qualities x 2 sizes run on the in-process simulator; returns (store, run_id)."""
    from imagegen.execution.providers import make_simulator_provider
    from imagegen.execution.runner import run_grid
    from imagegen.storage.store import Store

    store = Store(home)
    summary = run_grid(SPEC, provider=make_simulator_provider({"time_scale": 0, "seed": 1}), store=store, today=TODAY)
    return store, summary.run_id


def vote_like(store, run_id: str, n: int, rater: str = "ann", seed: int = 0) -> list[str]:
    """``rater`` votes ``n`` informative pairs as a BT voter of strength ``STRENGTH``; returns the choices."""
    pool = quality.load_pool(store, [run_id])
    rng = random.Random(seed)
    choices = []
    for _ in range(n):
        past = [pairing.PastVote(int(a), int(b), c, r) for a, b, c, r in vote_store.votes(store, [run_id])[
            ["left_result_id", "right_result_id", "choice", "rater"]].itertuples(index=False)]
        pair = pairing.next_pair(pool.pair_items(), past, rater, seed)
        p = 1 / (1 + math.exp(-(strength(pair.left_setting) - strength(pair.right_setting))))
        choice = "left" if rng.random() < p else "right"
        vote_store.record_vote(store, pair.left_result_id, pair.right_result_id, choice, rater)
        choices.append(choice)
    return choices
