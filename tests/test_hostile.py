"""The runner, the store and the pages against a hostile Images API (tests/fakes/hostile.py).

Every mode runs in a grid beside a good cell (tests/hostile_cases.py says what "held" means); the
same cases make the README's reliability table (``python bench/reliability.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from imagegen.core.grid import GridSpec, Limits
from imagegen.execution.providers import make_simulator_provider
from imagegen.execution.runner import GridRun
from imagegen.storage.store import Store
from tests import hostile_cases as hc
from tests import ui_support
from tests.clock import TODAY
from tests.fakes import hostile

ROOT = Path(__file__).resolve().parents[1]
app_env = ui_support.app_env  # fixture
CASE_IDS = ([f"openai-{m}" for m in hostile.MODES] + [f"azure-{m}" for m in hc.AZURE_MODES] + ["files"])


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every hostile case, run once for this module (about 10-30 s on 2 cores)."""
    home = tmp_path_factory.mktemp("hostile-home")
    out = hc.all_cases(home)
    return dict(zip(CASE_IDS, out, strict=True))


@pytest.mark.parametrize("case", CASE_IDS)
def test_every_hostile_mode_holds(results, case):
    result = results[case]
    assert result.held, f"{result.group} / {result.name}: {result.problems}"


def test_the_cases_can_fail(tmp_path):
    """The checks are not vacuous: a grid whose bad cell is recorded ok is a problem."""
    server = hostile.start()
    try:
        store = Store(tmp_path)
        events: list = []
        run = GridRun(hc.spec_text("usage_3x"), provider=hc.openai_provider(server), store=store, today=hc.TODAY,
                      on_event=events.append)
        run.run()
        problems = hc.check_run(run, store, "usage_negative", (hc.OPENAI_KEY,), events)  # pretend it was bad
        assert "the bad answer was recorded ok" in problems
        assert hc.check_run(run, store, "usage_3x", (hc.OPENAI_KEY,), events) == []
        assert hc.check_run(run, store, "usage_3x", ("a red fox",), events)  # a "key" that is in the export
    finally:
        hostile.stop(server)


def test_cli_run_against_every_mode_prints_and_stores_no_key(tmp_path):
    """One grid of every mode through ``python -m imagegen run``: exit 1, bad cells failed, good cells ok,
    the key in none of stdout, stderr, the SQLite files, the CSV or JSON export."""
    result = hc.cli_case(tmp_path)
    assert result.held, result.problems


# -- pages ---------------------------------------------------------------------------------------


def test_pages_show_server_and_user_text_literally_no_key_and_placeholders_for_bad_images(tmp_path):
    """Results page (AppTest): markdown/HTML from servers, prompts and names is literal text, the key is nowhere,
    and missing, truncated or oversized image files draw a placeholder, never an exception."""
    results = hc.page_cases(tmp_path)
    assert len(results) == len(hc.PAGE_MODES) + 3
    failed = [(r.name, r.problems) for r in results if not r.held]
    assert not failed, failed


def test_an_unexpected_exception_in_one_cell_is_that_cells_error(monkeypatch, tmp_path):
    """A bug while pricing one cell: that cell is an `internal` error charged at its reservation; the grid goes on."""
    from imagegen.execution import runner as runner_module

    real = runner_module.billed_cost

    def flaky(usage, req, *args, **kwargs):
        if "boom" in req.prompt:
            raise RuntimeError(f"pricing blew up near {hc.OPENAI_KEY}")
        return real(usage, req, *args, **kwargs)

    monkeypatch.setattr(runner_module, "billed_cost", flaky)
    spec = GridSpec(provider="simulator", model="gpt-image-1.5", prompts=("a fox", "boom"), name="one bug",
                    params={"size": "1024x1024", "quality": "low"}, limits=Limits(concurrency=2))
    store = Store(tmp_path)
    summary = GridRun(spec, provider=make_simulator_provider({"time_scale": 0}), store=store, today=TODAY).run()
    assert summary.status == "finished" and summary.ok == 1 and summary.errors == 1
    bad = store.results(summary.run_id).set_index("prompt").loc["boom"]
    assert bad["error_kind"] == "internal" and "RuntimeError" in bad["error_message"]
    assert hc.OPENAI_KEY not in bad["error_message"] and float(bad["cost_usd"]) > 0


@pytest.mark.parametrize("env", [
    {"OPENAI_API_KEY": "https://api.openai.com/v1", "OPENAI_BASE_URL": hc.OPENAI_KEY},
    {"AZURE_OPENAI_API_IMAGE_KEY": "https://res.openai.azure.com/", "AZURE_OPENAI_API_IMAGE_ENDPOINT": hc.AZURE_KEY,
     "AZURE_OPENAI_API_IMAGE_MODEL": "gpt-image-1.5"},
    {"AZURE_OPENAI_API_IMAGE_KEY": hc.AZURE_KEY, "AZURE_OPENAI_BASE_URL": "test-key-not-real-but-secret-42"},
])
def test_a_key_and_url_swapped_in_the_environment_are_never_echoed(env, tmp_path):
    from imagegen.errors import ConfigError
    from imagegen.execution.settings import load_settings

    with pytest.raises(ConfigError) as info:
        load_settings(env=env, dotenv_path=tmp_path / "absent.env")
    message = str(info.value)
    for value in env.values():
        if not value.startswith("https://") and value != "gpt-image-1.5":
            assert value not in message, message
    assert "is not a URL" in message and "Fix:" in message
