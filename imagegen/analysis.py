"""Analytics over stored results: SQL aggregation over the ``result_rows`` view into tidy frames.

Nothing here loads every row. :func:`summary` is one ``GROUP BY`` per setting returning sums
and counts; :func:`latency_quantiles` is a window query returning one row per setting;
:func:`scatter_sample` is a bounded stride sample. The chart frames (:func:`token_deviation`,
:func:`cost_per_image`, ...) are pure pandas over those small frames, so a selection of
100,000 results costs a few SQL scans, and every derived figure is testable on synthetic data.

``query`` arguments are any ``query(sql, params) -> DataFrame`` over a database with a
``result_rows`` table or view (``Store.query`` in the app; an in-memory SQLite in tests).

Only successful results count (``status = 'ok'``); results reused from history are left out
unless asked for (they repeat an earlier result and were not paid again).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd

QueryFn = Callable[[str, Sequence], pd.DataFrame]

#: The request settings a result is grouped by (one group = one "setting").
SETTING_COLUMNS = (
    "provider", "model", "quality", "resolved_quality", "size", "resolved_size", "output_format",
    "output_compression", "background", "moderation", "n", "stream", "partial_images",
)
#: Always part of a setting's label; other setting columns join the label only when they vary.
LABEL_CORE = ("model", "quality", "size")
#: Additive columns of :func:`summary` (re-grouping sums them).
SUM_COLUMNS = (
    "rows", "images", "simulated_rows", "tokens_sum", "tokens_n", "documented_sum", "documented_n",
    "input_text_sum", "input_image_sum", "cost_sum", "cost_n", "cost_text_input_sum", "cost_image_input_sum",
    "cost_image_output_sum", "cost_text_output_sum", "estimated_sum", "estimated_min_sum", "estimated_n",
    "latency_sum", "latency_n", "fit_n", "sx", "sy", "sxx", "sxy", "syy", "first_partial_sum", "first_partial_n",
    "final_streamed_sum", "bytes_sum", "bytes_images", "rating_sum", "rating_n",
)
#: A token count differing from the documented one by more than this share is highlighted.
DEVIATION_TOLERANCE = 0.005


@dataclass(frozen=True)
class Selection:
    """Which results to analyse. Empty tuples mean "all"; ``until`` is inclusive."""

    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    simulated: bool | None = None
    include_reused: bool = False

    def where(self) -> tuple[str, list]:
        """The SQL ``WHERE`` body and its parameters."""
        clauses = ["status = 'ok'"]
        params: list = []
        for column, values in (("provider", self.providers), ("model", self.models), ("run_id", self.run_ids)):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
        # created_at is ISO-8601 text: comparing its date part is exact and timezone-stable
        if self.since is not None:
            clauses.append("substr(created_at, 1, 10) >= ?")
            params.append(self.since.isoformat())
        if self.until is not None:
            clauses.append("substr(created_at, 1, 10) < ?")
            params.append((self.until + timedelta(days=1)).isoformat())
        if self.simulated is not None:
            clauses.append("simulated = ?")
            params.append(1 if self.simulated else 0)
        if not self.include_reused:
            clauses.append("COALESCE(reused, 0) = 0")
        return " AND ".join(clauses), params


_KEY = ", ".join(SETTING_COLUMNS)
_PER_IMAGE = "CAST({col} AS REAL) / MAX(COALESCE(n, 1), 1)"
_SUMMARY_SQL = f"""
SELECT {_KEY},
  COUNT(*) AS rows,
  SUM(MAX(COALESCE(n, 1), 1)) AS images,
  SUM(COALESCE(simulated, 0)) AS simulated_rows,
  SUM(output_tokens) AS tokens_sum, COUNT(output_tokens) AS tokens_n,
  MIN(output_tokens) AS tokens_min, MAX(output_tokens) AS tokens_max,
  SUM(documented_output_tokens) AS documented_sum, COUNT(documented_output_tokens) AS documented_n,
  SUM(input_text_tokens) AS input_text_sum, SUM(input_image_tokens) AS input_image_sum,
  SUM({_PER_IMAGE.format(col="cost_usd")}) AS cost_sum, COUNT(cost_usd) AS cost_n,
  SUM(CASE WHEN cost_usd IS NOT NULL THEN {_PER_IMAGE.format(col="COALESCE(cost_text_input_usd, 0)")} END)
    AS cost_text_input_sum,
  SUM(CASE WHEN cost_usd IS NOT NULL THEN {_PER_IMAGE.format(col="COALESCE(cost_image_input_usd, 0)")} END)
    AS cost_image_input_sum,
  SUM(CASE WHEN cost_usd IS NOT NULL THEN {_PER_IMAGE.format(col="COALESCE(cost_image_output_usd, 0)")} END)
    AS cost_image_output_sum,
  SUM(CASE WHEN cost_usd IS NOT NULL THEN {_PER_IMAGE.format(col="COALESCE(cost_text_output_usd, 0)")} END)
    AS cost_text_output_sum,
  SUM({_PER_IMAGE.format(col="estimated_cost_usd")}) AS estimated_sum,
  SUM({_PER_IMAGE.format(col="COALESCE(estimated_cost_min_usd, estimated_cost_usd)")}) AS estimated_min_sum,
  COUNT(estimated_cost_usd) AS estimated_n,
  SUM(latency_s) AS latency_sum, COUNT(latency_s) AS latency_n,
  MIN(latency_s) AS latency_min, MAX(latency_s) AS latency_max,
  SUM(CASE WHEN latency_s IS NOT NULL AND output_tokens IS NOT NULL THEN 1 ELSE 0 END) AS fit_n,
  SUM(CASE WHEN latency_s IS NOT NULL THEN 1.0 * output_tokens END) AS sx,
  SUM(CASE WHEN output_tokens IS NOT NULL THEN latency_s END) AS sy,
  SUM(CASE WHEN latency_s IS NOT NULL THEN 1.0 * output_tokens * output_tokens END) AS sxx,
  SUM(1.0 * output_tokens * latency_s) AS sxy,
  SUM(CASE WHEN output_tokens IS NOT NULL THEN latency_s * latency_s END) AS syy,
  SUM(first_partial_s) AS first_partial_sum, COUNT(first_partial_s) AS first_partial_n,
  SUM(CASE WHEN first_partial_s IS NOT NULL THEN latency_s END) AS final_streamed_sum,
  SUM(image_bytes) AS bytes_sum,
  SUM(CASE WHEN image_bytes IS NOT NULL THEN MAX(COALESCE(n, 1), 1) ELSE 0 END) AS bytes_images,
  SUM(rating) AS rating_sum, COUNT(rating) AS rating_n
FROM result_rows
WHERE {{where}}
GROUP BY {_KEY}
ORDER BY {_KEY}
"""


def _frame(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Make sure an empty result still has its columns (pandas drops them for empty reads)."""
    for col in columns:
        if col not in df.columns:
            df[col] = pd.Series(dtype="float64")
    return df


def summary(query: QueryFn, selection: Selection = Selection()) -> pd.DataFrame:
    """One row per setting in the selection: sums, counts, minima and maxima (see ``SUM_COLUMNS``).

    Each ``*_sum`` has a matching count; per-image money sums are already divided by ``n``.
    """
    where, params = selection.where()
    df = query(_SUMMARY_SQL.format(where=where), tuple(params))
    df = _frame(df, (*SETTING_COLUMNS, *SUM_COLUMNS, "tokens_min", "tokens_max", "latency_min", "latency_max"))
    for col in SUM_COLUMNS:
        df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0.0)
    return df.reset_index(drop=True)


def filter_options(query: QueryFn) -> pd.DataFrame:
    """Providers x models present, with their date span and whether they hold simulated results."""
    df = query(
        "SELECT provider, model, MIN(substr(created_at, 1, 10)) AS first_day, "
        "MAX(substr(created_at, 1, 10)) AS last_day, COUNT(*) AS results, "
        "SUM(COALESCE(simulated, 0)) AS simulated FROM result_rows GROUP BY provider, model ORDER BY provider, model",
        (),
    )
    return _frame(df, ("provider", "model", "first_day", "last_day", "results", "simulated"))


# --- labels and provenance -------------------------------------------------------------------

def _resolved(requested, resolved) -> str:
    """``auto`` shown as what it resolved to: ``auto→high``."""
    if requested is None or (isinstance(requested, float) and math.isnan(requested)):
        requested = None
    if resolved is None or (isinstance(resolved, float) and math.isnan(resolved)):
        resolved = None
    if requested == "auto" and resolved and resolved != "auto":
        return f"auto→{resolved}"
    return str(requested if requested is not None else resolved or "?")


def _value(row: pd.Series, col: str) -> str:
    value = row.get(col)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if col == "output_compression":
        return f"c{int(value)}"
    if col == "n":
        return f"n={int(value)}"
    if col == "stream":
        return "stream" if int(value) else "no stream"
    if col == "partial_images":
        return f"{int(value)} partial"
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
    present = [c for c in columns if c in frame.columns]
    varying = [c for c in present if c not in LABEL_CORE and not c.startswith("resolved_")
               and frame[c].astype("string").fillna("∅").nunique() > 1]

    def label(row: pd.Series) -> str:
        parts = [str(row.get("model", ""))]
        if "quality" in frame.columns:
            parts.append(_resolved(row.get("quality"), row.get("resolved_quality")))
        if "size" in frame.columns:
            parts.append(_resolved(row.get("size"), row.get("resolved_size")))
        parts += [v for v in (_value(row, c) for c in varying) if v]
        return " · ".join(p for p in parts if p)

    return frame.apply(label, axis=1).astype("object")


def provenance(frame: pd.DataFrame) -> str:
    """``simulated`` when every row came from the simulator, ``measured`` when none did, else both."""
    if frame.empty or "rows" not in frame.columns:
        return "measured"
    simulated = float(frame["simulated_rows"].sum())
    total = float(frame["rows"].sum())
    if simulated <= 0:
        return "measured"
    if simulated >= total:
        return "simulated"
    return "measured + simulated"


def _regroup(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Re-aggregate :func:`summary` rows over ``keys`` (sums add; minima/maxima combine)."""
    if frame.empty:
        return frame.iloc[0:0].copy()
    agg: dict[str, str] = {c: "sum" for c in SUM_COLUMNS if c in frame.columns}
    for col, how in (("tokens_min", "min"), ("tokens_max", "max"), ("latency_min", "min"), ("latency_max", "max")):
        if col in frame.columns:
            agg[col] = how
    return frame.groupby(list(keys), dropna=False, sort=True).agg(agg).reset_index()


def _div(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise a / b with NaN where b is 0."""
    b = b.astype(float)
    return a.astype(float) / b.where(b != 0)


# --- derived tidy frames (pure) ----------------------------------------------------------------

TOKEN_KEYS = ("model", "quality", "resolved_quality", "size", "resolved_size", "n", "partial_images")


def token_deviation(frame: pd.DataFrame, tolerance: float = DEVIATION_TOLERANCE) -> pd.DataFrame:
    """Measured output tokens per request next to the documented figure, per model x quality x size.

    Columns: setting, model, quality, size (``auto→x`` where auto was requested), results,
    measured_tokens (mean), measured_min, measured_max, documented_tokens, deviation (tokens),
    deviation_pct, deviates (|deviation_pct| > tolerance), provenance.
    """
    cols = ["setting", "model", "quality", "size", "results", "measured_tokens", "measured_min", "measured_max",
            "documented_tokens", "deviation", "deviation_pct", "deviates", "provenance"]
    g = _regroup(frame[frame["tokens_n"] > 0] if not frame.empty else frame, TOKEN_KEYS)
    if g.empty:
        return pd.DataFrame(columns=cols)
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
    })
    out["deviation"] = out["measured_tokens"] - out["documented_tokens"]
    out["deviation_pct"] = _div(out["deviation"], out["documented_tokens"]) * 100
    out["deviates"] = (out["deviation_pct"].abs() > tolerance * 100).fillna(False).astype(bool)
    out["provenance"] = [provenance(g.iloc[[i]]) for i in range(len(g))]
    return out[cols]


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
    out = pd.DataFrame({"setting": setting_labels(frame), "images": frame["images"].astype(int),
                        "billed_results": frame["cost_n"].astype(int)})
    out["billed_usd"] = _div(frame["cost_sum"], frame["cost_n"])
    for src, name in COST_PARTS.items():
        out[name.replace(" ", "_") + "_usd"] = _div(frame[src], frame["cost_n"])
    out["estimated_usd"] = _div(frame["estimated_sum"], frame["estimated_n"])
    out["estimated_min_usd"] = _div(frame["estimated_min_sum"], frame["estimated_n"])
    out["billed_minus_estimated_usd"] = out["billed_usd"] - out["estimated_usd"]
    out["provenance"] = [provenance(frame.iloc[[i]]) for i in range(len(frame))]
    return out[cols].reset_index(drop=True)


def nearest_rank(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (the value at rank ceil(p * n), 1-based) — what the SQL computes."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p * len(ordered)))
    return float(ordered[rank - 1])


def _rank(p: float) -> str:
    # ceil(p * cnt) in SQLite, at least 1
    return f"MAX(1, CAST(({p} * cnt) AS INTEGER) + (({p} * cnt) > CAST(({p} * cnt) AS INTEGER)))"


_QUANTILE_SQL = f"""
WITH ranked AS (
  SELECT {_KEY}, simulated, latency_s,
    ROW_NUMBER() OVER (PARTITION BY {_KEY} ORDER BY latency_s) AS rn,
    COUNT(*) OVER (PARTITION BY {_KEY}) AS cnt
  FROM result_rows
  WHERE {{where}} AND latency_s IS NOT NULL
)
SELECT {_KEY}, MAX(cnt) AS rows, SUM(COALESCE(simulated, 0)) AS simulated_rows,
  MIN(latency_s) AS min_s,
  MAX(CASE WHEN rn = {_rank(0.25)} THEN latency_s END) AS q1_s,
  MAX(CASE WHEN rn = {_rank(0.5)} THEN latency_s END) AS p50_s,
  MAX(CASE WHEN rn = {_rank(0.75)} THEN latency_s END) AS q3_s,
  MAX(CASE WHEN rn = {_rank(0.95)} THEN latency_s END) AS p95_s,
  MAX(latency_s) AS max_s, AVG(latency_s) AS mean_s
FROM ranked
GROUP BY {_KEY}
ORDER BY {_KEY}
"""
QUANTILE_COLUMNS = ("rows", "simulated_rows", "min_s", "q1_s", "p50_s", "q3_s", "p95_s", "max_s", "mean_s")


def latency_quantiles(query: QueryFn, selection: Selection = Selection()) -> pd.DataFrame:
    """Per setting: count, min, q1, p50, q3, p95, max and mean latency (s), nearest-rank, in SQL."""
    where, params = selection.where()
    df = _frame(query(_QUANTILE_SQL.format(where=where), tuple(params)), (*SETTING_COLUMNS, *QUANTILE_COLUMNS))
    return df.reset_index(drop=True)


def latency_table(quantiles: pd.DataFrame) -> pd.DataFrame:
    """The p50/p95/max table (plus min, quartiles, mean) with readable setting labels."""
    cols = ["setting", "results", "min_s", "q1_s", "p50_s", "q3_s", "p95_s", "max_s", "mean_s", "provenance"]
    if quantiles.empty:
        return pd.DataFrame(columns=cols)
    out = quantiles[["min_s", "q1_s", "p50_s", "q3_s", "p95_s", "max_s", "mean_s"]].astype(float).copy()
    out.insert(0, "results", quantiles["rows"].astype(int))
    out.insert(0, "setting", setting_labels(quantiles))
    out["provenance"] = [provenance(quantiles.iloc[[i]]) for i in range(len(quantiles))]
    return out[cols].reset_index(drop=True)


def latency_fit(frame: pd.DataFrame) -> pd.DataFrame:
    """Least-squares ``latency = overhead + tokens / rate`` per model, from the summary's sums.

    Columns: model, results, tokens_per_s (rate; NaN when the tokens do not vary or the slope is
    not positive), overhead_s (intercept), slope_s_per_token, r2, provenance.
    """
    cols = ["model", "results", "tokens_per_s", "overhead_s", "slope_s_per_token", "r2", "provenance"]
    g = _regroup(frame, ("model",))
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
        "model": g["model"], "results": n.astype(int), "tokens_per_s": (1 / slope).where(slope > 0),
        "overhead_s": intercept, "slope_s_per_token": slope, "r2": r2,
        "provenance": [provenance(g.iloc[[i]]) for i in range(len(g))],
    })
    return out[cols].reset_index(drop=True)


def scatter_sample(query: QueryFn, selection: Selection = Selection(), limit: int = 2000,
                   total: int | None = None) -> pd.DataFrame:
    """At most ``limit`` results (every k-th by ``result_id``): model, setting columns, tokens, latency.

    ``total`` (the selection's row count, e.g. ``summary(...)["rows"].sum()``) sets the stride;
    without it one ``COUNT(*)`` is run.
    """
    where, params = selection.where()
    where += " AND latency_s IS NOT NULL AND output_tokens IS NOT NULL"
    if total is None:
        total = int(query(f"SELECT COUNT(*) AS c FROM result_rows WHERE {where}", tuple(params))["c"].iloc[0])
    stride = max(1, math.ceil(total / max(1, limit)))
    sql = (f"SELECT * FROM (SELECT {_KEY}, simulated, output_tokens, latency_s, "
           f"ROW_NUMBER() OVER (ORDER BY result_id) AS rn FROM result_rows WHERE {where}) "
           f"WHERE (rn - 1) % ? = 0 LIMIT ?")
    df = query(sql, (*params, stride, limit))
    df = _frame(df, (*SETTING_COLUMNS, "simulated", "output_tokens", "latency_s"))
    return df.drop(columns=["rn"], errors="ignore").reset_index(drop=True)


def streaming_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean time to the first partial image next to the mean time to the final image, per streamed setting."""
    cols = ["setting", "results", "first_partial_s", "final_s", "provenance"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    streamed = frame[frame["first_partial_n"] > 0]
    if streamed.empty:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame({
        "setting": setting_labels(streamed),
        "results": streamed["first_partial_n"].astype(int),
        "first_partial_s": _div(streamed["first_partial_sum"], streamed["first_partial_n"]),
        "final_s": _div(streamed["final_streamed_sum"], streamed["first_partial_n"]),
        "provenance": [provenance(streamed.iloc[[i]]) for i in range(len(streamed))],
    })
    return out[cols].reset_index(drop=True)


def file_sizes(frame: pd.DataFrame) -> pd.DataFrame:
    """Bytes per image per output format and compression, each one's share of all bytes, and the token bill.

    Columns: format (``png``, ``jpeg c80`` ...), output_format, output_compression, images,
    mean_bytes, total_bytes, share_of_bytes (0..1), mean_output_tokens, billed_usd_per_image,
    provenance. Format and compression change bytes, not tokens: the last two show it.
    """
    cols = ["format", "output_format", "output_compression", "images", "mean_bytes", "total_bytes",
            "share_of_bytes", "mean_output_tokens", "billed_usd_per_image", "provenance"]
    sized = frame[frame["bytes_images"] > 0] if not frame.empty else frame
    g = _regroup(sized, ("output_format", "output_compression"))
    if g.empty:
        return pd.DataFrame(columns=cols)
    total = float(g["bytes_sum"].sum())
    out = pd.DataFrame({
        "format": [f"{f} c{int(c)}" if c is not None and not (isinstance(c, float) and math.isnan(c)) else str(f)
                   for f, c in zip(g["output_format"], g["output_compression"])],
        "output_format": g["output_format"], "output_compression": g["output_compression"],
        "images": g["bytes_images"].astype(int),
        "mean_bytes": _div(g["bytes_sum"], g["bytes_images"]),
        "total_bytes": g["bytes_sum"].astype(float),
        "share_of_bytes": g["bytes_sum"].astype(float) / total if total else math.nan,
        "mean_output_tokens": _div(g["tokens_sum"], g["tokens_n"]),
        "billed_usd_per_image": _div(g["cost_sum"], g["cost_n"]),
        "provenance": [provenance(g.iloc[[i]]) for i in range(len(g))],
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
    billed = _div(rated["cost_sum"], rated["cost_n"])
    estimated = _div(rated["estimated_sum"], rated["estimated_n"])
    out = pd.DataFrame({
        "setting": setting_labels(rated),
        "ratings": rated["rating_n"].astype(int),
        "mean_rating": _div(rated["rating_sum"], rated["rating_n"]),
        "cost_usd_per_image": billed.fillna(estimated),
        "cost_source": ["billed" if not math.isnan(b) else "estimated" for b in billed],
        "provenance": [provenance(rated.iloc[[i]]) for i in range(len(rated))],
    }).reset_index(drop=True)
    out["cheapest"] = False
    ok = out[(out["mean_rating"] >= min_rating) & out["cost_usd_per_image"].notna()]
    if not ok.empty:
        out.loc[ok["cost_usd_per_image"].idxmin(), "cheapest"] = True
    return out[cols]


# --- measured cost per image for the planner -----------------------------------------------------

def measured_costs(query: QueryFn, run_ids: Sequence[str]) -> pd.DataFrame:
    """Mean billed cost per image (exact ``Decimal``) per requested model x quality x size in ``run_ids``.

    Reads only the chosen runs' billed results (bounded by the choice). Columns: model, quality,
    size, images, results, cost_usd_per_image (Decimal), simulated (all simulated: True).
    """
    cols = ["model", "quality", "size", "images", "results", "cost_usd_per_image", "simulated"]
    if not run_ids:
        return pd.DataFrame(columns=cols)
    marks = ", ".join("?" for _ in run_ids)
    rows = query(
        f"SELECT model, quality, size, n, cost_usd, simulated FROM result_rows WHERE run_id IN ({marks}) "
        "AND status = 'ok' AND cost_usd IS NOT NULL AND COALESCE(reused, 0) = 0",
        tuple(run_ids),
    )
    if rows.empty:
        return pd.DataFrame(columns=cols)
    acc: dict[tuple, list] = {}
    for model, quality, size, n, cost, simulated in rows.itertuples(index=False, name=None):
        images = max(int(n or 1), 1)
        entry = acc.setdefault((model, quality, size), [Decimal(0), 0, 0, True])
        entry[0] += Decimal(str(cost))
        entry[1] += images
        entry[2] += 1
        entry[3] = entry[3] and bool(simulated)
    records = [
        {"model": m, "quality": q, "size": s, "images": imgs, "results": res,
         "cost_usd_per_image": total / imgs, "simulated": sim}
        for (m, q, s), (total, imgs, res, sim) in sorted(acc.items())
    ]
    return pd.DataFrame(records, columns=cols)
