"""Quality report over a real simulator run: ranking, frontier, judge apart from humans, exports, the CLI."""

import csv
import io
import json
from decimal import Decimal

import pytest

from imagegen.cli import main
from imagegen.insight import quality
from imagegen.insight.frontier import cheapest_as_good_as_best, pareto
from imagegen.insight.ranking import Ranking, count_votes
from imagegen.storage import votes as vs
from tests.quality_data import STRENGTH, make_run, vote_like


@pytest.fixture(scope="module")
def voted(tmp_path_factory):
    store, run_id = make_run(tmp_path_factory.mktemp("q") / "home")
    vote_like(store, run_id, 120, "ann", seed=1)
    vote_like(store, run_id, 60, "bob", seed=2)
    yield store, run_id
    store.close()


def test_pool_labels_settings_and_groups_by_prompt(voted):
    store, run_id = voted
    pool = quality.load_pool(store, [run_id])
    assert len(pool.settings) == 6 and pool.simulated
    assert set(pool.items["group"]) == {"a red fox", "a sign that reads OPEN"}
    assert "gpt-image-1.5 · high · 1536x1024" in pool.settings


def test_report_recovers_the_voters_order_and_names_the_answer(voted):
    store, run_id = voted
    pool = quality.load_pool(store, [run_id])
    rep = quality.report(pool, vs.votes(store, [run_id]))
    assert rep.votes == 180 and rep.raters == ["ann", "bob"]
    qualities = [s.split(" · ")[1] for s in rep.pooled.order]
    assert qualities[:2] == ["high", "high"] and qualities[-2:] == ["low", "low"]
    # high is what the raters want; the answer is the cheaper high (1024x1024), not the 1536 one
    assert rep.cheapest_as_good == "gpt-image-1.5 · high · 1024x1024"
    assert rep.best in rep.indistinguishable and rep.cheapest_as_good in rep.pareto
    assert set(rep.per_prompt) == {"a red fox", "a sign that reads OPEN"}
    assert rep.agreement[0]["tau"] > 0.5  # two raters with the same taste agree
    assert all(r["cost_source"] == "simulated" for r in rep.rows())


def test_frontier_rules():
    pts = {"a": (Decimal("0.01"), -1.0), "b": (Decimal("0.05"), 0.5), "c": (Decimal("0.04"), 0.6),
           "d": (Decimal("0.20"), 1.0)}
    assert pareto(pts) == ["a", "c", "d"]  # b costs more than c and scores less
    r = Ranking(("a", "c", "d"), (-1.0, 0.6, 1.0), (-1.5, 0.2, 0.5), (-0.5, 1.0, 1.5), (9, 9, 9),
                count_votes([], [], [], settings=["a", "c", "d"]))
    assert cheapest_as_good_as_best(r, {k: v[0] for k, v in pts.items()}) == "c"
    assert cheapest_as_good_as_best(r, {}) is None


def test_simulated_and_real_runs_do_not_share_a_pool(voted):
    store, run_id = voted
    with store._write() as conn:
        conn.execute("INSERT INTO runs (run_id, provider, model, spec_toml, requests, created_at)"
                     " SELECT 'real-1', 'openai', model, spec_toml, requests, created_at FROM runs WHERE run_id = ?",
                     (run_id,))
        conn.execute("INSERT INTO cells SELECT 'real-1', cell_id, coords, 'openai', model, deployment, prompt, size,"
                     " quality, background, output_format, output_compression, moderation, n, stream, partial_images,"
                     " operation, input_fidelity, request_key, estimated_cost_min_usd, estimated_cost_usd,"
                     " estimate_price_entry, output_tokens_min, output_tokens_max, token_status, complexity FROM cells"
                     " WHERE run_id = ? AND cell_id = 0", (run_id,))
        rid = conn.execute("INSERT INTO results (run_id, cell_id, repeat, status, cost_usd, simulated, created_at)"
                           " VALUES ('real-1', 0, 0, 'ok', '0.01', 0, '2026-12-01')").lastrowid
        conn.execute("INSERT INTO images SELECT ?, idx, sha256, path, bytes, width, height, format FROM images"
                     " LIMIT 1", (rid,))
    try:
        with pytest.raises(quality.QualityError, match="mix simulated and real"):
            quality.load_pool(store, [run_id, "real-1"])
    finally:
        store.delete_run("real-1")


def test_judge_scores_stay_apart_and_show_agreement(voted):
    store, run_id = voted
    pool = quality.load_pool(store, [run_id])
    setting = pool.setting_of()
    scores = []
    for i, (rid, s) in enumerate(setting.items()):
        q = STRENGTH[s.split(" · ")[1]]
        scores.append({"score_id": i, "result_id": rid, "judge": "judge: gpt-4.1-mini", "prompt_version": "v1",
                       "overall": 3 + q, "simulated": 1, "cost_usd": "0.001"})
    import pandas as pd

    rep = quality.report(pool, vs.votes(store, [run_id]), pd.DataFrame(scores))
    j = rep.judges["judge: gpt-4.1-mini"]
    assert j["figures"] == "simulated" and j["prompt_version"] == "v1"
    assert 0.6 < j["agreement_with_humans"] <= 1.0
    assert Decimal(j["cost_usd"]) == Decimal("0.001") * len(scores)
    # the human ranking is the same with or without the judge
    assert rep.pooled.table() == quality.report(pool, vs.votes(store, [run_id])).pooled.table()


def test_exports_csv_json_and_summary(voted):
    store, run_id = voted
    pool = quality.load_pool(store, [run_id])
    votes = vs.votes(store, [run_id])
    rep = quality.report(pool, votes)
    rows = list(csv.DictReader(io.StringIO(quality.export_votes(pool, votes, "csv"))))
    assert len(rows) == 180 and {"rater", "left_setting", "right_setting", "created_at"} <= set(rows[0])
    scores = json.loads(quality.export_scores(rep, "json"))
    pooled = [r for r in scores if r["scope"] == "pooled"]
    assert len(pooled) == 6 and all(r["low"] <= r["score"] <= r["high"] for r in pooled)
    assert sum(r["cheapest_as_good_as_best"] for r in pooled) == 1
    page = quality.summary_html(rep)
    assert "<svg" in page and "<script" not in page and rep.cheapest_as_good in page
    with pytest.raises(quality.QualityError, match="csv or json"):
        quality.export_scores(rep, "xlsx")


def test_rank_cli_json_and_text(voted, tmp_path, capsys):
    store, run_id = voted
    home = str(store.home)
    assert main(["rank", run_id, "--json", "--home", home, "--replicates", "50",
                 "--scores", str(tmp_path / "s.csv"), "--summary", str(tmp_path / "s.html")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["votes"] == 180 and out["figures"] == "simulated"
    assert out["frontier"]["cheapest_as_good_as_best"] == "gpt-image-1.5 · high · 1024x1024"
    assert (tmp_path / "s.csv").read_text().startswith("scope,rank,setting")
    assert main(["rank", run_id, "--home", home, "--replicates", "50"]) == 0
    text = capsys.readouterr().out
    assert "cheapest setting as good as the best" in text and "Kendall tau" in text


def test_rank_cli_refuses_an_unknown_run(tmp_path, capsys):
    assert main(["rank", "nope", "--home", str(tmp_path / "h")]) == 2
    assert "not found" in capsys.readouterr().err
