"""imagegen/facade.py: the wrappers the ui modules call instead of orchestrating the layers themselves."""

from decimal import Decimal
from pathlib import Path

import pytest

from imagegen import facade
from imagegen.core.recording import RecordingError
from imagegen.execution import judge
from imagegen.execution.settings import load_settings
from imagegen.insight import quality
from imagegen.storage import votes as vote_store
from tests.quality_data import make_run

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "recordings" / "demo-3-cells.json"


def test_a_recording_is_checked_then_saved_once_by_its_content(tmp_path):
    data = DEMO.read_bytes()
    first = facade.save_recording(tmp_path, data, where="demo.json")
    assert first.path.parent == tmp_path / "recordings" and first.path.read_bytes() == data
    assert len(first.recording.entries) == 3 and first.recording.runs
    again = facade.save_recording(tmp_path, data, where="demo.json")
    assert again.path == first.path and len(list((tmp_path / "recordings").iterdir())) == 1
    other = facade.save_recording(tmp_path, data + b"\n", where="demo.json")  # other bytes: another file
    assert other.path != first.path


def test_a_broken_recording_is_refused_and_nothing_is_saved(tmp_path):
    with pytest.raises(RecordingError, match="broken.json: not valid JSON"):
        facade.save_recording(tmp_path, b"{not json", where="broken.json")
    assert not (tmp_path / "recordings").exists()


def test_a_judge_draft_names_what_is_left_and_its_upper_cost(tmp_path):
    settings = load_settings(env={"IMAGEGEN_PROVIDER": "simulator"}, secrets={}, dotenv_path=tmp_path / "no.env")
    store, run_id = make_run(tmp_path / "home")
    pool = quality.load_pool(store, [run_id])
    draft = facade.judge_draft(store, pool, judge.DEFAULT_MODEL, settings)
    assert len(draft.items) == len(pool.items) == 12 and draft.todo == draft.items
    assert draft.label == f"judge: {judge.DEFAULT_MODEL}" and draft.rubric.version == judge.load_rubric().version
    assert draft.estimate.images == 12 and draft.estimate.total > 0
    done = facade.run_judge(store, draft, settings)
    assert len(done) == 12 and len(vote_store.judge_scores(store, [run_id])) == 12
    assert sum((s.cost_usd for s in done), Decimal(0)) <= draft.estimate.total
    left = facade.judge_draft(store, pool, judge.DEFAULT_MODEL, settings)
    assert left.todo == () and left.estimate.total == 0 and len(left.items) == 12
