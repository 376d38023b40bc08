"""The pages in Japanese and English (AppTest): ?lang= is honoured, the sidebar switch changes the
language and writes it into the link, and the default is English when the browser gives no locale."""

from streamlit.testing.v1 import AppTest

from tests import ui_support
from tests.ui_support import APP, texts

app_env = ui_support.app_env  # fixture


def _app(lang: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["IMAGEGEN_PROVIDER"] = "simulator"
    if lang:
        at.query_params["lang"] = lang
    return at


def test_home_in_japanese_from_the_link(app_env):
    at = _app("ja")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "画像モデルの本当のコスト"
    assert "使用中のプロバイダー" in [h.value for h in at.subheader]
    assert any("シミュレーション" in t for t in texts(at.markdown))   # the SIMULATED badge, translated
    assert at.query_params["lang"] == "ja"


def test_home_in_english_by_default(app_env):
    at = _app()
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "What image models really cost"
    assert at.query_params["lang"] == "en"   # written into the link so it can be shared as it is


def test_the_sidebar_switch_changes_the_language_and_the_link(app_env):
    at = _app("en")
    at.run()
    switch = at.sidebar.get("button_group")[0]
    switch.set_value("ja").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "画像モデルの本当のコスト"
    assert at.query_params["lang"] == "ja"


def test_generate_in_japanese_and_english(app_env):
    for lang, title in (("ja", "生成"), ("en", "Generate")):
        at = _app(lang)
        at.run()
        at.switch_page("pages/1_Generate.py").run()
        assert not at.exception, at.exception
        assert at.title[0].value == title
        assert at.query_params["lang"] == lang


def test_a_bad_lang_falls_back_to_english(app_env):
    at = _app("xx")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "What image models really cost"
