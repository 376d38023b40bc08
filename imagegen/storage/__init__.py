"""Storage: the SQLite history (``store``), its frozen migrations (``migrations``) and the result row's
columns (``columns``). Imports only the core."""
