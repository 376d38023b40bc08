"""``run``, ``runs`` and ``export`` from the command line, and a ``kill -9`` in the middle of a run."""

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imagegen.cli import main
from imagegen.execution.simulator import server as sim_server
from imagegen.storage.columns import EXPORT_COLUMNS
from imagegen.storage.store import Store

ROOT = Path(__file__).resolve().parents[1]


def write_spec(tmp_path, body: str, name="spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


FAST_SPEC = """
name = "cli test"
provider = "simulator"
model = "gpt-image-1.5"
prompts = ["a red fox", "a zzbrokenzz fox"]
[axes]
quality = ["low", "medium"]
[params]
size = "1024x1024"
[limits]
concurrency = 4
budget_usd = 1.0
[simulator]
fixed_latency_s = 0.02
faults = [{ kind = "moderation", match = "zzbrokenzz" }]
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("IMAGEGEN_HOME", str(h))
    return h


def test_run_prints_estimate_summary_and_run_id_and_exits_1_when_some_fail(tmp_path, home, capsys):
    spec = write_spec(tmp_path, FAST_SPEC)
    assert main(["run", str(spec)]) == 1
    out = capsys.readouterr().out
    assert "estimated cost:" in out and "4 requests" in out
    assert "2/4 ok" in out and "moderation 2" in out and "(simulated)" in out
    run_id = out.strip().splitlines()[-1].removeprefix("run id: ")
    df = Store(home).results(run_id)
    assert sorted(df["status"]) == ["error", "error", "ok", "ok"]


def test_run_exits_0_when_every_cell_succeeds(tmp_path, home, capsys):
    spec = write_spec(tmp_path, FAST_SPEC.replace('"a zzbrokenzz fox"', '"a calm fox"'))
    assert main(["run", str(spec), "--home", str(tmp_path / "other")]) == 0
    assert "4/4 ok" in capsys.readouterr().out
    assert Store(tmp_path / "other").count_runs() == 1
    assert not home.exists() or Store(home).count_runs() == 0  # --home wins over IMAGEGEN_HOME


@pytest.mark.parametrize("change,message", [
    (("budget_usd = 1.0", "budget_usd = 0.0001"), "over the budget"),
    (('"medium"]', '"ultra"]'), "quality"),
    (("concurrency = 4", "concurency = 4"), "unknown key"),
])
def test_refusals_exit_2_before_any_request(tmp_path, home, capsys, change, message):
    spec = write_spec(tmp_path, FAST_SPEC.replace(*change))
    assert main(["run", str(spec)]) == 2
    assert message in capsys.readouterr().err
    assert Store(home).count_runs() == 0


def test_runs_lists_and_export_writes_csv_and_json(tmp_path, home, capsys):
    spec = write_spec(tmp_path, FAST_SPEC)
    main(["run", str(spec)])
    capsys.readouterr()
    assert main(["runs"]) == 0
    listing = capsys.readouterr().out
    assert "cli test" in listing and "2/4" in listing and "sim" in listing
    out_csv = tmp_path / "out.csv"
    assert main(["export", "latest", "--format", "csv", "--output", str(out_csv)]) == 0
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8"))))
    assert len(rows) == 4 and list(rows[0]) == list(EXPORT_COLUMNS)
    assert {r["simulated"] for r in rows} == {"1"}
    ok = [r for r in rows if r["status"] == "ok"]
    assert all(Path(r["image_path"]).is_file() for r in ok)
    capsys.readouterr()
    assert main(["export", "latest", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["cell_id"] for r in data] == [0, 1, 2, 3]
    assert main(["export", "no-such-run", "--format", "json"]) == 2


# -- kill -9 in the middle of a run, then --resume -------------------------------------------------

KILL_SPEC = """
name = "kill test"
provider = "compatible"
model = "gpt-image-1-mini"
prompts = ["a red fox", "a blue bird", "a green frog", "a white cat"]
[axes]
quality = ["low", "medium", "high"]
[params]
size = "1024x1024"
[limits]
concurrency = 2
"""


@pytest.mark.slow
def test_kill_9_loses_nothing_completed_and_resume_sends_only_the_missing_cells(tmp_path):
    """A separate process runs the CLI against a simulator server in this process, which counts requests."""
    server, base_url = sim_server.start(config={"fixed_latency_s": 0.25})
    try:
        home = tmp_path / "home"
        spec = write_spec(tmp_path, KILL_SPEC)
        env = {**os.environ, "IMAGEGEN_HOME": str(home), "IMAGEGEN_PROVIDER": "compatible",
               "OPENAI_BASE_URL": f"{base_url}/v1", "OPENAI_API_KEY": "sk-simulator-0000",
               "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "imagegen", "run", str(spec)], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        db = home / "imagegen.db"
        deadline = time.monotonic() + 30
        done = 0
        while time.monotonic() < deadline and done < 5:
            time.sleep(0.05)
            if db.exists():
                try:
                    done = Store(home).query("SELECT COUNT(*) AS n FROM results WHERE status = 'ok'")["n"].iloc[0]
                except Exception:
                    done = 0
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        sent_before = server.app.request_count

        store = Store(home)
        run_id = store.resolve_run_id("latest")
        df = store.results(run_id)
        ok = df[df["status"] == "ok"]
        assert 5 <= len(ok) < 12
        for row in ok.itertuples():
            data = store.image_path(row.image_path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == row.image_sha256 and len(data) == row.image_bytes
        assert ok["simulated"].eq(1).all()  # the compatible endpoint was the simulator, and it says so
        # at most the two requests in flight at the kill were sent but not recorded
        assert len(ok) <= sent_before <= len(ok) + 2
        assert store.run(run_id)["status"] == "running"  # it never got to finish

        resumed = subprocess.run([sys.executable, "-m", "imagegen", "run", "--resume", run_id], cwd=tmp_path,
                                 env=env, capture_output=True, text=True, timeout=60)
        assert resumed.returncode == 0, resumed.stderr
        assert server.app.request_count - sent_before == 12 - len(ok)
        assert f"run id: {run_id}" in resumed.stdout and "12/12 ok" in resumed.stdout
        final = store.results(run_id)
        assert len(final) == 12 and final["status"].eq("ok").all()
        assert store.run(run_id)["status"] == "finished"
    finally:
        sim_server.stop(server)
