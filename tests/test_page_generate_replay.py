"""Generate page (AppTest): a recording loaded from the simulator panel is replayed (issue 12).

The shipped recording is served for the demo spec's requests: byte-identical images, the recorded
usage, and every result labelled "replayed from <run> (<date>, <provider>)", never measured or simulated.
"""

from __future__ import annotations

from pathlib import Path

from imagegen.core.recording import parse_recording
from imagegen.storage.store import Store
from tests import ui_support
from tests.ui_support import open_app, texts, wait_for_run

PAGE = "pages/1_Generate.py"
ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "recordings" / "demo-3-cells.json"
DEMO_SPEC = ROOT / "examples" / "recordings" / "demo-3-cells.toml"
app_env = ui_support.app_env  # fixture


def test_a_recording_loaded_in_the_simulator_panel_is_replayed(app_env):
    demo = parse_recording(DEMO.read_bytes(), where=str(DEMO))
    at = open_app(PAGE)
    at.file_uploader(key="spec_upload").set_value(
        ("demo.toml", DEMO_SPEC.read_bytes(), "application/toml")).run()
    assert not at.exception, at.exception
    assert any("Loaded demo.toml" in s for s in texts(at.success))
    at.file_uploader(key="sim_replay_upload").set_value(("demo.json", DEMO.read_bytes(), "application/json")).run()
    assert not at.exception, at.exception
    assert any("Replaying 3 recorded answers" in c.value for c in at.caption), [c.value for c in at.caption]
    at.button(key="run_grid").click().run()
    assert not at.exception, at.exception
    at = wait_for_run(at)
    run = at.session_state["active_run"]
    assert run.summary.ok == 3, run.summary
    store = Store(app_env)
    rows = store.results(run.run_id).to_dict("records")
    by_quality = {e.params["quality"]: e for e in demo.entries}
    label = f"replayed from {demo.runs[0].run_id} ({demo.runs[0].created_at[:10]}, simulator)"
    for row in rows:
        rec = by_quality[row["quality"]].response
        assert store.image_path(row["image_path"]).read_bytes() == rec.images[0].data()
        assert row["output_tokens"] == rec.usage["output_tokens"] and row["replayed_from"] == label
    shown = " ".join(texts(at.caption) + texts(at.markdown) + texts(at.info))
    assert label in shown  # the page says where its figures come from
