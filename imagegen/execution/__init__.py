"""Execution: configuration (``settings``), one attempt over the openai SDK (``providers``), the built-in
Images API simulator (``simulator``), quotas (``ratelimit``), retries (``retry``) and grid runs
(``runner``). Imports the core and storage."""
