"""Startup: heavy modules load where they are used, not on import (bench/bench_startup.py times it)."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.clock import TODAY

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("openai", "pandas", "plotly", "numpy", "PIL", "bpe_openai", "bpe_openai._bindings")


def _loaded_after(code: str, tmp_path, env_extra: dict | None = None) -> set[str]:
    probe = ("import sys\n_before = set(sys.modules)\n" + code + "\nprint('LOADED', ' '.join(m for m in "
             + repr(HEAVY) + " if m in sys.modules and m not in _before))")
    env = {"PATH": "/usr/bin:/bin", "IMAGEGEN_HOME": str(tmp_path), "IMAGEGEN_DOTENV": str(tmp_path / "no.env"),
           "IMAGEGEN_PROVIDER": "simulator", **(env_extra or {})}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return set(done.stdout.strip().splitlines()[-1].split()[1:])


def test_the_home_page_first_render_loads_no_sdk_pandas_or_plotly(tmp_path):
    code = ("from streamlit.testing.v1 import AppTest\n"  # AppTest itself imports some of them: measure after it
            f"at = AppTest.from_file({str(ROOT / 'dashboard.py')!r}, default_timeout=60)\n"
            "_before = set(sys.modules)\nat.run()\nassert not at.exception, at.exception")
    assert _loaded_after(code, tmp_path) == set()


def test_the_cli_runs_and_models_answer_without_heavy_modules(tmp_path):
    assert _loaded_after("from imagegen.cli import main\nmain(['runs'])", tmp_path) == set()
    assert _loaded_after("from imagegen.cli import main\nmain(['models'])", tmp_path) == set()


def test_a_run_loads_the_sdk_and_the_tokenizer_binding_only(tmp_path):
    spec = tmp_path / "one.toml"
    spec.write_text('provider = "simulator"\nmodel = "gpt-image-2"\nprompts = ["a fox"]\n[params]\n'
                    'size = "1024x1024"\nquality = "low"\n[simulator]\nfixed_latency_s = 0.0\n', encoding="utf-8")
    code = ("import datetime\nfrom imagegen.execution.runner import GridRun\n"
            f"GridRun({str(spec)!r}, today=datetime.date({TODAY.year}, {TODAY.month}, {TODAY.day}))")
    loaded = _loaded_after(code, tmp_path)
    assert "openai" in loaded and "bpe_openai._bindings" in loaded  # the provider is built, the prompt counted
    assert "bpe_openai" not in loaded  # the binding alone, not the package (its import parses every encoding)
    assert "pandas" not in loaded and "plotly" not in loaded


def test_the_sdk_vocabulary_read_from_source_equals_the_imported_types():
    from imagegen.execution.providers.sdk_vocabulary import imported_vocabulary, source_vocabulary

    assert source_vocabulary() == imported_vocabulary()


def _collections_during(argv: list[str], tmp_path, *, as_library: bool = False) -> dict:
    """Run ``python -m imagegen ARGV`` (or ``main(ARGV)`` from a caller) counting the collections."""
    run = ("from imagegen.cli import main\nseen['code'] = main(sys.argv[1:])\n" if as_library else
           "try:\n    runpy.run_module('imagegen', run_name='__main__')\nexcept SystemExit as exc:\n"
           "    seen['code'] = exc.code\n")
    probe = ("import gc, json, sys, runpy\nseen = {'during': 0, 'full': 0, 'frozen': 0}\n"
             "def count(phase, info):\n    if phase == 'start':\n        seen['during'] += 1\n"
             "        seen['full'] += info['generation'] == 2\n"
             "gc.callbacks.append(count)\n"
             f"sys.argv = ['imagegen'] + {argv!r}\n" + run +
             "seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())\nprint('GC', json.dumps(seen))")
    env = {"PATH": "/usr/bin:/bin", "IMAGEGEN_HOME": str(tmp_path), "IMAGEGEN_DOTENV": str(tmp_path / "no.env"),
           "IMAGEGEN_PROVIDER": "simulator", "IMAGEGEN_TODAY": TODAY.isoformat()}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    import json

    line = [x for x in done.stdout.splitlines() if x.startswith("GC ")]
    assert line, done.stderr[-3000:]
    return json.loads(line[-1][3:])


def test_the_start_up_of_estimate_collects_no_garbage_and_ends_with_the_collector_on(tmp_path):
    """Collecting while the start-up's imports arrive cost ~0.05 s before the first request."""
    spec = tmp_path / "one.toml"
    spec.write_text('provider = "simulator"\nmodel = "gpt-image-2"\nprompts = ["a fox"]\n[params]\n'
                    'size = "1024x1024"\nquality = "low"\n', encoding="utf-8")
    paused = _collections_during(["estimate", str(spec)], tmp_path)
    unpaused = _collections_during(["estimate", str(spec)], tmp_path, as_library=True)
    assert paused["code"] == unpaused["code"] == 0
    # only young ones before main() pauses it (imports of the CLI itself), none of them full
    assert paused["full"] == 0, paused
    assert paused["during"] * 3 < unpaused["during"], (paused, unpaused)
    assert paused["enabled"] and paused["frozen"] > 10_000  # back on, the start-up's objects kept out of it
    assert unpaused["enabled"] and unpaused["frozen"] == 0
    other = _collections_during(["models"], tmp_path)  # other commands never pause
    assert other["code"] == 0 and other["frozen"] == 0 and other["enabled"]


def test_a_caller_of_main_keeps_its_collector(monkeypatch):
    """Only the process's own start-up pauses the collector (argv None), never a library caller."""
    import gc

    import imagegen.cli as cli

    seen = []
    monkeypatch.setattr(cli, "build_parser", lambda: seen.append(gc.isenabled()) or (_ for _ in ()).throw(SystemExit(0)))
    with pytest.raises(SystemExit):
        cli.main(["estimate", "spec.toml"])
    assert seen == [True] and gc.isenabled()
