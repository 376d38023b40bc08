"""Bradley–Terry ranking: synthetic voters of known strength, intervals' coverage, ties, agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagegen.insight import ranking
from imagegen.insight.ranking import RankingError


def synthetic_votes(true: np.ndarray, n: int, seed: int, tie_band: float = 0.0):
    """n votes between random pairs; each voter picks by the BT probability; |u - p| < tie_band gives a tie."""
    rng = np.random.default_rng(seed)
    m = len(true)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    p = 1 / (1 + np.exp(-(true[a] - true[b])))
    u = rng.random(n)
    out = np.where(u < p, "left", "right")
    if tie_band:
        out = np.where(np.abs(u - p) < tie_band, "tie", out)
    names = [f"s{i}" for i in range(m)]
    return [names[i] for i in a], [names[i] for i in b], out.tolist(), names


@pytest.mark.parametrize("seed", range(5))
def test_order_recovers_true_order(seed):
    rng = np.random.default_rng(100 + seed)
    true = np.sort(rng.normal(0, 1, 7))[::-1]
    true = true - true.mean()
    left, right, out, names = synthetic_votes(true, 4000, seed)
    r = ranking.rank(left, right, out)
    tau = ranking.kendall_tau(list(r.score), list(true))
    assert tau is not None and tau >= 0.9, (r.score, true)
    # gaps above 0.3 in log-strength are always resolved with 4,000 votes
    est = np.array(r.score)
    for i in range(len(true) - 1):
        if true[i] - true[i + 1] > 0.3:
            assert est[i] > est[i + 1]
    assert np.abs(est - true).max() < 0.25


def test_intervals_cover_true_scores_at_about_the_stated_rate():
    covered = total = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        true = rng.normal(0, 0.8, 6)
        true = true - true.mean()
        left, right, out, _ = synthetic_votes(true, 1500, 1000 + seed)
        r = ranking.rank(left, right, out, seed=seed)
        low, high = np.array(r.low), np.array(r.high)
        covered += int(((low <= true) & (true <= high)).sum())
        total += len(true)
    rate = covered / total
    # 240 intervals at a stated 95 %: a binomial 99 % band is about 0.91..0.98
    assert 0.90 <= rate <= 0.99, rate


def test_matches_choix_on_the_same_votes():
    choix = pytest.importorskip("choix")
    rng = np.random.default_rng(7)
    true = rng.normal(0, 1, 5)
    left, right, out, names = synthetic_votes(true, 800, 3)
    idx = {s: k for k, s in enumerate(names)}
    data = [(idx[a], idx[b]) if o == "left" else (idx[b], idx[a]) for a, b, o in zip(left, right, out)]
    expected = choix.opt_pairwise(len(names), data, alpha=ranking.RIDGE)
    r = ranking.rank(left, right, out, settings=names, replicates=0)
    assert np.allclose(r.score, expected - expected.mean(), atol=2e-3)  # choix's optimiser stops at a looser tolerance


def test_ties_count_half_and_only_ties_give_equal_scores():
    r = ranking.rank(["a", "b", "a"], ["b", "c", "c"], ["tie", "tie", "tie"])
    assert np.allclose(r.score, 0)
    # one win and one tie is the same evidence as 1.5 wins of 2
    w = ranking.count_votes(["a", "a"], ["b", "b"], ["left", "tie"])
    assert w.wins[0, 1] == 1 and w.ties[0, 1] == w.ties[1, 0] == 1
    assert ranking.win_rate_of(w)[0, 1] == pytest.approx(0.75)


def test_a_setting_that_never_lost_stays_finite_and_first():
    r = ranking.rank(["a"] * 5 + ["b"] * 5, ["b"] * 5 + ["c"] * 5, ["left"] * 10)
    assert r.order == ["a", "b", "c"]
    assert all(math.isfinite(x) for x in r.score + r.low + r.high)


def test_same_votes_same_figures_seeded():
    left, right, out, _ = synthetic_votes(np.array([0.5, 0, -0.5]), 300, 1)
    one, two = ranking.rank(left, right, out, seed=4), ranking.rank(left, right, out, seed=4)
    assert one.table() == two.table() and (one.low, one.high) == (two.low, two.high)
    assert ranking.rank(left, right, out, seed=5).low != one.low  # the seed matters


@pytest.mark.parametrize(("left", "right", "out", "match"), [
    (["a"], ["b"], ["skip"], "skip"),
    (["a"], ["a"], ["left"], "itself"),
    (["a", "b"], ["b"], ["left"], "one outcome per pair"),
])
def test_bad_votes_are_refused_with_the_fix(left, right, out, match):
    with pytest.raises(RankingError, match=match):
        ranking.rank(left, right, out)


def test_unknown_setting_is_named():
    with pytest.raises(RankingError, match="'z'"):
        ranking.count_votes(["z"], ["a"], ["left"], settings=["a", "b"])


def test_votes_to_separate_falls_as_the_gap_grows_and_is_none_for_equals():
    votes = (["a"] * 30 + ["b"] * 30, ["b"] * 30 + ["c"] * 30, ["left"] * 17 + ["right"] * 13 + ["left"] * 25 + ["right"] * 5)
    r = ranking.rank(*votes)
    close = ranking.votes_to_separate(r, "a", "b")
    far = ranking.votes_to_separate(r, "b", "c")
    assert close is not None and far is not None and close > far >= 0
    equal = ranking.rank(["a", "a"], ["b", "b"], ["left", "right"])
    assert ranking.votes_to_separate(equal, "a", "b") is None


def test_votes_to_separate_is_about_enough_in_simulation():
    """Voting the suggested number of head-to-head votes separates the pair in about 80 % of trials (its power)."""
    left, right, out, names = synthetic_votes(np.array([0.2, -0.2]), 60, 11)
    r = ranking.rank(left, right, out, settings=names, replicates=0)
    more = ranking.votes_to_separate(r, "s0", "s1")
    assert more is not None and more > 0
    d = r.score[0] - r.score[1]
    total = more + int(r.counts.comparisons[0, 1])
    separated = 0
    trials = 40
    for seed in range(trials):
        l2, r2, o2, _ = synthetic_votes(np.array([d / 2, -d / 2]), total, 500 + seed)
        after = ranking.rank(l2, r2, o2, settings=names, replicates=200, seed=seed)
        # two settings: θ0 = -θ1, so θ0's interval excluding 0 is the difference's interval excluding 0
        separated += int(after.low[0] > 0 or after.high[0] < 0)
    assert 0.6 <= separated / trials <= 0.97, separated


def test_indistinguishable_from_best_uses_interval_overlap():
    r = ranking.Ranking(("a", "b", "c"), (1.0, 0.7, -1.7), (0.6, 0.2, -2.0), (1.4, 0.9, -1.3), (10, 10, 10),
                        ranking.count_votes([], [], [], settings=["a", "b", "c"]))
    assert r.indistinguishable_from_best() == ["a", "b"]


@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=12), st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_kendall_tau_matches_scipy(x, rnd):
    stats = pytest.importorskip("scipy.stats")
    y = [v + rnd.choice([-1.0, 0.0, 1.0]) for v in x]
    expected = stats.kendalltau(x, y).statistic
    got = ranking.kendall_tau(x, y)
    if math.isnan(expected):
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_rater_agreement_sees_a_contrary_rater():
    true = np.array([1.0, 0.3, -0.3, -1.0])
    l1, r1, o1, _ = synthetic_votes(true, 600, 1)
    l2, r2, o2, _ = synthetic_votes(true, 600, 2)
    l3, r3, o3, _ = synthetic_votes(-true, 600, 3)
    rows = ranking.rater_agreement(l1 + l2 + l3, r1 + r2 + r3, o1 + o2 + o3,
                                   ["ann"] * 600 + ["bob"] * 600 + ["cy"] * 600)
    by = {(r["rater_a"], r["rater_b"]): r["tau"] for r in rows}
    assert by[("ann", "bob")] > 0.6
    assert by[("ann", "cy")] < -0.6
