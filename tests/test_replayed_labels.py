"""Replayed results say "replayed from <run> (<date>, <provider>)" in Analytics, the Results list, the Planner's
measured mode and the Grid PNG; never "measured", never plain "simulated", and never pooled with simulated or
real figures in one statistic.

Two runs of the same three settings on the simulator: one served from the shipped recording (replayed), one
from the simulator's profile (simulated). Every figure keeps them apart.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from imagegen import facade
from imagegen.core.catalog import default_catalog
from imagegen.execution.runner import GridRun
from imagegen.insight import analysis, planner
from imagegen.insight.gridimage import figure_lines
from imagegen.insight.planner import BudgetPlan, PlanLine, Scenario
from imagegen.storage.store import Store
from tests.clock import TODAY
from ui.results_view import history_table

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "recordings" / "demo-3-cells.json"
DEMO_SPEC = ROOT / "examples" / "recordings" / "demo-3-cells.toml"


def _spec(simulator: str) -> str:
    return DEMO_SPEC.read_text(encoding="utf-8").split("[simulator]")[0] + "[simulator]\n" + simulator


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with Store(tmp_path_factory.mktemp("replayed")) as s:
        replayed = GridRun(_spec(f'replay = "{DEMO}"\ntime_scale = 0\n'), store=s, today=TODAY).run()
        simulated = GridRun(_spec("time_scale = 0\n"), store=s, today=TODAY).run()
        assert replayed.ok == simulated.ok == 3
        s.ids = (replayed.run_id, simulated.run_id)
        yield s


def _label(store) -> str:
    labels = set(store.results(store.ids[0])["replayed_from"])
    assert len(labels) == 1
    label = labels.pop()
    assert label.startswith("replayed from ") and label.endswith(", simulator)")
    return label


def test_analytics_keeps_replayed_figures_apart_and_names_them(store):
    label = _label(store)
    result = analysis.analyse(store.query)
    assert set(result.summary["figures"]) == {"simulated", label}
    assert "measured" not in result.provenance and label in result.provenance
    tokens = result.tokens()
    # each setting twice: once replayed, once simulated, never one pooled mean; the label says which
    assert len(tokens) == 6 and sorted(tokens["provenance"]) == sorted([label] * 3 + ["simulated"] * 3)
    assert all(label in s for s, p in zip(tokens["setting"], tokens["provenance"]) if p == label)
    latency = result.latency()
    assert {c for c in latency["latency_scale"] if c.startswith("replayed")} == {f"{label}, time scale 0.0"}
    fits = result.fits()
    assert label in " ".join(fits["provenance"]) and "measured" not in set(fits["provenance"])


@pytest.mark.parametrize("kind,figures", [("simulated", {"simulated"}), ("replayed", "label"),
                                          ("measured", set())])
def test_the_results_filter_has_replayed_as_a_kind_of_its_own(store, kind, figures):
    label = _label(store)
    cells = analysis.cell_frame(store.query)
    picked = cells[facade.selection(kind=kind).mask(cells)]
    assert set(picked["figures"]) == ({label} if figures == "label" else figures)


def test_the_results_list_says_replayed_from(store):
    label = _label(store)
    runs = store.runs()
    figures = dict(zip(runs["run_id"], history_table(runs)["Figures"]))
    assert figures == {store.ids[0]: label, store.ids[1]: "simulated"}


def test_the_planners_measured_mode_says_replayed_from_never_measured(store):
    label = _label(store)
    frame = analysis.measured_costs(store.query, list(store.ids))
    assert sorted(frame["figures"]) == sorted([label] * 3 + ["simulated"] * 3)
    line = PlanLine("gpt-image-2", "medium", "1024x1024", Decimal(100), provider="openai")
    plan = BudgetPlan((Scenario("replayed", (line,)),), rate_date=TODAY, source="measured", run_ids=(store.ids[0],))
    res = planner.evaluate(plan, default_catalog(), analysis.measured_costs(store.query, [store.ids[0]]), on=TODAY)
    assert res.scenarios[0].lines[0].source == label
    assert res.source_label.startswith(label) and "measured (" not in res.source_label
    both = BudgetPlan(plan.scenarios, rate_date=TODAY, source="measured", run_ids=store.ids)
    res = planner.evaluate(both, default_catalog(), frame, on=TODAY)
    one = frame[(frame["quality"] == "medium") & (frame["figures"] == label)]["cost_usd_per_image"].iloc[0]
    assert res.scenarios[0].lines[0].cost_per_image_usd == one  # one kind per setting, never averaged


def test_the_grid_png_cells_say_replayed_from(store):
    label = _label(store)
    row = store.results(store.ids[0]).to_dict("records")[0]
    assert figure_lines(row)[-1].endswith(label)
