"""imagegen: what OpenAI's and Azure OpenAI's image models cost, how long they take, side by side.

The library behind the dashboard and ``python -m imagegen``; it never imports Streamlit.
Layers, lowest first (each imports only from those below it; ``lint-imports`` enforces this with
the contracts in ``pyproject.toml``):

- ``errors``: the project's exception hierarchy;
- ``core``: the catalog as validated data, token tables, request validation, estimates, price
  overrides, grid specs and axes;
- ``storage``: the SQLite history and its migrations;
- ``execution``: settings, providers over the openai SDK, the simulator, rate limits, retries, runs;
- ``insight``: analytics, charts, the planner, code snippets, grid layout and image (beside
  ``execution``; neither imports the other);
- ``cli``: ``python -m imagegen``.

The names below are the stable entry points; heavier modules (SDK, pandas, plotly) load on use.
"""

from imagegen.core.catalog import Catalog, default_catalog, load_catalog
from imagegen.core.grid import GridSpec, estimate_grid, load_spec, loads_spec
from imagegen.core.pricing import Estimate, Usage, billed_cost, estimate
from imagegen.core.request import ImageRequest, validate
from imagegen.errors import (
    BudgetExceeded,
    CatalogError,
    ConfigError,
    ImagegenError,
    InvalidRequest,
    ProviderError,
    SpecError,
    StoreError,
)

__all__ = [
    "BudgetExceeded",
    "Catalog",
    "CatalogError",
    "ConfigError",
    "Estimate",
    "GridSpec",
    "ImageRequest",
    "ImagegenError",
    "InvalidRequest",
    "ProviderError",
    "SpecError",
    "StoreError",
    "Usage",
    "billed_cost",
    "default_catalog",
    "estimate",
    "estimate_grid",
    "load_catalog",
    "load_spec",
    "loads_spec",
    "validate",
]
