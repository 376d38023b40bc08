"""Real-browser fixtures: `streamlit run dashboard.py` with no key, driven by Playwright + Debian Chromium.

`playwright install` cannot download browsers here; Debian's /usr/bin/chromium is used instead.
A missing Chromium FAILS these tests (CI must never skip them silently); set IMAGEGEN_SKIP_E2E=1
to skip them knowingly on a machine without Chromium.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.dashboard_server import serve_dashboard
from tests.clock import TODAY

APP_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SECRET_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT",
               "AZURE_OPENAI_API_IMAGE_KEY", "AZURE_OPENAI_API_IMAGE_ENDPOINT", "AZURE_OPENAI_AD_TOKEN",
               "IMAGEGEN_PROVIDER")


@pytest.fixture(scope="session")
def app_home(tmp_path_factory):
    """The IMAGEGEN_HOME of the dashboard under test (its store: tests read what the browser run stored)."""
    return tmp_path_factory.mktemp("imagegen-home")


@pytest.fixture(scope="session")
def app_url(app_home):
    """The dashboard on a free port, with no key anywhere (so it runs on the in-process simulator)."""
    home = app_home
    log = home / "streamlit.log"
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update({"IMAGEGEN_HOME": str(home), "IMAGEGEN_SIM_TIME_SCALE": "0.02", "IMAGEGEN_TODAY": TODAY.isoformat(),
                "IMAGEGEN_DOTENV": str(home / "no.env")})
    with open(log, "w") as fh, serve_dashboard(env, cwd=APP_DIR, log=fh) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("IMAGEGEN_SKIP_E2E") == "1":
            pytest.skip(f"no Chromium at {CHROMIUM} and IMAGEGEN_SKIP_E2E=1")
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or IMAGEGEN_SKIP_E2E=1 to skip)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 1400}}
