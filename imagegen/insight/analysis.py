"""Analytics over stored results: SQL aggregation over the ``result_rows`` view into tidy frames.

Nothing here loads every row on a rerun. A store of 100,000 results reduces to:

- :func:`cell_frame`: one ``GROUP BY`` scan of the whole store, sums and counts per cell x
  resolved quality/size (grouped in the results table's index order, so SQLite aggregates while
  scanning instead of sorting; split in two queries that run on two cores). Its size is bounded by the number of cells, not results, and it
  changes only when the store does (cache it on the store's version). Every filter of a
  :class:`Selection` (provider, model, run, dates, simulated) is a column of it, so
  :func:`summary_from_cells` filters and regroups it per *setting* in pandas.
- :func:`latency_sample`: at most ``QUANTILE_SAMPLE`` results of the selection (every k-th by
  ``result_id``; all of them when the selection is smaller), with their latency and tokens. The
  latency quantiles come from it (exact when k is 1; the table says which) and so do the
  scatter's points.

The chart frames (:func:`token_deviation`, :func:`cost_per_image`, ...) are pure pandas over the
per-setting summary, testable on synthetic data.

``query`` arguments are any ``query(sql, params) -> DataFrame`` over a database with a
``result_rows`` table or view (``Store.query`` in the app; an in-memory SQLite in tests).
Only successful results count (``status = 'ok'``). Results reused from history are left out:
they repeat an earlier result and were not paid again.

Money: the chart aggregates sum costs as SQL REALs (floating point), which is exact far beyond the
4 decimal places the charts show; they are for plotting only. Figures that feed a budget are exact
``Decimal``: :func:`measured_costs` (the planner), the store's run totals and the exports.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from imagegen.core.catalog import PROVIDER_FLAVOUR

QueryFn = Callable[[str, Sequence], pd.DataFrame]

#: The request settings a result is grouped by (one group = one "setting"). ``latency_scale`` (measured,
#: or the simulator's time scale / fixed latency) is part of it so no statistic pools different clocks.
SETTING_COLUMNS = (
    "provider", "model", "quality", "resolved_quality", "size", "resolved_size", "output_format",
    "output_compression", "background", "moderation", "n", "stream", "partial_images", "complexity",
    "latency_scale",
)
#: Columns of a cell that are the same for all its results (the request it sends).
CELL_COLUMNS = tuple(c for c in SETTING_COLUMNS if not c.startswith("resolved_") and c != "latency_scale")
#: The key of :func:`cell_frame` rows (a resumed run may answer one cell at two time scales).
CELL_KEYS = ("run_id", "cell_id", "latency_scale", "resolved_quality", "resolved_size")
#: Always part of a setting's label; other setting columns join the label only when they vary.
LABEL_CORE = ("model", "quality", "size")
#: Additive columns of a summary (re-grouping sums them).
SUM_COLUMNS = (
    "rows", "images", "simulated_rows", "tokens_sum", "tokens_n", "documented_sum", "documented_n",
    "cost_sum", "cost_n", "cost_text_input_sum", "cost_image_input_sum", "cost_image_output_sum",
    "cost_text_output_sum", "estimated_sum", "estimated_min_sum", "estimated_n",
    "latency_sum", "latency_n", "fit_n", "sx", "sy", "sxx", "sxy", "syy", "first_partial_sum", "first_partial_n",
    "final_streamed_sum", "bytes_sum", "bytes_images", "rating_sum", "rating_n", "modelled_sum", "modelled_n",
)
MINMAX_COLUMNS = {"tokens_min": "min", "tokens_max": "max", "latency_min": "min", "latency_max": "max"}
#: A token count differing from the documented one by more than this share is highlighted.
DEVIATION_TOLERANCE = 0.005
#: Latency quantiles are exact up to this many results; above, they come from a sample this big.
QUANTILE_SAMPLE = 20_000
#: Points drawn in the latency vs tokens scatter, at most.
SCATTER_POINTS = 2000
#: The store scan is split into this many queries run side by side (one per core, up to 2).
PARALLEL_QUERIES = min(2, os.cpu_count() or 1)
#: Nearest-rank quantiles shown for latency (percent).
QUANTILES = {"q1_s": 25, "p50_s": 50, "q3_s": 75, "p95_s": 95}


@dataclass(frozen=True)
class Selection:
    """Which results to analyse. Empty tuples mean "all".

    ``since``/``until`` (inclusive, UTC) pick runs by the day they started; ``simulated`` picks
    simulator results (True), real ones (False) or both (None); ``replayed`` picks results served from
    a recording (True), leaves them out (False) or does not look (None).
    """

    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    simulated: bool | None = None
    replayed: bool | None = None

    def mask(self, cells: pd.DataFrame) -> pd.Series:
        """Which rows of a :func:`cell_frame` the selection keeps."""
        keep = pd.Series(True, index=cells.index)
        for column, values in (("provider", self.providers), ("model", self.models), ("run_id", self.run_ids)):
            if values:
                keep &= cells[column].isin(values)
        if self.since is not None:
            keep &= cells["run_day"] >= self.since.isoformat()
        if self.until is not None:
            keep &= cells["run_day"] <= self.until.isoformat()
        if self.simulated is True:
            keep &= cells["simulated_rows"] > 0
        elif self.simulated is False:
            keep &= cells["simulated_rows"] < cells["rows"]
        if self.replayed is not None and "figures" in cells.columns:
            replayed = cells["figures"].astype(str).str.startswith(REPLAYED_PREFIX)
            keep &= replayed if self.replayed else ~replayed
        return keep


#: Which clock a result's latency is on: the store view's ``latency_scale`` (measured, or the simulator's
#: time scale / fixed latency), except that a result served from a recording is on that recording's clock
#: ("replayed from <run> (<date>, <provider>)", with the time scale it was served at): replayed figures are
#: never pooled with simulated or measured ones in any statistic.
SCALE_SQL = ("(CASE WHEN replayed_from IS NOT NULL THEN replayed_from || COALESCE(', time scale ' || sim_time_scale, '')"
             " ELSE latency_scale END)")
REPLAYED_PREFIX = "replayed from "

_CELL_SQL = f"""
SELECT run_id, cell_id, {SCALE_SQL} AS latency_scale, {{resolved}},
  {", ".join(CELL_COLUMNS)}, MIN(token_status) AS token_status, run_name, MIN(created_at) AS first_at,
  COUNT(*) AS rows, SUM(COALESCE(simulated, 0)) AS simulated_rows,
  SUM(output_tokens - COALESCE(output_text_tokens, 0)) AS tokens_sum, COUNT(output_tokens) AS tokens_n,
  MIN(output_tokens - COALESCE(output_text_tokens, 0)) AS tokens_min,
  MAX(output_tokens - COALESCE(output_text_tokens, 0)) AS tokens_max,
  SUM(documented_output_tokens) AS documented_sum, COUNT(documented_output_tokens) AS documented_n,
  SUM(CAST(cost_usd AS REAL)) AS cost_sum, COUNT(cost_usd) AS cost_n,
  SUM(CAST(cost_text_input_usd AS REAL)) AS cost_text_input_sum,
  SUM(CAST(cost_image_input_usd AS REAL)) AS cost_image_input_sum,
  SUM(CAST(cost_image_output_usd AS REAL)) AS cost_image_output_sum,
  SUM(CAST(cost_text_output_usd AS REAL)) AS cost_text_output_sum,
  MAX(CAST(estimated_cost_usd AS REAL)) AS estimated_cell,
  MAX(CAST(COALESCE(estimated_cost_min_usd, estimated_cost_usd) AS REAL)) AS estimated_min_cell,
  COUNT(estimated_cost_usd) AS estimated_n,
  SUM(latency_s) AS latency_sum, COUNT(latency_s) AS latency_n,
  SUM(modelled_latency_s) AS modelled_sum, COUNT(modelled_latency_s) AS modelled_n,
  MIN(latency_s) AS latency_min, MAX(latency_s) AS latency_max,
  COUNT(output_tokens * latency_s) AS fit_n,
  SUM(CASE WHEN latency_s IS NOT NULL THEN output_tokens END) AS sx,
  SUM(CASE WHEN output_tokens IS NOT NULL THEN latency_s END) AS sy,
  SUM(CASE WHEN latency_s IS NOT NULL THEN 1.0 * output_tokens * output_tokens END) AS sxx,
  SUM(output_tokens * latency_s) AS sxy,
  SUM(CASE WHEN output_tokens IS NOT NULL THEN latency_s * latency_s END) AS syy,
  SUM(first_partial_s) AS first_partial_sum, COUNT(first_partial_s) AS first_partial_n,
  SUM(CASE WHEN first_partial_s IS NOT NULL THEN latency_s END) AS final_streamed_sum,
  SUM(image_bytes) AS bytes_sum, COUNT(image_bytes) AS bytes_images,
  SUM(rating) AS rating_sum, COUNT(rating) AS rating_n
FROM result_rows
WHERE status = 'ok' AND COALESCE(reused, 0) = 0{{runs}}{{part}}
GROUP BY {{group}}
"""
# Pass 1 groups by (run_id, cell_id) only: the results table's (run_id, cell_id, repeat) index
# gives that order, so SQLite aggregates while scanning instead of sorting 100,000 wide rows.
_RESOLVED_RANGE = ("MIN(resolved_quality) AS resolved_quality, MAX(resolved_quality) AS rq_max, "
                   "COUNT(resolved_quality) AS rq_n, MIN(resolved_size) AS resolved_size, "
                   "MAX(resolved_size) AS rs_max, COUNT(resolved_size) AS rs_n")
_CELL_NUMERIC = (
    "rows", "simulated_rows", "tokens_sum", "tokens_n", "documented_sum", "documented_n", "cost_sum", "cost_n",
    "cost_text_input_sum", "cost_image_input_sum", "cost_image_output_sum", "cost_text_output_sum",
    "estimated_cell", "estimated_min_cell", "estimated_n", "latency_sum", "latency_n", "fit_n", "sx", "sy", "sxx",
    "sxy", "syy", "first_partial_sum", "first_partial_n", "final_streamed_sum", "bytes_sum", "bytes_images",
    "rating_sum", "rating_n", "modelled_sum", "modelled_n",
)


def _frame(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Make sure an empty result still has its columns (pandas drops them for empty reads)."""
    for col in columns:
        if col not in df.columns:
            df[col] = pd.Series(dtype="float64")
    return df


def _cell_query(query: QueryFn, resolved: str, group: str, runs: Sequence[str] = (), parts: int = 1) -> pd.DataFrame:
    """Run the cell aggregate, split into ``parts`` queries by ``cell_id % parts`` run side by side.

    SQLite releases the GIL while it steps, so two read connections use two cores; the split
    is on a column of the scanned table, so each query only joins and aggregates its share.
    """
    runs_sql = f" AND run_id IN ({', '.join('?' for _ in runs)})" if runs else ""

    def one(k: int) -> pd.DataFrame:
        part_sql = " AND cell_id % ? = ?" if parts > 1 else ""
        params = (*runs, *((parts, k) if parts > 1 else ()))
        return query(_CELL_SQL.format(resolved=resolved, runs=runs_sql, part=part_sql,
                                      group=group.replace("latency_scale", SCALE_SQL)), params)

    if parts <= 1:
        return one(0)
    with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="analytics") as pool:
        frames = [f for f in pool.map(one, range(parts)) if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else one(0)


def cell_frame(query: QueryFn, parts: int = PARALLEL_QUERIES) -> pd.DataFrame:
    """Sums and counts of every successful, non-reused result per cell x resolved quality/size.

    One scan of the store grouped per cell (in ``parts`` parallel slices); cells whose results
    resolved to more than one quality or size (``auto``) are read again per resolved value,
    from their runs only. Adds ``run_day`` (the UTC day the run's first result arrived) for the
    date filter.
    """
    columns = (*CELL_KEYS, *CELL_COLUMNS, "token_status", "run_name", "first_at", *_CELL_NUMERIC, *MINMAX_COLUMNS)
    df = _frame(_cell_query(query, _RESOLVED_RANGE, "run_id, cell_id, latency_scale", parts=parts),
                (*columns, "rq_max", "rq_n", "rs_max", "rs_n"))
    rows = pd.to_numeric(df["rows"], errors="coerce")
    mixed = ((df["resolved_quality"] != df["rq_max"]) & df["rq_max"].notna()) \
        | ((df["resolved_size"] != df["rs_max"]) & df["rs_max"].notna()) \
        | ((df["rq_n"] > 0) & (df["rq_n"] < rows)) | ((df["rs_n"] > 0) & (df["rs_n"] < rows))
    df = df.drop(columns=["rq_max", "rq_n", "rs_max", "rs_n"])
    if mixed.any():
        runs = sorted(set(df.loc[mixed, "run_id"]))
        split = _frame(_cell_query(query, "resolved_quality, resolved_size",
                                   "run_id, cell_id, latency_scale, resolved_quality, resolved_size", runs), columns)
        split = split.merge(df.loc[mixed, ["run_id", "cell_id", "latency_scale"]],
                            on=["run_id", "cell_id", "latency_scale"], how="inner")
        df = pd.concat([df[~mixed], split[df.columns]], ignore_index=True)
    for col in _CELL_NUMERIC:
        df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0.0)
    for col in ("output_compression", "n", "stream", "partial_images"):
        df[col] = pd.to_numeric(df[col], errors="coerce")  # one dtype, NaN for missing, however many slices
    df["run_day"] = df.groupby("run_id")["first_at"].transform("min").astype("string").str.slice(0, 10)
    df["figures"] = figures_of(df["latency_scale"])
    return df.reset_index(drop=True)


def figures_of(scales: pd.Series) -> list[str]:
    """What each row's figures are, from its clock (``latency_scale``): ``measured``, ``simulated`` or
    ``replayed from <run> (<date>, <provider>)`` (never "measured", never pooled with the others)."""
    out = []
    for scale in scales.tolist():
        text = "" if scale is None or (isinstance(scale, float) and math.isnan(scale)) else str(scale)
        if text == "measured":
            out.append("measured")
        elif text.startswith(REPLAYED_PREFIX):
            out.append(text.split(", time scale ")[0])
        else:
            out.append("simulated")
    return out


def _per_image(cells: pd.DataFrame) -> pd.DataFrame:
    """Cell rows with money per image (a cell's n is fixed) and the estimate summed over its results."""
    out = cells.copy()
    n = pd.to_numeric(out["n"], errors="coerce").fillna(1).clip(lower=1)
    out["images"] = out["rows"] * n
    for col in ("cost_sum", "cost_text_input_sum", "cost_image_input_sum", "cost_image_output_sum",
                "cost_text_output_sum"):
        out[col] = out[col] / n
    out["estimated_sum"] = out["estimated_cell"] / n * out["estimated_n"]
    out["estimated_min_sum"] = out["estimated_min_cell"] / n * out["estimated_n"]
    return out


def summary_from_cells(cells: pd.DataFrame, selection: Selection = Selection()) -> pd.DataFrame:
    """One row per setting in the selection: sums, counts, minima and maxima (``SUM_COLUMNS``).

    Each ``*_sum`` has a matching count; money sums are per image (divided by ``n``).
    """
    picked = cells[selection.mask(cells)] if not cells.empty else cells
    if picked.empty:
        return _frame(pd.DataFrame(), (*SETTING_COLUMNS, "figures", "token_status", *SUM_COLUMNS, *MINMAX_COLUMNS))
    out = _regroup(_per_image(picked), SETTING_COLUMNS)
    out["figures"] = figures_of(out["latency_scale"])
    return out


def summary(query: QueryFn, selection: Selection = Selection()) -> pd.DataFrame:
    """:func:`summary_from_cells` straight from the store (one scan)."""
    return summary_from_cells(cell_frame(query), selection)


def run_options(cells: pd.DataFrame) -> pd.DataFrame:
    """Runs present, newest first: run_id, run_name, run_day, models (comma-joined), results, simulated."""
    cols = ["run_id", "run_name", "run_day", "models", "results", "simulated"]
    if cells.empty:
        return pd.DataFrame(columns=cols)
    out = cells.groupby("run_id", sort=False).agg(
        run_name=("run_name", "first"), run_day=("run_day", "first"),
        models=("model", lambda m: ", ".join(sorted(set(map(str, m))))), results=("rows", "sum"),
        simulated=("simulated_rows", "sum"),
    ).reset_index()
    # store run ids start with their UTC creation time, so they sort newest first
    return out.sort_values("run_id", ascending=False)[cols].reset_index(drop=True)


def filter_options(cells: pd.DataFrame) -> pd.DataFrame:
    """Providers x models present, with their first and last run day, result count and simulated count."""
    cols = ["provider", "model", "first_day", "last_day", "results", "simulated"]
    if cells.empty:
        return pd.DataFrame(columns=cols)
    out = cells.groupby(["provider", "model"], dropna=False, sort=True).agg(
        first_day=("run_day", "min"), last_day=("run_day", "max"), results=("rows", "sum"),
        simulated=("simulated_rows", "sum"),
    ).reset_index()
    return out[cols]


# --- labels and provenance -------------------------------------------------------------------

def quality_rank() -> dict[str, int]:
    """Qualities in the catalog's order (low, medium, high, xhigh, max), merged over every model's list."""
    from imagegen.core.catalog import default_catalog

    order: list[str] = []
    for spec in default_catalog().models.values():
        for q in spec.qualities:
            if q not in order:
                order.append(q)
    return {q: i for i, q in enumerate(order)}


def _area(size) -> float:
    """Pixels of a ``WIDTHxHEIGHT`` size (inf for auto or anything unparsed, so those sort last)."""
    try:
        w, h = str(size).lower().split("x")
        return float(int(w) * int(h))
    except (ValueError, AttributeError):
        return math.inf


def catalog_order(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted the catalog's way: model, then quality (low → max; auto by what it resolved to, after
    the explicit one), then size by area, then the remaining setting columns; never alphabetically by quality."""
    if frame.empty or "model" not in frame.columns:
        return frame
    ranks = quality_rank()
    n = len(frame)

    def col(name: str) -> list:
        return frame[name].tolist() if name in frame.columns else [None] * n

    quality, rquality, size, rsize = col("quality"), col("resolved_quality"), col("size"), col("resolved_size")
    keys = []
    for i in range(n):
        q = rquality[i] if quality[i] == "auto" and not _missing(rquality[i]) else quality[i]
        s = rsize[i] if size[i] == "auto" and not _missing(rsize[i]) else size[i]
        keys.append((ranks.get(str(q), len(ranks)), int(quality[i] == "auto"), _area(s), int(size[i] == "auto")))
    rest = [c for c in SETTING_COLUMNS if c in frame.columns and c not in ("model", "quality", "resolved_quality",
                                                                              "size", "resolved_size")]
    tmp = frame.assign(_q=[k[0] for k in keys], _qa=[k[1] for k in keys], _a=[k[2] for k in keys],
                       _sa=[k[3] for k in keys])
    by = ["model", "_q", "_qa", "_a", "_sa", *rest]
    tmp = tmp.sort_values(by, kind="stable", na_position="last", key=lambda c: c.map(str) if c.dtype == object
                          else c)
    return tmp.drop(columns=["_q", "_qa", "_a", "_sa"])


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _resolved(requested, resolved) -> str:
    """``auto`` shown as what it resolved to: ``auto→high``."""
    requested = None if _missing(requested) else requested
    resolved = None if _missing(resolved) else resolved
    if requested == "auto" and resolved and resolved != "auto":
        return f"auto→{resolved}"
    return str(requested if requested is not None else resolved or "?")


def _value(col: str, value) -> str:
    """One setting value as a label part ("" for a missing value)."""
    if _missing(value):
        return ""
    if col == "output_compression":
        return f"c{int(value)}"
    if col == "n":
        return f"n={int(value)}"
    if col == "stream":
        return "stream" if int(value) else ""
    if col == "partial_images":
        return f"{int(value)} partial" if int(value) else ""
    if col == "moderation":
        return f"moderation {value}"
    if col == "background":
        return f"bg {value}"
    return str(value)


def setting_labels(frame: pd.DataFrame, columns: Sequence[str] = SETTING_COLUMNS) -> pd.Series:
    """A short readable label per row: model, quality and size, plus any other column that varies.

    ``auto`` quality/size show what they resolved to (``auto→high``).
    """
    if frame.empty:
        return pd.Series([], dtype="object", index=frame.index)
    n = len(frame)
    parts: list[list[str]] = [frame["model"].map(str).tolist() if "model" in frame.columns else [""] * n]
    for col in ("quality", "size"):
        if col in frame.columns:
            resolved = frame[f"resolved_{col}"] if f"resolved_{col}" in frame.columns else [None] * n
            parts.append([_resolved(a, b) for a, b in zip(frame[col], resolved)])
    for col in columns:
        if col in frame.columns and col not in LABEL_CORE and not col.startswith("resolved_") \
                and frame[col].nunique(dropna=False) > 1:
            parts.append([_value(col, v) for v in frame[col]])
    labels = [" · ".join(p for p in row if p) for row in zip(*parts)]
    return pd.Series(labels, index=frame.index, dtype="object")


def provenance(frame: pd.DataFrame) -> str:
    """``simulated`` when every row came from the simulator, ``measured`` when none did, ``replayed from …``
    for results served from a recording; several kinds are joined with " + " (each row says which)."""
    if frame.empty or "rows" not in frame.columns:
        return "measured"
    if "figures" in frame.columns or "latency_scale" in frame.columns:
        kinds = list(dict.fromkeys(row_provenance(frame)))
        return " + ".join(sorted(kinds, key=lambda k: (k != "measured", k != "simulated", k)))
    simulated = float(frame["simulated_rows"].sum())
    total = float(frame["rows"].sum())
    if simulated <= 0:
        return "measured"
    if simulated >= total:
        return "simulated"
    return "measured + simulated"


def row_provenance(frame: pd.DataFrame) -> list[str]:
    """:func:`provenance` of each row on its own (vectorised)."""
    if frame.empty:
        return []
    if "figures" in frame.columns:
        return frame["figures"].tolist()
    if "latency_scale" in frame.columns:  # grouped by clock: the clock says what the figures are
        return figures_of(frame["latency_scale"])
    sim = frame["simulated_rows"].astype(float).to_numpy()
    rows = frame["rows"].astype(float).to_numpy()
    return np.select([sim <= 0, sim >= rows], ["measured", "simulated"], "measured + simulated").tolist()


def _regroup(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Re-aggregate summary-like rows over ``keys`` (sums add; minima/maxima combine; catalog statuses join)."""
    keys = [k for k in keys if k != "figures" or "figures" in frame.columns]
    if frame.empty:
        return _frame(frame.iloc[0:0][[c for c in keys if c in frame.columns]].copy(),
                      (*keys, *SUM_COLUMNS, *MINMAX_COLUMNS))
    agg: dict = {c: "sum" for c in SUM_COLUMNS if c in frame.columns}
    agg.update({c: how for c, how in MINMAX_COLUMNS.items() if c in frame.columns})
    grouped = frame.groupby(list(keys), dropna=False, sort=True)
    out = grouped.agg(agg).reset_index()
    if "token_status" in frame.columns and "token_status" not in keys:
        # apart from the sums: a Python aggregate among them would push pandas onto its slow path for all
        out["token_status"] = grouped["token_status"].agg(_statuses).to_numpy()
    return out


def _statuses(values: pd.Series) -> str | None:
    """The catalog statuses of a group's figures, each once ("derived", "assumed / measured (ours, n = 3)")."""
    found = sorted({str(v) for v in values.dropna() if str(v)})
    return " / ".join(found) if found else None


def _div(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise a / b with NaN where b is 0."""
    b = b.astype(float)
    return a.astype(float) / b.where(b != 0)


# --- derived tidy frames (pure) ----------------------------------------------------------------

TOKEN_KEYS = ("model", "quality", "resolved_quality", "size", "resolved_size", "n", "partial_images", "figures")


def token_deviation(frame: pd.DataFrame, tolerance: float = DEVIATION_TOLERANCE) -> pd.DataFrame:
    """Measured output tokens per request next to the documented figure, per model x quality x size.

    Columns: setting, model, quality, size (``auto→x`` where auto was requested), results,
    measured_tokens (mean), measured_min, measured_max, documented_tokens, deviation (tokens),
    deviation_pct, deviates (|deviation_pct| > tolerance), provenance.
    """
    cols = ["setting", "model", "quality", "size", "results", "measured_tokens", "measured_min", "measured_max",
            "documented_tokens", "token_status", "deviation", "deviation_pct", "deviates", "provenance"]
    g = _regroup(frame[frame["tokens_n"] > 0] if not frame.empty else frame, TOKEN_KEYS)
    if g.empty:
        return pd.DataFrame(columns=cols)
    g = catalog_order(g).reset_index(drop=True)
    out = pd.DataFrame({
        "setting": setting_labels(g, TOKEN_KEYS),
        "model": g["model"],
        "quality": [_resolved(q, r) for q, r in zip(g["quality"], g["resolved_quality"])],
        "size": [_resolved(s, r) for s, r in zip(g["size"], g["resolved_size"])],
        "results": g["tokens_n"].astype(int),
        "measured_tokens": _div(g["tokens_sum"], g["tokens_n"]),
        "measured_min": g["tokens_min"].astype(float),
        "measured_max": g["tokens_max"].astype(float),
        "documented_tokens": _div(g["documented_sum"], g["documented_n"]),
        # how the catalog figure is known, per setting (documented / derived / measured (by whom) / assumed)
        "token_status": g["token_status"].tolist() if "token_status" in g.columns else [None] * len(g),
    })
    out["deviation"] = out["measured_tokens"] - out["documented_tokens"]
    out["deviation_pct"] = _div(out["deviation"], out["documented_tokens"]) * 100
    out["deviates"] = (out["deviation_pct"].abs() > tolerance * 100).fillna(False).astype(bool)
    out["provenance"] = row_provenance(g)
    return out[cols].reset_index(drop=True)


COST_PARTS = {
    "cost_text_input_sum": "text input",
    "cost_image_input_sum": "image input",
    "cost_image_output_sum": "image output",
    "cost_text_output_sum": "text output",
}


def cost_per_image(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean cost per image per setting: billed (split by token type) and estimated (min..max), USD.

    Columns: setting, images, billed_results, billed_usd, text_input_usd, image_input_usd,
    image_output_usd, text_output_usd, estimated_usd (the estimate's maximum), estimated_min_usd,
    billed_minus_estimated_usd, provenance.
    """
    cols = ["setting", "images", "billed_results", "billed_usd", "text_input_usd", "image_input_usd",
            "image_output_usd", "text_output_usd", "estimated_usd", "estimated_min_usd",
            "billed_minus_estimated_usd", "provenance"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    frame = catalog_order(frame).reset_index(drop=True)
    out = pd.DataFrame({"setting": setting_labels(frame), "images": frame["images"].astype(int),
                        "billed_results": frame["cost_n"].astype(int)})
    out["billed_usd"] = _div(frame["cost_sum"], frame["cost_n"])
    for src, name in COST_PARTS.items():
        out[name.replace(" ", "_") + "_usd"] = _div(frame[src], frame["cost_n"])
    out["estimated_usd"] = _div(frame["estimated_sum"], frame["estimated_n"])
    out["estimated_min_usd"] = _div(frame["estimated_min_sum"], frame["estimated_n"])
    out["billed_minus_estimated_usd"] = out["billed_usd"] - out["estimated_usd"]
    out["provenance"] = row_provenance(frame)
    return out[cols].reset_index(drop=True)


def latency_fit(frame: pd.DataFrame) -> pd.DataFrame:
    """Least-squares ``latency = overhead + tokens / rate`` per model, from the summary's sums.

    Columns: model, results, tokens_per_s (rate; NaN when the tokens do not vary or the slope is
    not positive), overhead_s (intercept), slope_s_per_token, r2, provenance.
    """
    cols = ["model", "latency_scale", "results", "tokens_per_s", "overhead_s", "slope_s_per_token", "r2",
            "provenance"]
    g = _regroup(frame, ("model", "latency_scale"))
    if g.empty:
        return pd.DataFrame(columns=cols)
    n, sx, sy, sxx, sxy, syy = (g[c].astype(float) for c in ("fit_n", "sx", "sy", "sxx", "sxy", "syy"))
    var_x = n * sxx - sx * sx
    var_y = n * syy - sy * sy
    # relative threshold: sums of squares of identical token counts cancel only up to rounding
    flat = var_x.abs() <= 1e-9 * (n * sxx).abs()
    slope = ((n * sxy - sx * sy) / var_x).where(~flat)
    intercept = ((sy - slope * sx) / n).where(n > 0)
    r2 = ((n * sxy - sx * sy) ** 2 / (var_x * var_y)).where(~flat & (var_y > 0))
    out = pd.DataFrame({
        "model": g["model"], "latency_scale": g["latency_scale"], "results": n.astype(int),
        "tokens_per_s": (1 / slope).where(slope > 0),
        "overhead_s": intercept, "slope_s_per_token": slope, "r2": r2,
        "provenance": row_provenance(g),
    })
    return out[cols].reset_index(drop=True)


# --- latency: quantiles and scatter from a bounded sample ---------------------------------------

def _rank(percent: int, n):
    """ceil(percent/100 * n) in integers (no float rounding), at least 1: the nearest rank."""
    return np.maximum(1, (percent * np.asarray(n) + 99) // 100)


def nearest_rank(values: Sequence[float], percent: int) -> float:
    """The nearest-rank percentile: the value at rank ceil(percent/100 * n) (1-based) of the sorted values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return float(ordered[int(_rank(percent, len(ordered))) - 1])


def latency_sample(query: QueryFn, cells: pd.DataFrame, limit: int = QUANTILE_SAMPLE) -> pd.DataFrame:
    """Up to ``limit`` results of the selected ``cells`` with their cell key, latency and output tokens.

    ``cells`` is a :func:`cell_frame` already filtered by the selection. Every k-th ``result_id``
    (k = 1 when the cells hold at most ``limit`` results, so the sample is then all of them);
    ``attrs["stride"]`` is k. Filtering on ``result_id`` first keeps the view's joins to the sample.
    """
    cols = (*CELL_KEYS, "latency_s", "output_tokens")
    total = int(cells["latency_n"].sum()) if not cells.empty else 0
    if total == 0:
        df = _frame(pd.DataFrame(), cols)
        df.attrs["stride"] = 1
        return df
    stride = max(1, math.ceil(total / max(1, limit)))
    runs = sorted(set(cells["run_id"]))
    select = ", ".join(f"{SCALE_SQL} AS latency_scale" if c == "latency_scale" else c for c in cols)
    sql = (f"SELECT {select} FROM result_rows WHERE result_id % ? = 0 AND status = 'ok' "
           f"AND COALESCE(reused, 0) = 0 AND latency_s IS NOT NULL AND run_id IN ({', '.join('?' for _ in runs)})")
    df = _frame(query(sql, (stride, *runs)), cols)
    # keep only rows of the selected cells (a run may hold cells the selection leaves out)
    df = df.merge(cells[list(CELL_KEYS)], on=list(CELL_KEYS), how="inner")
    df.attrs["stride"] = stride
    return df


def _with_settings(sample: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Sample rows with their setting columns and simulated flag (from the cell frame)."""
    info = cells[[*CELL_KEYS, *CELL_COLUMNS, "simulated_rows", "rows"]]
    out = sample.merge(info, on=list(CELL_KEYS), how="inner")
    out["simulated"] = (out["simulated_rows"] >= out["rows"]).astype(int)
    return out.drop(columns=["simulated_rows", "rows"])


def latency_quantiles(sample: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Nearest-rank latency quantiles per setting from :func:`latency_sample` (exact when its stride is 1).

    ``cells`` are the selected cells. Columns: the setting columns, rows (results in the
    selection), simulated_rows, min_s, q1_s, p50_s, q3_s, p95_s, max_s, mean_s, method (``exact``
    or ``sample of N (1 in k results)``). Min, max and mean are exact (cell sums) either way.
    """
    cols = (*SETTING_COLUMNS, "rows", "simulated_rows", "min_s", *QUANTILES, "max_s", "mean_s",
            "modelled_mean_s", "method")
    if sample.empty:
        return _frame(pd.DataFrame(), cols)
    stride = int(sample.attrs.get("stride", 1))
    s = _with_settings(sample, cells)
    groups = s.groupby(list(SETTING_COLUMNS), dropna=False, sort=True)
    codes = groups.ngroup().to_numpy()
    latency = s["latency_s"].to_numpy(dtype=float)
    order = np.lexsort((latency, codes))
    ordered = latency[order]
    counts = np.bincount(codes)
    starts = np.cumsum(counts) - counts
    out = groups.size().rename("sampled").reset_index()
    for name, percent in QUANTILES.items():
        out[name] = ordered[starts + _rank(percent, counts) - 1]
    stats = _regroup(cells, SETTING_COLUMNS)
    out = out.merge(stats[[*SETTING_COLUMNS, "rows", "simulated_rows", "latency_min", "latency_max", "latency_sum",
                           "latency_n", "modelled_sum", "modelled_n"]], on=list(SETTING_COLUMNS), how="left")
    out["min_s"], out["max_s"] = out["latency_min"].astype(float), out["latency_max"].astype(float)
    out["mean_s"] = _div(out["latency_sum"], out["latency_n"])
    # the simulator's modelled latency: wall time scaled back to time scale 1 (NaN for real results)
    out["modelled_mean_s"] = _div(out["modelled_sum"], out["modelled_n"])
    out["method"] = "exact" if stride == 1 else f"sample of {len(sample):,} (1 in {stride} results)"
    return _frame(out, cols)[list(cols)].reset_index(drop=True)


def latency_table(quantiles: pd.DataFrame) -> pd.DataFrame:
    """The p50/p95/max table (plus min, quartiles, mean) with readable setting labels."""
    cols = ["setting", "latency_scale", "results", "min_s", "q1_s", "p50_s", "q3_s", "p95_s", "max_s", "mean_s",
            "modelled_mean_s", "method", "provenance"]
    if quantiles.empty:
        return pd.DataFrame(columns=cols)
    quantiles = catalog_order(quantiles).reset_index(drop=True)
    out = quantiles[["min_s", "q1_s", "p50_s", "q3_s", "p95_s", "max_s", "mean_s",
                     "modelled_mean_s"]].astype(float).copy()
    out.insert(0, "results", quantiles["rows"].astype(int))
    out.insert(0, "latency_scale", quantiles["latency_scale"])
    out.insert(0, "setting", setting_labels(quantiles))
    out["method"] = quantiles["method"]
    out["provenance"] = row_provenance(quantiles)
    return out[cols].reset_index(drop=True)


def scatter_points(sample: pd.DataFrame, cells: pd.DataFrame, limit: int = SCATTER_POINTS) -> pd.DataFrame:
    """At most ``limit`` evenly spaced rows of the sample with model, settings, tokens and latency."""
    cols = (*SETTING_COLUMNS, "simulated", "output_tokens", "latency_s")
    s = sample[sample["output_tokens"].notna()] if not sample.empty else sample
    if s.empty:
        return _frame(pd.DataFrame(), cols)
    step = max(1, math.ceil(len(s) / max(1, limit)))
    return _frame(_with_settings(s.iloc[::step], cells), cols)[list(cols)].reset_index(drop=True)


def streaming_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean time to the first partial image next to the mean time to the final image, per streamed setting."""
    cols = ["setting", "results", "first_partial_s", "final_s", "provenance"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    streamed = frame[frame["first_partial_n"] > 0]
    if streamed.empty:
        return pd.DataFrame(columns=cols)
    streamed = catalog_order(streamed).reset_index(drop=True)
    out = pd.DataFrame({
        "setting": setting_labels(streamed),
        "results": streamed["first_partial_n"].astype(int),
        "first_partial_s": _div(streamed["first_partial_sum"], streamed["first_partial_n"]),
        "final_s": _div(streamed["final_streamed_sum"], streamed["first_partial_n"]),
        "provenance": row_provenance(streamed),
    })
    return out[cols].reset_index(drop=True)


FILE_SIZE_KEYS = ("model", "quality", "resolved_quality", "size", "resolved_size", "output_format",
                  "output_compression", "figures")


def file_sizes(frame: pd.DataFrame) -> pd.DataFrame:
    """Bytes per image per output format and compression at the same model, quality and size (like with like).

    Sizes are of each result's first image (``result_rows.image_bytes``). Formats are compared only
    within one ``setting`` (model · quality · size, auto shown as what it resolved to):
    ``share_of_bytes`` is the format's share of all bytes stored at that setting (0..1), never of
    the whole selection, where a format run only at high quality would look large.

    Columns: setting, format (``png``, ``jpeg c80`` ...), output_format, output_compression, images,
    mean_bytes, total_bytes, share_of_bytes, mean_output_tokens, billed_usd_per_image, provenance.
    Format and compression change bytes, not tokens: the last two show it.
    """
    cols = ["setting", "format", "output_format", "output_compression", "images", "mean_bytes", "total_bytes",
            "share_of_bytes", "mean_output_tokens", "billed_usd_per_image", "provenance"]
    sized = frame[frame["bytes_images"] > 0] if not frame.empty else frame
    g = _regroup(sized, FILE_SIZE_KEYS)
    if g.empty:
        return pd.DataFrame(columns=cols)
    g = catalog_order(g).reset_index(drop=True)
    setting = setting_labels(g, (*LABEL_CORE, "figures"))
    totals = g["bytes_sum"].astype(float).groupby(setting).transform("sum")
    out = pd.DataFrame({
        "setting": setting,
        "format": [f"{f} c{int(c)}" if not _missing(c) else str(f)
                   for f, c in zip(g["output_format"], g["output_compression"])],
        "output_format": g["output_format"], "output_compression": g["output_compression"],
        "images": g["bytes_images"].astype(int),
        "mean_bytes": _div(g["bytes_sum"], g["bytes_images"]),
        "total_bytes": g["bytes_sum"].astype(float),
        "share_of_bytes": _div(g["bytes_sum"], totals),
        "mean_output_tokens": _div(g["tokens_sum"], g["tokens_n"]),
        "billed_usd_per_image": _div(g["cost_sum"], g["cost_n"]),
        "provenance": row_provenance(g),
    })
    return out[cols].reset_index(drop=True)


def rating_costs(frame: pd.DataFrame, min_rating: float = 4.0) -> pd.DataFrame:
    """Mean rating next to the mean billed cost per image, per rated setting.

    ``cheapest`` marks the cheapest setting whose mean rating is at least ``min_rating`` (estimated
    cost stands in where nothing was billed; ``cost_source`` says which).
    """
    cols = ["setting", "ratings", "mean_rating", "cost_usd_per_image", "cost_source", "cheapest", "provenance"]
    rated = frame[frame["rating_n"] > 0] if not frame.empty else frame
    if rated.empty:
        return pd.DataFrame(columns=cols)
    rated = catalog_order(rated).reset_index(drop=True)
    billed = _div(rated["cost_sum"], rated["cost_n"])
    estimated = _div(rated["estimated_sum"], rated["estimated_n"])
    out = pd.DataFrame({
        "setting": setting_labels(rated),
        "ratings": rated["rating_n"].astype(int),
        "mean_rating": _div(rated["rating_sum"], rated["rating_n"]),
        "cost_usd_per_image": billed.fillna(estimated),
        "cost_source": ["billed" if not math.isnan(b) else "estimated" for b in billed],
        "provenance": row_provenance(rated),
    }).reset_index(drop=True)
    out["cheapest"] = False
    ok = out[(out["mean_rating"] >= min_rating) & out["cost_usd_per_image"].notna()]
    if not ok.empty:
        out.loc[ok["cost_usd_per_image"].idxmin(), "cheapest"] = True
    return out[cols]


# --- measured cost per image for the planner -----------------------------------------------------

def measured_costs(query: QueryFn, run_ids: Sequence[str]) -> pd.DataFrame:
    """Mean billed cost per image (exact ``Decimal``) per model x quality x size x provider in ``run_ids``.

    Reads only the chosen runs' billed, non-streamed results (streaming adds partial-image tokens, so it
    is not the plain per-image cost). Simulated and real results are never averaged together: each
    group is all simulated, all measured or all replayed from one recording. ``provider`` is the catalog
    flavour the results follow (the simulator and compatible endpoints follow OpenAI's rules and prices).
    Columns: model, quality, size, provider, simulated, figures ("measured" | "simulated" | "replayed from
    <run> (<date>, <provider>)"), images, results, cost_usd_per_image (Decimal).
    """
    cols = ["model", "quality", "size", "provider", "simulated", "figures", "images", "results",
            "cost_usd_per_image"]
    if not run_ids:
        return pd.DataFrame(columns=cols)
    marks = ", ".join("?" for _ in run_ids)
    rows = query(
        f"SELECT model, quality, size, provider, simulated, replayed_from, n, cost_usd FROM result_rows "
        f"WHERE run_id IN ({marks}) "
        "AND status = 'ok' AND cost_usd IS NOT NULL AND COALESCE(reused, 0) = 0 AND COALESCE(stream, 0) = 0",
        tuple(run_ids),
    )
    if rows.empty:
        return pd.DataFrame(columns=cols)
    acc: dict[tuple, list] = {}
    rows = rows.reindex(columns=["model", "quality", "size", "provider", "simulated", "replayed_from", "n", "cost_usd"])
    for model, quality, size, provider, simulated, replayed, n, cost in rows.itertuples(index=False, name=None):
        figures = replayed if isinstance(replayed, str) and replayed else "simulated" if simulated else "measured"
        key = (model, quality, size, PROVIDER_FLAVOUR.get(provider, provider), bool(simulated), figures)
        entry = acc.setdefault(key, [Decimal(0), 0, 0])
        entry[0] += Decimal(str(cost))
        entry[1] += max(int(n or 1), 1)
        entry[2] += 1
    records = [
        {"model": m, "quality": q, "size": s, "provider": p, "simulated": sim, "figures": fig, "images": imgs,
         "results": res, "cost_usd_per_image": total / imgs}
        for (m, q, s, p, sim, fig), (total, imgs, res) in sorted(acc.items())
    ]
    return pd.DataFrame(records, columns=cols)


# --- everything the Analytics page shows, in one call -------------------------------------------

@dataclass(frozen=True)
class Analysis:
    """A selection reduced to small frames; the chart frames derive from them."""

    selection: Selection
    summary: pd.DataFrame
    quantiles: pd.DataFrame
    sample: pd.DataFrame

    @property
    def results(self) -> int:
        return int(self.summary["rows"].sum()) if not self.summary.empty else 0

    @property
    def provenance(self) -> str:
        return provenance(self.summary)

    def tokens(self, tolerance: float = DEVIATION_TOLERANCE) -> pd.DataFrame:
        return token_deviation(self.summary, tolerance)

    def costs(self) -> pd.DataFrame:
        return cost_per_image(self.summary)

    def latency(self) -> pd.DataFrame:
        return latency_table(self.quantiles)

    def fits(self) -> pd.DataFrame:
        return latency_fit(self.summary)

    def streaming(self) -> pd.DataFrame:
        return streaming_times(self.summary)

    def file_sizes(self) -> pd.DataFrame:
        return file_sizes(self.summary)

    def ratings(self, min_rating: float = 4.0) -> pd.DataFrame:
        return rating_costs(self.summary, min_rating)


def analyse(query: QueryFn, selection: Selection = Selection(), cells: pd.DataFrame | None = None,
            sample_limit: int = QUANTILE_SAMPLE, scatter_limit: int = SCATTER_POINTS) -> Analysis:
    """Reduce a selection to its :class:`Analysis`.

    ``cells`` is :func:`cell_frame` (pass a cached one; read from the store otherwise). Besides
    it, one bounded query reads the latency sample.
    """
    cells = cell_frame(query) if cells is None else cells
    picked = cells[selection.mask(cells)] if not cells.empty else cells
    summ = summary_from_cells(picked)
    sample = latency_sample(query, picked, sample_limit)
    sample_points = scatter_points(sample, picked, scatter_limit)
    sample_points.attrs["stride"] = sample.attrs.get("stride", 1)
    return Analysis(selection, summ, latency_quantiles(sample, picked), sample_points)
