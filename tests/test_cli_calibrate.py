"""``calibrate`` from the command line: report, --json, --adopt, --export/--import (validated), --remove."""

from __future__ import annotations

import json

import pytest

from imagegen.cli import main
from imagegen.core.calibration_file import catalog_version, export_calibration, parse_calibration
from imagegen.core.catalog import default_catalog
from imagegen.core.pricing import documented_output_tokens
from imagegen.core.token_overrides import TokenOverrideError, load_token_overrides
from imagegen.storage.store import Store
from tests.calib_support import real_run

SPEC = 'provider = "openai"\nmodel = "gpt-image-2"\nprompts = ["a red fox"]\n[params]\nquality = "high"\n' \
       'size = "1024x1024"\n'


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_TODAY", "2026-12-01")
    monkeypatch.setenv("IMAGEGEN_USER", "alice")
    monkeypatch.setenv("IMAGEGEN_HOME", str(tmp_path / "home"))
    catalog = default_catalog()
    base = documented_output_tokens(catalog, "gpt-image-2", "high", "1024x1024")
    with Store(tmp_path / "home") as store:
        real_run(store, catalog, model="gpt-image-2", quality="high", size="1024x1024",
                 output_tokens=[base + 200, base + 210, base + 190])
    (tmp_path / "spec.toml").write_text(SPEC, encoding="utf-8")
    return tmp_path / "home", base


def test_report_adopt_estimate_export_import_remove(home, tmp_path, capsys):
    home_dir, base = home
    spec = str(tmp_path / "spec.toml")
    assert main(["calibrate"]) == 0
    out = capsys.readouterr().out
    assert "gpt-image-2" in out and f"{base:,}" in out and "derived" in out and "+" in out

    assert main(["calibrate", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [entry] = doc["output_tokens"]
    assert (entry["n"], entry["mean"], entry["catalog"]) == (3, base + 200, base)

    assert main(["estimate", spec]) == 0
    assert "(derived)" in capsys.readouterr().out
    assert main(["calibrate", "--adopt"]) == 0
    assert "by alice" in capsys.readouterr().out
    assert main(["estimate", spec]) == 0
    out = capsys.readouterr().out
    assert f"{base + 200}" in out and "measured (ours, n = 3)" in out

    shared = tmp_path / "team.json"
    assert main(["calibrate", "--export", str(shared)]) == 0
    capsys.readouterr()
    data = json.loads(shared.read_text())
    assert data["catalog_version"] == catalog_version(default_catalog()) and data["exported_by"] == "alice"
    assert data["exported_on"] == "2026-12-01"  # main's working date (IMAGEGEN_TODAY), never a second clock read

    assert main(["calibrate", "--remove", "gpt-image-2/high/1024x1024"]) == 0
    capsys.readouterr()
    assert main(["estimate", spec]) == 0
    assert "(derived)" in capsys.readouterr().out

    other = tmp_path / "other-home"
    assert main(["calibrate", "--import", str(shared), "--home", str(other)]) == 0
    [imported] = load_token_overrides(other, default_catalog())
    assert imported.output_tokens == base + 200 and imported.adopted_by == "alice"


def test_import_refuses_another_catalog_version_and_malformed_files(home, tmp_path, capsys):
    catalog = default_catalog()
    home_dir, _ = home
    assert main(["calibrate", "--adopt"]) == 0
    text = export_calibration(load_token_overrides(home_dir, catalog), catalog, exported_by="bob",
                              today=__import__("datetime").date(2026, 12, 1))
    parse_calibration(text, catalog)  # valid as written
    cases = {
        "version.json": text.replace(catalog_version(catalog), "2026-01-01/0000000000000000"),
        "broken.json": text[:40],
        "extra.json": text.replace('"entries"', '"colour": "red", "entries"'),
        "other.json": json.dumps({"format": "something-else"}),
        "tokens.json": text.replace('"output_tokens": ', '"output_tokens": -'),
    }
    messages = {}
    for name, body in cases.items():
        (tmp_path / name).write_text(body)
        capsys.readouterr()
        assert main(["calibrate", "--import", str(tmp_path / name), "--home", str(tmp_path / "x")]) == 2
        messages[name] = capsys.readouterr().err
        assert "Fix:" in messages[name]
    assert "catalog version 2026-01-01/0000000000000000" in messages["version.json"]
    assert "not valid JSON" in messages["broken.json"]
    assert "colour" in messages["extra.json"]
    assert "not an imagegen calibration file" in messages["other.json"]
    assert "output_tokens" in messages["tokens.json"]
    assert not (tmp_path / "x" / "token_overrides.toml").exists()
    with pytest.raises(TokenOverrideError):
        parse_calibration(cases["version.json"], catalog)


def test_nothing_to_export_or_adopt_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IMAGEGEN_HOME", str(tmp_path))
    assert main(["calibrate"]) == 0
    assert "no real results yet" in capsys.readouterr().out
    assert main(["calibrate", "--adopt", "--who", "z"]) == 0
    out = capsys.readouterr().out
    assert "nothing to adopt: no real results yet" in out and "replayed ones do not count" in out
    assert not (tmp_path / "token_overrides.toml").exists()
    assert main(["calibrate", "--export", str(tmp_path / "f.json")]) == 2
    assert "calibrate --adopt" in capsys.readouterr().err
