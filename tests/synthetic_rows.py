"""Synthetic ``result_rows`` for analytics tests and the bench (every column of imagegen.columns).

``make_rows`` builds deterministic rows whose figures follow simple known rules (tokens = the
documented table + a fixed offset, latency = overhead + tokens / rate), so tests can check the
aggregates against hand-computed values. ``sqlite_query`` serves a frame as a ``result_rows``
table through the same ``query(sql, params)`` interface as ``Store.query``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from decimal import Decimal

import pandas as pd

from imagegen.columns import EXPORT_COLUMNS, EXTRA_COLUMNS

COLUMNS = (*EXPORT_COLUMNS, *EXTRA_COLUMNS)


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
    return pd.DataFrame(list(rows), columns=list(COLUMNS))


def sqlite_query(df: pd.DataFrame):
    """A ``query(sql, params) -> DataFrame`` over an in-memory SQLite holding ``df`` as ``result_rows``."""
    con = sqlite3.connect(":memory:", check_same_thread=False)
    df.to_sql("result_rows", con, index=False)

    def query(sql: str, params=()) -> pd.DataFrame:
        return pd.read_sql_query(sql, con, params=tuple(params))

    query.connection = con  # type: ignore[attr-defined]
    return query


def coords(**axes) -> str:
    return json.dumps(axes)
