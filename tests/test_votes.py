"""Votes and judge scores in the store: validated, referencing results, judge cost in the run's spend."""

from decimal import Decimal

import pytest

from imagegen.errors import StoreError
from imagegen.storage import votes as vs
from tests.quality_data import make_run


@pytest.fixture
def run(tmp_path):
    store, run_id = make_run(tmp_path / "home")
    ids = store.results(run_id)["result_id"].astype(int).tolist()
    yield store, run_id, ids
    store.close()


def test_a_vote_is_stored_with_rater_time_and_pair(run):
    store, run_id, ids = run
    vid = vs.record_vote(store, ids[0], ids[1], "left", "  Ann  ", session="s1")
    df = vs.votes(store, [run_id])
    row = df.iloc[0]
    assert (int(row.vote_id), int(row.left_result_id), int(row.right_result_id), row.choice, row.rater,
            row.session) == (vid, ids[0], ids[1], "left", "Ann", "s1")
    assert row.created_at.startswith("20")


@pytest.mark.parametrize(("args", "match"), [
    ((0, 1, "maybe", "ann"), "'maybe' is not allowed"),
    ((0, 0, "left", "ann"), "itself"),
    ((0, 1, "left", "   "), "rater name is empty"),
    ((0, 1, "left", "x" * 81), "at most 80"),
])
def test_bad_votes_are_refused_naming_the_fix(run, args, match):
    store, _, ids = run
    left, right, choice, rater = args
    with pytest.raises(StoreError, match=match):
        vs.record_vote(store, ids[left], ids[right], choice, rater)


def test_a_vote_on_a_missing_result_is_refused(run):
    store, _, ids = run
    with pytest.raises(StoreError, match="result 99999 not found"):
        vs.record_vote(store, ids[0], 99999, "tie", "ann")


def test_deleting_a_run_deletes_its_votes(run):
    store, run_id, ids = run
    vs.record_vote(store, ids[0], ids[1], "right", "ann")
    store.delete_run(run_id)
    assert store.query("SELECT COUNT(*) AS n FROM votes")["n"][0] == 0


def test_undo_removes_only_the_raters_newest_vote(run):
    store, run_id, ids = run
    vs.record_vote(store, ids[0], ids[1], "left", "ann")
    vs.record_vote(store, ids[0], ids[2], "right", "bob")
    last = vs.record_vote(store, ids[1], ids[2], "tie", "ann")
    assert vs.undo_last_vote(store, "ann") == last
    assert sorted(vs.votes(store, [run_id])["rater"]) == ["ann", "bob"]
    assert vs.undo_last_vote(store, "cy") is None


def _score(result_id, cost="0.0012", **kw):
    base = dict(result_id=result_id, judge="judge: gpt-4.1-mini", provider="simulator", model="gpt-4.1-mini",
                prompt_version="rubric-v1", adherence=4, text_rendering=3, artifacts=5, overall=4.0, rationale="ok",
                input_tokens=900, output_tokens=60, cost_usd=Decimal(cost), estimated_cost_usd=Decimal(cost),
                price_entry="simulator/gpt-4.1-mini@x", latency_s=0.1, simulated=True)
    base.update(kw)
    return vs.JudgeScore(**base)


def test_judge_cost_is_added_to_the_runs_spend_exactly(run):
    store, run_id, ids = run
    before = Decimal(store.run(run_id)["cost_usd"])
    vs.record_judge_score(store, _score(ids[0]))
    vs.record_judge_score(store, _score(ids[1], cost="0.0003"))
    assert Decimal(store.run(run_id)["cost_usd"]) == before + Decimal("0.0015")
    assert vs.judge_spend(store, run_id) == Decimal("0.0015")
    df = vs.judge_scores(store, [run_id])
    assert set(df["judge"]) == {"judge: gpt-4.1-mini"} and set(df["prompt_version"]) == {"rubric-v1"}


@pytest.mark.parametrize(("kw", "match"), [
    ({"judge": "gpt-4.1-mini"}, "must read 'judge: <model>'"),
    ({"adherence": 6}, "adherence = 6"),
    ({"artifacts": True}, "artifacts = True"),
])
def test_bad_judge_scores_are_refused(run, kw, match):
    _, _, ids = run
    with pytest.raises(StoreError, match=match):
        _score(ids[0], **kw)
