"""Test data for analytics: synthetic ``result_rows``, real simulator runs, figure JSON helpers.

``row`` builds one result row (every column of ``imagegen/columns.py``) with chosen figures and
``priced`` fills its money columns exactly, so tests can check aggregates against hand-computed
values; ``sqlite_query`` serves such rows as a ``result_rows`` table through the same
``query(sql, params)`` interface as ``Store.query``. ``simulated_runs`` makes real runs through the
runner on the simulator; ``figure_dict``/``trace`` read plotly figure JSON.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from decimal import Decimal

import pandas as pd

from imagegen.storage.columns import VIEW_COLUMNS
from tests.clock import TODAY

COLUMNS = VIEW_COLUMNS


def row(**values) -> dict:
    """One result row with sensible defaults for every column; ``values`` override them."""
    base = {c: None for c in COLUMNS}
    base.update({
        "run_id": "run-1", "run_name": "test run", "cell_id": 0, "repeat": 0, "provider": "simulator",
        "model": "gpt-image-1.5", "deployment": None, "prompt": "a red fox", "size": "1024x1024",
        "quality": "medium", "background": "auto", "output_format": "png", "output_compression": None,
        "moderation": "auto", "n": 1, "partial_images": 0, "stream": 0, "status": "ok",
        "resolved_size": None, "resolved_quality": None, "input_text_tokens": 10, "input_image_tokens": 0,
        "output_tokens": 1056, "output_text_tokens": 0, "documented_output_tokens": 1056,
        "latency_s": 10.0, "attempts": 1, "image_bytes": 1_000_000, "image_width": 1024, "image_height": 1024,
        "simulated": 1, "created_at": "2026-11-20T10:00:00+00:00", "reused": 0, "coords": "{}",
        "price_entry": "openai/gpt-image-1.5@2025-12-16",
    })
    base.update(values)
    if base["latency_scale"] is None:  # as the store's view labels it
        scale, fixed = base["sim_time_scale"], base["sim_fixed_latency_s"]
        base["latency_scale"] = "measured" if not base["simulated"] else \
            f"simulated, fixed {fixed} s" if fixed is not None else \
            f"simulated, time scale {scale}" if scale is not None else "simulated, time scale not recorded"
    if base["modelled_latency_s"] is None and base["simulated"] and base["sim_fixed_latency_s"] is None \
            and base["sim_time_scale"] and base["latency_s"] is not None:
        base["modelled_latency_s"] = base["latency_s"] / base["sim_time_scale"]
    if base["resolved_size"] is None and base["size"] != "auto":
        base["resolved_size"] = base["size"]
    if base["resolved_quality"] is None and base["quality"] != "auto":
        base["resolved_quality"] = base["quality"]
    return base


def priced(r: dict, text_in: str = "5", image_in: str = "8", image_out: str = "32") -> dict:
    """Fill the money columns of a row from its tokens and the given USD-per-1M rates (exact decimals)."""
    m = Decimal(1_000_000)
    if r["status"] != "ok" or r["output_tokens"] is None:
        return r
    t = Decimal(r["input_text_tokens"] or 0) * Decimal(text_in) / m
    i = Decimal(r["input_image_tokens"] or 0) * Decimal(image_in) / m
    o = Decimal(r["output_tokens"]) * Decimal(image_out) / m
    doc = Decimal(r["documented_output_tokens"] or r["output_tokens"]) * Decimal(image_out) / m
    r.update({
        "cost_text_input_usd": str(t), "cost_image_input_usd": str(i), "cost_image_output_usd": str(o),
        "cost_text_output_usd": "0", "cost_usd": str(t + i + o),
        "estimated_cost_usd": str(t + i + doc), "estimated_cost_min_usd": str(t + i + doc),
    })
    return r


def frame(rows: Sequence[dict]) -> pd.DataFrame:
    """Rows as a frame; missing ``result_id`` values are numbered 1, 2, ... in order."""
    df = pd.DataFrame(list(rows), columns=list(COLUMNS))
    df["result_id"] = [rid if rid is not None and rid == rid else i + 1 for i, rid in enumerate(df["result_id"])]
    return df


def sqlite_query(df: pd.DataFrame):
    """A ``query(sql, params) -> DataFrame`` over an in-memory SQLite holding ``df`` as ``result_rows``."""
    con = sqlite3.connect(":memory:", check_same_thread=False)
    df.to_sql("result_rows", con, index=False)
    lock = threading.Lock()  # one connection: parallel analytics queries take turns

    def query(sql: str, params=()) -> pd.DataFrame:
        with lock:
            return pd.read_sql_query(sql, con, params=tuple(params))

    query.connection = con  # type: ignore[attr-defined]
    return query


def coords(**axes) -> str:
    return json.dumps(axes)


# --- real runs on the simulator (for page tests) ---------------------------------------------------

SPEC_QUALITY_SIZE = '''name = "quality x size"
provider = "simulator"
model = "gpt-image-1.5"
prompts = ["a red fox"]
repeats = 2
[axes]
quality = ["low", "medium", "high"]
size = ["1024x1024", "1536x1024"]
[limits]
concurrency = 8
'''

SPEC_FORMATS_STREAMED = '''name = "formats streamed"
provider = "simulator"
model = "gpt-image-1-mini"
prompts = ["a red fox"]
repeats = 2
[params]
stream = true
partial_images = 1
size = "1024x1024"
[axes]
output_format = ["png", "jpeg", "webp"]
quality = ["auto", "low"]
[limits]
concurrency = 8
'''


def simulated_runs(home, specs=(SPEC_QUALITY_SIZE, SPEC_FORMATS_STREAMED), time_scale: float = 0.002):
    """Run ``specs`` through the real runner on the in-process simulator into a store at ``home``.

    Returns (store, [RunSummary, ...]). A small time scale keeps the whole thing under ~2 s.
    """
    from imagegen.execution.providers import make_simulator_provider
    from imagegen.execution.runner import run_grid
    from imagegen.storage.store import Store

    store = Store(home)
    provider = make_simulator_provider({"time_scale": time_scale, "seed": 1})
    summaries = [run_grid(spec, provider=provider, store=store, today=TODAY) for spec in specs]
    return store, summaries


def expand_typed_arrays(value):
    """Plotly's ``{"dtype", "bdata"}`` arrays (numpy data in figure JSON) as plain lists, at any depth."""
    import base64

    import numpy as np

    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            if value.get("shape"):
                dims = value["shape"] if isinstance(value["shape"], list) else str(value["shape"]).split(",")
                array = array.reshape([int(d) for d in dims])
            return [None if isinstance(v, float) and v != v else v for v in array.tolist()]
        return {k: expand_typed_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_typed_arrays(v) for v in value]
    return value


def figure_dict(fig_or_spec) -> dict:
    """A figure (go.Figure or an AppTest plotly_chart's JSON spec) as a plain dict with plain lists."""
    spec = fig_or_spec if isinstance(fig_or_spec, str) else fig_or_spec.to_json()
    return expand_typed_arrays(json.loads(spec))


def trace(fig: dict, name_part: str) -> dict:
    """The one trace whose name contains ``name_part``."""
    found = [t for t in fig["data"] if name_part in (t.get("name") or "")]
    assert len(found) == 1, [t.get("name") for t in fig["data"]]
    return found[0]


def catalog_bars(fig: dict) -> dict:
    """The token chart's catalog bars, one trace per status: {status: {setting: tokens}}."""
    out = {}
    for t in fig["data"]:
        name = t.get("name") or ""
        if name.startswith("catalog: "):
            out[name.removeprefix("catalog: ")] = dict(zip(categories(t), values(t)))
    assert out, [t.get("name") for t in fig["data"]]
    return out


def categories(fig_trace: dict) -> list:
    """A trace's setting labels: on y when the chart is horizontal (many settings), else on x."""
    return fig_trace["y"] if fig_trace.get("orientation") == "h" else fig_trace["x"]


def values(fig_trace: dict) -> list:
    """A bar or scatter trace's values: on x when the chart is horizontal, else on y."""
    return fig_trace["x"] if fig_trace.get("orientation") == "h" or _is_flipped(fig_trace) else fig_trace["y"]


def _is_flipped(fig_trace: dict) -> bool:
    # a scatter in a horizontal chart has no orientation: its labels are the strings
    ys = fig_trace.get("y") or []
    return bool(ys) and isinstance(ys[0], str)
