"""Generate page (AppTest): custom WIDTHxHEIGHT sizes on the models that take them, typed in or loaded
from a spec, and a refused size explained with the rule that failed (issue 11)."""

from __future__ import annotations

from imagegen.core.gridform import NO_AXIS
from imagegen.storage.store import Store
from tests import ui_support
from tests.ui_support import open_app, texts, wait_for_run

PAGE = "pages/1_Generate.py"
app_env = ui_support.app_env  # fixture
CUSTOM = ["2048x1152", "1536x864", "1152x2048"]


def _gpt_image_2(at):
    at.selectbox(key="model").set_value("gpt-image-2").run()
    assert not at.exception, at.exception
    return at


def test_a_3x3_grid_of_custom_sizes_on_gpt_image_2_runs_from_the_dashboard(app_env):
    at = _gpt_image_2(open_app(PAGE))
    assert at.selectbox(key="axis_y_param").value == "size"  # the default grid: quality (X) x size (Y)
    at.multiselect(key="axis_y_values").set_value(CUSTOM).run()
    at.multiselect(key="axis_x_values").set_value(["low", "medium", "high"]).run()
    assert not at.exception, at.exception
    assert at.multiselect(key="axis_y_values").value == CUSTOM  # kept, not "No results"
    assert not at.error, texts(at.error)
    at.button(key="run_grid").click().run()
    assert not at.exception, at.exception
    at = wait_for_run(at)
    run = at.session_state["active_run"]
    assert run.summary.ok == 9 and run.summary.status == "finished"
    rows = Store(app_env).results(run.run_id)
    assert sorted(set(rows["size"])) == sorted(CUSTOM)
    for row in rows.to_dict("records"):
        assert f"{row['image_width']}x{row['image_height']}" == row["size"] == row["resolved_size"]


def test_a_refused_custom_size_is_explained_with_the_rule(app_env):
    at = _gpt_image_2(open_app(PAGE))
    at.multiselect(key="axis_y_values").set_value(["2048x1152", "1000x2000"]).run()
    assert not at.exception, at.exception
    warned = " ".join(texts(at.warning))
    assert "1000x2000 is refused" in warned and "multiples of 16 (1000 is not)" in warned
    at.run()
    assert at.multiselect(key="axis_y_values").value == ["2048x1152"]


def test_custom_sizes_are_refused_on_2_6_with_the_rule(app_env):
    at = open_app(PAGE)
    at.selectbox(key="model").set_value("gpt-image-2.6-flare").run()
    at.multiselect(key="axis_y_values").set_value(["1024x1024", "2048x1152"]).run()
    warned = " ".join(texts(at.warning))
    assert "2048x1152 is refused" in warned and "only the fixed sizes" in warned


def test_a_loaded_spec_keeps_its_custom_sizes(app_env):
    spec = ('provider = "simulator"\nmodel = "gpt-image-2"\nprompts = ["a fox"]\n'
            '[params]\nquality = "low"\n[axes]\nsize = ["2048x1152", "1536x864"]\n')
    at = open_app(PAGE)
    at.file_uploader(key="spec_upload").set_value(("custom.toml", spec.encode("utf-8"), "application/toml")).run()
    assert not at.exception, at.exception
    assert any("Loaded custom.toml" in s for s in texts(at.success))
    axes = {at.selectbox(key=f"axis_{a}_param").value: at.multiselect(key=f"axis_{a}_values").value
            for a in ("x", "y", "z") if at.selectbox(key=f"axis_{a}_param").value != NO_AXIS}
    assert axes.get("size") == ["2048x1152", "1536x864"], axes
    assert not any("refused" in w for w in texts(at.warning))
