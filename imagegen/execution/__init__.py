"""Execution: configuration (``settings``), one attempt over the openai SDK (``providers``), the built-in
Images API simulator (``simulator``), quotas (``ratelimit``), retries (``retry``), grid runs
(``runner``) and a grid's expected duration (``duration``). Imports the core and storage."""
