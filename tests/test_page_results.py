"""Results page: empty history, totals per run, filters, paging, opening a run's grid, rating,
rename, delete and export (the CLI's format)."""

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from PIL import Image

from imagegen.core.catalog import default_catalog
from imagegen.core.grid import GridSpec, Limits, estimate_grid
from imagegen.execution.providers import make_simulator_provider
from imagegen.execution.runner import GridRun
from imagegen.insight.gridimage import Geometry
from imagegen.storage.store import Store
from tests import ui_support
from tests.clock import TODAY
from tests.ui_support import open_app, texts
from ui.results_view import PAGE_SIZE

PAGE = "pages/2_Results.py"
CAT = default_catalog()

app_env = ui_support.app_env  # fixture
downloads = ui_support.downloads  # fixture


def make_run(home, name: str, qualities=("low", "medium"), prompt: str = "a red fox",
             model: str = "gpt-image-1.5") -> str:
    spec = GridSpec(provider="simulator", model=model, prompts=(prompt,), name=name,
                    params={"size": "1024x1024"}, axes={"quality": tuple(qualities)}, limits=Limits(concurrency=4))
    run = GridRun(spec, provider=make_simulator_provider({"time_scale": 0}), store=Store(home), today=TODAY)
    return run.run().run_id


def table(at):
    return at.dataframe[0].value


def test_empty_history(app_env):
    at = open_app(PAGE)
    assert at.title[0].value == "Results"
    assert any(i.startswith("No runs yet") for i in texts(at.info))
    assert not at.dataframe
    assert [link.label for link in at.get("page_link") if link.label == "Go to Generate"]


def test_history_totals_per_run(app_env):
    first = make_run(app_env, "foxes", ("low", "medium", "high"))
    second = make_run(app_env, "cats", ("low",), prompt="a cat")
    at = open_app(PAGE)
    df = table(at)
    assert df["Run id"].tolist() == [second, first]  # newest first
    store = Store(app_env)
    for run_id in (first, second):
        rows = store.results(run_id)
        shown = df[df["Run id"] == run_id].iloc[0]
        assert shown["Cells"] == len(rows)
        assert shown["OK"] == (rows["status"] == "ok").sum()
        assert Decimal(shown["Cost USD (billed)"]) == sum(Decimal(c) for c in rows["cost_usd"]).quantize(
            Decimal("0.0001"))
        assert shown["Median latency s"] == round(rows["latency_s"].median(), 2)
        assert shown["Figures"] == "simulated"
    assert any("2 runs" in c for c in texts(at.caption))


def test_filters(app_env):
    make_run(app_env, "foxes", ("low",))
    make_run(app_env, "cats", ("low",), prompt="a cat", model="gpt-image-1-mini")
    at = open_app(PAGE)
    assert at.selectbox(key="filter_model").options == ["All", "gpt-image-1-mini", "gpt-image-1.5"]
    at.text_input(key="filter_name").input("fox").run()
    assert table(at)["Name"].tolist() == ["foxes"]
    at.text_input(key="filter_name").input("").run()
    at.selectbox(key="filter_provider").set_value("openai").run()
    assert any(i == "No runs match these filters." for i in texts(at.info))
    at.selectbox(key="filter_provider").set_value("simulator").run()
    assert len(table(at)) == 2
    at.selectbox(key="filter_model").set_value("gpt-image-1-mini").run()
    assert table(at)["Name"].tolist() == ["cats"]
    at.selectbox(key="filter_model").set_value("All").run()
    # The filter's days are UTC days, like the stored timestamps: take the day the runs were recorded on
    # (never the local date, which differs from UTC in Japan before 09:00).
    day = {datetime.fromisoformat(t).astimezone(UTC).date() for t in Store(app_env).runs()["created_at"]}
    assert len(day) == 1, day
    (day,) = day
    at.date_input(key="filter_since").set_value(day).run()
    assert len(table(at)) == 2
    at.date_input(key="filter_until").set_value(day - timedelta(days=1)).run()
    assert not at.dataframe  # every run is from that day


def test_paging(app_env):
    store = Store(app_env)
    spec = GridSpec(provider="simulator", model="gpt-image-1.5", prompts=("p",), params={"quality": "low"})
    est = estimate_grid(spec, CAT, TODAY)
    ids = [store.create_run(spec, est, simulated=True, name=f"run {i:02d}") for i in range(PAGE_SIZE + 3)]
    at = open_app(PAGE)
    assert len(table(at)) == PAGE_SIZE
    assert any(f"Page 1 of 2 · {PAGE_SIZE + 3} runs" in c for c in texts(at.caption))
    at.number_input(key="runs_page").set_value(2).run()
    assert table(at)["Run id"].tolist() == list(reversed(ids[:3]))


def test_open_a_run_rate_rename_export_and_delete(app_env, downloads):
    run_id = make_run(app_env, "foxes", ("low", "medium", "high"))
    other = make_run(app_env, "keep me", ("low",))
    at = open_app(PAGE)
    assert not at.image  # nothing opened until asked
    at.selectbox(key="open_run").set_value(run_id).run()
    assert not at.exception, at.exception
    assert len(at.image) == 3
    assert {m.label: m.value for m in at.metric}["OK / failed"] == "3 / 0"
    assert "**quality = medium**" in texts(at.markdown)
    store = Store(app_env)
    rid = int(store.results(run_id)["result_id"].iloc[2])
    at.feedback(key=f"res_rate_{rid}").set_value(4).run()
    assert store.result_row(rid)["rating"] == 5
    # export in the CLI's format
    buttons = {b.key: b for b in at.get("download_button")}
    name, data = downloads.fetch(buttons["export_csv"])
    assert name == f"{run_id}.csv" and data.decode("utf-8") == store.export(run_id, "csv")
    assert len(list(csv.DictReader(io.StringIO(data.decode("utf-8"))))) == 3
    name, data = downloads.fetch(buttons["export_csv_excel"])  # the Excel-ready one: UTF-8 with BOM
    assert name == f"{run_id}.csv" and data.startswith(b"\xef\xbb\xbf")
    excel_rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["rating"] for r in excel_rows] == ["", "", "5"] and all(r["price_entry"] for r in excel_rows)
    assert "Excel-ready" in buttons["export_csv_excel"].help
    name, data = downloads.fetch(buttons["export_json"])
    assert name == f"{run_id}.json" and json.loads(data) == json.loads(store.export(run_id, "json"))
    # rename
    at.text_input(key="rename_to").input("foxes, three qualities").run()
    at.button(key="rename_run").click().run()
    assert store.run(run_id)["name"] == "foxes, three qualities"
    assert "foxes, three qualities" in table(at)["Name"].tolist()
    # delete needs the confirmation first
    assert at.button(key="delete_run").disabled
    at.checkbox(key="confirm_delete").check().run()
    at.button(key="delete_run").click().run()
    assert not at.exception, at.exception
    assert any("Deleted run" in s for s in texts(at.success))
    assert table(at)["Run id"].tolist() == [other]
    assert not at.image


def test_clicking_the_same_star_again_keeps_the_rating_and_clearing_is_explicit(app_env):
    run_id = make_run(app_env, "foxes", ("low",))
    store = Store(app_env)
    rid = int(store.results(run_id)["result_id"].iloc[0])
    at = open_app(PAGE)
    at.selectbox(key="open_run").set_value(run_id).run()
    assert not [b for b in at.button if b.key == f"res_unrate_{rid}"]  # nothing to clear yet
    at.feedback(key=f"res_rate_{rid}").set_value(2).run()  # the 3rd star
    assert store.result_row(rid)["rating"] == 3
    at.feedback(key=f"res_rate_{rid}").set_value(None).run()  # the same star again: the widget unselects it
    assert not at.exception, at.exception
    assert store.result_row(rid)["rating"] == 3  # kept
    assert at.feedback(key=f"res_rate_{rid}").value == 2  # and shown again
    clear = at.button(key=f"res_unrate_{rid}")
    assert clear.label == "Clear rating" and "3-star" in clear.help
    clear.click().run()
    assert store.result_row(rid)["rating"] is None
    assert at.feedback(key=f"res_rate_{rid}").value is None
    assert not [b for b in at.button if b.key == f"res_unrate_{rid}"]


def test_a_run_from_generate_opens_directly(app_env):
    run_id = make_run(app_env, "foxes", ("low",))
    at = open_app()
    at.session_state["open_run"] = run_id  # one key: the selectbox's, kept by ui.state
    at.switch_page(PAGE).run()
    assert at.selectbox(key="open_run").value == run_id
    assert len(at.image) == 1


def test_grid_as_png_downloads_the_labelled_composite(app_env, downloads):
    run_id = make_run(app_env, "foxes", ("low", "medium", "high"))
    at = open_app(PAGE)
    at.selectbox(key="open_run").set_value(run_id).run()
    button = {b.key: b for b in at.get("download_button")}["res_grid_png"]
    assert button.proto.label == "Grid as PNG"
    name, data = downloads.fetch(button)
    assert name == f"{run_id}-grid.png" and data.startswith(b"\x89PNG")
    g = Geometry.for_cell(256)  # one X axis (quality), a title block (title, context, prompt), no Y or Z margins
    title_h = g.title_h + 2 * g.line_h
    assert Image.open(io.BytesIO(data)).size == (g.pad + 3 * (256 + g.pad), title_h + g.header_h + g.slot_h + g.pad)


def test_finish_the_missing_cells_of_a_cancelled_run(app_env):
    spec = GridSpec(provider="simulator", model="gpt-image-1.5", prompts=("a red fox",), name="cut short",
                    params={"size": "1024x1024"}, axes={"quality": ("low", "medium", "high")},
                    limits=Limits(concurrency=1))
    run = GridRun(spec, provider=make_simulator_provider({"fixed_latency_s": 0.3}), store=Store(app_env), today=TODAY)
    run.start()
    run.cancel()
    assert run.wait(3)
    store = Store(app_env)
    deadline = time.monotonic() + 5  # the request in flight at the cancel still lands
    while len(store.results(run.run_id)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    before = store.results(run.run_id)["status"].tolist()
    missing = before.count("cancelled")
    assert missing >= 1
    at = open_app(PAGE)
    at.selectbox(key="open_run").set_value(run.run_id).run()
    button = at.button(key="resume_run")
    assert button.label == f"Finish the {missing} missing cell(s)"
    button.click().run()
    ui_support.wait_for_run(at)
    after = Store(app_env).results(run.run_id)
    assert sorted(after["status"]) == ["ok", "ok", "ok"]
    assert at.session_state["active_run"].run_id == run.run_id  # the same run, finished on Generate


def test_finish_is_refused_while_another_runner_holds_the_run(app_env):
    import os
    import socket

    spec = GridSpec(provider="simulator", model="gpt-image-1.5", prompts=("a red fox",), name="busy",
                    params={"size": "1024x1024"}, axes={"quality": ("low", "medium")}, limits=Limits(concurrency=1))
    store = Store(app_env)
    run_id = store.create_run(spec, estimate_grid(spec, CAT, TODAY), simulated=True)
    now = time.time()
    with store.db.write() as conn:  # a live CLI runner elsewhere on this machine holds the lease
        conn.execute("INSERT INTO leases (run_id, owner, host, pid, acquired_at, heartbeat_at, expires_at)"
                     " VALUES (?, 'cli', ?, ?, '', ?, ?)", (run_id, socket.gethostname(), os.getppid(), now, now + 60))
    at = open_app(PAGE)
    at.selectbox(key="open_run").set_value(run_id).run()
    at.button(key="resume_run").click().run()
    errors = " ".join(texts(at.error))
    assert "Not resumed" in errors and f"run {run_id} is already running in process {os.getppid()}" in errors
    assert store.results(run_id).empty  # nothing was sent


def test_clicking_a_row_opens_its_run_and_no_column_is_narrower_than_its_heading(app_env):
    first = make_run(app_env, "foxes", ("low", "medium"))
    second = make_run(app_env, "cats", ("low",), prompt="a cat")
    at = open_app(PAGE)
    table = at.dataframe[0]
    assert table.proto.selection_mode and not at.image  # selectable, nothing opened yet
    # the browser's row click, as Streamlit stores it (the table is newest first: row 1 is the first run)
    at.session_state["history_table"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="open_run").value == first and len(at.image) == 2
    # the picker may still choose another run: the table's old selection does not take it back
    at.selectbox(key="open_run").set_value(second).run()
    assert at.selectbox(key="open_run").value == second and len(at.image) == 1
    config = json.loads(at.dataframe[0].proto.columns)
    for heading in table.value.columns:
        width = config[heading]["width"]
        assert width >= 8 * len(heading), (heading, width)  # the heading fits: nothing cut to "P…"


def test_a_link_opens_its_run_and_the_opened_run_is_in_the_address(app_env, monkeypatch):
    run_id = make_run(app_env, "foxes", ("low", "medium"))
    at = ui_support.page_app("2_Results.py", app_env, monkeypatch, query={"run": run_id})
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="open_run").value == run_id and len(at.image) == 2
    assert at.query_params["run"] == [run_id] or at.query_params["run"] == run_id
    assert any(f"?run={run_id}" in c.value for c in at.code)  # the link to copy
    at.selectbox(key="open_run").set_value(None).run()
    assert "run" not in at.query_params
    gone = ui_support.page_app("2_Results.py", app_env, monkeypatch, query={"run": "no-such-run"})
    gone.run()
    assert not gone.exception and any("no-such-run" in w.value for w in gone.warning)
    assert gone.selectbox(key="open_run").value is None
