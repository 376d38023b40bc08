"""Where each result row of a run goes in its grid: X values are columns, Y values rows, the rest sub-grids.

Pure and shared by the Streamlit grid view (``ui/grid_view.py``) and the composite PNG
(:mod:`imagegen.insight.gridimage`), so both show the same cells in the same order. A row's place comes
from its ``coords`` column (JSON object: axis name -> value); axis values keep the spec's order
when it is known, else the order they first appear in. Also the small readers for result-row
values (NULL/NaN-safe numbers, decimals, byte counts) both views format figures with.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from imagegen.errors import LayoutError

#: One sub-grid's coordinates: ((axis, value), ...) for the Z axes, empty when there are none.
SubGrid = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Layout:
    """Axis names and their values in display order: x (columns), y (rows), then the sub-grid axes."""

    x: tuple[str, tuple] | None
    y: tuple[str, tuple] | None
    z: tuple[tuple[str, tuple], ...]

    @property
    def axes(self) -> dict[str, tuple]:
        """Every axis with its values, in x, y, z order."""
        return dict(a for a in (self.x, self.y, *self.z) if a is not None)

    @property
    def names(self) -> list[str]:
        """Every axis name, in x, y, z order."""
        return list(self.axes)

    @property
    def xs(self) -> tuple:
        """The column values (one ``None`` column when there is no X axis)."""
        return self.x[1] if self.x else (None,)

    @property
    def ys(self) -> tuple:
        """The row values (one ``None`` row when there is no Y axis)."""
        return self.y[1] if self.y else (None,)

    def sub_grids(self) -> list[SubGrid]:
        """Every combination of the Z axes' values, first axis slowest; ``[()]`` without Z axes."""
        combos: list[SubGrid] = [()]
        for name, values in self.z:
            combos = [(*zv, (name, v)) for zv in combos for v in values]
        return combos

    def coords(self, sub: SubGrid, x_value, y_value) -> dict:
        """The coordinates of the cell at (``x_value``, ``y_value``) of sub-grid ``sub``."""
        coords = dict(sub)
        if self.x:
            coords[self.x[0]] = x_value
        if self.y:
            coords[self.y[0]] = y_value
        return coords

    def arranged(self, x: str | None, y: str | None, z: str | Sequence[str] | None = None) -> Layout:
        """The same axes with ``x``/``y``/``z`` in those roles; axes not named become further sub-grid axes.

        Raises LayoutError (a ValueError) naming an axis the grid does not have, and the axes it has.
        """
        known = self.axes
        zs = [z] if isinstance(z, str) else list(z or ())
        wanted = [n for n in (x, y, *zs) if n is not None]
        unknown = [n for n in wanted if n not in known]
        if unknown:
            raise LayoutError(f"axis {unknown[0]!r} is not in this grid. Allowed: {', '.join(known) or 'none (one cell)'}. "
                             "Fix: pick one of the run's axes or None.")
        if len(set(wanted)) != len(wanted):
            raise LayoutError(f"axes {wanted} name one axis twice. Fix: give each axis one role (x, y or z).")
        rest = [n for n in known if n not in wanted]
        return Layout((x, known[x]) if x else None, (y, known[y]) if y else None,
                      tuple((n, known[n]) for n in [*zs, *rest]))


def coords_of(row: Mapping) -> dict:
    """The cell's coordinates (axis -> value) from a result row (``coords`` as JSON text or a dict)."""
    raw = row.get("coords")
    if isinstance(raw, dict):
        return raw
    try:
        return json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {}


def records(rows) -> list[dict]:
    """Result rows as a list of dicts, from a pandas DataFrame or any iterable of mappings."""
    if hasattr(rows, "to_dict"):
        return rows.to_dict("records")
    return [dict(r) for r in rows]


def layout_for(rows, axes: Mapping[str, Sequence] | None = None, expected: Sequence[dict] = ()) -> Layout:
    """Axis order and values: from ``axes`` (the spec, in X, Y, Z order) when given, else as they appear.

    ``rows`` is a DataFrame of ``result_rows`` or a list of row dicts; ``expected`` adds the
    coordinates of cells that have no row yet (a run in progress).
    """
    found: dict[str, list] = {}
    for coords in [*expected, *(coords_of(r) for r in records(rows))]:
        for name, value in coords.items():
            values = found.setdefault(name, [])
            if value not in values:
                values.append(value)
    order: dict[str, tuple] = {}
    for name, values in (axes or {}).items():
        extra = [v for v in found.get(name, []) if v not in values]
        order[name] = tuple(values) + tuple(extra)
    for name, values in found.items():
        order.setdefault(name, tuple(values))
    items = list(order.items())
    return Layout(items[0] if items else None, items[1] if len(items) > 1 else None, tuple(items[2:]))


def cell_key(coords: Mapping, names: Sequence[str]) -> tuple:
    """A hashable key of a cell's coordinates on ``names`` (values compared as JSON)."""
    return tuple(json.dumps(coords.get(n), sort_keys=True, default=str) for n in names)


def rows_by_cell(rows: Iterable[Mapping], layout: Layout) -> dict[tuple, list[dict]]:
    """Row dicts grouped by their cell (``cell_key`` on the layout's axes), in their given order."""
    names = layout.names
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault(cell_key(coords_of(r), names), []).append(dict(r))
    return out


# -- reading result-row values ---------------------------------------------------------------------


def as_float(value) -> float | None:
    """A number from a row value; None for NULL, NaN or text that is not a number."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def as_decimal(value) -> Decimal | None:
    """An exact Decimal from a money column (decimal text); None for NULL/NaN/garbage."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def human_bytes(n) -> str:
    """A byte count as ``812 B``, ``35.2 KB`` or ``1.4 MB``; ``—`` when unknown."""
    n = as_float(n)
    if n is None:
        return "—"
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} MB"


def file_format(row: Mapping) -> str:
    """The stored file's real type (``PNG``, ``JPEG``, ...) from its path, else the requested format."""
    ext = str(row.get("image_path") or "").rsplit(".", 1)[-1].lower() or str(row.get("output_format"))
    return {"jpg": "JPEG"}.get(ext, ext.upper())
