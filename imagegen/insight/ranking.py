"""Bradley–Terry ranking of settings from pairwise votes, with bootstrap intervals.

Model: setting *i* beats setting *j* with probability ``σ(θi − θj)``. A tie counts as half a win for
each side (the convention of the LMSYS arena; a Davidson tie parameter would need more votes than a
meeting produces). The fit maximises the log-likelihood with a small ridge penalty ``λ/2·‖θ‖²``
(``RIDGE``): it keeps a setting that never lost finite and makes the scores sum to zero exactly, so
they need no separate centring. Newton's method on the count matrices converges in a handful of steps
and runs for many bootstrap replicates at once (a batch of ``m × m`` systems), so 50,000 votes rank in
well under a second: the cost depends on the number of *settings*, not votes, after one aggregation.

Intervals are percentile bootstrap intervals (votes resampled with replacement: one multinomial draw
over the distinct (left setting, right setting, outcome) cells). ``votes_to_separate`` says how many
more head-to-head votes would tell two settings apart at their current difference (a two-sided 5 %
test with 80 % power). Raters' agreement is Kendall's τ-b between their own fitted orders.

numpy is imported lazily so ``python -m imagegen`` stays quick for the other commands.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from imagegen.errors import RankingError

if TYPE_CHECKING:
    import numpy as np

#: Ridge penalty on θ (a Gaussian prior with standard deviation ~3.2 on each log-strength).
RIDGE = 0.1
#: Bootstrap replicates for the 95 % intervals.
BOOTSTRAP = 200
LEVEL = 0.95
OUTCOMES = ("left", "right", "tie")
#: z for a two-sided 5 % test plus z for 80 % power (votes-to-separate).
_Z_SEPARATE = 1.959964 + 0.841621


@dataclass(frozen=True, eq=False)
class Counts:
    """Votes aggregated per ordered pair: ``wins[i, j]`` = i beat j, ``ties[i, j]`` (symmetric)."""

    settings: tuple[str, ...]
    wins: np.ndarray
    ties: np.ndarray

    @property
    def comparisons(self) -> np.ndarray:
        """Votes between i and j (wins both ways plus ties), symmetric."""
        return self.wins + self.wins.T + self.ties

    @property
    def votes(self) -> int:
        return int(self.wins.sum() + self.ties.sum() / 2)


def count_votes(left: Sequence[str], right: Sequence[str], outcome: Sequence[str],
                settings: Sequence[str] | None = None) -> Counts:
    """Aggregate votes (one entry per vote: left setting, right setting, ``left|right|tie``).

    Skips must be dropped before; a vote between a setting and itself is refused (it says nothing).
    """
    import numpy as np

    left_a = np.asarray(left, dtype=object)
    right_a = np.asarray(right, dtype=object)
    out_a = np.asarray(outcome, dtype=object)
    if not (len(left_a) == len(right_a) == len(out_a)):
        raise RankingError(f"votes have {len(left_a)} left, {len(right_a)} right and {len(out_a)} outcome entries. "
                           "Fix: pass one outcome per pair.")
    names = tuple(settings) if settings is not None else tuple(sorted(set(left_a.tolist()) | set(right_a.tolist())))
    index = {s: k for k, s in enumerate(names)}
    try:
        li = np.fromiter((index[s] for s in left_a), dtype=np.int64, count=len(left_a))
        ri = np.fromiter((index[s] for s in right_a), dtype=np.int64, count=len(right_a))
    except KeyError as exc:
        raise RankingError(f"vote names setting {exc.args[0]!r}, which is not among the settings given. "
                           "Fix: include every voted setting.") from None
    bad = sorted(set(out_a.tolist()) - set(OUTCOMES))
    if bad:
        raise RankingError(f"vote outcome {bad[0]!r} is not allowed: one of {', '.join(OUTCOMES)} "
                           "(skips carry no preference). Fix: drop skipped votes before ranking.")
    if len(li) and (li == ri).any():
        k = int(np.flatnonzero(li == ri)[0])
        raise RankingError(f"vote {k} compares setting {names[li[k]]!r} with itself. Fix: compare two settings.")
    m = len(names)
    wins = np.zeros((m, m))
    ties = np.zeros((m, m))
    is_left, is_right, is_tie = (out_a == "left"), (out_a == "right"), (out_a == "tie")
    np.add.at(wins, (li[is_left], ri[is_left]), 1)
    np.add.at(wins, (ri[is_right], li[is_right]), 1)
    np.add.at(ties, (li[is_tie], ri[is_tie]), 1)
    ties = ties + ties.T
    return Counts(names, wins, ties)


def fit(wins: np.ndarray, ties: np.ndarray | None = None, ridge: float = RIDGE) -> np.ndarray:
    """Bradley–Terry log-strengths θ (sum zero) for one ``(m, m)`` count matrix or a batch ``(B, m, m)``."""
    import numpy as np

    w = np.asarray(wins, dtype=float)
    if ties is not None:
        w = w + np.asarray(ties, dtype=float) / 2  # a tie is half a win each way
    single = w.ndim == 2
    if single:
        w = w[None]
    b, m, _ = w.shape
    n = w + np.swapaxes(w, 1, 2)
    theta = np.zeros((b, m))
    eye = np.eye(m)[None]
    for _ in range(100):
        diff = theta[:, :, None] - theta[:, None, :]
        p = 1.0 / (1.0 + np.exp(-diff))
        grad = (w - n * p).sum(axis=2) - ridge * theta
        curv = n * p * (1 - p)
        hess = eye * (curv.sum(axis=2) + ridge)[:, :, None] - curv
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        step = np.clip(step, -2.0, 2.0)  # damped: early steps on lopsided data can overshoot
        theta = theta + step
        if np.abs(step).max() < 1e-10:
            break
    return theta[0] if single else theta


@dataclass(frozen=True)
class Ranking:
    """Scores with intervals for one group of votes (a prompt, or pooled)."""

    settings: tuple[str, ...]
    score: tuple[float, ...]           # θ, sum zero (natural-log odds scale)
    low: tuple[float, ...]
    high: tuple[float, ...]
    votes: tuple[int, ...]             # votes each setting took part in (ties included, skips not)
    counts: Counts = field(repr=False)
    level: float = LEVEL
    replicates: int = BOOTSTRAP

    @property
    def order(self) -> list[str]:
        """Settings best first (ties in score broken by name, for a stable order)."""
        return [s for _, s in sorted(zip(self.score, self.settings), key=lambda t: (-t[0], t[1]))]

    def win_rate(self) -> np.ndarray:
        """Observed share of i's votes against j that i won (a tie counts half); NaN where none."""
        return win_rate_of(self.counts)

    def table(self) -> list[dict]:
        """One dict per setting, best first: setting, rank, score, low, high, votes, win_prob_vs_mean."""
        rows = []
        for rank, s in enumerate(self.order, start=1):
            k = self.settings.index(s)
            rows.append({"setting": s, "rank": rank, "score": self.score[k], "low": self.low[k],
                         "high": self.high[k], "votes": self.votes[k],
                         "win_prob_vs_mean": 1 / (1 + math.exp(-self.score[k]))})
        return rows

    def indistinguishable_from_best(self) -> list[str]:
        """Settings whose interval overlaps the top setting's interval (the top one included)."""
        if not self.settings:
            return []
        top = self.settings.index(self.order[0])
        return [s for k, s in enumerate(self.settings) if self.high[k] >= self.low[top]]


def rank(left: Sequence[str], right: Sequence[str], outcome: Sequence[str], *, settings: Sequence[str] | None = None,
         replicates: int = BOOTSTRAP, level: float = LEVEL, seed: int = 0, ridge: float = RIDGE) -> Ranking:
    """Fit Bradley–Terry scores and percentile-bootstrap intervals (seeded: the same votes give the same figures)."""
    import numpy as np

    counts = count_votes(left, right, outcome, settings)
    m = len(counts.settings)
    theta = fit(counts.wins, counts.ties, ridge) if m else np.zeros(0)
    low, high = theta.copy(), theta.copy()
    if m >= 2 and counts.votes and replicates > 0:
        # Distinct outcome cells: (i beats j) for every i != j, plus ties for i < j.
        iu = np.triu_indices(m, 1)
        win_cells = np.argwhere(~np.eye(m, dtype=bool))
        probs = np.concatenate([counts.wins[win_cells[:, 0], win_cells[:, 1]], counts.ties[iu]])
        total = counts.votes
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(total, probs / probs.sum(), size=replicates)
        nw = len(win_cells)
        boot_w = np.zeros((replicates, m, m))
        boot_w[:, win_cells[:, 0], win_cells[:, 1]] = draws[:, :nw]
        boot_t = np.zeros((replicates, m, m))
        boot_t[:, iu[0], iu[1]] = draws[:, nw:]
        boot_t = boot_t + np.swapaxes(boot_t, 1, 2)
        thetas = fit(boot_w, boot_t, ridge)
        alpha = (1 - level) / 2
        low, high = np.quantile(thetas, alpha, axis=0), np.quantile(thetas, 1 - alpha, axis=0)
        # A percentile interval can miss its own point estimate on tiny samples; keep it inside.
        low, high = np.minimum(low, theta), np.maximum(high, theta)
    per_setting = counts.comparisons.sum(axis=1)
    return Ranking(counts.settings, tuple(float(x) for x in theta), tuple(float(x) for x in low),
                   tuple(float(x) for x in high), tuple(int(round(x)) for x in per_setting), counts, level,
                   replicates)


def votes_to_separate(ranking: Ranking, a: str, b: str) -> int | None:
    """More head-to-head votes between ``a`` and ``b`` that would separate them at their current difference.

    Uses the fitted win probability p = σ(θa − θb): n = (z₀.₉₇₅ + z₀.₈)² · p(1−p) / (p − ½)², minus the votes
    they already have against each other. ``None`` when the fitted difference is zero (no number of votes
    separates two settings that look equal); ``0`` when they already have enough.
    """
    i, j = ranking.settings.index(a), ranking.settings.index(b)
    d = ranking.score[i] - ranking.score[j]
    p = 1 / (1 + math.exp(-d))
    if abs(p - 0.5) < 1e-9:
        return None
    need = math.ceil(_Z_SEPARATE ** 2 * p * (1 - p) / (p - 0.5) ** 2)
    have = int(round(float(ranking.counts.comparisons[i, j])))
    return max(0, need - have)


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's τ-b between two score lists over the same items; None with fewer than 2 items or no variation."""
    n = len(x)
    if n != len(y):
        raise RankingError(f"kendall_tau needs lists of equal length, got {n} and {len(y)}. Fix: align the items.")
    concordant = discordant = ties_x = ties_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denom = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return None if denom == 0 else (concordant - discordant) / denom


def rater_agreement(left: Sequence[str], right: Sequence[str], outcome: Sequence[str],
                    rater: Sequence[str], min_common: int = 2) -> list[dict]:
    """Kendall's τ-b between every two raters' own Bradley–Terry orders, over the settings both rated."""
    import numpy as np

    rater_a = np.asarray(rater, dtype=object)
    left_a, right_a, out_a = (np.asarray(v, dtype=object) for v in (left, right, outcome))
    scores: dict[str, dict[str, float]] = {}
    for name in sorted(set(rater_a.tolist())):
        mask = rater_a == name
        counts = count_votes(left_a[mask], right_a[mask], out_a[mask])
        theta = fit(counts.wins, counts.ties) if counts.settings else []
        scores[name] = dict(zip(counts.settings, (float(t) for t in theta)))
    rows = []
    names = list(scores)
    for a_i, a in enumerate(names):
        for b in names[a_i + 1:]:
            common = sorted(set(scores[a]) & set(scores[b]))
            tau = kendall_tau([scores[a][s] for s in common], [scores[b][s] for s in common]) \
                if len(common) >= min_common else None
            rows.append({"rater_a": a, "rater_b": b, "settings": len(common), "tau": tau})
    return rows


def win_rate_of(counts: Counts) -> np.ndarray:
    """Observed share of i's votes against j that i won (a tie counts half); NaN where they never met."""
    import numpy as np

    n = counts.comparisons
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (counts.wins + counts.ties / 2) / n, np.nan)
