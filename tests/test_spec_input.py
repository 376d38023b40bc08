"""Every bad spec of issue 10 exits 2 before a single request is sent, naming the key, the value and the fix.

Each case goes through the real CLI (``run`` and ``estimate``) with a provider that fails the test
if anything reaches it, and the store is checked to hold no run afterwards.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from imagegen.cli import main
from imagegen.core.grid import GridSpec, Limits, loads_spec, parse_spec
from imagegen.errors import SpecError
from imagegen.execution import runner as runner_module
from imagegen.storage.store import Store

TOP = 'name = "bad spec"\nprovider = "simulator"\nmodel = "gpt-image-1.5"\n'
PROMPTS = 'prompts = ["a red fox"]\n'
TABLES = '[params]\nsize = "1024x1024"\n[limits]\nbudget_usd = 1.0\n[simulator]\nfixed_latency_s = 0.01\n'
GOOD = TOP + PROMPTS + TABLES


def with_top(line: str) -> str:
    """A spec with ``line`` among the top-level keys (before the first table)."""
    return TOP + PROMPTS + line + "\n" + TABLES


def with_limit(line: str) -> str:
    return GOOD.replace("budget_usd = 1.0\n", f"budget_usd = 1.0\n{line}\n")


def with_prompt(escaped: str) -> str:
    """A spec whose prompt is the TOML basic string ``escaped`` (escapes such as \\u001b kept as written)."""
    return TOP + f'prompts = ["{escaped}"]\n' + TABLES


#: (case, spec text or bytes, what the message must name)
BAD_SPECS = [
    ("params = 5", with_top("params = 5").replace("[params]\nsize = \"1024x1024\"\n", ""), "params = 5 is an integer, not a table"),
    ("axes = 'x'", with_top('axes = "x"'), 'axes = "x" is text, not a table'),
    ("limits = 3", with_top("limits = 3").replace("[limits]\nbudget_usd = 1.0\n", ""), "limits = 3 is an integer, not a table"),
    ("deployments = 'x'", with_top('deployments = "x"'), 'deployments = "x" is text, not a table'),
    ("simulator = 1", with_top("simulator = 1").replace("[simulator]\nfixed_latency_s = 0.01\n", ""),
     "simulator = 1 is an integer, not a table"),
    ("rpm = nan", with_limit("rpm = nan"), "limits.rpm = nan is not allowed"),
    ("rpm = inf", with_limit("rpm = inf"), "limits.rpm = inf is not allowed"),
    ("timeout_s = 0", with_limit("timeout_s = 0"), "limits.timeout_s = 0 is not allowed"),
    ("concurrency = 2.7", with_limit("concurrency = 2.7"), "limits.concurrency = 2.7 is a float"),
    ("concurrency = true", with_limit("concurrency = true"), "limits.concurrency = true is a boolean"),
    ("1024X1024", GOOD.replace('"1024x1024"', '"1024X1024"'), 'params.size = "1024X1024" is not in the canonical form'),
    ("full-width digits", GOOD.replace('"1024x1024"', '"１０２４x１０２４"'), 'Fix: write "1024x1024"'),
    ("operation = 'edit'", with_top('operation = "edit"'), "edits are not supported in specs yet"),
    ("[edit] table", GOOD + '[edit]\nimages = ["in.png"]\n', "edits are not supported in specs yet"),
    ("n = [1, 1.0]", GOOD + "[axes]\nn = [1, 1.0]\n", "axes.n = [1, 1.0] lists the same value twice"),
    ("only control characters", with_prompt(r"\u0001\u0002\u001b"), "has no visible characters"),
    ("ESC in a prompt", with_prompt(r"a red \u001b[31mfox"), "control character U+001B"),
    ("CR in a prompt", with_prompt(r"a red\rfox"), "control character U+000D"),
    ("DEL in a prompt", with_prompt(r"a red fox\u007f"), "control character U+007F"),
    ("unknown key, near miss", with_top("repeets = 2"), 'repeets is an unknown key (did you mean "repeats"?)'),
    ("unknown limit", with_limit("timeout = 5"), 'did you mean "timeout_s"?'),
    ("[simulator] typo", GOOD.replace("fixed_latency_s", "fixed_latency"), 'did you mean "fixed_latency_s"?'),
    ("[simulator] wrong type", GOOD.replace("fixed_latency_s = 0.01", 'fixed_latency_s = "fast"'),
     'simulator.fixed_latency_s = "fast" is text'),
    ("non-UTF-8 file", GOOD.encode("utf-8").replace(b"a red fox", b"a red \xff fox"), "is not UTF-8 text (byte 0xff on line 4)"),
]


class _NoRequests:
    """A provider that fails the test if any request reaches it."""

    simulated = True
    calls = 0

    def generate(self, request, *, timeout, input_files=()):  # pragma: no cover - reaching it is the failure
        _NoRequests.calls += 1
        pytest.fail(f"a request was sent for a refused spec: {request}")


@pytest.fixture
def no_requests(monkeypatch, tmp_path):
    """Providers that fail the test when called; the CLI's data directory in tmp."""
    home = tmp_path / "home"
    monkeypatch.setenv("IMAGEGEN_HOME", str(home))
    built: list[str] = []

    def factory(spec, settings=None):
        def make(name):
            built.append(name)
            return _NoRequests()
        return make
    monkeypatch.setattr(runner_module, "default_provider_factory", factory)
    _NoRequests.calls = 0
    yield home
    assert _NoRequests.calls == 0
    assert not built, f"providers were built for a refused spec: {built}"


@pytest.mark.parametrize("case, body, needle", BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_exits_2_before_any_request(tmp_path, no_requests, capsys, case, body, needle):
    path = tmp_path / "bad.toml"
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(body, encoding="utf-8")
    for command in ("run", "estimate"):
        assert main([command, str(path)]) == 2, command
        err = capsys.readouterr().err
        assert needle in err and "Fix:" in err and str(path) in err, (command, err)
        assert "Traceback" not in err
    assert Store(no_requests).count_runs() == 0


def test_the_good_spec_of_these_cases_runs(tmp_path, monkeypatch, capsys):
    """The base the cases mutate is valid: each refusal comes from its one change."""
    monkeypatch.setenv("IMAGEGEN_HOME", str(tmp_path / "home"))
    path = tmp_path / "good.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["estimate", str(path)]) == 0
    assert main(["run", str(path)]) == 0


def test_a_directory_given_as_the_spec(tmp_path, no_requests, capsys):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "mine.toml").write_text(GOOD, encoding="utf-8")
    for command in ("run", "estimate"):
        assert main([command, str(tmp_path / "specs")]) == 2
        err = capsys.readouterr().err
        assert "is a directory, not a spec file (it holds mine.toml)" in err and "Fix:" in err


def test_a_missing_spec_file(tmp_path, no_requests, capsys):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["a-directory", "a-file/out.csv", "missing-dir/out.csv", "/proc/version"])
def test_unwritable_export_paths_get_a_clear_message(tmp_path, monkeypatch, capsys, where):
    monkeypatch.setenv("IMAGEGEN_HOME", str(tmp_path / "home"))
    spec = tmp_path / "good.toml"
    spec.write_text(GOOD, encoding="utf-8")
    assert main(["run", str(spec)]) == 0
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "a-file").write_text("x")
    target = where if where.startswith("/") else str(tmp_path / where)
    capsys.readouterr()
    assert main(["export", "latest", "--format", "csv", "--output", target]) == 2
    err = capsys.readouterr().err
    assert f"--output {target}" in err and "Fix:" in err and "Traceback" not in err


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
