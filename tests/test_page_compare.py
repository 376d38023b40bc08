"""The blind Compare page under AppTest: votes by keyboard actions, ranking, frontier, judge, Planner hand-off."""

import json

import pytest

from imagegen.storage import votes as vs
from tests import ui_support
from tests.quality_data import make_run, strength
from tests.ui_support import open_app, page_app

app_env = ui_support.app_env  # fixture


def press(at, key: str):
    """A keyboard action: AppTest has no keyboard, so click the button bound to ``key`` by its shortcut."""
    wanted = key.lower()
    matches = [b for b in at.button if b.proto.shortcut.lower() == wanted]
    assert len(matches) == 1, f"no single button has the shortcut {key!r}"
    return matches[0].click().run()


def setting_of(store, run_id):
    from imagegen.insight import quality

    return quality.load_pool(store, [run_id]).setting_of()


@pytest.fixture
def compare_app(tmp_path, monkeypatch):
    home = tmp_path / "home"
    store, run_id = make_run(home)
    at = page_app("6_Compare.py", home, monkeypatch)
    at.session_state["compare_seed"] = 7
    yield at, store, run_id
    store.close()


def test_voting_by_keyboard_stores_votes_with_rater_and_session(compare_app):
    at, store, run_id = compare_app
    at.run()
    assert not at.exception, at.exception
    assert "Type your name" in at.info[0].value
    at.text_input(key="cmp_rater").input("Aiko").run()
    assert [b.proto.shortcut for b in at.button if b.key in ("cmp_left", "cmp_right", "cmp_tie", "cmp_skip")]
    setting = setting_of(store, run_id)
    seen_sides = set()
    for i in range(12):
        pair = at.session_state["compare_pair"]
        # a voter who prefers higher quality, as the synthetic raters do
        left, right = strength(setting[pair.left_result_id]), strength(setting[pair.right_result_id])
        key = "Left" if left > right else ("Right" if right > left else "Down")
        if i == 5:
            key = "S"
        seen_sides.add(left > right)
        press(at, key)
        assert not at.exception, at.exception
    votes = vs.votes(store, [run_id])
    assert len(votes) == 12 and set(votes["rater"]) == {"Aiko"}
    assert (votes["choice"] == "skip").sum() == 1 and votes["session"].nunique() == 1
    assert seen_sides == {True, False}  # the better image was shown on both sides
    # the ranking tab ranks a high-quality setting first
    table = next(d.value for d in at.dataframe if "interval" in d.value.columns)
    assert " · high · " in table.iloc[0]["setting"] and len(table) == 6
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [c["layout"]["title"]["text"] for c in charts]
    assert any(t.startswith("Win rate") for t in titles) and any(t.startswith("Cost–quality frontier") for t in titles)
    frontier = next(c for c in charts if c["layout"]["title"]["text"].startswith("Cost–quality"))
    assert any(t.get("name") == "cheapest as good as the best" for t in frontier["data"])
    assert "Cheapest setting statistically indistinguishable" in at.success[0].value


def test_undo_removes_the_last_vote(compare_app):
    at, store, run_id = compare_app
    at.run()
    at.text_input(key="cmp_rater").input("Ben").run()
    press(at, "Left")
    press(at, "Right")
    at.button(key="cmp_undo").click().run()
    votes = vs.votes(store, [run_id])
    assert len(votes) == 1 and votes.iloc[0]["choice"] == "left"


def test_two_raters_in_one_session_are_kept_apart(compare_app):
    at, store, run_id = compare_app
    at.run()
    at.text_input(key="cmp_rater").input("Aiko").run()
    press(at, "Left")
    at.text_input(key="cmp_rater").input("Ben").run()
    press(at, "Right")
    press(at, "Down")
    votes = vs.votes(store, [run_id])
    assert votes.groupby("rater").size().to_dict() == {"Aiko": 1, "Ben": 2}


def test_judge_runs_on_the_simulator_and_is_labelled(compare_app):
    at, store, run_id = compare_app
    at.run()
    before = store.run(run_id)["cost_usd"]
    at.button(key="cmp_judge_run").click().run()
    assert not at.exception, at.exception
    scores = vs.judge_scores(store, [run_id])
    assert len(scores) == 12
    from decimal import Decimal

    assert Decimal(store.run(run_id)["cost_usd"]) > Decimal(before)
    text = " ".join(m.value for m in at.markdown)
    assert "judge: gpt-4.1-mini" in text and "figures simulated" in text
    assert any("scored 12 images" in s.value and "(simulated)" in s.value and "(judge prices assumed)" in s.value
               for s in at.success)
    # the judge's share of the spend stands apart, with its price status (assumed) wherever a judge cost is
    assert "(judge prices assumed)" in text
    judge_usd = sum((Decimal(c) for c in scores["cost_usd"]), Decimal(0))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["of which judge (USD, prices assumed)"] == f"{judge_usd:.6f}" and judge_usd > 0
    assert metrics["Spend on these runs (USD, images + judge)"] == f"{Decimal(store.run(run_id)['cost_usd']):.4f}"


def test_the_answer_goes_to_the_planner_in_one_click(app_env):
    store, run_id = make_run(app_env)
    at = open_app()
    at.session_state["compare_seed"] = 7
    at.switch_page("pages/6_Compare.py").run()
    at.text_input(key="cmp_rater").input("Aiko").run()
    setting = setting_of(store, run_id)
    for _ in range(6):
        pair = at.session_state["compare_pair"]
        press(at, "Left" if strength(setting[pair.left_result_id]) >= strength(setting[pair.right_result_id])
              else "Right")
    at.button(key="cmp_to_planner").click().run()
    assert not at.exception, at.exception
    assert at.session_state["pl_name_0"].startswith("as good as the best: ")
    assert at.title[0].value == "Budget planner"
    store.close()


def test_the_frontier_shows_settings_not_run_at_their_estimated_cost(compare_app, monkeypatch):
    from tests.quality_data import vote_like

    at, store, run_id = compare_app
    vote_like(store, run_id, 20)
    monkeypatch.setenv("IMAGEGEN_TODAY", "2027-05-01")  # priced on the page's date, never the wall clock's
    at.run()
    assert not at.exception, at.exception
    assert any("not run, estimated" in c.value and "no score" in c.value and "catalog prices on 2027-05-01" in c.value
               for c in at.caption)
    table = next(d for d in at.dataframe if "not run, estimated" in d.value.to_string())
    assert set(table.value["score"]) == {"—"} and "gpt-image-1.5 · high · 1024x1536" in set(table.value["setting"])
