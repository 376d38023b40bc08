"""imagegen: what OpenAI's and Azure OpenAI's image models cost, how long they take, side by side.

The library behind the dashboard and ``python -m imagegen``; it never imports Streamlit.
Layers, lowest first (each imports only from those above it in this list):

- ``catalog`` (+ ``data/*.toml``), ``tokens``, ``request``, ``pricing``, ``grid``: validated data,
  request validation, estimates and grid specs;
- ``settings``, ``providers``, ``simulator``: configuration and one attempt of one request over the
  openai SDK, to OpenAI, Azure OpenAI, a compatible endpoint or the built-in simulator;
- ``ratelimit``, ``retry``, ``runner``, ``migrations``, ``store``: grid runs and their SQLite history;
- ``analysis``, ``charts``, ``planner``, ``overrides``, ``axes``, ``codegen``: what the pages show.

The names below are the stable entry points; heavier modules (SDK, pandas, plotly) load on use.
"""

from .catalog import Catalog, default_catalog, load_catalog
from .errors import (
    BudgetExceeded,
    CatalogError,
    ConfigError,
    ImagegenError,
    InvalidRequest,
    ProviderError,
    SpecError,
    StoreError,
)
from .grid import GridSpec, estimate_grid, load_spec, loads_spec
from .pricing import Estimate, Usage, billed_cost, estimate
from .request import ImageRequest, validate

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
