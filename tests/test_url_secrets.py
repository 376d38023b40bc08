"""An endpoint URL that carries a key (``?api-key=…``, ``user:key@host``) is never shown, stored or echoed.

The sidebar, Settings.describe()/repr, configuration errors, provider messages, stored rows and exports
show the URL with its user info and query secrets replaced by [REDACTED] (``api-version`` stays).
"""

from __future__ import annotations

import pytest

from imagegen.errors import ConfigError
from imagegen.execution.settings import load_settings
from imagegen.redaction import REDACTED, redact, redact_url
from tests import ui_support
from tests.ui_support import open_app, texts

app_env = ui_support.app_env  # fixture

QUERY_SECRET = "qs" + "-not-real-" + "5e4d3c2b1a"
USER_SECRET = "ui" + "-not-real-" + "0f9e8d7c6b"
FAKE_KEY = "test-key-not-real-1234"


@pytest.mark.parametrize("url,shown", [
    (f"https://proxy.example/v1?api-key={QUERY_SECRET}", f"https://proxy.example/v1?api-key={REDACTED}"),
    (f"https://me:{USER_SECRET}@proxy.example/v1", f"https://{REDACTED}@proxy.example/v1"),
    (f"https://{USER_SECRET}@proxy.example/v1", f"https://{REDACTED}@proxy.example/v1"),
    (f"https://honest-r.openai.azure.com/openai/v1/?api-version=2025-04-01-preview&sig={QUERY_SECRET}",
     f"https://honest-r.openai.azure.com/openai/v1/?api-version=2025-04-01-preview&sig={REDACTED}"),
    ("https://honest-plain.example/v1", "https://honest-plain.example/v1"),
    ("https://honest-r.openai.azure.com/openai/v1/?api-version=preview", "https://honest-r.openai.azure.com/openai/v1/?api-version=preview"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_user_info_in_any_text_is_redacted():
    assert USER_SECRET not in redact(f"connect to https://me:{USER_SECRET}@proxy.example/v1 failed")


def _settings(env: dict):
    return load_settings(env=env, secrets={}, dotenv_path="/nonexistent/.env")


def test_settings_show_and_repr_the_url_without_its_secrets():
    s = _settings({"IMAGEGEN_PROVIDER": "compatible", "OPENAI_API_KEY": FAKE_KEY,
                   "OPENAI_BASE_URL": f"https://me:{USER_SECRET}@proxy.example/v1?api-key={QUERY_SECRET}"})
    shown = s.describe()["endpoint"]
    assert shown == f"https://{REDACTED}@proxy.example/v1?api-key={REDACTED}"
    for text in (shown, repr(s), str(s)):
        assert QUERY_SECRET not in text and USER_SECRET not in text
    # the provider still connects with the URL as configured
    assert QUERY_SECRET in s.base_url
    # and, once configured, the parts are redacted from any later message
    assert QUERY_SECRET not in redact(f"server said: bad value {QUERY_SECRET}")


def test_a_config_error_that_quotes_the_url_redacts_its_secrets():
    with pytest.raises(ConfigError) as err:
        _settings({"IMAGEGEN_PROVIDER": "azure", "AZURE_OPENAI_API_KEY": FAKE_KEY,
                   "AZURE_OPENAI_BASE_URL": f"https://res.openai.azure.com/wrong/?api-key={QUERY_SECRET}x"})
    assert "does not end in /openai/v1/" in str(err.value) and f"{QUERY_SECRET}x" not in str(err.value)


def _page_text(at) -> str:
    return "\n".join(texts(at.markdown) + texts(at.caption) + texts(at.info) + texts(at.warning)
                     + texts(at.error) + texts(at.sidebar.markdown) + texts(at.sidebar.warning))


def test_the_sidebar_shows_a_compatible_endpoint_without_its_key(app_env, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "compatible")
    url = f"https://me:{USER_SECRET}@proxy.example/v1?api-key={QUERY_SECRET}"
    at = open_app(secrets={"OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": url})
    sidebar = "\n".join(texts(at.sidebar.markdown))
    assert f"Endpoint: `https://{REDACTED}@proxy.example/v1?api-key={REDACTED}`" in sidebar
    everything = _page_text(at)
    assert QUERY_SECRET not in everything and USER_SECRET not in everything and FAKE_KEY not in everything


def test_the_sidebar_shows_an_azure_v1_url_without_its_key(app_env, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "azure")
    url = f"https://honest-test.openai.azure.com/openai/v1/?sig={QUERY_SECRET}"
    at = open_app(secrets={"IMAGEGEN_PROVIDER": "azure", "AZURE_OPENAI_API_KEY": FAKE_KEY,
                           "AZURE_OPENAI_BASE_URL": url, "IMAGEGEN_AZURE_DEPLOYMENTS": "img=gpt-image-1.5"})
    sidebar = "\n".join(texts(at.sidebar.markdown))
    assert "honest-test.openai.azure.com/openai/v1/" in sidebar and f"sig={REDACTED}" in sidebar
    assert QUERY_SECRET not in _page_text(at)


SPEC = """
provider = "compatible"
model = "gpt-image-1.5"
prompts = ["a red fox"]
[params]
size = "1024x1024"
quality = "low"
[limits]
max_attempts = 1
timeout_s = 5
"""


def test_a_failed_run_against_a_url_with_a_key_stores_and_prints_no_secret(tmp_path, monkeypatch, capsys):
    import socket

    from imagegen.cli import main

    with socket.socket() as sock:  # a loopback port with nobody listening: the connection is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = tmp_path / "home"
    for var in ui_support.REAL_SERVICE_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("IMAGEGEN_HOME", str(home))
    monkeypatch.setenv("IMAGEGEN_DOTENV", str(tmp_path / "no.env"))
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "compatible")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://me:{USER_SECRET}@127.0.0.1:{port}/v1?api-key={QUERY_SECRET}")
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    code = main(["run", str(spec), "--yes"])
    out = capsys.readouterr()
    assert code == 1, out
    export = tmp_path / "out.json"
    assert main(["export", "latest", "--format", "json", "--output", str(export)]) == 0
    blobs = [out.out, out.err, export.read_text(encoding="utf-8")]
    blobs += [p.read_bytes().decode("latin-1") for p in home.rglob("*") if p.is_file()]
    assert "connection" in export.read_text(encoding="utf-8").lower()
    for blob in blobs:
        assert QUERY_SECRET not in blob and USER_SECRET not in blob and FAKE_KEY not in blob
