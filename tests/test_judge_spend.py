"""The judge's spend apart: ``facade.run_spend`` and the Results page's run totals say "of which judge" with the
judge prices' status (assumed), and the run's total still includes it."""

from __future__ import annotations

from decimal import Decimal

from imagegen import facade
from imagegen.storage import votes as vs
from tests import ui_support
from tests.quality_data import make_run
from tests.ui_support import page_app

app_env = ui_support.app_env  # fixture


def _judge_one(store, run_id: str, cost: str) -> None:
    found = store.query("SELECT result_id FROM results WHERE run_id = ? ORDER BY result_id LIMIT 1", (run_id,))
    result_id = int(found["result_id"].iloc[0])
    vs.record_judge_score(store, vs.JudgeScore(
        result_id=result_id, judge="judge: gpt-4.1-mini", provider="simulator", model="gpt-4.1-mini",
        prompt_version="test", adherence=4, text_rendering=3, artifacts=5, overall=4.0, rationale="ok",
        input_tokens=500, output_tokens=60, cost_usd=Decimal(cost), estimated_cost_usd=Decimal(cost),
        price_entry="openai/gpt-4.1-mini@2025-04-14", latency_s=0.1, simulated=True))


def test_run_spend_separates_the_judge_and_names_its_price_status(tmp_path):
    store, run_id = make_run(tmp_path / "home")
    before = Decimal(store.run(run_id)["cost_usd"])
    none = facade.run_spend(store, [run_id])
    assert none.judge_usd == 0 and none.judge_status == "—" and none.total_usd == before
    _judge_one(store, run_id, "0.0015")
    _judge_one(store, run_id, "0.0010")
    spend = facade.run_spend(store, [run_id])
    assert spend.judge_usd == Decimal("0.0025") and spend.total_usd == before + Decimal("0.0025")
    assert spend.judges == (("judge: gpt-4.1-mini", Decimal("0.0025"), "assumed"),)
    assert spend.judge_status == "assumed"
    store.close()


def test_the_results_page_shows_of_which_judge_with_assumed_prices(tmp_path, monkeypatch):
    home = tmp_path / "home"
    store, run_id = make_run(home)
    _judge_one(store, run_id, "0.0015")
    at = page_app("2_Results.py", home, monkeypatch)
    at.run()
    at.selectbox(key="open_run").set_value(run_id).run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption]
    assert any("of which judge $0.001500 (judge: gpt-4.1-mini; judge prices assumed)" in c for c in captions), captions
    store.close()
