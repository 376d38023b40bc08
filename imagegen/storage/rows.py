"""The result row, defined once: the ``result_rows`` view, the export columns, the insert and the reader.

``ROW`` lists every column of the SQL view ``result_rows`` (one row per cell x repeat result) with the
SQL expression that computes it and its Python type. From it come:

- ``EXPORT_COLUMNS`` (the ``export`` CLI's format) and ``EXTRA_COLUMNS`` (analytics, grid view);
- ``view_sql()``: the ``CREATE VIEW`` statement. Migrations hold a frozen copy of it (an applied step is
  never edited); ``tests/test_migrations.py`` checks that the newest frozen copy equals ``view_sql()``,
  so a column added here without a new migration step fails the suite. ``python -m imagegen.storage.rows``
  prints the statement to paste into the new step;
- ``ResultRow``: the reader's typed row (``ResultRow.from_mapping(row)``).

``RESULT_COLUMNS`` are the columns of the ``results`` table the writer fills; ``insert_sql`` turns any
column list into an ``INSERT`` with named parameters (``:name``), so no statement counts ``?``.
Money columns hold exact decimal strings (``str(Decimal)``); SQL aggregates for charts may
``CAST(... AS REAL)``.

To add a result column: a new migration step (``ALTER TABLE``, then the view from ``view_sql()`` pasted as
text), the column here, and its value in ``writer.result_values``. See /work/notes/migrations.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, make_dataclass


@dataclass(frozen=True)
class Column:
    """One column of ``result_rows``: its name, the SQL that computes it, its type, whether it is exported."""

    name: str
    sql: str        # r = results, c = cells, u = runs, i = first image, g = ratings
    type: type
    export: bool
    doc: str = ""


def _e(name: str, sql: str, typ: type = str, doc: str = "") -> Column:
    return Column(name, sql, typ, True, doc)


def _x(name: str, sql: str, typ: type = str, doc: str = "") -> Column:
    return Column(name, sql, typ, False, doc)


#: Every column of ``result_rows``, in view order. The export columns come first, except ``price_entry`` and
#: ``rating``: they joined the export later and keep their place in the view (no migration), so an export lists
#: them after ``input_sha256``.
ROW: tuple[Column, ...] = (
    _e("run_id", "r.run_id"), _e("cell_id", "r.cell_id", int), _e("repeat", "r.repeat", int),
    _e("provider", "c.provider"), _e("model", "c.model"), _e("deployment", "c.deployment"),
    _e("prompt", "c.prompt"), _e("size", "c.size"), _e("quality", "c.quality"), _e("background", "c.background"),
    _e("output_format", "c.output_format"), _e("output_compression", "c.output_compression", int),
    _e("moderation", "c.moderation"), _e("n", "c.n", int), _e("partial_images", "c.partial_images", int),
    _e("status", "r.status", doc="ok | error | cancelled | skipped"),
    _e("error_kind", "r.error_kind"), _e("error_message", "r.error_message"),
    _e("resolved_size", "r.resolved_size"), _e("resolved_quality", "r.resolved_quality"),
    _e("input_text_tokens", "r.input_text_tokens", int), _e("input_image_tokens", "r.input_image_tokens", int),
    _e("output_tokens", "r.output_tokens", int),
    _e("documented_output_tokens", "COALESCE(r.documented_output_tokens, CASE WHEN c.output_tokens_min = "
                                   "c.output_tokens_max THEN c.output_tokens_max END)", int),
    _e("estimated_cost_usd", "c.estimated_cost_usd", doc="exact decimal string"),
    _e("cost_usd", "r.cost_usd", doc="exact decimal string, as billed"),
    _e("latency_s", "r.latency_s", float), _e("first_partial_s", "r.first_partial_s", float),
    _e("attempts", "r.attempts", int), _e("image_bytes", "i.bytes", int), _e("image_width", "i.width", int),
    _e("image_height", "i.height", int), _e("image_path", "i.path", doc="relative to the home directory"),
    _e("request_id", "r.request_id"), _e("simulated", "r.simulated", int, "0/1"), _e("created_at", "r.created_at"),
    _e("replayed_from", "r.replayed_from",
       doc="'replayed from <run> (<date>, <provider>)' when a simulator served it from a recording, else NULL"),
    _e("complexity", "c.complexity", doc="gpt-image-2.6 complexity, NULL = omitted"),
    _e("token_status", "c.token_status",
       doc="how the catalog figure is known: documented | measured (by whom, when) | derived | assumed"),
    _e("sim_time_scale", "r.sim_time_scale", float, "simulator time scale the latency was produced at (NULL = real)"),
    _e("sim_fixed_latency_s", "r.sim_fixed_latency_s", float, "simulator fixed latency, when one was set"),
    _e("modelled_latency_s", "CASE WHEN r.simulated = 1 AND r.sim_fixed_latency_s IS NULL AND r.sim_time_scale > 0 "
                             "THEN r.latency_s / r.sim_time_scale END", float,
       "simulated latency scaled back to time scale 1 (the simulator's latency model); NULL for real results"),
    _e("input_sha256", "(SELECT group_concat(v, ' ') FROM (SELECT x.role || ':' || x.sha256 AS v FROM run_inputs x "
                       "WHERE x.run_id = r.run_id ORDER BY x.position))",
       doc="edits: the input images and mask the result used, 'image:<sha256> … mask:<sha256>' in order; "
           "NULL for generations"),
    _x("result_id", "r.result_id", int, "primary key of the result row (ratings refer to it)"),
    _x("run_name", "u.name"), _x("stream", "c.stream", int),
    _x("coords", "c.coords", doc="JSON object: axis name -> value for this cell"),
    _x("output_text_tokens", "r.output_text_tokens", int),
    _x("estimated_cost_min_usd", "c.estimated_cost_min_usd"),
    _x("cost_text_input_usd", "r.cost_text_input_usd"), _x("cost_image_input_usd", "r.cost_image_input_usd"),
    _x("cost_image_output_usd", "r.cost_image_output_usd"), _x("cost_text_output_usd", "r.cost_text_output_usd"),
    _e("price_entry", "r.price_entry", doc="PriceEntry.key the cost used (provider/model@effective_from, +override)"),
    _x("processing_ms", "r.processing_ms", int, "server's openai-processing-ms"),
    _x("reused", "r.reused", int, "1 when taken from history (--reuse), cost 0"),
    _e("rating", "g.stars", int, "stars given on Results, 1..5, or NULL (not rated)"),
    _x("image_sha256", "i.sha256"),
    _x("latency_scale", "CASE WHEN COALESCE(r.simulated, 0) = 0 THEN 'measured' "
                        "WHEN r.sim_fixed_latency_s IS NOT NULL THEN 'simulated, fixed ' || r.sim_fixed_latency_s || ' s' "
                        "WHEN r.sim_time_scale IS NULL THEN 'simulated, time scale not recorded' "
                        "ELSE 'simulated, time scale ' || r.sim_time_scale END",
       doc="which clock the latency is on: measured, or the simulator's time scale / fixed latency; latency "
           "statistics are never pooled across values"),
)

EXPORT_COLUMNS: tuple[str, ...] = tuple(c.name for c in ROW if c.export)
EXTRA_COLUMNS: tuple[str, ...] = tuple(c.name for c in ROW if not c.export)
VIEW_COLUMNS: tuple[str, ...] = tuple(c.name for c in ROW)
assert set(VIEW_COLUMNS) == set(EXPORT_COLUMNS) | set(EXTRA_COLUMNS), "every column is exported or extra"

#: status values of a result row
STATUSES = ("ok", "error", "cancelled", "skipped")

#: Columns of the ``results`` table that the writer fills for a new result (``writer.result_values``).
RESULT_COLUMNS: tuple[str, ...] = (
    "run_id", "cell_id", "repeat", "status", "error_kind", "error_message", "http_status",
    "resolved_size", "resolved_quality", "resolved_background", "received_format",
    "input_text_tokens", "input_image_tokens", "output_tokens", "output_text_tokens", "documented_output_tokens",
    "cost_usd", "cost_text_input_usd", "cost_image_input_usd", "cost_image_output_usd", "cost_text_output_usd",
    "price_entry", "latency_s", "first_partial_s", "elapsed_s", "processing_ms", "partial_images_received",
    "attempts", "request_id", "simulated", "reused", "reused_from", "usage_json", "ratelimit_json", "created_at",
    "replayed_from",
    "sim_time_scale", "sim_fixed_latency_s",
)


def view_sql() -> str:
    """``CREATE VIEW result_rows``: one row per cell x repeat result, the columns of ``ROW``."""
    select = ",\n        ".join(f'{c.sql} AS "{c.name}"' for c in ROW)
    return f"""
    CREATE VIEW result_rows AS
    SELECT
        {select}
    FROM results r
    JOIN cells c ON c.run_id = r.run_id AND c.cell_id = r.cell_id
    JOIN runs u ON u.run_id = r.run_id
    LEFT JOIN images i ON i.result_id = r.result_id AND i.idx = 0
    LEFT JOIN ratings g ON g.result_id = r.result_id
    """


def select_list(columns: Sequence[str] = VIEW_COLUMNS) -> str:
    """``"a", "b", ...`` for a SELECT from ``result_rows`` (named, never ``*``)."""
    return ", ".join(f'"{c}"' for c in columns)


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """``INSERT INTO table (a, b) VALUES (:a, :b)``: every value bound by name."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


def _optional(typ: type):
    return typ | None


ResultRow = make_dataclass(
    "ResultRow", [(c.name, _optional(c.type)) for c in ROW], frozen=True,
    namespace={"__doc__": "One ``result_rows`` row, typed (fields = ``VIEW_COLUMNS``).",
               "from_mapping": classmethod(lambda cls, row: cls(**{f.name: _clean(row.get(f.name))
                                                                  for f in fields(cls)}))},
)


def _clean(value):
    # pandas gives NaN for a missing number; the typed row says None.
    return None if isinstance(value, float) and value != value else value


if __name__ == "__main__":  # the statement to paste into a new migration step
    print(view_sql())
