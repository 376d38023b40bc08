"""ui/state.py: every page's session keys are declared there; undeclared ones are refused."""

import pytest
from streamlit.testing.v1 import AppTest

from ui import state


def test_an_undeclared_key_is_refused_before_anything_is_stored():
    with pytest.raises(state.UndeclaredStateKey, match="ui/state.py"):
        state.generate.widgets["modle"] = "gpt-image-2"  # a typo is an error, not a new silent key
    with pytest.raises(state.UndeclaredStateKey):
        state.planner.widgets.get("an_models")  # another page's key


def test_every_page_state_has_a_page_and_declared_kept_keys():
    assert set(state.PAGES) == {"Generate", "Results", "Analytics", "Planner", "Catalog", "Compare"}
    for page in state.PAGES.values():
        for key in page.persist:
            assert page.widgets.declares(key), (page.title, key)


def _script():
    from ui import state

    state.restore("Generate")
    if state.generate.widgets.get("prompts") is None:
        state.generate.widgets["prompts"] = "a fox"
        state.app.open_run = "run-1"
        state.generate.keep()


def test_kept_values_come_back_after_the_widget_state_is_dropped():
    at = AppTest.from_function(_script)
    at.run()
    assert at.session_state["prompts"] == "a fox" and at.session_state["open_run"] == "run-1"
    del at.session_state["prompts"]  # what Streamlit does to a page's widget keys when the page is left
    at.run()
    assert at.session_state["prompts"] == "a fox"
    assert not at.exception
