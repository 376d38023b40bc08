"""Startup: heavy modules load where they are used, not on import (bench/bench_startup.py times it)."""

import subprocess
import sys
from pathlib import Path

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
