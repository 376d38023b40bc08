"""A key written into the user's own spec TOML never reaches a row, an export, stdout/stderr or a resume.

Key-shaped tokens (the shared redaction function's shapes) are replaced by [REDACTED] when the spec is
read, before anything is sent or stored, with a warning that names the line and the TOML key but never the
value. Innocent text ("sk-", "task-management") passes unchanged.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from imagegen.cli import main
from imagegen.core.grid import loads_spec, scrub_secrets
from imagegen.redaction import REDACTED

# Fake credentials assembled at run time (a literal of the real shape trips the commit hook).
OPENAI_SHAPED = "sk-" + "proj-" + "Zq7Xw3Vb9" * 3
AZURE_HEX = "".join(["4f3e2d1c"] * 4)
BEARER = "Bearer " + "opaque-token-" + "8c7b6a5d4e"

SPEC = f"""
name = "leaky {AZURE_HEX}"
provider = "simulator"
model = "gpt-image-1.5"
# my key is {BEARER}
prompts = ["a red fox, sk- style, task-management poster", "a fox holding a sign saying {OPENAI_SHAPED}"]
[params]
size = "1024x1024"
quality = "low"
[limits]
concurrency = 2
[simulator]
fixed_latency_s = 0.01
"""
SECRETS = (OPENAI_SHAPED, AZURE_HEX, "opaque-token-8c7b6a5d4e")


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("IMAGEGEN_HOME", str(h))
    return h


def test_a_key_in_the_spec_reaches_no_row_export_or_output(tmp_path, home, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    assert main(["run", str(spec), "--yes"]) == 0
    captured = capsys.readouterr()
    run_id = captured.out.strip().splitlines()[-1].removeprefix("run id: ")
    out_csv, out_json = tmp_path / "out.csv", tmp_path / "out.json"
    assert main(["export", run_id, "--format", "csv", "--output", str(out_csv)]) == 0
    assert main(["export", run_id, "--format", "json", "--output", str(out_json)]) == 0
    assert main(["runs", "--json"]) == 0
    later = capsys.readouterr()

    # the warnings name the lines and keys, never the values
    assert "line 2 (name)" in captured.err and "line 5 (a comment)" in captured.err
    assert "line 6 (prompts)" in captured.err
    assert "OPENAI_API_KEY" in captured.err
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.suffix in (".sqlite", ".db") or "sqlite" in p.name for p in files), files
    blobs = {"stdout": captured.out + later.out, "stderr": captured.err + later.err,
             "csv": out_csv.read_text(encoding="utf-8"), "json": out_json.read_text(encoding="utf-8")}
    for path in files:  # the SQLite file, its WAL and the image files
        blobs[str(path)] = path.read_bytes().decode("latin-1")
    for where, text in blobs.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret[:6]}… found in {where}"

    # what is stored is the spec as written, minus the key: innocent text and the rest survive
    db = next(p for p in files if p.name.endswith((".sqlite", ".db")))
    with sqlite3.connect(db) as conn:
        stored, name = conn.execute("SELECT spec_toml, name FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        prompts = [r[0] for r in conn.execute("SELECT prompt FROM cells WHERE run_id = ? ORDER BY cell_id",
                                              (run_id,))]
    assert name == f"leaky {REDACTED}"
    assert prompts == ["a red fox, sk- style, task-management poster", f"a fox holding a sign saying {REDACTED}"]
    assert f"# my key is {REDACTED}" in stored
    assert {r["prompt"] for r in json.loads(blobs["json"])} == set(prompts)


def test_resume_reads_the_scrubbed_spec_back(tmp_path, home, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    assert main(["run", str(spec), "--yes"]) == 0
    run_id = capsys.readouterr().out.strip().splitlines()[-1].removeprefix("run id: ")
    assert main(["run", "--resume", run_id]) == 0
    captured = capsys.readouterr()
    assert all(s not in captured.out + captured.err for s in SECRETS)


def test_estimate_warns_without_echoing(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    assert main(["estimate", str(spec)]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("shaped like an API key") == 3
    assert all(s not in captured.out + captured.err for s in SECRETS)


def test_innocent_text_is_untouched_and_gives_no_warning():
    text = SPEC.replace(OPENAI_SHAPED, "nothing").replace(AZURE_HEX, "x").replace(BEARER, "elsewhere")
    assert scrub_secrets(text) == (text, ())
    assert loads_spec(text).notes == ()


def test_a_dashboard_built_spec_is_scrubbed_before_it_is_sent(tmp_path):
    from imagegen.execution.runner import _read_spec

    built = loads_spec(SPEC.replace(OPENAI_SHAPED, "placeholder"))
    leaky = type(built)(**{**built.__dict__, "prompts": (f"say {OPENAI_SHAPED}",), "notes": ()})
    parsed, text = _read_spec(leaky)
    assert parsed.prompts == (f"say {REDACTED}",) and parsed.notes
    assert OPENAI_SHAPED not in text
