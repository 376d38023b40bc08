"""Column names shared by the store, exports, analytics and the UI (one place, no drift).

``EXPORT_COLUMNS`` is the ``export`` CLI's format: one row per cell x repeat result.
The store exposes them (plus ``EXTRA_COLUMNS``) through the SQL view ``result_rows``.
Money columns hold exact decimal strings (``str(Decimal)``); SQL aggregates for charts may
``CAST(... AS REAL)``.
"""

EXPORT_COLUMNS = (
    "run_id", "cell_id", "repeat", "provider", "model", "deployment", "prompt", "size", "quality",
    "background", "output_format", "output_compression", "moderation", "n", "partial_images",
    "status", "error_kind", "error_message", "resolved_size", "resolved_quality",
    "input_text_tokens", "input_image_tokens", "output_tokens", "documented_output_tokens",
    "estimated_cost_usd", "cost_usd", "latency_s", "first_partial_s", "attempts", "image_bytes",
    "image_width", "image_height", "image_path", "request_id", "simulated", "created_at",
)

#: Further columns of ``result_rows`` for analytics and the grid view.
EXTRA_COLUMNS = (
    "result_id",            # primary key of the result row (ratings refer to it)
    "run_name",
    "stream",
    "coords",               # JSON object: axis name -> value for this cell
    "output_text_tokens",
    "estimated_cost_min_usd",
    "cost_text_input_usd", "cost_image_input_usd", "cost_image_output_usd", "cost_text_output_usd",
    "price_entry",          # PriceEntry.key the cost used
    "processing_ms",        # server's openai-processing-ms
    "reused",               # 1 when taken from history (--reuse), cost 0
    "rating",               # 1..5 or NULL
    "image_sha256",
)

#: status values of a result row
STATUSES = ("ok", "error", "cancelled", "skipped")
