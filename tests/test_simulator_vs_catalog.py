"""The simulator answers from its own profile, so a wrong catalog entry shows up as a deviation on the
Analytics page; latency charts never pool different simulator time scales (issue 11)."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from imagegen.core.catalog import DATA_DIR, load_catalog
from imagegen.core.grid import loads_spec
from imagegen.execution.providers import make_simulator_provider
from imagegen.execution.runner import run_grid
from imagegen.insight import analysis
from imagegen.storage.store import Store
from tests.analytics_data import figure_dict, trace
from tests.ui_support import page_app

TODAY = date(2026, 12, 1)
SPEC = '''name = "medium vs high"
provider = "simulator"
model = "gpt-image-1"
prompts = ["a red fox"]
[params]
size = "1024x1024"
[axes]
quality = ["medium", "high"]
'''
WRONG_ROW = 'medium = { "1024x1024" = 1056, "1024x1536" = 1584, "1536x1024" = 1568 }'


def _catalog_with_a_wrong_entry(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    tokens = data / "tokens.toml"
    text = tokens.read_text(encoding="utf-8")
    assert text.count(WRONG_ROW) == 1
    tokens.write_text(text.replace(WRONG_ROW, WRONG_ROW.replace("= 1056,", "= 1200,")), encoding="utf-8")
    return load_catalog(data)


def _figures(at) -> dict[str, dict]:
    out = {}
    for chart in at.get("plotly_chart"):
        name = json.loads(chart.proto.config)["toImageButtonOptions"]["filename"]
        out[name] = figure_dict(chart.proto.spec)
    return out


def _run(home, catalog=None, **sim):
    provider = make_simulator_provider({"time_scale": 0.002, "jitter": 0.0, **sim})
    with Store(home) as store:
        summary = run_grid(loads_spec(SPEC), provider=provider, store=store, catalog=catalog, today=TODAY)
    assert summary.ok == summary.total == 2
    return summary


def test_a_wrong_catalog_entry_shows_as_a_deviation_on_analytics(tmp_path, monkeypatch):
    home = tmp_path / "home"
    _run(home, _catalog_with_a_wrong_entry(tmp_path))
    at = page_app("3_Analytics.py", home, monkeypatch)
    at.run()
    assert not at.exception, at.exception
    fig = _figures(at)["tokens_vs_documented"]
    deviating = trace(fig, "deviates from documented")
    assert len(deviating["x"]) == 1 and "medium" in deviating["x"][0]
    assert deviating["y"] == [1056]  # what the simulator billed (its own profile: the documented table)
    assert deviating["text"] == [f"{(1056 - 1200) / 1200 * 100:+.1f}%"]
    matching = trace(fig, "matches documented")
    assert len(matching["x"]) == 1 and "high" in matching["x"][0]
    assert any("1 of 2 settings differ" in c.value for c in at.caption)


def test_with_the_packaged_catalog_nothing_deviates(tmp_path, monkeypatch):
    home = tmp_path / "home"
    _run(home)
    at = page_app("3_Analytics.py", home, monkeypatch)
    at.run()
    fig = _figures(at)["tokens_vs_documented"]
    assert all("deviates" not in t["name"] for t in fig["data"])


@pytest.fixture
def scales(tmp_path):
    """The same grid at time scales 0.02 and 0.04 and at a fixed latency of 0.01 s."""
    home = tmp_path / "home"
    _run(home, time_scale=0.02)  # big enough that render time is small next to the modelled latency
    _run(home, time_scale=0.04)
    _run(home, fixed_latency_s=0.01)
    return home


def test_each_result_records_the_time_scale_it_ran_at(scales):
    with Store(scales) as store:
        rows = store.query("SELECT sim_time_scale, sim_fixed_latency_s, latency_scale, latency_s, "
                           "modelled_latency_s FROM result_rows")
    assert sorted(set(rows["latency_scale"])) == [
        "simulated, fixed 0.01 s", "simulated, time scale 0.02", "simulated, time scale 0.04"]
    scaled = rows[rows["sim_fixed_latency_s"].isna()]
    # modelled latency = wall time scaled back to time scale 1: ~2 s + 4160 tokens / 133 per s for high
    assert (scaled["modelled_latency_s"] - scaled["latency_s"] / scaled["sim_time_scale"]).abs().max() < 1e-9
    assert rows[rows["sim_fixed_latency_s"].notna()]["modelled_latency_s"].isna().all()


def test_latency_statistics_keep_each_scale_apart(scales):
    with Store(scales) as store:
        result = analysis.analyse(store.query)
    latency = result.latency()
    assert len(latency) == 6  # 2 qualities x 3 clocks, never pooled
    assert set(latency["latency_scale"]) == {"simulated, fixed 0.01 s", "simulated, time scale 0.02",
                                             "simulated, time scale 0.04"}
    assert all(any(s in label for s in ("0.02", "0.04", "fixed")) for label in latency["setting"])
    fits = result.fits()
    assert len(fits) == 3 and set(fits["latency_scale"]) == set(latency["latency_scale"])
    fast = latency[latency["latency_scale"] == "simulated, time scale 0.02"]
    slow = latency[latency["latency_scale"] == "simulated, time scale 0.04"]
    # the same modelled latency at both scales, twice the wall time at the slower one
    assert list(slow["modelled_mean_s"]) == pytest.approx(list(fast["modelled_mean_s"]), rel=0.25)
    assert (slow["mean_s"].to_numpy() > fast["mean_s"].to_numpy()).all()


def test_latency_charts_on_analytics_show_each_scale_separately(scales, monkeypatch):
    at = page_app("3_Analytics.py", scales, monkeypatch)
    at.run()
    assert not at.exception, at.exception
    figs = _figures(at)
    box = trace(figs["latency_distribution"], "latency")
    assert len(box["x"]) == 6 and len(set(box["x"])) == 6
    names = [t["name"] for t in figs["latency_vs_tokens"]["data"]]
    for scale in ("time scale 0.02", "time scale 0.04", "fixed 0.01 s"):
        assert any(scale in n for n in names), names
    table = next(d.value for d in at.dataframe if "modelled_mean_s" in d.value.columns)
    assert table["modelled_mean_s"].notna().sum() == 4  # the fixed-latency run has no modelled latency
