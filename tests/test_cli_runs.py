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
from decimal import Decimal
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


def test_export_excel_writes_utf8_with_bom_and_japanese_prompts_round_trip(tmp_path, home, capsysbinary):
    prompt = "F1レーサーを躍動感あるように描いて。"
    spec = write_spec(tmp_path, FAST_SPEC.replace('"a red fox"', json.dumps(prompt)))
    main(["run", str(spec)])
    out_csv = tmp_path / "excel.csv"
    assert main(["export", "latest", "--format", "csv", "--excel", "--output", str(out_csv)]) == 0
    data = out_csv.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == list(EXPORT_COLUMNS) and {"rating", "price_entry"} <= set(rows[0])
    assert prompt in {r["prompt"] for r in rows}
    assert all(r["price_entry"] for r in rows if r["status"] == "ok")  # every cost names its price entry
    capsysbinary.readouterr()
    assert main(["export", "latest", "--format", "csv", "--excel"]) == 0  # stdout: the same bytes
    assert capsysbinary.readouterr().out == data
    assert main(["export", "latest", "--format", "csv"]) == 0  # the default stays plain UTF-8 for scripts
    assert not capsysbinary.readouterr().out.startswith(b"\xef\xbb\xbf")
    assert main(["export", "latest", "--format", "json", "--excel"]) == 2
    assert b"--excel is for CSV only" in capsysbinary.readouterr().err


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
        # sent but not recorded at the kill: at most 2 x concurrency (2 in flight, plus up to 2 answered whose
        # result was still being stored: the runner frees a slot before it stores, so the next request goes)
        assert len(ok) <= sent_before <= len(ok) + 4
        assert store.run(run_id)["status"] == "running"  # it never got to finish

        # Reservations committed before sending: every request out at the kill is still on record.
        lost = store.open_reservations(run_id)
        assert sent_before - len(ok) <= len(lost) <= 4
        spent_before = Decimal(store.run(run_id)["cost_usd"])

        resumed = subprocess.run([sys.executable, "-m", "imagegen", "run", "--resume", run_id], cwd=tmp_path,
                                 env=env, capture_output=True, text=True, timeout=60)
        assert resumed.returncode == (1 if lost else 0), resumed.stderr
        # Only never-sent cells go out; the unanswered ones count as spent and are not paid twice.
        assert server.app.request_count - sent_before == 12 - len(ok) - len(lost)
        lost_usd = sum((a for _c, _r, a in lost), Decimal(0))
        if lost:
            what = "1 request was" if len(lost) == 1 else f"{len(lost)} requests were"
            assert f"{what} sent but not answered before the crash; ${lost_usd:.4f} counted as spent" \
                in resumed.stderr
        final = store.results(run_id)
        assert (final["error_kind"] == "interrupted").sum() == len(lost)
        billed = sum(Decimal(c) for c in final.loc[final["status"] == "ok", "cost_usd"])
        assert Decimal(store.run(run_id)["cost_usd"]) == billed + lost_usd >= spent_before + lost_usd

        again = subprocess.run([sys.executable, "-m", "imagegen", "run", "--resume", run_id, "--retry-errors"],
                               cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stderr
        assert f"run id: {run_id}" in again.stdout and "12/12 ok" in again.stdout
        assert server.app.request_count - sent_before == 12 - len(ok)
        final = store.results(run_id)
        assert len(final) == 12 and final["status"].eq("ok").all()
        assert store.run(run_id)["status"] == "finished"
    finally:
        sim_server.stop(server)


# -- confirmation before a big real-money run -----------------------------------------------------

BIG_SPEC = """
name = "big"
provider = "openai"
model = "gpt-image-2"
prompts = ["a red fox"]
repeats = 90
[params]
quality = "high"
size = "1536x1024"
[limits]
budget_usd = 100.0
"""


@pytest.fixture
def openai_env(monkeypatch, home):
    # Nothing listens there, and start() is stubbed: a request sent by mistake can reach nothing.
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-real")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "openai")
    from imagegen import redaction

    # Loading the settings registers the key as a secret for the whole process: keep that to this test.
    monkeypatch.setattr(redaction, "_secrets", set(redaction._secrets))
    from imagegen.errors import ConfigError
    from imagegen.execution.runner import GridRun

    def start(self):
        raise ConfigError("test stub: start() reached")
    monkeypatch.setattr(GridRun, "start", start)


def test_the_big_spec_is_above_the_threshold():
    from imagegen.core.catalog import default_catalog
    from imagegen.core.grid import estimate_grid, loads_spec
    from tests.clock import TODAY

    assert estimate_grid(loads_spec(BIG_SPEC), default_catalog(), TODAY).total_cost_usd_max > 10


def test_a_big_run_without_a_terminal_is_refused_with_exit_2(tmp_path, openai_env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["run", str(write_spec(tmp_path, BIG_SPEC))]) == 2
    err = capsys.readouterr().err
    assert "refused: it may cost up to $" in err and "Fix: pass --yes" in err and "Nothing was sent" in err
    assert Store().count_runs() == 0


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code"), [("n\n", 2), ("\n", 2)])
def test_a_big_run_asks_on_a_terminal_and_stops_unless_yes(tmp_path, openai_env, capsys, monkeypatch, answer, code):
    monkeypatch.setattr("sys.stdin", Tty(answer))
    assert main(["run", str(write_spec(tmp_path, BIG_SPEC))]) == code
    err = capsys.readouterr().err
    assert "Send 90 requests for up to $" in err and "[y/N]" in err and "nothing was sent" in err
    assert Store().count_runs() == 0


@pytest.mark.parametrize("answer", ["y\n", "yes\n"])
def test_yes_on_the_terminal_or_the_flag_goes_ahead(tmp_path, openai_env, capsys, monkeypatch, answer):
    spec = str(write_spec(tmp_path, BIG_SPEC))
    monkeypatch.setattr("sys.stdin", Tty(answer))
    assert main(["run", spec]) == 2
    assert "test stub: start() reached" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["run", spec, "--yes"]) == 2
    err = capsys.readouterr().err
    assert "confirmed by --yes: it may cost up to $" in err and "test stub: start() reached" in err


def test_simulated_runs_need_no_confirmation(tmp_path, home, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    spec = FAST_SPEC.replace("budget_usd = 1.0", "budget_usd = 1.0")
    assert main(["run", str(write_spec(tmp_path, spec))]) == 1
    assert "simulated run: nothing is charged, so no confirmation is needed" in capsys.readouterr().err
