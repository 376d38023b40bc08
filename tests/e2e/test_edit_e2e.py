"""Real browser: Generate in Edit mode. Upload one image, paint a mask on it (streamlit-drawable-canvas),
input_fidelity x quality on gpt-image-1.5 (4 cells) on the simulator; the 4 stored outputs keep the input's
pixels wherever the painted mask is opaque. Screenshot: docs/screenshots/edit.png (IMAGEGEN_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import io
import os
import re
import time

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from imagegen.storage.store import Store
from tests.e2e.test_dashboard_e2e import DOCS, axis_values, open_page, shot, wait_idle

pytestmark = pytest.mark.e2e
SIZE = 1024


def product_photo() -> bytes:
    """A smooth 'product photo' with texture (small as PNG, yet no two neighbouring pixels alike)."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    rgb = np.dstack([(x // 4) % 256, (y // 4) % 256, ((x + y) // 8) % 256]).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, "PNG")
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGBA" if img.mode in ("RGBA", "LA") else "RGB"))


def pick(page: Page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    page.keyboard.type(option)  # long option lists are virtualised: filter first
    # an option may carry its lifecycle after the name, e.g. "gpt-image-1.5 (retiring …)"
    page.get_by_role("option", name=re.compile(f"^{re.escape(option)}( |$)")).first.click()
    wait_idle(page)


def test_edit_grid_with_a_painted_mask(page: Page, app_url: str, app_home, output_path: str):
    image = product_photo()
    page.goto(app_url)
    wait_idle(page)
    open_page(page, "Generate")
    page.get_by_text("Edit (image + mask → image)").click()
    wait_idle(page)
    pick(page, "Model", "gpt-image-1.5")
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Input images")
    uploader.locator("input[type=file]").set_input_files(
        files=[{"name": "product.png", "mimeType": "image/png", "buffer": image}])
    wait_idle(page)
    page.get_by_text("Paint on the first image").click()
    wait_idle(page)
    canvas = page.locator("canvas.upper-canvas").first
    expect(canvas).to_be_visible(timeout=15_000)
    box = canvas.bounding_box()
    # one stroke across the middle of the image (brush 30 px on a 512 px canvas = 60 px of the image)
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"^mask · mask-painted\.png"))).to_be_visible(timeout=15_000)

    pick(page, "Axis X (columns)", "input_fidelity")
    page.get_by_test_id("stButton").filter(has_text="All values").nth(0).click()
    wait_idle(page)
    pick(page, "Axis Y (rows)", "quality")
    page.get_by_test_id("stButton").filter(has_text="All values").nth(1).click()
    wait_idle(page)
    for value in ("auto", "medium"):
        axis_values(page, "Y").get_by_role("button", name=f"Remove {value}", exact=True).click()
        wait_idle(page)
    pick(page, "size", "1024x1024")
    expect(page.get_by_test_id("stMetric").filter(has_text="Cells")).to_contain_text("4")
    expect(page.get_by_test_id("stMetric").filter(has_text="Input image tokens")).to_contain_text("194")

    page.get_by_role("button", name="Run grid").click()
    store = Store(app_home)
    deadline = time.monotonic() + 60
    while True:
        runs = store.runs(limit=5)
        run_id = next((r.run_id for r in runs.itertuples() if store.run_inputs(r.run_id)), None)
        rows = store.results(run_id) if run_id else None
        if rows is not None and len(rows) == 4:
            break
        assert time.monotonic() < deadline, "the edit grid did not finish in time"
        time.sleep(0.3)
    assert set(rows["status"]) == {"ok"}
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main.get_by_text(re.compile("input image tokens billed \\(simulated\\)"))).to_have_count(4, timeout=30_000)
    wait_idle(page)

    inputs = store.run_inputs(run_id)
    assert [i["role"] for i in inputs] == ["image", "mask"]
    assert store.input_file(inputs[0]["sha256"]) == image
    keep = decode(store.input_file(inputs[1]["sha256"]))[..., 3] == 255
    assert 0.01 < (~keep).mean() < 0.5  # the stroke was painted, and only there
    source = decode(image)
    for rid in rows["result_id"]:
        out = decode(store.image_path(store.images(int(rid))["sha256"].iloc[0]).read_bytes())[..., :3]
        assert out.shape == source.shape
        assert np.array_equal(out[keep], source[keep])      # every unmasked pixel is the input's
        assert (out[~keep] != source[~keep]).any(axis=1).mean() > 0.5  # the painted area was redrawn
    shot(page, output_path, "edit.png", anchor=page.get_by_text(re.compile("^Inputs of this edit")).first)
    readme_copy = DOCS / "edit.png"
    if os.environ.get("IMAGEGEN_UPDATE_SCREENSHOTS") == "1" and readme_copy.exists():
        with Image.open(readme_copy) as img:  # the README's copy kept small: 1120 px wide, 128 colours
            small = img.convert("RGB").resize((1120, round(img.height * 1120 / img.width)), Image.Resampling.LANCZOS)
            small.quantize(128).save(readme_copy, optimize=True)
