"""imagegen.core.lifecycle (one status per model, provider and date), the working date and the data home."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagegen.core import lifecycle, overrides
from imagegen.core.catalog import PROVIDERS, CatalogError, default_catalog, load_catalog
from imagegen.core.dates import pinned_date, working_date
from imagegen.core.paths import data_home
from imagegen.errors import ConfigError
from imagegen.storage.store import Store
from tests.clock import TODAY

CAT = default_catalog()


def test_states_on_the_day_of_the_openai_shutdown():
    one_five = lifecycle.status(CAT, "gpt-image-1.5", "openai", TODAY)
    assert (one_five.state, one_five.days_left, one_five.successor) == ("shut_down", 0, "gpt-image-2.6-sunburst")
    assert one_five.sentence == ("gpt-image-1.5 was shut down on openai on 2026-12-01; "
                                 "successor: gpt-image-2.6-sunburst.")
    assert not one_five.runnable
    day_before = lifecycle.status(CAT, "gpt-image-1.5", "openai", TODAY - timedelta(days=1))
    assert day_before.state == "retiring" and day_before.sentence.startswith(
        "gpt-image-1.5 shuts down on openai on 2026-12-01 (tomorrow)")
    azure = lifecycle.status(CAT, "gpt-image-1.5", "azure", TODAY)
    assert azure.state == "live" and azure.runnable and "scheduled to shut down there on 2027-06-16" in azure.sentence
    assert lifecycle.status(CAT, "chatgpt-image-latest", "azure", TODAY).state == "not_offered"
    assert lifecycle.status(CAT, "gpt-image-2", "openai", TODAY).sentence == "gpt-image-2 is live on openai."


def test_the_simulator_follows_openai_but_runs_every_model():
    sim = lifecycle.status(CAT, "gpt-image-1", "simulator", TODAY)
    assert sim.facts_from == "openai" and sim.state == "shut_down" and sim.runnable
    assert sim.short == "shut down on openai 2026-10-23"


def test_one_soon_window_from_the_data():
    shutdown = CAT.model("gpt-image-1-mini").providers["azure"].shutdown
    edge = shutdown - timedelta(days=CAT.soon_days)
    assert lifecycle.status(CAT, "gpt-image-1-mini", "azure", edge).state == "retiring"
    assert lifecycle.status(CAT, "gpt-image-1-mini", "azure", edge - timedelta(days=1)).state == "live"


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)))
def test_every_status_is_consistent_with_the_dates(day):
    for life in lifecycle.every_status(CAT, day):
        if life.state == "shut_down":
            assert life.shutdown_date is not None and life.shutdown_date <= day and life.days_left <= 0
        elif life.state == "retiring":
            assert life.days_left > 0 and (life.days_left <= CAT.soon_days or life.deprecated <= day)
        elif life.state == "live":
            assert life.days_left is None or life.days_left > CAT.soon_days
        assert life.runnable == (life.state in ("live", "retiring"))
        assert life.model in life.sentence and life.provider in life.sentence


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)))
def test_preferred_models_follow_the_data_and_keep_only_runnable_ones(day):
    for provider in PROVIDERS:
        names = lifecycle.preferred_models(CAT, provider, day)
        assert all(lifecycle.status(CAT, m, provider, day).runnable for m in names)
        states = [lifecycle.status(CAT, m, provider, day).state for m in names]
        assert states == sorted(states, key=["live", "retiring"].index)  # live ones first
        for state in ("live", "retiring"):  # within each state, the data's order
            group = [m for m, s in zip(names, states) if s == state]
            assert [m for m in group if m in CAT.preference[provider]] == \
                [m for m in CAT.preference[provider] if m in group]
    sim = lifecycle.preferred_models(CAT, "simulator", day)
    assert set(sim) == set(CAT.models)  # every model runs on the simulator, the shut-down ones last


def test_models_toml_preference_and_window_are_validated(tmp_path):
    from imagegen.core.catalog import DATA_DIR

    for name in ("tokens.toml", "prices.toml"):
        (tmp_path / name).write_text((DATA_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    text = (DATA_DIR / "models.toml").read_text(encoding="utf-8")
    (tmp_path / "models.toml").write_text(text.replace('openai = ["gpt-image-2"', 'openai = ["gpt-image-9"'),
                                          encoding="utf-8")
    with pytest.raises(CatalogError, match=r"preference.openai names 'gpt-image-9'.*Fix"):
        load_catalog(tmp_path)
    (tmp_path / "models.toml").write_text(text.replace("soon_days = 180", "soon_days = -1"), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"lifecycle.soon_days = -1.*Fix"):
        load_catalog(tmp_path)


def test_the_working_date_is_pinned_or_utc():
    noon = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # 08:30 on 2 December in Japan
    assert working_date({}, noon) == date(2026, 12, 1)
    assert working_date({"IMAGEGEN_TODAY": "2027-05-01"}, noon) == date(2027, 5, 1)
    assert working_date({"IMAGEGEN_TODAY": " "}, noon) == date(2026, 12, 1)
    with pytest.raises(ValueError, match="UTC"):
        working_date({}, datetime(2026, 12, 2, 8, 30, tzinfo=timezone(timedelta(hours=9))))
    for bad in ("2027-5-1", "tomorrow", "2027-02-30", "20270501"):
        with pytest.raises(ConfigError, match=r"IMAGEGEN_TODAY=.*YYYY-MM-DD.*Fix"):
            pinned_date(bad)


def test_the_ui_and_cli_read_the_clock_in_utc(monkeypatch):
    import imagegen.cli
    import ui

    monkeypatch.delenv("IMAGEGEN_TODAY")
    assert ui.today() == imagegen.cli.today() == datetime.now(UTC).date()
    monkeypatch.setenv("IMAGEGEN_TODAY", "2027-05-01")
    assert ui.today() == imagegen.cli.today() == date(2027, 5, 1)


def test_the_moved_test_clock_keeps_the_local_time_zone():
    """IMAGEGEN_TEST_CLOCK moves the clock, never the zone: a Japan run before 09:00 really is one."""
    import os
    import time

    from tests.conftest import travel

    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    try:
        traveller, target = travel("2026-12-01T23:30:00+00:00")
        traveller.start()
        try:
            assert datetime.now(UTC).date() == date(2026, 12, 1) and date.today() == date(2026, 12, 2)
            assert os.environ["TZ"] == "Asia/Tokyo" and time.localtime().tm_gmtoff == 9 * 3600
        finally:
            traveller.stop()
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


#: The only files that may read the wall clock, and why (timestamps are records, not logic).
CLOCK_READERS = {
    "imagegen/cli/__init__.py": "entry point: today(), via working_date",
    "ui/__init__.py": "entry point: ui.today() in page setup, via working_date",
    "imagegen/storage/db.py": "created_at timestamps",
    "imagegen/storage/writer.py": "run ids from the creation time",
    "imagegen/storage/migrations.py": "when a migration was applied",
    "imagegen/storage/recordings.py": "created_at of a recording",
}


def _clock_reads(path: Path) -> list[int]:
    """Lines calling datetime.now/utcnow/today or date.today (docstrings and comments do not count)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("now", "utcnow", "today") and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("datetime", "date")):
            lines.append(node.lineno)
    return lines


def test_only_the_entry_points_read_the_clock():
    """Nothing else in imagegen, ui or the pages reads the date: it is ctx.today / an argument (the Compare
    frontier priced its not-run settings with the wall-clock date, ignoring IMAGEGEN_TODAY)."""
    root = Path(__file__).resolve().parents[1]
    files = [root / "dashboard.py", *(root / "pages").glob("*.py"), *(root / "ui").glob("*.py"),
             *(root / "imagegen").rglob("*.py")]
    found = {}
    for path in files:
        rel = path.relative_to(root).as_posix()
        reads = _clock_reads(path)
        if reads and rel not in CLOCK_READERS:
            found[rel] = reads
    assert found == {}, f"wall-clock reads outside the entry points (pass ctx.today / a date argument): {found}"
    assert all(_clock_reads(root / rel) for rel in CLOCK_READERS)  # the list stays exact


def test_a_leading_tilde_means_the_same_directory_for_the_store_and_the_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("IMAGEGEN_HOME", "~/imagegen-data")
    monkeypatch.chdir(tmp_path)
    assert data_home() == tmp_path / "imagegen-data"
    store = Store()
    entry = overrides.make_override(CAT, "gpt-image-1.5", "azure", TODAY, image_output=35)
    overrides.add_override("~/imagegen-data", entry, CAT)
    assert store.home == overrides.overrides_path("~/imagegen-data").parent == tmp_path / "imagegen-data"
    assert (tmp_path / "imagegen-data" / "price_overrides.toml").exists()
    assert not (tmp_path / "~").exists()  # the bug: overrides went to ./~/
    assert overrides.load_overrides(data_home(), CAT) == [entry]
