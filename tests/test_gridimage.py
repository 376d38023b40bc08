"""The grid as one labelled PNG: geometry from the layout, failed cells, repeats, Z sub-grids, honesty."""

import io
import json
from decimal import Decimal

import pytest
from PIL import Image, ImageFont

from imagegen.core.grid import loads_spec
from imagegen.execution.providers import make_simulator_provider
from imagegen.execution.runner import run_grid
from imagegen.insight.gridimage import (
    FAILED,
    Geometry,
    compose_grid,
    figure_lines,
    font,
    missing_glyphs,
    title_block,
)
from imagegen.insight.gridlayout import records
from imagegen.storage.store import Store
from tests.analytics_data import coords, row
from tests.clock import TODAY

CELL = 128
QUALITIES = ["low", "medium", "high"]
SIZES = ["1024x1024", "1536x1024", "1024x1536"]
SPEC = f'''name = "quality x size"
provider = "simulator"
model = "gpt-image-1.5"
prompts = ["a red fox"]
[axes]
quality = {json.dumps(QUALITIES)}
size = {json.dumps(SIZES)}
[limits]
concurrency = 1
'''


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real 3x3 run through the runner on the simulator; the first request is refused (moderation)."""
    store = Store(tmp_path_factory.mktemp("home"))
    provider = make_simulator_provider({"time_scale": 0, "seed": 3, "faults": [{"kind": "moderation", "times": 1}]})
    summary = run_grid(loads_spec(SPEC), provider=provider, store=store, today=TODAY)
    rows = store.results(summary.run_id)
    assert summary.ok == 8 and summary.errors == 1
    return store, rows


class CountingLoader:
    """Thumbnails from the store, counting the calls (the composite never needs a full image)."""

    def __init__(self, store: Store) -> None:
        self.store, self.calls = store, []

    def __call__(self, sha256: str) -> bytes:
        self.calls.append(sha256)
        return self.store.thumbnail(sha256, CELL)


def png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(data)).convert("RGB")


def failed_coords(rows) -> dict:
    failed = rows[rows["status"] == "error"]
    assert len(failed) == 1
    return json.loads(failed.iloc[0]["coords"])


def box(g: Geometry, *, sub: int, col: int, row: int, rows_per_sub: int, x: bool = True, y: bool = True,
        z: bool = False, title: bool = False) -> tuple[int, int, int, int]:
    """A cell's image box, from the geometry documented on ``Geometry``."""
    sub_h = (g.z_header_h if z else 0) + (g.header_h if x else 0) + rows_per_sub * g.slot_h
    x0 = g.pad + (g.label_w if y else 0) + col * (g.cell_px + g.pad)
    y0 = (g.title_h if title else 0) + sub * sub_h + (g.z_header_h if z else 0) + (g.header_h if x else 0) \
        + row * g.slot_h + g.pad
    return x0, y0, x0 + g.cell_px, y0 + g.cell_px


def colours(im: Image.Image, area: tuple[int, int, int, int]) -> set:
    return {c for _, c in im.crop(area).getcolors(maxcolors=1 << 20)}


def is_failed(im: Image.Image, b: tuple[int, int, int, int], g: Geometry) -> bool:
    """The box's right inner margin (never text, inside the 1 px outline) is the failed cell's grey."""
    x0, y0, x1, y1 = b
    return colours(im, (x1 - g.pad + 2, y0 + 1, x1 - 1, y1 - 1)) == {FAILED}


def is_image(im: Image.Image, b: tuple[int, int, int, int]) -> bool:
    """The bottom middle of the box (images are bottom-aligned) holds many colours and no grey box."""
    x0, y0, x1, y1 = b
    found = colours(im, ((x0 + x1) // 2 - 16, y1 - 32, (x0 + x1) // 2 + 16, y1))
    return FAILED not in found and len(found) > 20


def test_a_3x3_run_makes_a_labelled_grid_of_the_layout_size(run):
    store, rows = run
    loader = CountingLoader(store)
    im = png(compose_grid(rows, loader, x="quality", y="size", z=None, cell_px=CELL))
    g = Geometry.for_cell(CELL)
    assert im.size == (g.pad + g.label_w + 3 * (CELL + g.pad), g.header_h + 3 * (CELL + g.text_h + g.pad) + g.pad)
    # one thumbnail per successful cell, nothing for the failed one
    assert sorted(loader.calls) == sorted(rows.loc[rows["status"] == "ok", "image_sha256"])
    bad = failed_coords(rows)
    for r, size in enumerate(SIZES):
        for c, quality in enumerate(QUALITIES):
            b = box(g, sub=0, col=c, row=r, rows_per_sub=3)
            if {"quality": quality, "size": size} == bad:
                assert is_failed(im, b, g) and not is_image(im, b)
            else:
                assert is_image(im, b) and not is_failed(im, b, g)
    # the label margins hold text (dark pixels), the gaps between cells do not
    first = box(g, sub=0, col=0, row=0, rows_per_sub=3)
    assert min(min(c) for c in colours(im, (g.pad, first[1], g.label_w, first[3]))) < 100  # "size = ..."
    assert min(min(c) for c in colours(im, (first[0], g.pad // 2, first[2], g.header_h))) < 100  # "quality = ..."
    gap = box(g, sub=0, col=1, row=0, rows_per_sub=3)
    assert colours(im, (gap[0] - g.pad + 1, gap[1], gap[0] - 1, gap[3])) == {(255, 255, 255)}


def test_a_title_adds_its_band_and_swapped_axes_transpose(run):
    store, rows = run
    g = Geometry.for_cell(CELL)
    plain = png(compose_grid(rows, CountingLoader(store), x="quality", y="size", z=None, cell_px=CELL))
    titled = png(compose_grid(rows, CountingLoader(store), x="quality", y="size", z=None, cell_px=CELL,
                              title="quality × size · 赤い狐"))
    context = title_block(records(rows), "quality × size · 赤い狐")[1:]
    assert titled.size == (plain.width, plain.height + g.title_h + len(context) * g.line_h)
    swapped = png(compose_grid(rows, CountingLoader(store), x="size", y="quality", z=None, cell_px=CELL))
    bad = failed_coords(rows)
    assert is_failed(swapped, box(g, sub=0, col=SIZES.index(bad["size"]), row=QUALITIES.index(bad["quality"]),
                                  rows_per_sub=3), g)


def test_z_stacks_one_sub_grid_per_value(run):
    store, rows = run
    g = Geometry.for_cell(CELL)
    im = png(compose_grid(rows, CountingLoader(store), x="size", y=None, z="quality", cell_px=CELL))
    sub_h = g.z_header_h + g.header_h + g.slot_h
    assert im.size == (g.pad + 3 * (CELL + g.pad), 3 * sub_h + g.pad)
    bad = failed_coords(rows)
    for s, quality in enumerate(QUALITIES):
        for c, size in enumerate(SIZES):
            b = box(g, sub=s, col=c, row=0, rows_per_sub=1, y=False, z=True)
            failed = {"quality": quality, "size": size} == bad
            assert is_failed(im, b, g) == failed and is_image(im, b) == (not failed)
        # each sub-grid's header band has its label (dark text) in it
        header = (g.pad, s * sub_h + g.pad, im.width - g.pad, s * sub_h + g.z_header_h)
        assert min(min(c) for c in colours(im, header)) < 100


def test_axes_not_named_become_sub_grids_and_the_spec_order_wins(run):
    store, rows = run
    g = Geometry.for_cell(CELL)
    im = png(compose_grid(rows, CountingLoader(store), x=None, y=None, z=None, cell_px=CELL))
    assert im.size == (g.pad + CELL + g.pad, 9 * (g.z_header_h + g.slot_h) + g.pad)  # 9 one-cell sub-grids
    reversed_q = png(compose_grid(rows, CountingLoader(store), x="quality", y="size", z=None, cell_px=CELL,
                                  axes={"quality": QUALITIES[::-1]}))
    bad = failed_coords(rows)
    assert is_failed(reversed_q, box(g, sub=0, col=2 - QUALITIES.index(bad["quality"]),
                                     row=SIZES.index(bad["size"]), rows_per_sub=3), g)


def solid_png(rgb=(200, 0, 0)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), rgb).save(buf, "PNG")
    return buf.getvalue()


def test_repeats_show_the_first_success_and_a_note():
    rows = [
        row(cell_id=0, repeat=0, status="error", error_kind="rate_limit", error_message="slow down",
            output_tokens=None, image_bytes=None, coords=coords(quality="low")),
        row(cell_id=0, repeat=1, image_sha256="a" * 64, coords=coords(quality="low"), cost_usd="0.0123"),
        row(cell_id=0, repeat=2, image_sha256="b" * 64, coords=coords(quality="low")),
    ]
    calls = []
    im = png(compose_grid(rows, lambda sha: calls.append(sha) or solid_png(), x="quality", y=None, z=None,
                          cell_px=CELL))
    assert calls == ["a" * 64]  # the first successful repeat, only
    g = Geometry.for_cell(CELL)
    x0, y0, x1, y1 = box(g, sub=0, col=0, row=0, rows_per_sub=1, y=False)
    assert colours(im, (x0 + 4, y1 - 20, x1 - 4, y1)) == {(200, 0, 0)}  # bottom-aligned 3:2 image
    lines = figure_lines(rows[1], extra_repeats=2, failed_repeats=1)
    assert lines == ["10.00 s · 976.6 KB PNG", "1,056 tok billed / 1,056 catalog",
                     "$0.0123 billed · simulated · +2 repeats (1 failed)"]


def test_figure_lines_label_measured_figures_without_simulated():
    r = row(simulated=0, latency_s=3.456, output_tokens=1200, documented_output_tokens=None, image_bytes=2048,
            image_path="images/x.jpg", cost_usd=str(Decimal("0.04")))
    assert figure_lines(r) == ["3.46 s · 2.0 KB JPEG", "1,200 tok billed / no catalog figure", "$0.0400 billed"]
    failed = row(status="error", latency_s=None, output_tokens=None, image_bytes=None, cost_usd=None)
    assert figure_lines(failed) == ["simulated"]


def test_a_missing_image_or_cell_is_drawn_not_raised():
    rows = [row(cell_id=0, image_sha256="c" * 64, coords=coords(size="1024x1024")),
            row(cell_id=1, status="cancelled", output_tokens=None, coords=coords(size="1536x1024"))]

    def gone(sha: str) -> bytes:
        raise FileNotFoundError(sha)

    im = png(compose_grid(rows, gone, x="size", y=None, z=None, cell_px=CELL))
    assert im.size[0] == Geometry.for_cell(CELL).pad + 2 * (CELL + Geometry.for_cell(CELL).pad)


def test_bad_arguments_name_the_problem(run):
    _, rows = run
    with pytest.raises(ValueError, match=r"axis 'model' is not in this grid\. Allowed: quality, size"):
        compose_grid(rows, bytes, x="model", y=None, z=None)
    with pytest.raises(ValueError, match="name one axis twice"):
        compose_grid(rows, bytes, x="size", y="size", z=None)
    with pytest.raises(ValueError, match="cell_px = 16 is out of range"):
        compose_grid(rows, bytes, x="size", y=None, z=None, cell_px=16)


def test_a_japanese_prompt_renders_as_glyphs_not_tofu():
    """The README's install provides Noto Sans CJK (Debian fonts-noto-cjk); without it this fails, never skips."""
    f = font(20)
    assert "CJK" in f.getname()[0], f"no CJK font found ({f.getname()}); install Debian's fonts-noto-cjk"
    # the detector works: PIL's own font has no Japanese glyphs, so it draws tofu
    assert missing_glyphs("赤い狐", ImageFont.load_default(size=20)) == "赤い狐"
    assert missing_glyphs("F1レーサーを躍動感あるように描いて。", f) == ""
    assert missing_glyphs("赤い\U000f0001狐", f) == "\U000f0001"


def test_the_title_block_carries_model_provider_date_prompt_and_simulated(run):
    store, rows = run
    lines = title_block(records(rows), "quality x size")
    assert lines[0] == "quality x size"
    day = str(rows["created_at"].iloc[0])[:10]
    assert lines[1] == f"gpt-image-1.5 · simulator · {day} (UTC) · figures SIMULATED (built-in simulator, not a real service)"
    assert lines[2:] == ["prompt: a red fox"]
    real = [dict(r, simulated=0, prompt=p) for r, p in zip(records(rows), ["a", "b", "c", "d", "e"] * 2, strict=False)]
    lines = title_block(real)
    assert "figures measured on a real service" in lines[1]
    assert lines[2:] == ["prompt 1: a", "prompt 2: b", "prompt 3: c  (+2 more)"]
    # a Japanese prompt in the composite's title is drawn with real glyphs
    jp = [dict(r, prompt="赤い狐が走る") for r in records(rows)]
    assert missing_glyphs(" ".join(title_block(jp, "赤い狐")), font(Geometry.for_cell(CELL).font_px)) == ""
    png(compose_grid(jp, CountingLoader(store), x="quality", y="size", z=None, cell_px=CELL, title="赤い狐"))


@pytest.mark.parametrize("status,shown", [
    ("documented", "1,056 documented"), ("derived", "1,056 derived"), ("assumed", "1,056 assumed"),
    ("measured (third party, 2026-09-16)", "1,056 measured (third party)"),
    ("measured (ours, n = 12)", "1,056 measured (ours, n = 12)"), (None, "1,056 catalog"),
])
def test_cell_lines_show_each_catalog_figures_real_status(status, shown):
    assert figure_lines(row(token_status=status))[1] == f"1,056 tok billed / {shown}"


def test_replayed_cells_and_title_say_where_from_never_simulated_or_measured():
    label = "replayed from 20261130-101010-abc123 (2026-11-30, openai)"
    lines = figure_lines(row(replayed_from=label, cost_usd="0.0123"))
    assert lines[-1] == f"$0.0123 billed · {label}" and "simulated" not in " ".join(lines)
    block = title_block([row(replayed_from=label), row(cell_id=1, replayed_from=label)])
    assert label in block[1] and "not measured" in block[1] and "SIMULATED" not in block[1]
    mixed = title_block([row(replayed_from=label), row(cell_id=1)])
    assert "replayed and other cells mixed" in mixed[1]
