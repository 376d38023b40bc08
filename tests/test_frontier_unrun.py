"""Settings not run yet appear on the frontier at their estimated cost, labelled "not run, estimated", with no
score invented (issue 14)."""

from __future__ import annotations

from decimal import Decimal

from imagegen.core.catalog import default_catalog
from imagegen.core.pricing import Usage, cost_of, documented_output_tokens
from imagegen.core.tokens import count_text_tokens
from imagegen.insight import quality, quality_charts
from imagegen.storage import votes as vs
from tests.clock import TODAY
from tests.quality_data import make_run, vote_like


def test_unrun_settings_are_estimated_from_the_catalog_and_have_no_score(tmp_path):
    store, run_id = make_run(tmp_path / "home")
    vote_like(store, run_id, 30)
    pool = quality.load_pool(store, [run_id])
    rep = quality.report(pool, vs.votes(store, pool.run_ids), replicates=20)
    catalog = default_catalog()
    unrun = quality.unrun_settings(pool, catalog, TODAY)
    ran = set(pool.settings)
    spec = catalog.model("gpt-image-1.5")
    expected = {f"gpt-image-1.5 · {q} · {s}" for q in spec.qualities if q != "auto" for s in spec.common_sizes
                if s != "auto"} - ran
    assert expected and {u["setting"] for u in unrun} == expected
    assert all(u["cost_source"] == "not run, estimated" and "score" not in u for u in unrun)
    one = next(u for u in unrun if u["setting"] == "gpt-image-1.5 · high · 1024x1536")
    price = catalog.price_in_force("gpt-image-1.5", "openai", TODAY)
    prompt = max(count_text_tokens(p) for p in pool.items["prompt"].unique())
    tokens = documented_output_tokens(catalog, "gpt-image-1.5", "high", "1024x1536")
    assert one["cost_usd"] == cost_of(Usage(input_text_tokens=prompt, output_tokens=tokens), price).total
    assert isinstance(one["cost_usd"], Decimal) and one["price_entry"] == price.key

    fig = quality_charts.frontier_figure(rep, unrun).to_plotly_json()
    lines = [s for s in fig["layout"]["shapes"] if s.get("line", {}).get("dash") == "dot"]
    assert sorted(s["x0"] for s in lines) == sorted(float(u["cost_usd"]) for u in unrun)
    notes = [a["text"] for a in fig["layout"]["annotations"]]
    assert all(f"{u['setting']} (not run, estimated)" in notes for u in unrun)
    legend = next(t for t in fig["data"] if t["name"] == "not run, estimated cost (no score)")
    assert all(y is None for y in legend["y"])  # no quality figure is invented for them
    scored = [t for t in fig["data"] if t.get("mode") == "markers+text"]
    assert {x for t in scored for x in t["text"]} == ran  # only voted settings have a score
    store.close()
