"""imagegen: what OpenAI's and Azure OpenAI's image models cost, how long they take, side by side.

The library behind the dashboard and ``python -m imagegen``; it never imports Streamlit.
Layers, lowest first (each imports only from those below it; ``lint-imports`` enforces this with
the contracts in ``pyproject.toml``):

- ``errors``: the project's exception hierarchy (drawn in its docstring) and ``ErrorKind``;
- ``core``: the catalog as validated data, token tables, request validation, estimates, price
  overrides, grid specs and axes;
- ``storage``: the SQLite history (``store`` over ``db``, ``writer``, ``reader``, ``files``; ``rows``
  defines the result row once), its migrations and the votes;
- ``execution``: settings, providers over the openai SDK, the simulator, rate limits, retries, runs;
- ``insight``: analytics, charts, the planner, code snippets, grid layout and image (beside
  ``execution``; neither imports the other);
- ``cli`` and ``facade``: the two doors, ``python -m imagegen`` and the dashboard's pages (which
  import only ``ui`` and ``imagegen.facade``).

The names below are the stable entry points, imported on first use; heavier modules (SDK, pandas,
plotly, the tokenizer) load only where they are used.
"""

from importlib import import_module

#: Where each stable name lives; imported on first use (PEP 562), so ``import imagegen`` is instant.
_EXPORTS = {
    "Catalog": "imagegen.core.catalog", "default_catalog": "imagegen.core.catalog",
    "load_catalog": "imagegen.core.catalog",
    "GridSpec": "imagegen.core.grid", "estimate_grid": "imagegen.core.grid", "load_spec": "imagegen.core.grid",
    "loads_spec": "imagegen.core.grid",
    "Estimate": "imagegen.core.pricing", "Usage": "imagegen.core.pricing", "billed_cost": "imagegen.core.pricing",
    "estimate": "imagegen.core.pricing",
    "ImageRequest": "imagegen.core.request", "validate": "imagegen.core.request",
    **{name: "imagegen.errors" for name in ("BudgetExceeded", "CatalogError", "ConfigError", "ErrorKind",
                                            "ImagegenError", "InvalidRequest", "ProviderError", "SpecError",
                                            "StoreError")},
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'imagegen' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "BudgetExceeded",
    "Catalog",
    "CatalogError",
    "ConfigError",
    "ErrorKind",
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
