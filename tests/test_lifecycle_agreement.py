"""Home, Catalog, Planner, Generate, validation and `python -m imagegen models` agree on every model's
status on every provider: on the pinned day of the tests and on IMAGEGEN_TODAY=2027-05-01.

The truth is :func:`imagegen.core.lifecycle.status`; each surface is read as a user would see it (the
pages through AppTest, the CLI through its JSON) and must say the same thing for every model x provider.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from imagegen.cli import main
from imagegen.core import lifecycle
from imagegen.core.axes import model_values
from imagegen.core.catalog import PROVIDER_FLAVOUR, PROVIDERS, default_catalog
from imagegen.core.request import ImageRequest, problems
from imagegen.insight import planner
from imagegen.insight.planner import PlanLine
from tests import ui_support
from tests.clock import TODAY
from tests.ui_support import open_app, page_app, texts

CAT = default_catalog()
DAYS = [TODAY, date(2027, 5, 1)]
#: Every provider a request can go to: the catalog's two, the simulator and a compatible endpoint (both follow
#: OpenAI's lifecycle facts but run every model).
RUNTIME = tuple(PROVIDER_FLAVOUR)
app_env = ui_support.app_env  # fixture


def truth(day: date, providers: tuple[str, ...] = PROVIDERS) -> dict[tuple[str, str], lifecycle.Lifecycle]:
    return {(life.model, life.provider): life for life in lifecycle.every_status(CAT, day, providers)}


@pytest.fixture(params=DAYS, ids=[d.isoformat() for d in DAYS])
def day(request, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_TODAY", request.param.isoformat())
    return request.param


def test_the_days_cover_every_state(day):
    states = {life.state for life in truth(day).values()}
    assert states == {"live", "retiring", "shut_down", "not_offered"}, states


def test_validation_refuses_exactly_what_cannot_run(day):
    assert set(RUNTIME) == {"openai", "azure", "simulator", "compatible"}
    for (mid, provider), life in truth(day, RUNTIME).items():
        req = ImageRequest(model=mid, prompt="a red fox", provider=provider, quality="low", size="1024x1024")
        refused = [p for p in problems(req, CAT, day) if p.field == "model"]
        assert bool(refused) == (not life.runnable), (mid, provider)
        if refused:
            assert life.sentence.rstrip(".") in str(refused[0]) and day.isoformat() in str(refused[0])


def test_the_cli_models_command_agrees(day, capsys):
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for (mid, provider), life in truth(day).items():
        got = data[mid]["lifecycle"][provider]
        assert (got["on"], got["state"], got["runnable"], got["message"]) == \
            (day.isoformat(), life.state, life.runnable, life.sentence)
    assert main(["models"]) == 0
    table = capsys.readouterr().out
    assert f"lifecycle on {day.isoformat()}" in table
    for mid in CAT.models:
        row = next(line for line in table.splitlines() if line.startswith(f"{mid} "))
        for provider in ("openai", "azure"):
            assert truth(day)[(mid, provider)].label in row


def test_the_planner_warns_exactly_about_what_is_not_live(day):
    for (mid, provider), life in truth(day).items():
        warnings = planner.check_line(PlanLine(mid, "low", "1024x1024", Decimal(1), provider=provider), CAT, day)
        if life.state == "live":
            assert warnings == [], (mid, provider)
        else:
            assert len(warnings) == 1 and life.sentence in warnings[0], (mid, provider)


def test_the_planner_page_agrees(day, tmp_path, monkeypatch):
    offered = {k: life for k, life in truth(day).items() if life.state != "not_offered"}  # no price elsewhere
    lines = [f"{mid}~low~1024x1024~1~d~50~{provider}" for mid, provider in offered]
    at = page_app("4_Planner.py", tmp_path, monkeypatch, {"s0": "every model!" + "!".join(lines)})
    at.run()
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)
    shown = texts(at.warning)
    for (mid, provider), life in offered.items():
        said = [w for w in shown if life.sentence in w]
        assert len(said) == (0 if life.state == "live" else 1), (mid, provider, said)


def test_the_catalog_page_agrees(day, tmp_path, monkeypatch):
    at = page_app("5_Catalog.py", tmp_path, monkeypatch)
    at.run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "successor" in d.value.columns).set_index(["model", "provider"])
    for (mid, provider), life in truth(day).items():
        assert table.loc[(mid, provider), "status"] == life.label, (mid, provider)
    flagged = texts(at.error) + texts(at.warning)
    for life in truth(day).values():
        said = [t for t in flagged if t.startswith(life.sentence)]
        assert len(said) == (1 if life.state in ("shut_down", "retiring") else 0), life
    for provider in PROVIDERS:
        at.selectbox(key="cat_est_provider").set_value(provider).run()
        estimates = next(d.value for d in at.dataframe if "override" in d.value.columns).set_index("model")
        for mid, status in estimates["status"].items():
            assert status == truth(day)[(mid, provider)].label, (mid, provider)


def test_home_agrees(day, app_env):
    at = open_app()
    errors, warnings = texts(at.error), texts(at.warning)
    for life in truth(day).values():
        assert sum(e.startswith(life.sentence) for e in errors) == (life.state == "shut_down"), life
        assert sum(w == life.sentence for w in warnings) == (life.state == "retiring"), life
    assert any(day.isoformat() in i for i in texts(at.sidebar.info))


def test_generate_offers_exactly_the_runnable_models(day):
    for provider in RUNTIME:
        names, note = model_values(CAT, provider, None if provider != "azure" else
                                   {f"dep-{m}": m for m in CAT.models}, today=day)
        for (mid, p), life in truth(day, RUNTIME).items():
            if p != provider:
                continue
            offered = (f"dep-{mid}" if provider == "azure" else mid) in names
            assert offered == life.runnable, (mid, provider)
            if not life.runnable:
                assert life.sentence.rstrip(".") in note
