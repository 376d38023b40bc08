"""Recordings: export runs, replay them from the simulator (in-process and over HTTP), label them replayed.

The shipped recording ``examples/recordings/demo-3-cells.json`` is a 3-cell run made on the
simulator (so nothing real is claimed); these tests replay it and check byte-identical images and
the recorded usage and latency, then use its requests for a calibration with deliberately shifted usage.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from imagegen.cli import main
from imagegen.core.calibration_file import catalog_version
from imagegen.core.catalog import default_catalog
from imagegen.core.grid import estimate_grid, loads_spec
from imagegen.core.pricing import documented_output_tokens, estimate
from imagegen.core.recording import RecordingError, match_key, parse_recording
from imagegen.core.token_overrides import add_token_overrides, apply_token_overrides, remove_token_override
from imagegen.execution.providers import make_simulator_provider
from imagegen.execution.runner import GridRun
from imagegen.execution.simulator import SimulatorConfig
from imagegen.execution.simulator.app import SimulatorApp
from imagegen.execution.simulator.replay import Replay
from imagegen.execution.simulator.server import start, stop
from imagegen.insight.calibration import calibrate, proposals
from imagegen.storage.recordings import export_recording, scrub
from imagegen.storage.store import Store
from tests.calib_support import TODAY, real_run

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "recordings" / "demo-3-cells.json"
DEMO_SPEC = ROOT / "examples" / "recordings" / "demo-3-cells.toml"


@pytest.fixture(scope="module")
def demo():
    return parse_recording(DEMO.read_bytes(), where=str(DEMO))


def replay_spec(extra: str = "", prompt: str | None = None) -> str:
    """The demo's spec with its [simulator] table replaced by a replay of the recording (time scale 1)."""
    text = DEMO_SPEC.read_text(encoding="utf-8").split("[simulator]")[0]
    if prompt is not None:
        text = text.replace("a lighthouse on a rocky coast at dusk", prompt)
    return text + f'[simulator]\nreplay = "{DEMO}"\n{extra}'


def test_the_shipped_recording_is_small_simulated_and_three_cells(demo):
    assert DEMO.stat().st_size < 200_000
    assert demo.simulated and [r.provider for r in demo.runs] == ["simulator"]
    assert len(demo.entries) == 3 and len({e.key for e in demo.entries}) == 3
    assert {e.params["quality"] for e in demo.entries} == {"low", "medium", "high"}
    for e in demo.entries:
        assert e.response.usage["output_tokens"] > 0 and e.response.latency_s > 0
        assert e.response.images[0].data()[:4] == b"RIFF"  # the original webp bytes


def test_replay_returns_byte_identical_images_and_the_recorded_usage_and_latency(demo, tmp_path):
    with Store(tmp_path) as store:
        run = GridRun(replay_spec(), store=store, today=TODAY)
        summary = run.run()
        assert summary.ok == 3 and summary.simulated
        rows = store.results(summary.run_id).to_dict("records")
        by_quality = {e.params["quality"]: e for e in demo.entries}
        for row in rows:
            entry = by_quality[row["quality"]]
            rec = entry.response
            data = store.image_path(row["image_path"]).read_bytes()
            assert data == rec.images[0].data()
            assert hashlib.sha256(data).hexdigest() == row["image_sha256"] == rec.images[0].sha256
            assert (row["output_tokens"], row["input_text_tokens"]) == (rec.usage["output_tokens"],
                                                                        rec.usage["input_tokens_details"]["text_tokens"])
            assert rec.latency_s <= row["latency_s"] < rec.latency_s + 0.5
            assert row["replayed_from"] == f"replayed from {entry.run_id} ({demo.runs[0].created_at[:10]}, simulator)"
            assert row["simulated"] == 1 and row["processing_ms"] == rec.processing_ms
        exported = json.loads(store.export(summary.run_id, "json"))
        assert all(r["replayed_from"].startswith("replayed from ") for r in exported)  # exports say so too
        # a replayed result is never real: calibration ignores it
        assert calibrate(store.query, default_catalog()).results == 0


def test_replay_over_http_serves_the_same_bytes(demo):
    app = SimulatorApp(SimulatorConfig(), replay=Replay(demo))
    server, url = start(0, app=app)
    try:
        provider = make_simulator_provider(base_url=url)
        cell = estimate_grid(loads_spec(replay_spec()), default_catalog(), TODAY).cells[0]
        gen = provider.generate(cell.request, timeout=30)
    finally:
        stop(server)
    entry = next(e for e in demo.entries if e.key == match_key(cell.request))
    assert gen.images == (entry.response.images[0].data(),)
    assert gen.usage == entry.response.usage and gen.replayed_from.startswith("replayed from ")
    assert gen.simulated


def test_a_request_not_in_the_recording_is_refused_or_simulated_as_chosen(tmp_path):
    with Store(tmp_path) as store:
        refused = GridRun(replay_spec(prompt="a red fox"), store=store, today=TODAY).run()
        rows = store.results(refused.run_id).to_dict("records")
        assert refused.errors == 3
        assert all("not in the recording" in r["error_message"] and "Fix:" in r["error_message"] for r in rows)
        simulated = GridRun(replay_spec('replay_fallback = "profile"\ntime_scale = 0.001\n', prompt="a red fox"),
                            store=store, today=TODAY).run()
        rows = store.results(simulated.run_id).to_dict("records")
        assert simulated.ok == 3 and all(r["replayed_from"] is None and r["simulated"] == 1 for r in rows)


def test_repeats_are_served_in_recorded_order_and_start_over(demo):
    replay = Replay(demo)
    entry = demo.entries[0]
    req = estimate_grid(loads_spec(replay_spec()), default_catalog(), TODAY).cells[0].request
    assert match_key(req) == entry.key
    assert [replay.lookup(req) for _ in range(3)] == [entry] * 3  # one recorded answer: served again


def test_export_round_trip_from_a_fresh_run(tmp_path):
    catalog = default_catalog()
    with Store(tmp_path) as store:
        spec = DEMO_SPEC.read_text(encoding="utf-8").replace("time_scale = 0.02", "time_scale = 0.001")
        summary = GridRun(spec, store=store, today=TODAY).run()
        rec = export_recording(store, [summary.run_id], catalog, catalog_version=catalog_version(catalog))
        again = parse_recording(rec.to_json())
        assert again == rec and len(rec.entries) == 3 and rec.simulated
        shas = set(store.query("SELECT image_sha256 FROM result_rows WHERE run_id = ?", (summary.run_id,))["image_sha256"])
        assert {e.response.images[0].sha256 for e in rec.entries} == shas
        out = tmp_path / "r.json"
        assert main(["recording", "export", summary.run_id, "--output", str(out), "--home", str(tmp_path)]) == 0
        assert parse_recording(out.read_bytes()).entries == rec.entries


@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(format="other"), "not an imagegen recording"),
    (lambda d: d.update(colour="red"), "colour"),
    (lambda d: d["entries"][0]["response"]["images"][0].update(b64="QUJD"), "do not match their sha256"),
    (lambda d: d["entries"][0]["params"].update(prompt="changed"), "key does not match"),
    (lambda d: d["entries"][0].update(run_id="nope"), "not in runs"),
])
def test_a_malformed_recording_is_refused(change, words):
    data = json.loads(DEMO.read_text())
    change(data)
    with pytest.raises(RecordingError, match=words):
        parse_recording(json.dumps(data), where="x.json")
    with pytest.raises(RecordingError, match="not valid JSON"):
        parse_recording("{", where="x.json")


def test_the_simulator_refuses_a_missing_recording_file(tmp_path):
    with pytest.raises(RecordingError, match="does not exist"):
        SimulatorApp(SimulatorConfig(replay=str(tmp_path / "absent.json")))


def test_keys_are_scrubbed():
    assert "sk-" not in scrub("key sk-test1234notreal")
    assert "abcdefgh" not in scrub("Bearer abcdefgh.ijk")
    assert scrub("req_0123456789abcdef0123456789abcdef") == "req_0123456789abcdef0123456789abcdef"


def test_calibration_of_the_recorded_requests_with_shifted_usage_finds_adopts_and_reverts(demo, tmp_path):
    """The recording's three requests as if run for real with usage 12% over the catalog."""
    catalog = default_catalog()
    home = tmp_path / "home"
    with Store(home) as store:
        for e in demo.entries:
            p = e.params
            base = documented_output_tokens(catalog, p["model"], p["quality"], p["size"])
            real_run(store, catalog, model=p["model"], quality=p["quality"], size=p["size"], prompt=p["prompt"],
                     output_tokens=[round(base * 1.12)] * 3, latencies=[e.response.latency_s] * 3)
        cal = calibrate(store.query, catalog)
    assert len(cal.output) == 3
    assert all(e.deviation_pct == pytest.approx(12, abs=0.5) for e in cal.output)
    found = proposals(cal, catalog, adopted_by="demo", today=TODAY)
    add_token_overrides(home, found, catalog)
    adopted = apply_token_overrides(catalog, home)
    grid_before = estimate_grid(loads_spec(replay_spec()), catalog, TODAY)
    grid_after = estimate_grid(loads_spec(replay_spec()), adopted, TODAY)
    for before, after in zip(grid_before.estimates, grid_after.estimates):
        assert after.output_tokens_max == round(before.output_tokens_max * 1.12)
        assert after.token_label == "measured (ours, n = 3)" and before.token_label != after.token_label
    for e in found:
        remove_token_override(home, e.model, e.quality, e.size, catalog)
    restored = estimate_grid(loads_spec(replay_spec()), apply_token_overrides(catalog, home), TODAY)
    assert restored.estimates == grid_before.estimates
    assert estimate(grid_before.cells[0].request, catalog, TODAY) == grid_before.estimates[0]


def test_the_cli_summary_says_replayed_not_simulated(tmp_path, capsys):
    spec = tmp_path / "replay.toml"
    spec.write_text(replay_spec("time_scale = 0.001\n"), encoding="utf-8")
    assert main(["run", str(spec), "--home", str(tmp_path / "home")]) == 0
    out = capsys.readouterr().out
    total = next(line for line in out.splitlines() if line.startswith("3/3 ok"))
    assert "(replayed)" in total and "simulated" not in total
    fallback = tmp_path / "fallback.toml"
    fallback.write_text(replay_spec('replay_fallback = "profile"\ntime_scale = 0.001\n', prompt="a red fox"),
                        encoding="utf-8")
    assert main(["run", str(fallback), "--home", str(tmp_path / "home")]) == 0
    total = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("3/3 ok"))
    assert "(simulated)" in total  # nothing matched: every answer came from the profile
