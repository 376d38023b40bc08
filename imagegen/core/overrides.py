"""Local price overrides: a regional Azure price or a negotiated rate, kept in the data dir.

``<home>/price_overrides.toml`` holds ``[[override]]`` tables in the catalog's units (USD per
1M tokens)::

    [[override]]
    model = "gpt-image-1.5"
    provider = "azure"
    effective_from = 2026-11-01
    image_output = 35.2            # prices not given are copied from the catalog entry in force
    note = "swedencentral regional price"

They load as ``PriceEntry(override=True)`` (key ``provider/model@date+override``) and are
applied with ``Catalog.with_overrides``, so estimates and the planner use them and every
cost computed from them names the override. Mistakes are reported with the file, the key
and the fix.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import ClassVar

from pydantic import ValidationError

from imagegen.core.catalog import PROVIDERS, Catalog, PriceEntry, default_catalog
from imagegen.core.paths import data_home
from imagegen.core.validation import Strict, check, number, one_of, text, toml_date
from imagegen.errors import OverrideError

OVERRIDES_FILE = "price_overrides.toml"
PRICE_FIELDS = ("text_input", "cached_text_input", "image_input", "cached_image_input", "image_output", "text_output")
REQUIRED_PRICES = PRICE_FIELDS[:5]
ALLOWED_KEYS = ("model", "provider", "effective_from", *PRICE_FIELDS, "source", "checked", "note")
DEFAULT_SOURCE = "local override"


Price = number(0, 1_000_000, lo_open=False, example="35.2", what="a price of 0 or more (USD per 1M tokens)",
               as_decimal=True)


class OverrideTable(Strict):
    """One ``[[override]]`` table as written in the file (types only; the catalog checks come after)."""

    missing_fix: ClassVar[dict[str, str]] = {
        key: 'add it (e.g. model = "gpt-image-1.5", provider = "azure", effective_from = 2026-11-01)'
        for key in ("model", "provider", "effective_from")}

    model: text(max_len=200, example="gpt-image-1.5", what="a model id")
    provider: one_of(PROVIDERS, "use openai or azure (the simulator follows openai's prices)")
    effective_from: toml_date()
    text_input: Price | None = None
    cached_text_input: Price | None = None
    image_input: Price | None = None
    cached_image_input: Price | None = None
    image_output: Price | None = None
    text_output: Price | None = None
    source: text(max_len=500, example="my contract", empty_ok=True, what="text") = DEFAULT_SOURCE
    checked: toml_date("2026-11-25") | None = None
    note: text(max_len=2000, example="swedencentral regional price", empty_ok=True, what="text") = ""


def _show(value) -> str:
    """A value as written in the file: numbers plain, text quoted."""
    return repr(value) if isinstance(value, str) else str(value)


def overrides_path(home: Path | str) -> Path:
    """Where the overrides of data dir ``home`` live (``~`` expanded, as the store does)."""
    return data_home(home) / OVERRIDES_FILE


def make_override(catalog: Catalog, model: str, provider: str, effective_from: date, *,
                  note: str = "", source: str = DEFAULT_SOURCE, checked: date | None = None,
                  where: str = "override", **prices) -> PriceEntry:
    """Validate one override; prices not given are copied from the catalog entry in force on ``effective_from``.

    ``checked`` (when the rate was confirmed) defaults to ``effective_from``. Raises OverrideError
    naming ``where.key`` and the fix.
    """
    unknown = sorted(set(prices) - set(PRICE_FIELDS))
    if unknown:
        raise OverrideError(f"{where}: unknown key(s) {unknown}. Fix: use only {', '.join(ALLOWED_KEYS)}.")
    if not isinstance(model, str) or not catalog.has_model(model):
        raise OverrideError(f"{where}.model = {model!r} is not in the catalog. "
                            f"Fix: use one of {', '.join(sorted(catalog.models))}.")
    model_id = catalog.model(model).id
    if provider not in PROVIDERS:
        raise OverrideError(f"{where}.provider = {provider!r} is not allowed: one of {', '.join(PROVIDERS)}. "
                            "Fix: use openai or azure (the simulator follows openai's prices).")
    if not isinstance(effective_from, date):
        raise OverrideError(f"{where}.effective_from = {effective_from!r} is not a date. "
                            "Fix: write a TOML date such as 2026-11-01 (no quotes).")
    values: dict[str, Decimal | None] = {}
    for key, raw in prices.items():
        if raw is None:
            continue
        if isinstance(raw, bool):
            raise OverrideError(f"{where}.{key} = {_show(raw)} is not a price. Fix: write USD per 1M tokens, e.g. 35.2.")
        try:
            value = raw if isinstance(raw, Decimal) else Decimal(str(raw))
        except InvalidOperation:
            raise OverrideError(f"{where}.{key} = {_show(raw)} is not a number. "
                                "Fix: write USD per 1M tokens, e.g. 35.2.") from None
        if not value.is_finite() or value < 0:
            raise OverrideError(f"{where}.{key} = {_show(raw)} is not allowed: a price of 0 or more (USD per 1M tokens). "
                                "Fix: correct the value.")
        values[key] = value
    if not any(k in values for k in PRICE_FIELDS):
        raise OverrideError(f"{where}: no price given. Fix: set at least one of {', '.join(PRICE_FIELDS)} "
                            "(USD per 1M tokens).")
    base = catalog.price_in_force(model_id, provider, effective_from, overrides=False)
    missing = [k for k in REQUIRED_PRICES if k not in values]
    if missing and base is None:
        raise OverrideError(f"{where}: the catalog has no {provider} price for {model_id} on "
                            f"{effective_from.isoformat()} to copy {', '.join(missing)} from. Fix: give every one of "
                            f"{', '.join(REQUIRED_PRICES)}.")
    for key in PRICE_FIELDS:
        if key not in values and base is not None:
            values[key] = getattr(base, key)
    try:
        return PriceEntry(model=model_id, provider=provider, effective_from=effective_from, source=source or DEFAULT_SOURCE,
                          checked=checked or effective_from, note=note or "", override=True, **values)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise OverrideError(f"{where}.{key}: {err['msg']}. Fix: correct the value.") from None


def parse_overrides(text: str, catalog: Catalog | None = None, where: str = OVERRIDES_FILE) -> list[PriceEntry]:
    """Parse the overrides file's text into validated ``PriceEntry(override=True)`` objects."""
    catalog = catalog or default_catalog()
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise OverrideError(f"{where}: not valid TOML ({exc}). Fix: correct the syntax at that line, "
                            "or delete the file to drop every override.") from None
    extra = sorted(set(data) - {"override"})
    if extra:
        raise OverrideError(f"{where}: unknown table(s) {extra}. Fix: write each override as an [[override]] table.")
    raw = data.get("override", [])
    if not isinstance(raw, list):
        raise OverrideError(f"{where}: `override` must be an array of tables. Fix: write [[override]] (double brackets).")
    entries: list[PriceEntry] = []
    seen: dict[tuple, int] = {}
    for i, body in enumerate(raw):
        at = f"{where}: override[{i}]"
        table: OverrideTable = check(OverrideTable, body, where, OverrideError, prefix=("override", i))
        entry = make_override(
            catalog, table.model, table.provider, table.effective_from, note=table.note, source=table.source,
            checked=table.checked, where=at, **{k: getattr(table, k) for k in PRICE_FIELDS if getattr(table, k) is not None},
        )
        ident = (entry.model, entry.provider, entry.effective_from)
        if ident in seen:
            raise OverrideError(f"{at}: repeats override[{seen[ident]}] ({entry.key}). "
                                "Fix: keep one override per model, provider and date.")
        seen[ident] = i
        entries.append(entry)
    return entries


def load_overrides(home: Path | str, catalog: Catalog | None = None) -> list[PriceEntry]:
    """The overrides saved under data dir ``home`` (none when the file does not exist)."""
    path = overrides_path(home)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return parse_overrides(text, catalog, where=str(path))


def _toml_value(value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text if "." in text else text + ".0"
    s = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def dump_overrides(entries: Iterable[PriceEntry]) -> str:
    """The TOML text for ``entries`` (every price written out, so the file says exactly what is used)."""
    lines = [
        "# Local price overrides (USD per 1M tokens), written by the Catalog page or by hand.",
        "# They win over imagegen/core/data/prices.toml for estimates and the planner. Delete a table to drop it.",
    ]
    for e in entries:
        lines += ["", "[[override]]"]
        for key in ("model", "provider", "effective_from", *PRICE_FIELDS, "source", "checked", "note"):
            value = getattr(e, key)
            if value is None or (key == "note" and not value):
                continue
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def save_overrides(home: Path | str, entries: Iterable[PriceEntry]) -> Path:
    """Write ``entries`` to the overrides file atomically (a crash never leaves half a file)."""
    path = overrides_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dump_overrides(entries)
    fd, tmp = tempfile.mkstemp(prefix=".price_overrides.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def add_override(home: Path | str, entry: PriceEntry, catalog: Catalog | None = None) -> list[PriceEntry]:
    """Save ``entry``, replacing an override for the same model, provider and date; return them all."""
    current = [e for e in load_overrides(home, catalog)
               if (e.model, e.provider, e.effective_from) != (entry.model, entry.provider, entry.effective_from)]
    entries = [*current, entry.model_copy(update={"override": True})]
    save_overrides(home, entries)
    return entries


def remove_override(home: Path | str, key: str, catalog: Catalog | None = None) -> list[PriceEntry]:
    """Drop the override whose ``PriceEntry.key`` is ``key``; raise OverrideError when there is none."""
    current = load_overrides(home, catalog)
    kept = [e for e in current if e.key != key]
    if len(kept) == len(current):
        known = ", ".join(e.key for e in current) or "none"
        raise OverrideError(f"no override {key!r} (saved: {known}). Fix: pick one of the saved overrides.")
    save_overrides(home, kept)
    return kept


def apply_overrides(catalog: Catalog, home: Path | str) -> Catalog:
    """``catalog`` with the overrides saved under ``home`` (the same catalog when there are none)."""
    entries = load_overrides(home, catalog)
    return catalog.with_overrides(entries) if entries else catalog
