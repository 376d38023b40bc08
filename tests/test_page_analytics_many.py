"""Analytics page (AppTest) on a store of 30+ settings: the catalog's order, and every chart tall enough to read."""

from __future__ import annotations

import json

import pytest

from imagegen.insight import charts
from tests.analytics_data import categories, figure_dict, simulated_runs
from tests.ui_support import page_app

QUALITIES = ["low", "medium", "high", "xhigh", "max"]
#: Listed out of area order on purpose: the charts must sort them by area, not by the spec or alphabet.
SIZES = ["1536x1024", "2048x2048", "1024x1024"]

SPEC_MANY = f'''name = "thirty settings"
provider = "simulator"
model = "gpt-image-2.5-flare"
prompts = ["a red fox"]
repeats = 1
[axes]
quality = {json.dumps(list(reversed(QUALITIES)))}
size = {json.dumps(SIZES)}
output_format = ["png", "webp"]
[limits]
concurrency = 8
'''


@pytest.fixture(scope="module")
def shown(tmp_path_factory):
    home = tmp_path_factory.mktemp("analytics-many")
    store, summaries = simulated_runs(home, specs=(SPEC_MANY,))
    assert summaries[0].ok == summaries[0].total == 30
    with pytest.MonkeyPatch.context() as mp:
        at = page_app("3_Analytics.py", home, mp)
        at.run()
    assert not at.exception, at.exception
    return at


def _figures(at) -> dict[str, dict]:
    return {json.loads(c.proto.config)["toImageButtonOptions"]["filename"]: figure_dict(c.proto.spec)
            for c in at.get("plotly_chart")}


def _rank(label: str) -> tuple[int, int]:
    _, quality, size = label.split(" · ")[:3]
    w, h = size.split("x")
    return QUALITIES.index(quality), int(w) * int(h)


def test_thirty_settings_are_in_the_catalogs_order_and_laid_out_horizontally(shown):
    figs = _figures(shown)
    for name in ("tokens_vs_documented", "cost_per_image", "latency_distribution"):
        labels = figs[name]["layout"]["yaxis"].get("categoryarray") or list(dict.fromkeys(
            label for t in figs[name]["data"] if t.get("orientation") == "h" for label in categories(t)))
        assert len(labels) >= 15, name  # tokens: 15 (format does not change tokens); cost/latency: 30
        ranks = [_rank(label) for label in labels]
        assert ranks == sorted(ranks), (name, labels)
        assert ranks[0] == (0, 1024 * 1024) and ranks[-1][0] == QUALITIES.index("max")
        assert figs[name]["layout"]["yaxis"]["autorange"] == "reversed"  # the first setting at the top
    sizes = figs["file_sizes"]
    png = next(t for t in sizes["data"] if t["name"].startswith("png"))
    assert [_rank(label) for label in categories(png)] == sorted(_rank(label) for label in categories(png))


def test_every_chart_is_at_least_its_minimum_height_and_grows_with_its_settings(shown):
    figs = _figures(shown)
    assert len(figs) == 7
    for name, fig in figs.items():
        assert fig["layout"]["height"] >= charts.MIN_HEIGHT, name
        assert fig["layout"]["xaxis"]["automargin"] and fig["layout"]["yaxis"]["automargin"], name
    # 30 settings, one row each: room for every label
    assert figs["cost_per_image"]["layout"]["height"] >= 30 * charts.ROW_PX
    assert figs["latency_distribution"]["layout"]["height"] >= 30 * charts.ROW_PX


def test_few_settings_stay_upright_and_keep_the_minimum_height():
    import pandas as pd

    frame = pd.DataFrame({"setting": ["a", "b"], "results": [1, 1], "first_partial_s": [1.0, 2.0],
                          "final_s": [3.0, 4.0], "provenance": ["simulated"] * 2})
    fig = figure_dict(charts.first_partial_vs_final(frame))
    assert fig["layout"]["height"] >= charts.MIN_HEIGHT
    assert all(t.get("orientation") != "h" for t in fig["data"]) and fig["data"][0]["x"] == ["a", "b"]


