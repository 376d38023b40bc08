"""Local token overrides: output tokens we measured ourselves, adopted in place of the catalog's figure.

``<home>/token_overrides.toml`` sits beside ``price_overrides.toml`` and holds ``[[override]]``
tables, one per model x quality x size, each with its provenance::

    [[override]]
    model = "gpt-image-2"
    quality = "high"
    size = "1024x1024"
    output_tokens = 1872             # output image tokens per image (what estimates now use)
    catalog_tokens = 1756            # what the catalog said when it was adopted
    catalog_status = "derived"
    n = 12                           # results the mean is taken over
    min = 1840
    max = 1901
    runs = ["20261130-101500-ab12cd"]
    first = 2026-11-30               # dates of the first and last measured result
    last = 2026-11-30
    provider = "openai"              # where it was measured (catalog flavour)
    adopted_by = "alice"
    adopted_on = 2026-12-01

They load as :class:`TokenOverride` and are applied with ``Catalog.with_token_overrides``: estimates
and the planner then use ``output_tokens`` and label the figure ``measured (ours, n = 12)``.
Deleting the table (or the file) restores the catalog's figure. Mistakes name the file, the key
and the fix.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from imagegen.core.catalog import PROVIDERS, Catalog
from imagegen.errors import TokenOverrideError

TOKEN_OVERRIDES_FILE = "token_overrides.toml"



class TokenOverride(BaseModel):
    """Output image tokens per image for one model x quality x size, measured by us, with provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    model: str
    quality: str
    size: str
    output_tokens: int = Field(gt=0)
    catalog_tokens: int | None = None
    catalog_status: str = ""
    n: int = Field(gt=0)
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    runs: tuple[str, ...] = ()
    first: date
    last: date
    provider: str = "openai"
    adopted_by: str
    adopted_on: date
    note: str = ""

    @field_validator("provider")
    @classmethod
    def _provider(cls, v: str) -> str:
        if v not in PROVIDERS:
            raise ValueError(f"provider {v!r} is not one of {', '.join(PROVIDERS)}")
        return v

    @field_validator("adopted_by")
    @classmethod
    def _who(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("adopted_by is empty; say who adopted the measurement")
        return v.strip()

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.model, self.quality, self.size)

    @property
    def label(self) -> str:
        """The status string estimates carry: ``measured (ours, n = 12)``."""
        return f"measured (ours, n = {self.n:,})"

    @property
    def deviation_pct(self) -> float | None:
        if not self.catalog_tokens:
            return None
        return (self.output_tokens - self.catalog_tokens) / self.catalog_tokens * 100


def token_overrides_path(home: Path | str) -> Path:
    """Where the token overrides of data dir ``home`` live."""
    return Path(home) / TOKEN_OVERRIDES_FILE


def check_override(entry: TokenOverride, catalog: Catalog, where: str = "override") -> TokenOverride:
    """Check ``entry`` against the catalog (model known, quality offered); return it with the catalog id."""
    if not catalog.has_model(entry.model):
        raise TokenOverrideError(f"{where}.model = {entry.model!r} is not in the catalog. "
                                 f"Fix: use one of {', '.join(sorted(catalog.models))}.")
    model = catalog.model(entry.model)
    qualities = catalog.token_model(model).qualities()
    if entry.quality not in qualities:
        raise TokenOverrideError(f"{where}.quality = {entry.quality!r} is not a quality of {model.id} "
                                 f"(allowed: {', '.join(qualities)}). Fix: correct the quality.")
    w, sep, h = entry.size.partition("x")
    if not (sep and w.isdigit() and h.isdigit()):
        raise TokenOverrideError(f"{where}.size = {entry.size!r} is not WIDTHxHEIGHT. Fix: e.g. \"1024x1024\".")
    if entry.min > entry.max or not entry.min <= entry.output_tokens <= entry.max:
        raise TokenOverrideError(f"{where}: min {entry.min}, output_tokens {entry.output_tokens}, max {entry.max} "
                                 "are not in order. Fix: min <= output_tokens <= max.")
    if entry.first > entry.last:
        raise TokenOverrideError(f"{where}: first {entry.first} is after last {entry.last}. Fix: swap them.")
    return entry if entry.model == model.id else entry.model_copy(update={"model": model.id})


def parse_token_overrides(text: str, catalog: Catalog, where: str = TOKEN_OVERRIDES_FILE) -> list[TokenOverride]:
    """Parse the file's text into validated overrides (one per model x quality x size)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TokenOverrideError(f"{where}: not valid TOML ({exc}). Fix: correct the syntax at that line, "
                                 "or delete the file to drop every token override.") from None
    extra = sorted(set(data) - {"override"})
    if extra:
        raise TokenOverrideError(f"{where}: unknown table(s) {extra}. Fix: write each one as an [[override]] table.")
    raw = data.get("override", [])
    if not isinstance(raw, list):
        raise TokenOverrideError(f"{where}: `override` must be an array of tables. Fix: write [[override]].")
    out: list[TokenOverride] = []
    seen: dict[tuple, int] = {}
    for i, body in enumerate(raw):
        at = f"{where}: override[{i}]"
        try:
            entry = TokenOverride(**body)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            fix = "remove the key" if err["type"] == "extra_forbidden" else \
                "add the key" if err["type"] == "missing" else "correct the value"
            raise TokenOverrideError(f"{at}.{key}: {err['msg']}. Fix: {fix}.") from None
        entry = check_override(entry, catalog, at)
        if entry.key in seen:
            raise TokenOverrideError(f"{at}: repeats override[{seen[entry.key]}] ({'/'.join(entry.key)}). "
                                     "Fix: keep one override per model, quality and size.")
        seen[entry.key] = i
        out.append(entry)
    return out


def load_token_overrides(home: Path | str, catalog: Catalog) -> list[TokenOverride]:
    """The token overrides saved under ``home`` (none when the file does not exist)."""
    path = token_overrides_path(home)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return parse_token_overrides(text, catalog, where=str(path))


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    s = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def dump_token_overrides(entries: Iterable[TokenOverride]) -> str:
    """The TOML text of ``entries`` (every field written, so the file says where each figure came from)."""
    lines = ["# Local token overrides: output tokens per image measured on our own real runs (calibrate --adopt).",
             "# They win over imagegen/core/data/tokens.toml for estimates and the planner. Delete a table to drop it."]
    for e in entries:
        lines += ["", "[[override]]"]
        for key, value in e.model_dump().items():
            if value is None or (key == "note" and not value):
                continue
            lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def save_token_overrides(home: Path | str, entries: Iterable[TokenOverride]) -> Path:
    """Write ``entries`` atomically (a crash never leaves half a file); an empty list removes the file."""
    entries = list(entries)
    path = token_overrides_path(home)
    if not entries:
        path.unlink(missing_ok=True)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".token_overrides.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dump_token_overrides(entries))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def add_token_overrides(home: Path | str, new: Iterable[TokenOverride], catalog: Catalog) -> list[TokenOverride]:
    """Save ``new``, replacing overrides for the same model x quality x size; return them all."""
    new = [check_override(e, catalog) for e in new]
    keys = {e.key for e in new}
    entries = [e for e in load_token_overrides(home, catalog) if e.key not in keys] + new
    save_token_overrides(home, entries)
    return entries


def remove_token_override(home: Path | str, model: str, quality: str, size: str,
                          catalog: Catalog) -> list[TokenOverride]:
    """Drop one override (the catalog's figure is used again); TokenOverrideError when there is none."""
    current = load_token_overrides(home, catalog)
    mid = catalog.model(model).id if catalog.has_model(model) else model
    kept = [e for e in current if e.key != (mid, quality, size)]
    if len(kept) == len(current):
        known = ", ".join("/".join(e.key) for e in current) or "none"
        raise TokenOverrideError(f"no token override for {mid}/{quality}/{size} (saved: {known}). "
                                 "Fix: pick one of the saved overrides.")
    save_token_overrides(home, kept)
    return kept


def apply_token_overrides(catalog: Catalog, home: Path | str) -> Catalog:
    """``catalog`` with the token overrides saved under ``home`` (the same catalog when there are none)."""
    entries = load_token_overrides(home, catalog)
    return catalog.with_token_overrides(entries) if entries else catalog
