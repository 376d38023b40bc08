"""Column names shared by the store, exports, analytics and the UI (defined in ``rows.py``).

``EXPORT_COLUMNS`` is the ``export`` CLI's format: one row per cell x repeat result. The store exposes
them (plus ``EXTRA_COLUMNS``) through the SQL view ``result_rows``, whose columns are ``VIEW_COLUMNS`` in
view order. All come from the single row definition ``imagegen.storage.rows.ROW``; this module keeps the
short import path.
"""

from imagegen.storage.rows import EXPORT_COLUMNS, EXTRA_COLUMNS, STATUSES, VIEW_COLUMNS

__all__ = ["EXPORT_COLUMNS", "EXTRA_COLUMNS", "STATUSES", "VIEW_COLUMNS"]
