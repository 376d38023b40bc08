"""`python -m imagegen models` and `estimate`."""

import json
import subprocess
import sys
from pathlib import Path

from imagegen.cli import main
from imagegen.core.catalog import default_catalog
from imagegen.core.pricing import documented_output_tokens

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "quality-x-size.toml"


def test_models_lists_the_catalog(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "gpt-image-1 " in out and "shut down 2026-10-23" in out and "gpt-image-2.6-sunburst" in out
    assert "lifecycle on 2026-12-01 (pinned by IMAGEGEN_TODAY)" in out


def test_models_on_a_pinned_date_and_a_bad_date(capsys, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_TODAY", "2027-05-01")
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["gpt-image-1-mini"]["lifecycle"]["azure"]["state"] == "shut_down"  # 2027-04-07
    assert data["gpt-image-1.5"]["lifecycle"]["azure"] | {"message": ""} == {
        "on": "2027-05-01", "state": "retiring", "runnable": True, "shutdown": "2027-06-16", "days_left": 46,
        "successor": "gpt-image-2", "message": ""}
    monkeypatch.setenv("IMAGEGEN_TODAY", "1 May 2027")
    assert main(["models"]) == 2
    err = capsys.readouterr().err
    assert "IMAGEGEN_TODAY='1 May 2027' is not a date" in err and "YYYY-MM-DD" in err


def test_models_json(capsys):
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["gpt-image-1-mini"]["providers"]["azure"]["shutdown"] == "2027-04-07"
    assert data["gpt-image-1"]["prices"][0]["image_output"] == "40.00"


def test_estimate_json(capsys):
    assert main(["estimate", str(EXAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["cells"]) == 9
    low = documented_output_tokens(default_catalog(), "gpt-image-2", "low", "1024x1024")  # the example's model
    assert data["cells"][0]["quality"] == "low" and data["cells"][0]["output_tokens_max"] == low
    assert set(data) >= {"cells", "total_cost_usd_min", "total_cost_usd_max"}


def test_estimate_invalid_spec_exits_2_with_the_message(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text(EXAMPLE.read_text().replace('output_format = "png"', 'output_format = "jpeg"\noutput_compression = 101'))
    proc = subprocess.run([sys.executable, "-m", "imagegen", "estimate", str(spec)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "output_compression=101" in proc.stderr and "0..100" in proc.stderr and "Fix:" in proc.stderr


def test_estimate_over_budget_exits_2(tmp_path, capsys):
    spec = tmp_path / "tight.toml"
    spec.write_text(EXAMPLE.read_text().replace("budget_usd = 2.0", "budget_usd = 0.10"))
    assert main(["estimate", str(spec)]) == 2
    assert "over the budget" in capsys.readouterr().err


def test_every_example_spec_estimates(capsys, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_AZURE_DEPLOYMENTS", "my-images=gpt-image-1.5")
    for spec in sorted((ROOT / "examples").glob("*.toml")):
        assert main(["estimate", str(spec), "--json"]) == 0, spec.name
        data = json.loads(capsys.readouterr().out)
        assert data["cells"], spec.name


def test_azure_estimate_without_a_deployment_map_names_the_variable(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("IMAGEGEN_AZURE_DEPLOYMENTS", raising=False)
    monkeypatch.chdir(tmp_path)  # no developer .env in the way
    assert main(["estimate", str(ROOT / "examples" / "azure-quality.toml")]) == 2
    assert "IMAGEGEN_AZURE_DEPLOYMENTS=my-images=" in capsys.readouterr().err
