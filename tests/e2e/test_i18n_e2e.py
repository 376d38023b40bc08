"""Real browser, UI in Japanese (?lang=ja): run the default 3x3 grid on the simulator, then screenshot every page
in Japanese and English at 800 px and 1280 px wide, checking at both widths that no estimate figure or button
label is cut off ("P…", "Gri…").

Screenshots go to ``$IMAGEGEN_SCREENSHOTS`` (default ``artifacts/screenshots/`` in the checkout, git-ignored;
CI keeps that folder as an artifact and ``.ci/run`` prints its path): ``<lang>-<width>-<page>.png``.
``IMAGEGEN_UPDATE_SCREENSHOTS=1`` also refreshes the README's Japanese picture, docs/screenshots/generate-ja.png.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_dashboard_e2e import wait_idle

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("IMAGEGEN_SCREENSHOTS") or ROOT / "artifacts" / "screenshots")
README_SHOT = ROOT / "docs" / "screenshots" / "generate-ja.png"
WIDTHS = (1280, 800)
HEIGHT = 900
#: Sidebar entries (Streamlit names them after the files) and the file stem of each screenshot.
PAGES = (("dashboard", "home"), ("Generate", "generate"), ("Results", "results"), ("Analytics", "analytics"),
         ("Planner", "planner"), ("Catalog", "catalog"), ("Compare", "compare"))
TITLES = {"ja": {"home": "画像モデルの本当のコスト", "generate": "生成"},
          "en": {"home": "What image models really cost", "generate": "Generate"}}

#: Elements whose text must never be cut: the estimate's figures, every button's label.
CUT_JS = """() => {
  const sel = "[data-testid='stMetricValue'], [data-testid='stMetricValue'] *, [data-testid='stMetricLabel'] *,"
            + " [data-testid='stMainBlockContainer'] button, [data-testid='stMainBlockContainer'] button *";
  const out = new Set();
  for (const el of document.querySelectorAll(sel)) {
    if (!el.offsetParent || !el.textContent.trim()) continue;     // hidden (another tab, a closed expander)
    const style = getComputedStyle(el);
    const clips = style.textOverflow === "ellipsis" || style.overflow === "hidden" || style.overflowX === "hidden";
    if (clips && el.scrollWidth > el.clientWidth + 1) out.add(el.textContent.trim().slice(0, 40));
  }
  return [...out];
}"""


#: Cut today (issue 15, "any screen width", not fixed yet; measured 2026-12-01): this list may only shrink.
#: A cut not listed here fails the test; a listed one that no longer happens is printed (remove it here).
KNOWN_CUT: set[str] = set(Path(__file__).with_name("known_cut.txt").read_text(encoding="utf-8").splitlines())


def open_page(page: Page, name: str) -> None:
    """Click the sidebar's link to the page whose URL is ``/<name>`` (ui.NAV: its label is in the UI's language)."""
    path = "" if name in ("Home", "dashboard") else name  # Home is the app's root: href ""
    page.get_by_test_id("stSidebar").locator(f'a[href="{path}"], a[href$="/{path}"]').first.click()
    wait_idle(page)


def shots(page: Page, lang: str, stem: str) -> list[str]:
    """Screenshots of the page as it is at each width; the texts found cut at any width."""
    cut = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.wait_for_timeout(350)  # the layout settles (columns stack, metrics re-measure)
        page.screenshot(path=str(OUT / f"{lang}-{width}-{stem}.png"))
        cut += [f"{lang} {width}px {stem}: {text}" for text in page.evaluate(CUT_JS)]
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    return cut


def _save_readme_shot(page: Page) -> None:
    from PIL import Image

    README_SHOT.parent.mkdir(parents=True, exist_ok=True)
    raw = OUT / "ja-1280-generate-top.png"
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("heading", name=re.compile("^推定コスト")).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(raw))
    Image.open(raw).convert("RGB").quantize(colors=64).save(README_SHOT, optimize=True)  # small for the repo


def test_japanese_grid_and_every_page_in_both_languages(page: Page, app_url: str):
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {OUT}")
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    page.goto(f"{app_url}/?lang=ja")
    wait_idle(page)
    expect(page.get_by_role("heading", name=TITLES["ja"]["home"])).to_be_visible()

    open_page(page, "Generate")
    expect(page.get_by_role("heading", name="生成", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="セル").first).to_contain_text("9")
    page.get_by_role("button", name="グリッドを実行").click()
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main.get_by_test_id("stImage")).to_have_count(9, timeout=60_000)
    wait_idle(page, timeout=60_000)
    expect(main).to_contain_text("シミュレーション")
    if os.environ.get("IMAGEGEN_UPDATE_SCREENSHOTS") == "1":
        _save_readme_shot(page)

    cut: list[str] = []
    for lang in ("ja", "en"):
        for name, stem in PAGES:
            open_page(page, name)
            if lang == "en" and stem == "home":  # the switch is on every page; use it once
                page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
                wait_idle(page)
            if stem in TITLES[lang]:
                expect(page.get_by_role("heading", name=TITLES[lang][stem], exact=True)).to_be_visible()
            assert f"lang={lang}" in page.url, page.url  # a copied link opens in this language
            cut += shots(page, lang, stem)
    taken = sorted(p.name for p in OUT.glob("[je][an]-*.png") if not p.name.endswith("-top.png"))
    assert len(taken) == 2 * len(WIDTHS) * len(PAGES), taken
    (OUT / "cut.txt").write_text("\n".join(cut) + "\n", encoding="utf-8")
    fixed = KNOWN_CUT - set(cut)
    if fixed:
        print("no longer cut (remove from known_cut.txt):\n" + "\n".join(sorted(fixed)))
    assert not set(cut) - KNOWN_CUT, "cut off (new):\n" + "\n".join(sorted(set(cut) - KNOWN_CUT))


def test_a_japanese_browser_opens_in_japanese(browser, app_url: str):
    """No ?lang= in the link: the browser's locale (st.context.locale) decides, and the link then says so."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": HEIGHT})
    try:
        page = context.new_page()
        page.goto(app_url)
        wait_idle(page)
        expect(page.get_by_role("heading", name=TITLES["ja"]["home"])).to_be_visible()
        expect(page).to_have_url(re.compile(r"lang=ja"))
    finally:
        context.close()
