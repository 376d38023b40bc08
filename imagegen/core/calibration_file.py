"""The shareable calibration file: adopted token measurements, tied to one catalog version.

A team exports its local token overrides (``calibrate --export FILE``), another member imports them
(``calibrate --import FILE``), or anyone sends the file upstream as a correction to
``imagegen/core/data/tokens.toml``. The format is JSON, validated on import (unknown keys refused)::

    {
      "format": "imagegen-calibration",
      "format_version": 1,
      "catalog_version": "2026-11-25/3f2a9c0d1e4b5a67",   # newest `checked` date / content fingerprint
      "exported_on": "2026-12-01",
      "exported_by": "alice",
      "entries": [ {TokenOverride fields: model, quality, size, output_tokens, catalog_tokens,
                    catalog_status, n, min, max, runs, first, last, provider, adopted_by, adopted_on, note} ]
    }

The catalog version is :func:`catalog_version` of the catalog the measurements were compared with:
a file from another catalog version is refused, because its ``catalog_tokens`` and deviations no
longer describe the catalog in use. (See docs/calibration.md.)
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from imagegen.core.catalog import Catalog
from imagegen.core.token_overrides import TokenOverride, TokenOverrideError, check_override

FORMAT = "imagegen-calibration"
FORMAT_VERSION = 1


def catalog_fingerprint(catalog: Catalog) -> str:
    """16 hex digits of the SHA-256 of the catalog's own data (local overrides excluded)."""
    body = {
        "models": {k: v.model_dump(mode="json") for k, v in sorted(catalog.models.items())},
        "tokens": {k: v.model_dump(mode="json") for k, v in sorted(catalog.tokens.items())},
        "prices": [p.model_dump(mode="json") for p in catalog.prices if not p.override],
        "list_prices": [p.model_dump(mode="json") for p in catalog.list_prices],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def catalog_version(catalog: Catalog) -> str:
    """``<newest checked date>/<fingerprint>``: readable, and different for any change of the data."""
    dates = [m.checked for m in catalog.models.values()] + [t.checked for t in catalog.tokens.values()]
    dates += [p.checked for p in catalog.prices if not p.override]
    return f"{max(dates).isoformat()}/{catalog_fingerprint(catalog)}"


class CalibrationFile(BaseModel):
    """The validated calibration file (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    format: Literal["imagegen-calibration"]
    format_version: Literal[1]
    catalog_version: str
    exported_on: date
    exported_by: str = Field(min_length=1)
    entries: tuple[TokenOverride, ...]


def export_calibration(entries: list[TokenOverride], catalog: Catalog, *, exported_by: str, today: date) -> str:
    """The calibration file's JSON text for ``entries``."""
    doc = CalibrationFile(format=FORMAT, format_version=FORMAT_VERSION, catalog_version=catalog_version(catalog),
                          exported_on=today, exported_by=exported_by, entries=tuple(entries))
    return json.dumps(doc.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def parse_calibration(text: str, catalog: Catalog, where: str = "calibration file") -> CalibrationFile:
    """Validate a calibration file; TokenOverrideError naming the problem and the fix when it is refused."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise TokenOverrideError(f"{where}: not valid JSON ({exc}). Fix: export it again with "
                                 "`python -m imagegen calibrate --export FILE`.") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise TokenOverrideError(f"{where}: not an imagegen calibration file (\"format\" must be {FORMAT!r}). "
                                 "Fix: pass a file written by `calibrate --export`.")
    try:
        doc = CalibrationFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise TokenOverrideError(f"{where}: {loc}: {err['msg']}. Fix: correct the value, or export the file again "
                                 f"(format_version {FORMAT_VERSION}).") from None
    ours = catalog_version(catalog)
    if doc.catalog_version != ours:
        raise TokenOverrideError(
            f"{where}: made against catalog version {doc.catalog_version}, but this catalog is {ours}. Its catalog "
            "figures and deviations would be wrong here. Fix: update both checkouts to the same catalog, then "
            "calibrate and export again.")
    for i, entry in enumerate(doc.entries):
        check_override(entry, catalog, f"{where}: entries[{i}]")
    return doc
