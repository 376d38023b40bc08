"""Home page (dashboard.py): provider, catalog freshness, lifecycle warnings, links."""

from datetime import date

from imagegen.core.catalog import default_catalog
from imagegen.core.lifecycle import lifecycle_warnings
from tests import ui_support
from tests.ui_support import open_app, texts

app_env = ui_support.app_env  # fixture


def test_home_on_the_simulator(app_env):
    at = open_app()
    assert at.title[0].value == "What image models really cost"
    markdown = "\n".join(texts(at.markdown))
    assert "SIMULATED" in markdown
    assert any("SIMULATED" in i for i in texts(at.info))
    oldest = default_catalog().oldest_check().isoformat()
    assert f"last checked **{oldest}**" in markdown
    errors = texts(at.error)
    assert any("gpt-image-1 was shut down on openai on 2026-10-23" in e and "gpt-image-2.5-sunburst" in e
               for e in errors)
    assert "Model lifecycle on 2026-12-01" in [h.value for h in at.subheader]
    labels = [link.label for link in at.get("page_link")]
    assert any(label.startswith("Generate") for label in labels)
    assert any(label.startswith("Results") for label in labels)


def test_home_shows_openai_with_a_masked_key(app_env, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "openai")
    key = "fake-test-key-abcdefghijklmnop-9876"
    at = open_app(secrets={"OPENAI_API_KEY": key})
    everything = "\n".join(texts(at.markdown) + texts(at.caption) + texts(at.info))
    assert ":green-badge[OpenAI]" in everything
    # the badge carries the name once: never "OpenAI OpenAI" (seen as "Azure OpenAI Azure OpenAI")
    badges = [line for line in texts(at.markdown) if ":green-badge[OpenAI]" in line]
    assert badges and all(line == ":green-badge[OpenAI]" for line in badges)  # no "**OpenAI** OpenAI" before it
    assert "https://api.openai.com/v1" in everything
    assert "…9876" in everything
    assert key not in everything and "abcdefghijklmnop" not in everything


def test_a_settings_problem_falls_back_to_the_simulator_and_names_the_variable(app_env, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "azure")  # Azure chosen but not configured
    at = open_app(secrets={"IMAGEGEN_PROVIDER": "azure"})
    assert any("AZURE_OPENAI_API_IMAGE_KEY" in w for w in texts(at.sidebar.warning))
    assert "SIMULATED" in "\n".join(texts(at.markdown))


def test_lifecycle_warnings_include_coming_shutdowns():
    warnings = lifecycle_warnings(default_catalog(), date(2026, 11, 25))
    soon = [life.sentence for level, life in warnings if level == "warning"]
    assert any("gpt-image-1.5 shuts down on openai on 2026-12-01 (in 6 days)" in t for t in soon)
    later = lifecycle_warnings(default_catalog(), date(2028, 1, 1))
    assert all(level == "error" for level, _ in later) and len(later) > len(
        [w for w in warnings if w[0] == "error"])


def test_a_pinned_date_is_shown_on_home_and_in_the_sidebar(app_env, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_TODAY", "2027-05-01")
    at = open_app()
    pinned = "The date is pinned to **2027-05-01** by IMAGEGEN_TODAY"
    assert any(pinned in i for i in texts(at.main.info)) and any(pinned in i for i in texts(at.sidebar.info))
    assert any("gpt-image-1-mini was shut down on azure on 2027-04-07" in e for e in texts(at.error))
    monkeypatch.setenv("IMAGEGEN_TODAY", "2027-13-01")
    at = open_app()
    assert any("IMAGEGEN_TODAY='2027-13-01' is not a date" in w and "YYYY-MM-DD" in w for w in texts(at.sidebar.warning))
    assert not any("pinned to" in i for i in texts(at.sidebar.info))


def test_the_sidebar_lists_home_first_by_its_title_in_either_language(app_env):
    import tomllib

    from tests.ui_support import ROOT

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showSidebarNavigation"] is False  # Streamlit's list would start with "dashboard"
    at = open_app()
    links = [link for link in at.sidebar.get("page_link")]
    assert [link.label for link in links] == ["Home", "Generate", "Results", "Analytics", "Planner", "Catalog",
                                              "Compare"]
    assert links[0].proto.page_script_hash and "dashboard" not in [link.label for link in links]
    at.query_params["lang"] = "ja"
    at.run()
    assert [link.label for link in at.sidebar.get("page_link")][:2] == ["ホーム", "生成"]
