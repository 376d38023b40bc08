"""Real browser: no key -> simulator; build a 3x3 quality x size grid, run it, see 9 images, open Results,
Analytics and the Planner. Screenshots go to the pytest-playwright output dir (test-results/), and to
docs/screenshots/ when IMAGEGEN_UPDATE_SCREENSHOTS=1 (the README's picture)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from imagegen.core import lifecycle
from imagegen.core.catalog import default_catalog
from tests.clock import TODAY

pytestmark = pytest.mark.e2e
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    """Streamlit's own e2e signals: connected, and the script not running."""
    page.wait_for_timeout(250)
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(state="attached", timeout=timeout)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(state="attached", timeout=timeout)


def shot(page: Page, out_dir: str, name: str, anchor=None) -> None:
    """A viewport screenshot, scrolled to `anchor` when given (Streamlit scrolls an inner container)."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    if anchor is not None:
        anchor.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
    page.screenshot(path=path)
    if os.environ.get("IMAGEGEN_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / name)


def open_page(page: Page, name: str) -> None:
    """Click the sidebar's link to the page whose URL is ``/<name>`` (ui.NAV: its label is in the UI's language)."""
    path = "" if name in ("Home", "dashboard") else name  # Home is the app's root: href ""
    page.get_by_test_id("stSidebar").locator(f'a[href="{path}"], a[href$="/{path}"]').first.click()
    wait_idle(page)


def axis_values(page: Page, axis: str):
    return page.get_by_test_id("stMultiSelect").filter(has_text=f"values ({axis})")


def set_axis(page: Page, axis: str, param: str, drop: tuple[str, ...]) -> None:
    """Pick `param` for an axis, take all its values, then remove `drop` (e.g. auto) with the chips' buttons."""
    label = {"X": "Axis X (columns)", "Y": "Axis Y (rows)"}[axis]
    page.get_by_label(label).click()
    page.get_by_role("option", name=param, exact=True).click()
    wait_idle(page)
    page.get_by_test_id("stButton").filter(has_text="All values").nth("XY".index(axis)).click()
    wait_idle(page)
    box = axis_values(page, axis)
    for value in drop:
        box.get_by_role("button", name=f"Remove {value}", exact=True).click()
        wait_idle(page)


def test_grid_end_to_end_on_the_simulator(page: Page, app_url: str, output_path: str):
    page.goto(app_url)
    wait_idle(page)
    expect(page.get_by_role("heading", name="What image models really cost")).to_be_visible()
    expect(page.get_by_text("SIMULATED").first).to_be_visible()
    shot(page, output_path, "home.png")

    open_page(page, "Generate")
    expect(page.get_by_role("heading", name="Generate")).to_be_visible()
    set_axis(page, "X", "quality", drop=("auto",))
    # the default model (the data's preference on TODAY, pinned for the server) may offer more common sizes
    model = lifecycle.preferred_models(default_catalog(), "simulator", TODAY)[0]
    bigger = tuple(s for s in default_catalog().model(model).size_values()
                   if s not in ("1024x1024", "1024x1536", "1536x1024"))
    set_axis(page, "Y", "size", drop=("auto", *bigger))
    for axis, expected in (("X", ["low", "medium", "high"]), ("Y", ["1024x1024", "1024x1536", "1536x1024"])):
        expect(axis_values(page, axis).locator("[data-tag] > span")).to_have_text(expected)
    expect(page.get_by_test_id("stMetric").filter(has_text="Cells")).to_contain_text("9")

    page.get_by_role("button", name="Run grid").click()
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main.get_by_test_id("stImage")).to_have_count(9, timeout=90_000)
    wait_idle(page, timeout=90_000)
    expect(main).to_contain_text(re.compile("simulated", re.I))
    shot(page, output_path, "grid.png", anchor=page.get_by_role("heading", name=re.compile("^Run ")).first)

    open_page(page, "Results")
    expect(main.get_by_test_id("stImage")).to_have_count(9, timeout=30_000)
    shot(page, output_path, "results.png", anchor=main.get_by_test_id("stImage").first)

    open_page(page, "Analytics")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
    assert page.locator(".js-plotly-plot").count() >= 3
    shot(page, output_path, "analytics.png", anchor=page.locator(".js-plotly-plot").first)

    open_page(page, "Planner")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
    shot(page, output_path, "planner.png")
