"""Generate page: the form, the live estimate, a 3x3 run end to end, cancel, a failed cell, rating,
compare, enlarge, view code, original-bytes download, budget and confirmation, save and load a spec."""

import json
import re
import time
import tomllib
from datetime import date
from decimal import Decimal

import pytest

from imagegen.core import lifecycle
from imagegen.core.catalog import default_catalog
from imagegen.core.grid import estimate_grid, loads_spec
from imagegen.core.gridform import FormValues, build_spec, format_duration, split_prompts
from imagegen.execution.duration import expected_duration_s
from imagegen.storage.store import Store
from tests import ui_support
from tests.clock import TODAY
from tests.ui_support import ROOT, open_app, texts, wait_for_run
from ui import run_panel
from ui.generate_form import usd

PAGE = "pages/1_Generate.py"
CAT = default_catalog()
EXAMPLE = ROOT / "examples" / "quality-x-size.toml"

app_env = ui_support.app_env  # fixture
downloads = ui_support.downloads  # fixture


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def run_default_grid(at):
    at.button(key="run_grid").click().run()
    assert not at.exception, at.exception
    return wait_for_run(at)


def store_rows(home, run_id):
    return Store(home).results(run_id)


def test_default_form_estimate_matches_the_library(app_env):
    at = open_app(PAGE)
    assert at.text_area(key="prompts").value.startswith("F1レーサー")
    assert at.selectbox(key="provider").value == "simulator"
    assert at.selectbox(key="axis_x_param").value == "quality"
    assert at.multiselect(key="axis_y_values").value == ["1024x1024", "1024x1536", "1536x1024"]
    spec = loads_spec(EXAMPLE.read_text(encoding="utf-8"))  # the same 3x3 grid, written by hand
    est = estimate_grid(spec, CAT, TODAY)
    m = metrics(at)
    assert m["Cells"] == "9" and m["Requests"] == "9"
    # gpt-image-2: the 1024x1024 low cell is documented (the guide's calculator), the rest derived (formula)
    assert {e.token_status for e in est.estimates} == {"documented", "derived"}
    assert m["Output tokens (documented + derived)"] == f"{est.output_tokens_max:,}"
    assert m["Cost, USD (estimated)"] == usd(est.total_cost_usd_max)
    assert any("estimates before sending (simulated" in c for c in texts(at.caption))
    assert not at.button(key="run_grid").disabled
    # Run grid from the keyboard (46 Tab presses from the prompt otherwise), and the help texts say so
    run = at.button(key="run_grid")
    assert run.proto.shortcut == "ctrl+enter" and "Ctrl+Enter" in run.help
    assert "Ctrl+Enter" in at.text_area(key="prompts").help


def test_estimate_updates_as_the_grid_changes(app_env):
    at = open_app(PAGE)
    at.number_input(key="repeats").set_value(2).run()
    assert metrics(at)["Requests"] == "18"
    at.multiselect(key="axis_x_values").set_value(["low"]).run()
    assert metrics(at)["Cells"] == "3" and metrics(at)["Requests"] == "6"
    at.text_area(key="prompts").input("一つ目のプロンプト\n二行目も同じプロンプト\n\nsecond prompt").run()
    assert metrics(at)["Cells"] == "6"  # two prompts add a prompt axis
    assert any("2 prompt(s)" in c for c in texts(at.caption))


def test_axis_shortcuts_and_conditional_values(app_env):
    at = open_app(PAGE)
    at.selectbox(key="axis_x_param").set_value("output_format").run()
    assert at.multiselect(key="axis_x_values").value == ["png", "jpeg", "webp"]  # all values on picking
    at.multiselect(key="axis_x_values").set_value(["jpeg"]).run()
    at.button(key="axis_x_all").click().run()
    assert at.multiselect(key="axis_x_values").value == ["png", "jpeg", "webp"]
    at.button(key="swap_xy").click().run()
    assert at.selectbox(key="axis_x_param").value == "size"
    assert at.selectbox(key="axis_y_param").value == "output_format"
    # png is on the format axis: compression cannot be fixed, transparent is not offered
    assert at.selectbox(key="fixed_output_compression").disabled
    at.multiselect(key="axis_y_values").set_value(["jpeg", "webp"]).run()
    assert not at.selectbox(key="fixed_output_compression").disabled
    assert "transparent" not in at.selectbox(key="fixed_background").options
    at.selectbox(key="fixed_output_compression").set_value(50).run()
    assert metrics(at)["Cells"] == "6"
    assert not at.exception


def test_azure_offers_no_webp_and_lists_deployments(app_env, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "azure")
    monkeypatch.setenv("AZURE_OPENAI_API_IMAGE_KEY", "azure-test-key-0000")
    monkeypatch.setenv("AZURE_OPENAI_API_IMAGE_ENDPOINT", "https://res.openai.azure.com/")
    monkeypatch.setenv("IMAGEGEN_AZURE_DEPLOYMENTS", "my-images=gpt-image-1.5,cheap=gpt-image-1-mini")
    at = open_app(PAGE, secrets={"IMAGEGEN_PROVIDER": "azure"})
    assert at.selectbox(key="provider").options == ["Azure OpenAI", "Simulator (built in)"]
    assert at.selectbox(key="model").options == ["my-images → gpt-image-1.5",  # the data's Azure preference order
                                                 "cheap → gpt-image-1-mini (shuts down on azure 2027-04-07)"]
    assert at.selectbox(key="model").value == "my-images"
    at.selectbox(key="axis_x_param").set_value("output_format").run()
    assert at.multiselect(key="axis_x_values").value == ["png", "jpeg"]
    assert any("no WEBP" in c for c in texts(at.caption))


def test_a_3x3_grid_runs_end_to_end_with_its_figures(app_env):
    at = open_app(PAGE)
    # gpt-image-1.5 (shut down on OpenAI, still one pick away on the simulator): documented table, text output
    at.selectbox(key="model").set_value("gpt-image-1.5").run()

    def scroll_scripts():
        return [h.proto.body for h in at.get("html") if "scrollIntoView" in h.proto.body]

    # Every render is looked at: the run may end during any of them, and only that one scrolls.
    at.button(key="run_grid").click().run()
    assert not at.exception, at.exception
    scripts = scroll_scripts()
    run = at.session_state["active_run"]
    assert run.wait(20), "the run did not finish in time"
    at.run()
    assert not at.exception, at.exception
    scripts += scroll_scripts()
    summary = run.summary
    assert summary.status == "finished" and summary.ok == 9
    assert len(at.image) == 9
    assert at.progress[0].value == 100
    success = texts(at.success)[0]
    assert "9 ok of 9" in success and "billed (simulated)" in success
    # the finished grid scrolls into view, once: a script that scrolls to the run's heading (its anchor)
    assert len(scripts) == 1 and f'getElementById("{run_panel.RESULT_ANCHOR}")' in scripts[0]
    assert [h.value for h in at.subheader if h.proto.anchor == run_panel.RESULT_ANCHOR] == [f"Run {run.run_id}"]
    at.run()  # a later rerun (a rating, a compare) does not scroll again
    assert not [h for h in at.get("html") if "scrollIntoView" in h.proto.body]
    rows = store_rows(app_env, run.run_id)
    captions = texts(at.caption)
    for row in rows.to_dict("records"):
        # each cell shows its billed vs documented tokens, billed vs estimated cost, latency and file size
        image_tokens = row["output_tokens"] - (row["output_text_tokens"] or 0)
        assert image_tokens == row["documented_output_tokens"]  # the simulator follows the documented table
        assert row["output_text_tokens"] > 0  # gpt-image-1.5 bills text output: the simulator reports it
        assert f":material/token: {image_tokens:,} image output tokens billed (simulated) · " \
               f"{row['documented_output_tokens']:,} {row['token_status']} · " \
               f"{row['output_text_tokens']:,} text output tokens" in captions
        assert row["token_status"] == "documented"  # gpt-image-1.5's table is documented
        assert f":material/payments: ${Decimal(row['cost_usd']):.4f} billed (simulated) · " \
               f"${Decimal(row['estimated_cost_usd']):.4f} estimated (max)" in captions
        assert f":material/timer: {row['latency_s']:.2f} s latency (simulated)" in captions
        w, h = row["image_width"], row["image_height"]
        assert f"{w}x{h}" == row["size"]
        assert any(c.startswith(":material/image: ") and c.endswith(f"PNG · {w}×{h}") for c in captions)
    labels = texts(at.markdown)
    assert "**quality = low**" in labels and "**size = 1536x1024**" in labels
    assert sum(Decimal(c) for c in rows["cost_usd"]) == summary.spent_usd


def test_cancel_stops_the_run(app_env, monkeypatch):
    at = open_app(PAGE)
    at.number_input(key="concurrency").set_value(1).run()
    at.number_input(key="sim_fixed_latency_s").set_value(0.4).run()
    at.button(key="run_grid").click().run()
    assert at.button(key="run_grid").disabled  # no second run while one is going
    at.button(key="cancel_run").click().run()
    t0 = time.monotonic()
    wait_for_run(at)
    assert time.monotonic() - t0 < 3
    summary = at.session_state["active_run"].summary
    assert summary.status == "cancelled" and summary.cancelled >= 1 and summary.ok < 9
    assert summary.ok + summary.cancelled + summary.errors + summary.in_flight == 9
    assert len([i for i in texts(at.info) if i == "Cancelled before it was sent"]) == summary.cancelled
    costs = [c for c in texts(at.caption) if "$0.0000 " in c]  # the cancelled cells' cost lines
    assert len(costs) >= summary.cancelled and all("billed (simulated)" in c for c in costs), costs
    assert " cancelled: " in texts(at.warning)[0]
    assert not at.button(key="run_grid").disabled
    # a request already sent when Cancel was pressed is still recorded when it returns
    deadline = time.monotonic() + 5
    while len(store_rows(app_env, summary.run_id)) < 9:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    at.run()
    assert len(at.image) == 9 - summary.cancelled


def test_a_failed_cell_shows_its_error_in_place(app_env):
    at = open_app(PAGE)
    at.number_input(key="concurrency").set_value(1).run()
    at.selectbox(key="sim_fault_kind").set_value("moderation").run()
    at.number_input(key="sim_fault_times").set_value(1).run()
    at = run_default_grid(at)
    summary = at.session_state["active_run"].summary
    assert summary.errors == 1 and summary.ok == 8
    assert len(at.image) == 8
    errors = [e for e in texts(at.error) if e.startswith("**moderation**")]
    assert len(errors) == 1 and "safety" in errors[0].lower()
    assert "1 failed" in texts(at.warning)[0]


def test_rating_compare_enlarge_and_code(app_env):
    at = run_default_grid(open_app(PAGE))
    run_id = at.session_state["active_run"].run_id
    rows = store_rows(app_env, run_id)
    first, second = (int(r) for r in rows["result_id"][:2])
    at.feedback(key=f"gen_rate_{first}").set_value(3).run()  # the 4th star
    assert Store(app_env).result_row(first)["rating"] == 4
    assert at.multiselect(key="gen_compare").proto.select_all == 0  # a two-cell picker offers no "Select all"
    at.multiselect(key="gen_compare").set_value([first, second]).run()
    assert len(at.image) == 11  # nine thumbnails + two full-size images side by side
    at.multiselect(key="gen_compare").set_value([]).run()
    at.button(key=f"gen_big_{second}").click().run()
    assert len(at.image) == 10  # the enlarged image
    at.button(key=f"gen_code_{first}").click().run()
    code = [c.value for c in at.code]
    assert any("client.images.generate(" in c and '"F1レーサーを躍動感あるように描いて。"' in c for c in code)
    assert any(c.startswith("curl -sS") for c in code)


def test_download_gives_the_original_bytes(app_env, downloads):
    at = run_default_grid(open_app(PAGE))
    rows = store_rows(app_env, at.session_state["active_run"].run_id)
    row = rows.iloc[0]
    name, data = downloads.fetch(at.get("download_button")[[b.key for b in at.get("download_button")].index(
        f"gen_dl_{int(row['result_id'])}")])
    original = (app_env / row["image_path"]).read_bytes()
    assert data == original and name.endswith(".png") and data.startswith(b"\x89PNG")


def test_budget_cap_and_confirmation(app_env, monkeypatch):
    at = open_app(PAGE)
    at.number_input(key="budget_usd").set_value(0.10).run()
    assert any("over the budget cap" in e for e in texts(at.error))
    assert at.button(key="run_grid").disabled
    at.number_input(key="budget_usd").set_value(5.0).run()
    at.number_input(key="confirm_over_usd").set_value(0.5).run()
    # a simulated run spends nothing: it never asks to confirm spending money
    assert not at.button(key="run_grid").disabled and not at.warning
    assert not [c for c in at.checkbox if c.key == "confirm_spend"]
    assert any("No confirmation needed" in c for c in texts(at.caption))
    # real money (OpenAI configured; nothing is sent here) asks, and a new amount needs a new confirmation
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "openai")
    at = open_app(PAGE, secrets={"OPENAI_API_KEY": "fake-generate-page-key-0001"})
    assert at.selectbox(key="provider").value == "openai"
    at.number_input(key="confirm_over_usd").set_value(0.5).run()
    assert at.button(key="run_grid").disabled
    assert any("of real money" in w and "above your confirmation threshold" in w for w in texts(at.warning))
    at.checkbox(key="confirm_spend").check().run()
    assert not at.button(key="run_grid").disabled
    at.number_input(key="repeats").set_value(2).run()  # a new amount needs a new confirmation
    assert at.button(key="run_grid").disabled


def test_a_provider_axis_confirms_real_money_only_and_never_adds_simulated_spend(app_env, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "openai")
    at = open_app(PAGE, secrets={"OPENAI_API_KEY": "fake-generate-page-key-0001"})
    at.selectbox(key="axis_z_param").set_value("provider").run()
    at.multiselect(key="axis_z_values").set_value(["openai", "simulator"]).run()
    at.number_input(key="confirm_over_usd").set_value(0.01).run()
    assert not at.exception and metrics(at)["Cells"] == "18"
    est = at.session_state["generate_plan"].estimate
    split = est.spend()
    assert split.real.requests == split.simulated.requests == 9
    assert est.total_cost_usd_max == split.real.cost_max + split.simulated.cost_max  # the sum no longer shown
    assert metrics(at)["Cost, USD (estimated, real money)"] == usd(split.real.cost_max)
    caption = next(c for c in texts(at.caption) if c.startswith("Real money: up to"))
    assert f"{usd(split.real.cost_max)} (9 requests)" in caption and "simulated: " in caption
    warning = next(w for w in texts(at.warning) if "confirmation threshold" in w)
    assert f"up to {usd(split.real.cost_max)} of real money (9 requests)" in warning
    assert usd(est.total_cost_usd_max) not in warning
    assert at.checkbox(key="confirm_spend").label == f"I confirm: run it for up to {usd(split.real.cost_max)}"


def test_reuse_from_history_is_subtracted_from_the_estimate(app_env):
    at = open_app(PAGE)
    at.multiselect(key="axis_x_values").set_value(["low", "medium"]).run()  # 6 cells
    at = run_default_grid(at)
    full = metrics(at)["Cost, USD (estimated)"]
    at.multiselect(key="axis_x_values").set_value(["low", "medium", "high"]).run()  # 9 cells, 6 in history
    est = at.session_state["generate_plan"].estimate
    assert metrics(at)["Cost, USD (estimated)"] == usd(est.total_cost_usd_max)  # reuse not ticked: everything
    at.checkbox(key="reuse_history").check().run()
    split = est.spend({c.index: 1 for c in est.cells if c.request.quality in ("low", "medium")})
    assert split.reused.requests == 6 and split.simulated.requests == 3
    assert metrics(at)["Cost, USD (estimated, after reuse)"] == usd(split.simulated.cost_max)
    assert any("6 of 9 requests are taken from earlier runs at $0" in c for c in texts(at.caption))
    assert full != metrics(at)["Cost, USD (estimated, after reuse)"]


def test_prompt_over_the_limit_is_refused(app_env):
    at = open_app(PAGE)
    at.text_area(key="prompts").input("あ" * 32_001).run()
    assert any("32,001 characters; the limit is 32,000" in e for e in texts(at.error))
    assert at.button(key="run_grid").disabled


def test_save_and_load_a_spec(app_env, downloads):
    at = open_app(PAGE)
    name, data = downloads.fetch(at.get("download_button")[0])
    saved = tomllib.loads(data.decode("utf-8"))
    assert name.endswith(".toml") and saved["axes"]["quality"] == ["low", "medium", "high"]
    text = """
name = "formats"
provider = "simulator"
model = "gpt-image-1-mini"
prompts = ["赤い狐", "a blue fox"]
repeats = 2

[params]
quality = "low"
output_compression = 70
size = "1024x1024"

[axes]
output_format = ["jpeg", "webp"]

[limits]
concurrency = 3
budget_usd = 1.5

[simulator]
faults = ["rate_limit; match=fox; times=1"]
"""
    at.file_uploader(key="spec_upload").set_value(("formats.toml", text.encode("utf-8"), "application/toml")).run()
    assert not at.exception, at.exception
    assert any("Loaded formats.toml" in s for s in texts(at.success))
    assert at.selectbox(key="model").value == "gpt-image-1-mini"
    assert at.selectbox(key="axis_x_param").value == "output_format"
    assert at.selectbox(key="axis_y_param").value == "(none)"
    assert at.selectbox(key="fixed_output_compression").value == 70
    assert at.selectbox(key="sim_fault_kind").value == "rate_limited"  # the older name, shown as today's
    assert at.number_input(key="repeats").value == 2
    est = estimate_grid(loads_spec(text), CAT, TODAY)
    m = metrics(at)
    assert m["Cells"] == str(len(est.cells)) == "4" and m["Requests"] == "8"
    assert m["Cost, USD (estimated)"] == usd(est.total_cost_usd_max)
    # saving again gives back the same grid
    again = loads_spec(downloads.fetch(at.get("download_button")[0])[1].decode("utf-8"))
    assert (again.model, again.prompts, again.axes, again.repeats) == (
        "gpt-image-1-mini", ("赤い狐", "a blue fox"), {"output_format": ("jpeg", "webp")}, 2)
    assert again.params["output_compression"] == 70 and again.simulator["faults"] == ["rate_limited; match=fox; times=1"]


def test_loading_a_bad_spec_names_the_problem(app_env):
    at = open_app(PAGE)
    at.file_uploader(key="spec_upload").set_value(("bad.toml", b'model = "x"\nprompts = ["p"]\ncolour = 1\n',
                                                   "application/toml")).run()
    assert any("bad.toml: colour is an unknown key" in e and "Fix:" in e for e in texts(at.error))


@pytest.mark.parametrize("case", ["non-UTF-8 file", "rpm = nan", "1024X1024", "operation = 'edit'", "n = [1, 1.0]",
                                  "ESC in a prompt", "[simulator] wrong type", "simulator = 1"])
def test_the_upload_shows_the_same_messages_as_the_cli(app_env, case):
    """The dashboard's spec upload runs the CLI's checks: the same message, nothing loaded."""
    from tests.spec_cases import BAD_SPECS

    body, needle = next((b, n) for c, b, n in BAD_SPECS if c == case)
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    at = open_app(PAGE)
    before = at.session_state["prompts"]
    at.file_uploader(key="spec_upload").set_value(("bad.toml", raw, "application/toml")).run()
    errors = [re.sub(r"\\(.)", r"\1", e) for e in texts(at.error)]  # shown markdown-escaped (plain text)
    assert any(needle in e and "bad.toml" in e and "Fix:" in e for e in errors), errors
    assert not at.exception and at.session_state["prompts"] == before


# -- the form's pure helpers -------------------------------------------------------------------------


def test_split_prompts_by_empty_lines():
    assert split_prompts("a\nb\n\n  \nc\r\n\r\nd") == ["a\nb", "c", "d"]
    assert split_prompts("一行目\n二行目\n\u3000\n三") == ["一行目\n二行目", "三"]
    assert split_prompts("   ") == []


@pytest.mark.parametrize("rpm,expected", [(None, 2 * (2.0 + 272 / 133)), (6.0, 20.0 + 2.0 + 272 / 133)])
def test_expected_duration_uses_the_latency_model_and_rpm(rpm, expected):
    values = FormValues(prompts_text="fox", provider="openai", model="gpt-image-2", axes=[], params={
        "quality": "low", "size": "1024x1536"}, repeats=3, concurrency=2, rpm=rpm)
    # gpt-image-2 low 1024x1536 = 158 tokens; use gpt-image-1.5 for the documented 408
    values.model, values.params = "gpt-image-1.5", {"quality": "low", "size": "1024x1024"}
    spec, _ = build_spec(values, CAT, TODAY)
    est = estimate_grid(spec, CAT, date(2026, 11, 1))  # pinned: gpt-image-1.5 ran on openai then
    assert expected_duration_s(est) == pytest.approx(expected)
    assert format_duration(75) == "1 min 15 s" and format_duration(3.25) == "3.2 s"


def test_expected_duration_on_the_simulator_is_scaled():
    values = FormValues(prompts_text="fox", provider="simulator", model="gpt-image-1.5", axes=[],
                        params={"quality": "medium", "size": "1024x1024"}, concurrency=1, repeats=2,
                        simulator={"time_scale": 0.5})
    spec, _ = build_spec(values, CAT, TODAY)
    est = estimate_grid(spec, CAT, TODAY)
    assert expected_duration_s(est, spec.simulator) == pytest.approx(2 * 0.5 * (2.0 + 1056 / 133))
    fixed = expected_duration_s(est, {"fixed_latency_s": 1.5})
    assert fixed == pytest.approx(3.0)
    assert json.loads(json.dumps(spec.simulator)) == {"time_scale": 0.5}


def test_a_local_price_override_changes_the_estimate(app_env):
    from datetime import date

    from imagegen.core.overrides import add_override, make_override

    before = metrics(open_app(PAGE))["Cost, USD (estimated)"]
    entry = make_override(CAT, "gpt-image-2", "openai", date(2026, 11, 1), image_output=Decimal("64"))
    add_override(app_env, entry, CAT)
    at = open_app(PAGE)
    spec = loads_spec(EXAMPLE.read_text(encoding="utf-8"))
    expected = estimate_grid(spec, CAT.with_overrides([entry]), TODAY).total_cost_usd_max
    assert metrics(at)["Cost, USD (estimated)"] == usd(expected) != before
    assert any("openai/gpt-image-2@2026-11-01+override" in c for c in texts(at.caption))


def test_the_form_survives_a_visit_to_another_page(app_env):
    at = open_app(PAGE)
    at.number_input(key="repeats").set_value(3).run()
    at.selectbox(key="axis_x_param").set_value("moderation").run()
    at.switch_page("pages/2_Results.py").run()
    at.switch_page(PAGE).run()
    assert at.number_input(key="repeats").value == 3
    assert at.selectbox(key="axis_x_param").value == "moderation"
    assert at.multiselect(key="axis_x_values").value == ["auto", "low"]
    assert metrics(at)["Requests"] == str(2 * 3 * 3)


def test_z_axis_and_prompts_make_sub_grids(app_env):
    at = open_app(PAGE)
    at.text_area(key="prompts").input("a red fox\n\n赤い狐").run()
    at.multiselect(key="axis_x_values").set_value(["low", "high"]).run()
    at.multiselect(key="axis_y_values").set_value(["1024x1024"]).run()
    at.selectbox(key="axis_z_param").set_value("output_format").run()
    at.multiselect(key="axis_z_values").set_value(["png", "jpeg"]).run()
    assert metrics(at)["Cells"] == "8"
    at = run_default_grid(at)
    assert len(at.image) == 8
    titles = [h.value for h in at.subheader]
    for fmt in ("png", "jpeg"):
        for prompt in ("a red fox", "赤い狐"):
            assert f"output_format = {fmt} · prompt = {prompt}" in titles
    captions = texts(at.caption)
    assert sum(c.startswith(":material/image: ") and "JPEG" in c for c in captions) == 4  # the real file type


def test_reuse_takes_identical_results_from_history_at_no_cost(app_env):
    at = run_default_grid(open_app(PAGE))
    first = at.session_state["active_run"].run_id
    at.checkbox(key="reuse_history").check().run()
    at = run_default_grid(at)
    second = at.session_state["active_run"]
    assert second.run_id != first and second.summary.reused == 9
    rows = store_rows(app_env, second.run_id)
    assert rows["reused"].tolist() == [1] * 9
    assert all(Decimal(c) == 0 for c in rows["cost_usd"])
    assert len(at.image) == 9 and any("reused from history" in c for c in texts(at.caption))


def test_a_new_session_on_the_simulator_starts_on_a_model_that_runs_on_openai_today(app_env):
    at = open_app(PAGE)
    model = at.selectbox(key="model").value
    assert model == lifecycle.preferred_models(CAT, "openai", TODAY)[0]
    assert lifecycle.status(CAT, model, "openai", TODAY).state == "live"
    options = at.selectbox(key="model").options
    assert options[0] == model and "gpt-image-1.5 (shut down on openai 2026-12-01; simulated from its documented " \
        "behaviour)" in options  # the old models stay one pick away, labelled
    assert not at.error and not at.button(key="run_grid").disabled


def test_with_an_openai_key_the_default_grid_validates_estimates_and_runs(app_env, monkeypatch, sim_http):
    """A new session with OPENAI_API_KEY: no edit needed. The page's own settings, provider factory and
    OpenAIProvider (the real openai SDK) talk to https://api.openai.com/v1; only the socket is redirected to
    the loopback simulator, so what reaches it is what OpenAI would receive. The key is fake."""
    import httpx2

    from imagegen.execution.providers import openai_api
    from imagegen.execution.providers.deadline import DeadlineHttpxClient

    app, url = sim_http
    loopback = httpx2.URL(url)

    class ToLoopback(httpx2.BaseTransport):
        """api.openai.com -> the loopback simulator (the request, Host header included, is left as sent)."""

        def __init__(self) -> None:
            self.inner = httpx2.HTTPTransport()

        def handle_request(self, request):
            assert request.url.host == "api.openai.com", request.url  # nothing else may be called
            request.url = request.url.copy_with(scheme=loopback.scheme, host=loopback.host, port=loopback.port)
            return self.inner.handle_request(request)

        def close(self) -> None:
            self.inner.close()

    # the SDK's default client class, as the page builds it (closed when dropped), with the redirect
    monkeypatch.setattr(openai_api, "deadline_http_client", lambda: DeadlineHttpxClient(transport=ToLoopback()))
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "openai")  # as a key alone chooses (a developer's .env may not)
    at = open_app(PAGE, secrets={"OPENAI_API_KEY": "fake-generate-page-key-0001"})
    assert at.selectbox(key="provider").value == "openai"
    model = at.selectbox(key="model").value
    assert lifecycle.status(CAT, model, "openai", TODAY).state == "live"
    assert model == lifecycle.preferred_models(CAT, "openai", TODAY)[0]  # the data's first live choice
    assert not at.error, texts(at.error)
    prices = next(c for c in texts(at.caption) if "Prices: " in c)
    assert f"openai/{model}@" in prices and "real money" in prices  # the estimate names the live model
    assert not at.button(key="run_grid").disabled
    at = run_default_grid(at)
    summary = at.session_state["active_run"].summary
    assert summary.status == "finished" and summary.ok == 9
    rows = store_rows(app_env, summary.run_id)
    assert set(rows["provider"]) == {"openai"} and set(rows["model"]) == {model}
    sent = [r for r in app.requests if r.path == "/v1/images/generations"]
    assert len(sent) == 9 and {r.body.get("model") for r in sent} == {model}
    assert {r.headers.get("host") for r in sent} == {"api.openai.com"}
    assert all(r.headers.get("user-agent", "").startswith("OpenAI/Python") for r in sent)  # the real SDK
    assert {r.headers.get("authorization") for r in sent} == {"Bearer fake-generate-page-key-0001"}


def test_loading_a_spec_for_a_model_shut_down_here_keeps_it_and_offers_the_successor(app_env, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "openai")
    at = open_app(PAGE, secrets={"OPENAI_API_KEY": "fake-generate-page-key-0001"})
    text = EXAMPLE.read_text(encoding="utf-8").replace('provider = "simulator"', 'provider = "openai"')
    text = text.replace('model = "gpt-image-2"', 'model = "gpt-image-1.5"')
    at.file_uploader(key="spec_upload").set_value(("openai-old.toml", text.encode("utf-8"), "application/toml")).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="model").value == "gpt-image-1.5"  # never swapped behind the user's back
    assert any("gpt-image-1.5 was shut down on openai on 2026-12-01" in e and "refused" in e for e in texts(at.error))
    assert at.button(key="run_grid").disabled
    successor = CAT.model("gpt-image-1.5").providers["openai"].successor
    fix = at.button(key="use_successor")
    assert fix.label == f"Use the successor: {successor}"
    fix.click().run()
    assert at.selectbox(key="model").value == successor
    assert not at.error and not at.button(key="run_grid").disabled
    assert at.multiselect(key="axis_x_values").value == ["low", "medium", "high"]  # nothing else changed
    assert metrics(at)["Cells"] == "9"
