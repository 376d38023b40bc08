"""Blind pairwise votes and automatic-judge scores, stored next to the results they compare.

Tables (migration ``m005_votes_and_judge_scores``):

* ``votes``: one row per decision a rater made on a pair of results: ``left``/``right``/``tie``/``skip``,
  the rater's name, an optional session id (several people voting in parallel), the UTC time.
  Both sides reference ``results.result_id``; deleting a run deletes its votes.
* ``judge_scores``: a judge model's rubric scores (1..5) for one result, labelled ``judge: <model>``, with
  the version of the judge prompt, tokens, the exact cost and the price entry it used. Writing a score
  adds its cost to the run's spend (``runs.cost_usd``) in the same transaction.

Human votes and judge scores never share a table or a statistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from imagegen.errors import StoreError
from imagegen.storage.store import Store, decimal_text, now_iso
from imagegen.storage.writer import StoreWriter

CHOICES = ("left", "right", "tie", "skip")
RUBRIC = ("adherence", "text_rendering", "artifacts")
MAX_RATER = 80
VOTE_COLUMNS = ["vote_id", "left_result_id", "right_result_id", "choice", "rater", "session", "created_at"]


def clean_rater(name: str) -> str:
    """A rater's name, trimmed; refused when empty or longer than 80 characters."""
    text = " ".join(str(name or "").split())
    if not text:
        raise StoreError("rater name is empty. Fix: type your name (or initials) before voting.")
    if len(text) > MAX_RATER:
        raise StoreError(f"rater name {text[:20]!r}… has {len(text)} characters; at most {MAX_RATER}. "
                         "Fix: use a shorter name.")
    return text


def record_vote(store: Store, left_result_id: int, right_result_id: int, choice: str, rater: str,
                session: str | None = None) -> int:
    """Store one vote on a pair (``left``/``right``/``tie``/``skip``); return its id."""
    if choice not in CHOICES:
        raise StoreError(f"vote {choice!r} is not allowed: one of {', '.join(CHOICES)}. Fix: pick one of them.")
    if int(left_result_id) == int(right_result_id):
        raise StoreError(f"a vote compares result {left_result_id} with itself. Fix: compare two different results.")
    rater = clean_rater(rater)
    with store.db.write() as conn:
        found = {r[0] for r in conn.execute("SELECT result_id FROM results WHERE result_id IN (?, ?)",
                                            (int(left_result_id), int(right_result_id)))}
        missing = [i for i in (int(left_result_id), int(right_result_id)) if i not in found]
        if missing:
            raise StoreError(f"result {missing[0]} not found. Fix: vote on results that exist (was the run deleted?).")
        cur = conn.execute("INSERT INTO votes (left_result_id, right_result_id, choice, rater, session, created_at)"
                           " VALUES (?, ?, ?, ?, ?, ?)",
                           (int(left_result_id), int(right_result_id), choice, rater, session, now_iso()))
        return int(cur.lastrowid)


def record_votes(store: Store, rows: Sequence[tuple[int, int, str, str]], session: str | None = None) -> int:
    """Bulk insert ``(left_id, right_id, choice, rater)`` rows in one transaction (imports, benchmarks)."""
    checked = []
    for left, right, choice, rater in rows:
        if choice not in CHOICES:
            raise StoreError(f"vote {choice!r} is not allowed: one of {', '.join(CHOICES)}. Fix: pick one of them.")
        checked.append((int(left), int(right), choice, clean_rater(rater), session, now_iso()))
    with store.db.write() as conn:
        conn.executemany("INSERT INTO votes (left_result_id, right_result_id, choice, rater, session, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?)", checked)
    return len(checked)


def undo_last_vote(store: Store, rater: str, session: str | None = None) -> int | None:
    """Delete the newest vote of ``rater`` (in ``session`` when given); return its id, None when there is none."""
    rater = clean_rater(rater)
    with store.db.write() as conn:
        row = conn.execute("SELECT vote_id FROM votes WHERE rater = ? AND (? IS NULL OR session = ?)"
                           " ORDER BY vote_id DESC LIMIT 1", (rater, session, session)).fetchone()
        if row is None:
            return None
        conn.execute("DELETE FROM votes WHERE vote_id = ?", (row[0],))
        return int(row[0])


def _in(run_ids: Sequence[str]) -> tuple[str, list]:
    marks = ",".join("?" * len(run_ids))
    return marks, list(run_ids)


def votes(store: Store, run_ids: Sequence[str]) -> pd.DataFrame:
    """Every vote whose two results both belong to ``run_ids``, oldest first.

    Columns: vote_id, left_result_id, right_result_id, choice, rater, session, created_at.
    """
    if not run_ids:
        return pd.DataFrame(columns=VOTE_COLUMNS)
    marks, params = _in(run_ids)
    # Plain cursor rows into one DataFrame: ~4x cheaper than read_sql_query for 50,000 votes.
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT v.vote_id, v.left_result_id, v.right_result_id, v.choice, v.rater, v.session, v.created_at"
            " FROM votes v JOIN results a ON a.result_id = v.left_result_id"
            " JOIN results b ON b.result_id = v.right_result_id"
            f" WHERE a.run_id IN ({marks}) AND b.run_id IN ({marks}) ORDER BY v.vote_id", params + params).fetchall()
    return pd.DataFrame.from_records(rows, columns=VOTE_COLUMNS)


@dataclass(frozen=True)
class JudgeScore:
    """One judge call's verdict on one result (scores 1..5; ``overall`` their mean unless the judge gave one)."""

    result_id: int
    judge: str                  # "judge: <model>"
    provider: str
    model: str
    prompt_version: str
    adherence: int
    text_rendering: int
    artifacts: int
    overall: float
    rationale: str
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: Decimal
    estimated_cost_usd: Decimal | None
    price_entry: str
    latency_s: float | None
    simulated: bool

    def __post_init__(self) -> None:
        if not self.judge.startswith("judge: "):
            raise StoreError(f"judge label {self.judge!r} must read 'judge: <model>'. Fix: label it as the judge's.")
        for name in RUBRIC:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
                raise StoreError(f"judge score {name} = {value!r} is not allowed: an integer 1..5. "
                                 "Fix: check the judge's answer.")
        if not isinstance(self.cost_usd, Decimal):
            raise StoreError(f"judge cost {self.cost_usd!r} must be a Decimal. Fix: price it with imagegen.core.")


def record_judge_score(store: Store, score: JudgeScore) -> int:
    """Store a judge score and add its cost to the run's spend, in one transaction; return its id."""
    with store.db.write() as conn:
        row = conn.execute("SELECT run_id FROM results WHERE result_id = ?", (score.result_id,)).fetchone()
        if row is None:
            raise StoreError(f"result {score.result_id} not found. Fix: judge results that exist.")
        run_id = row[0]
        cur = conn.execute(
            "INSERT INTO judge_scores (result_id, run_id, judge, provider, model, prompt_version, adherence,"
            " text_rendering, artifacts, overall, rationale, input_tokens, output_tokens, cost_usd,"
            " estimated_cost_usd, price_entry, latency_s, simulated, created_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (score.result_id, run_id, score.judge, score.provider, score.model, score.prompt_version,
             score.adherence, score.text_rendering, score.artifacts, float(score.overall), score.rationale,
             score.input_tokens, score.output_tokens, decimal_text(score.cost_usd), decimal_text(score.estimated_cost_usd),
             score.price_entry, score.latency_s, int(score.simulated), now_iso()))
        if score.cost_usd:
            StoreWriter._add_cost(conn, run_id, score.cost_usd)
        return int(cur.lastrowid)


def judge_scores(store: Store, run_ids: Sequence[str]) -> pd.DataFrame:
    """Every judge score of results in ``run_ids`` (all judges and prompt versions), oldest first."""
    cols = ["score_id", "result_id", "run_id", "judge", "provider", "model", "prompt_version", "adherence",
            "text_rendering", "artifacts", "overall", "rationale", "input_tokens", "output_tokens", "cost_usd",
            "estimated_cost_usd", "price_entry", "latency_s", "simulated", "created_at"]
    if not run_ids:
        return pd.DataFrame(columns=cols)
    marks, params = _in(run_ids)
    return store.query(f"SELECT {', '.join(cols)} FROM judge_scores WHERE run_id IN ({marks}) ORDER BY score_id",
                       params)


def judge_spend(store: Store, run_id: str) -> Decimal:
    """Exact total the judge cost on one run (already included in ``runs.cost_usd``)."""
    with store.db.read() as conn:
        rows = conn.execute("SELECT cost_usd FROM judge_scores WHERE run_id = ?", (run_id,)).fetchall()
    return sum((Decimal(r[0]) for r in rows), Decimal(0))
