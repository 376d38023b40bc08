"""Where result rows go in a grid: axis order, roles, sub-grids, grouping by cell; row value readers."""

from decimal import Decimal

import pandas as pd
import pytest

from imagegen.insight.gridlayout import (
    Layout,
    as_decimal,
    as_float,
    cell_key,
    coords_of,
    file_format,
    human_bytes,
    layout_for,
    rows_by_cell,
)
from tests.analytics_data import coords, row

ROWS = [row(cell_id=i, coords=coords(quality=q, size=s, output_format=f))
        for i, (f, s, q) in enumerate((f, s, q) for f in ("png", "jpeg") for s in ("1024x1024", "1536x1024")
                                      for q in ("medium", "low"))]


def test_values_keep_the_spec_order_then_the_order_they_appear_in():
    layout = layout_for(pd.DataFrame(ROWS), {"quality": ("low", "high")})
    assert layout.x == ("quality", ("low", "high", "medium"))  # the spec first, values only in rows after
    assert layout.y == ("size", ("1024x1024", "1536x1024"))
    assert layout.z == (("output_format", ("png", "jpeg")),)
    assert layout_for(ROWS).x == ("quality", ("medium", "low"))  # list of dicts, order of appearance


def test_expected_cells_add_values_without_rows():
    layout = layout_for([], expected=[{"quality": "low"}, {"quality": "high"}])
    assert layout == Layout(("quality", ("low", "high")), None, ())
    assert layout.xs == ("low", "high") and layout.ys == (None,) and layout.sub_grids() == [()]


def test_sub_grids_are_every_z_combination_first_axis_slowest():
    layout = Layout(None, None, (("a", (1, 2)), ("b", ("x", "y"))))
    assert layout.sub_grids() == [(("a", 1), ("b", "x")), (("a", 1), ("b", "y")), (("a", 2), ("b", "x")),
                                  (("a", 2), ("b", "y"))]
    assert layout.coords((("a", 2),), None, None) == {"a": 2}


def test_arranged_puts_axes_in_roles_and_keeps_the_rest_as_sub_grids():
    layout = layout_for(ROWS).arranged("size", None, "quality")
    assert layout.x == ("size", ("1024x1024", "1536x1024")) and layout.y is None
    assert [name for name, _ in layout.z] == ["quality", "output_format"]
    assert layout.names == ["size", "quality", "output_format"]
    assert layout.axes == {"size": ("1024x1024", "1536x1024"), "quality": ("medium", "low"),
                           "output_format": ("png", "jpeg")}
    with pytest.raises(ValueError, match="axis 'model' is not in this grid"):
        layout.arranged("model", None)


def test_rows_group_by_cell_on_the_layout_axes():
    layout = layout_for(ROWS)
    repeat = row(cell_id=0, repeat=1, coords=coords(quality="medium", size="1024x1024", output_format="png"))
    groups = rows_by_cell([*ROWS, repeat], layout)
    assert len(groups) == len(ROWS)
    cell = groups[cell_key({"quality": "medium", "size": "1024x1024", "output_format": "png"}, layout.names)]
    assert [r["repeat"] for r in cell] == [0, 1]


def test_row_value_readers():
    assert coords_of({"coords": '{"n": 2}'}) == {"n": 2} and coords_of({"coords": "not json"}) == {}
    assert coords_of({"coords": {"n": 1}}) == {"n": 1} and coords_of({"coords": None}) == {}
    assert as_float(float("nan")) is None and as_float("1.5") == 1.5 and as_float("x") is None
    assert as_decimal("0.0123") == Decimal("0.0123") and as_decimal(float("nan")) is None
    assert [human_bytes(v) for v in (None, 812, 2048, 3 * 1024 * 1024)] == ["—", "812 B", "2.0 KB", "3.0 MB"]
    assert file_format({"image_path": "a/b.jpg", "output_format": "jpeg"}) == "JPEG"
    assert file_format({"image_path": "", "output_format": "webp"}) == "WEBP"
