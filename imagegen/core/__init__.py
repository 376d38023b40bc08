"""The core: the catalog as validated data and what follows from it without any I/O beyond reading it.

Catalog (``catalog``, ``data/*.toml``), output-token tables (``tokens``), request validation
(``request``), estimates and billed cost (``pricing``), local price overrides (``overrides``), grid
specs and their cells (``grid``), the axes a grid can vary (``axes``), image-byte facts
(``imagefile``), what one request records (``results``) and the Generate form's values as a grid spec
(``gridform``). Imports nothing above it.
"""
