"""Real browser: the blind Compare page. Ten votes by keyboard (← → = S) in Chromium; the ranking and the
cost-quality frontier update from them. Its own server and store (a 2 prompts x quality x size run)."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from bench.dashboard_server import serve_dashboard
from tests.e2e.conftest import APP_DIR, SECRET_VARS
from tests.e2e.test_dashboard_e2e import open_page, shot, wait_idle
from tests.quality_data import make_run

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def compare_url(tmp_path_factory):
    home = tmp_path_factory.mktemp("compare-home")
    store, run_id = make_run(home)
    store.close()
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update({"IMAGEGEN_HOME": str(home), "IMAGEGEN_SIM_TIME_SCALE": "0", "IMAGEGEN_DOTENV": str(home / "no.env")})
    with open(home / "streamlit.log", "w") as fh, serve_dashboard(env, cwd=APP_DIR, log=fh) as base_url:
        yield base_url, home, run_id


def votes_stored(page: Page) -> int:
    text = page.get_by_text(re.compile(r"^Aiko: \d+ vote")).inner_text()
    return int(re.search(r"Aiko: (\d+) vote", text).group(1))


def test_ten_keyboard_votes_update_ranking_and_frontier(page: Page, compare_url, output_path: str):
    url, home, run_id = compare_url
    page.goto(url)
    wait_idle(page)
    open_page(page, "Compare")
    expect(page.get_by_role("heading", name="Blind compare")).to_be_visible()
    main = page.get_by_test_id("stMainBlockContainer")
    page.get_by_role("tab", name="Ranking").click()
    expect(main.get_by_text("No votes yet: the ranking appears after the first vote.")).to_be_visible()
    page.get_by_role("tab", name="Frontier").click()
    expect(main.get_by_text("No votes yet: the frontier appears after the first vote.")).to_be_visible()
    page.get_by_role("tab", name="Vote").click()
    name = page.get_by_label("Your name (every vote is stored under it)")
    name.fill("Aiko")
    name.press("Enter")
    wait_idle(page)
    expect(main.get_by_test_id("stImage")).to_have_count(2)
    keys = ["ArrowLeft", "ArrowRight", "ArrowLeft", "=", "ArrowLeft", "s", "ArrowRight", "ArrowLeft", "ArrowRight",
            "ArrowLeft"]
    for i, key in enumerate(keys, start=1):
        page.get_by_role("heading", name="Blind compare").click()  # focus out of the name box
        page.keyboard.press(key)
        expect(page.get_by_text(re.compile(rf"^Aiko: {i} vote"))).to_be_visible(timeout=30_000)
        wait_idle(page)
        if i == 1:
            page.get_by_role("tab", name="Ranking").click()
            expect(main.get_by_test_id("stMetric").filter(has_text="Votes")).to_contain_text("1")
            page.get_by_role("tab", name="Vote").click()
    assert votes_stored(page) == 10
    shot(page, output_path, "compare.png")

    from imagegen.storage import votes as vs
    from imagegen.storage.store import Store

    with Store(home) as store:
        stored = vs.votes(store, [run_id])
    assert list(stored["choice"].value_counts().sort_index().items()) == [("left", 5), ("right", 3), ("skip", 1),
                                                                          ("tie", 1)]
    page.get_by_role("tab", name="Ranking").click()
    expect(main.get_by_test_id("stMetric").filter(has_text="Votes")).to_contain_text("9")  # the skip carries nothing
    expect(main.get_by_test_id("stDataFrame").first).to_be_visible()
    page.get_by_role("tab", name="Frontier").click()
    # ten random-ish votes cannot separate six settings: the page says so instead of claiming an answer
    expect(main.get_by_text(re.compile("Cheapest setting statistically indistinguishable|Not enough votes to tell"))
           ).to_be_visible()
    frontier = main.locator(".js-plotly-plot").filter(has_text="Cost–quality frontier")
    expect(frontier).to_be_visible(timeout=30_000)
    shot(page, output_path, "compare-frontier.png", anchor=frontier)
