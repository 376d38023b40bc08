"""Shared helpers for the AppTest page tests (tests/test_page_*.py).

Every test runs the real app from ``dashboard.py`` (Streamlit's ``pages/`` folder, as
``streamlit run`` does) on the built-in simulator, with the store in a temporary
``IMAGEGEN_HOME`` and the simulator's latency scaled to (almost) nothing through
``IMAGEGEN_SIM_TIME_SCALE``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard.py")
#: Variables that would point the app at a real service; removed for every page test.
REAL_SERVICE_VARS = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_IMAGE_KEY", "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_API_IMAGE_ENDPOINT", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_BASE_URL", "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_USE_ENTRA_ID", "AZURE_OPENAI_API_IMAGE_MODEL", "IMAGEGEN_AZURE_DEPLOYMENTS",
    "IMAGEGEN_SIM_FIXED_LATENCY_S",
)


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """A fresh store, the simulator as provider, tiny latencies, clean Streamlit caches."""
    for var in REAL_SERVICE_VARS:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("IMAGEGEN_HOME", str(home))
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "simulator")  # the env layer wins over a developer's .env
    monkeypatch.setenv("IMAGEGEN_SIM_TIME_SCALE", "0")
    st.cache_data.clear()  # process-global: AppTest instances share them
    st.cache_resource.clear()
    yield home
    st.cache_data.clear()
    st.cache_resource.clear()


def open_app(page: str | None = None, secrets: dict | None = None) -> AppTest:
    """Run the app (Home), then switch to ``page`` (e.g. ``pages/1_Generate.py``) if given."""
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in (secrets or {"IMAGEGEN_PROVIDER": "simulator"}).items():
        at.secrets[key] = value  # a non-empty at.secrets replaces any secrets.toml on disk
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def page_app(page_file: str, home: Path, monkeypatch, query: dict | None = None) -> AppTest:
    """One page file alone (e.g. ``5_Catalog.py``) on the simulator, with the store in ``home``."""
    for var in REAL_SERVICE_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("IMAGEGEN_PROVIDER", raising=False)
    monkeypatch.setenv("IMAGEGEN_HOME", str(home))
    monkeypatch.setenv("IMAGEGEN_DOTENV", str(home / "no.env"))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / page_file), default_timeout=30)
    at.secrets["IMAGEGEN_PROVIDER"] = "simulator"  # a non-empty at.secrets replaces any secrets.toml on disk
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at


def wait_for_run(at: AppTest, timeout: float = 20.0) -> AppTest:
    """Rerun the page (as the polling fragment would) until the active run is done, then once more."""
    deadline = time.monotonic() + timeout
    run = at.session_state["active_run"]
    while not run.done:
        assert time.monotonic() < deadline, "the run did not finish in time"
        time.sleep(0.05)
        at.run()
    at.run()
    assert not at.exception, at.exception
    return at


class DeferredDownloads:
    """Records ``st.download_button`` callables registered during AppTest runs (by file id)."""

    def __init__(self) -> None:
        self.entries: dict[str, dict] = {}

    def fetch(self, button) -> tuple[str, bytes]:
        """(file name, bytes) a deferred download button would send when clicked."""
        entry = self.entries[button.proto.deferred_file_id]
        data = entry["callable"]()
        if isinstance(data, str):
            data = data.encode("utf-8")
        return entry["filename"], data


@pytest.fixture
def downloads(monkeypatch) -> DeferredDownloads:
    """Capture deferred download callables so tests can check the bytes a click would send."""
    import streamlit.testing.v1.app_test as app_test_module
    from streamlit.runtime.media_file_manager import MediaFileManager

    record = DeferredDownloads()

    class Recording(MediaFileManager):
        def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, element_id=""):
            file_id = super().add_deferred(data_callable, mimetype, coordinates, file_name=file_name,
                                           element_id=element_id)
            record.entries[file_id] = {"callable": data_callable, "filename": file_name, "mimetype": mimetype}
            return file_id

    monkeypatch.setattr(app_test_module, "MediaFileManager", Recording)
    return record


def texts(elements) -> list[str]:
    return [e.value for e in elements]
