"""Every bad spec of issue 10 exits 2 before a single request is sent, naming the key, the value and the fix.

Each case (tests/spec_cases.py, shared with ``python bench/reliability.py``) goes through the real CLI
(``run`` and ``estimate``) with every provider replaced by a recorder, which must stay unused, and the
store is checked to hold no run afterwards.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from imagegen.cli import main
from imagegen.core.grid import GridSpec, Limits, loads_spec, parse_spec
from imagegen.errors import SpecError
from tests.clock import TODAY
from tests.spec_cases import BAD_OUTPUTS, BAD_SPECS, GOOD, cli, export_problems, spec_problems, with_limit


@pytest.mark.parametrize("case, body, needle", BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_exits_2_before_any_request(tmp_path, case, body, needle):
    path = tmp_path / "bad.toml"
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(body, encoding="utf-8")
    assert spec_problems(path, needle, tmp_path / "home") == []


def test_the_checker_catches_a_spec_that_is_not_refused(tmp_path):
    """spec_problems is not vacuous: a good spec "fails" every refusal check."""
    path = tmp_path / "good.toml"
    path.write_text(GOOD, encoding="utf-8")
    problems = spec_problems(path, "no such message", tmp_path / "home")
    assert any("exited 0, not 2" in p for p in problems) and any("providers built" in p for p in problems)


def test_the_good_spec_of_these_cases_runs(tmp_path, monkeypatch, capsys):
    """The base the cases mutate is valid: each refusal comes from its one change."""
    monkeypatch.setenv("IMAGEGEN_HOME", str(tmp_path / "home"))
    path = tmp_path / "good.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["estimate", str(path)]) == 0
    assert main(["run", str(path)]) == 0


def test_a_directory_given_as_the_spec(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "mine.toml").write_text(GOOD, encoding="utf-8")
    assert spec_problems(tmp_path / "specs", "is a directory, not a spec file (it holds mine.toml)",
                         tmp_path / "home") == []


def test_a_missing_spec_file(tmp_path):
    assert spec_problems(tmp_path / "nope.toml", "file not found", tmp_path / "home") == []


@pytest.mark.parametrize("where", BAD_OUTPUTS)
def test_unwritable_export_paths_get_a_clear_message(tmp_path, where):
    spec = tmp_path / "good.toml"
    spec.write_text(GOOD, encoding="utf-8")
    assert cli(["run", str(spec)], tmp_path / "home")[0] == 0
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "a-file").write_text("x")
    target = where if where.startswith("/") else str(tmp_path / where)
    assert export_problems(target, tmp_path / "home") == []


def test_the_reliability_group_runs_these_cases(tmp_path, monkeypatch):
    """The README's "bad specs" row runs the cases above (a few of them here: each is tested above)."""
    from bench.reliability_cases import bad_specs
    from tests import spec_cases

    monkeypatch.setattr(spec_cases, "BAD_SPECS", BAD_SPECS[:2])
    monkeypatch.setattr(spec_cases, "BAD_OUTPUTS", BAD_OUTPUTS[:1])
    results = bad_specs.run(tmp_path)
    assert [r.name for r in results] == [BAD_SPECS[0][0], BAD_SPECS[1][0], "directory as the spec",
                                         f"unwritable export path {BAD_OUTPUTS[0]}"]
    assert all(r.held and r.group == "bad specs" for r in results)


def test_a_bom_is_accepted(tmp_path, monkeypatch):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    monkeypatch.setenv("IMAGEGEN_HOME", str(tmp_path / "home"))
    assert main(["estimate", str(path)]) == 0


# -- to_toml round trips whatever a spec may hold -----------------------------------------------------


def test_to_toml_escapes_every_control_character():
    """A GridSpec built in code (the dashboard) with odd text still saves as TOML that reads back."""
    odd = "tab\there\nnew line, quote \" backslash \\ ESC \x1b CR \r DEL \x7f NUL \x00 C1 \x85"
    spec = GridSpec(provider="simulator", model="gpt-image-1.5", prompts=("a fox",), name=odd,
                    simulator={"faults": [{"kind": "rate_limit", "match": odd}]},
                    limits=Limits(rpm=30.0, budget_usd=Decimal("1E+1"), run_deadline_s=120.0))
    import tomllib

    data = tomllib.loads(spec.to_toml(), parse_float=Decimal)
    assert data["name"] == odd and data["simulator"]["faults"][0]["match"] == odd
    assert data["limits"]["budget_usd"] == Decimal("10") and data["limits"]["run_deadline_s"] == Decimal("120.0")


def test_accepted_prompts_round_trip():
    spec = parse_spec({"model": "gpt-image-1.5", "prompts": ["tab\tand\nnewline", 'quote " and \\ backslash',
                                                             "F1レーサー 🏎️‍🔥"]})
    assert loads_spec(spec.to_toml()) == spec


def test_new_limit_keys_are_checked_and_round_trip():
    spec = loads_spec(with_limit("run_deadline_s = 600\nmax_retry_after_s = 30"))
    assert spec.limits.run_deadline_s == 600.0 and spec.limits.max_retry_after_s == 30.0
    assert loads_spec(spec.to_toml()) == spec
    assert loads_spec(GOOD).limits.max_retry_after_s == 60.0 and loads_spec(GOOD).limits.run_deadline_s is None
    for bad in ("run_deadline_s = -1", "max_retry_after_s = nan", "run_deadline_s = true", 'max_retry_after_s = "60"'):
        with pytest.raises(SpecError, match=r"limits\.(run_deadline_s|max_retry_after_s) = .*Fix:"):
            loads_spec(with_limit(bad))


def test_custom_sizes_in_canonical_form_pass_the_spec_check():
    """Any WIDTHxHEIGHT passes the spec's form check; the model's size rule is the catalog's job."""
    spec = loads_spec(GOOD.replace('"1024x1024"', '"1232x2048"'))
    assert spec.params["size"] == "1232x2048"
    with pytest.raises(SpecError, match='write "1232x2048"'):
        loads_spec(GOOD.replace('"1024x1024"', '"1232 × 2048"'))


def test_a_spec_built_in_code_gets_the_file_checks_before_anything_is_sent(tmp_path):
    """The dashboard builds GridSpecs directly; what would not read back on resume is refused up front."""
    from imagegen.execution.runner import GridRun
    from imagegen.storage.store import Store
    from tests.spec_cases import Recorder

    recorder = Recorder()
    spec = GridSpec(provider="simulator", model="gpt-image-1.5", prompts=("a fox",),
                    limits=Limits(rpm=0.01, budget_usd=Decimal("1")), simulator={"fixed_latency_s": 0.01})
    with pytest.raises(SpecError, match=r"limits\.rpm = 0\.01 is not allowed"):
        GridRun(spec, provider=recorder.factory(spec), store=Store(tmp_path / "home"), today=TODAY)
    assert recorder.built == [] and recorder.sent == 0
