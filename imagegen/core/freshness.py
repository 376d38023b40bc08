"""Catalog freshness: what the installed SDK knows that the catalog lacks, stale and assumed entries, conflicts.

``check_catalog(catalog, sdk, today)`` is pure: the SDK's vocabulary comes in as :class:`SdkVocabulary`
(read by ``imagegen.execution.providers.sdk_vocabulary``, the only layer allowed to import the SDK) and the
date is passed in. Values the catalog deliberately does not model (DALL-E's qualities, parameters that
are not image settings) are DATA in ``imagegen/core/data/catalog_check.toml`` with a reason, a source and
a checked date, never silently skipped in code.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path

from pydantic import BaseModel

from imagegen.core.catalog import DATA_DIR, Catalog
from imagegen.core.request import ImageRequest

STALE_AFTER_DAYS = 90
#: Fields whose value is a figure's status (documented / derived / measured / assumed).
STATUS_FIELDS = {"status", "formula_status", "quality_status", "complexity_status"}
#: SDK model ids that are GPT image models (the catalog must know each of them).
GPT_IMAGE_PREFIXES = ("gpt-image", "chatgpt-image")


@dataclass(frozen=True)
class SdkVocabulary:
    """What the installed openai SDK's types list for the Images API."""

    version: str
    models: tuple[str, ...]
    qualities: tuple[str, ...]
    output_formats: tuple[str, ...]
    parameters: tuple[str, ...]
    backgrounds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One thing that needs attention: ``kind`` is sdk_model | sdk_quality | sdk_parameter |
    sdk_output_format | stale | assumed | conflict."""

    kind: str
    subject: str
    detail: str


@dataclass(frozen=True)
class FreshnessReport:
    """The findings of :func:`check_catalog`, and what was ignored on purpose."""

    today: date
    sdk_version: str
    findings: tuple[Finding, ...]
    ignored: tuple[Finding, ...] = field(default=())

    @property
    def needs_attention(self) -> bool:
        return bool(self.findings)

    def count(self, *kinds: str) -> int:
        return sum(1 for f in self.findings if f.kind in kinds)

    def summary(self) -> str:
        """One line: ``catalog check: 2 SDK values missing, 3 entries over 90 days old, 4 assumed, 2 conflicts``."""
        if not self.findings:
            return f"catalog check: up to date with openai SDK {self.sdk_version} (nothing assumed, stale or in conflict)"
        parts = []
        sdk = self.count("sdk_model", "sdk_quality", "sdk_parameter", "sdk_output_format")
        if sdk:
            parts.append(f"{sdk} value{'s' if sdk != 1 else ''} the openai SDK {self.sdk_version} knows are missing")
        for kind, word in (("stale", f"over {STALE_AFTER_DAYS} days since checked"), ("assumed", "assumed"),
                           ("conflict", "documented conflicts")):
            n = self.count(kind)
            if n:
                parts.append(f"{n} {word}")
        return "catalog check: " + ", ".join(parts)

    def to_dict(self) -> dict:
        return {"today": self.today.isoformat(), "sdk_version": self.sdk_version,
                "needs_attention": self.needs_attention, "summary": self.summary(),
                "findings": [f.__dict__ for f in self.findings], "ignored": [f.__dict__ for f in self.ignored]}


class _Ignored(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}
    kind: str
    value: str
    reason: str
    source: str
    checked: date


def load_ignored(data_dir: Path | str | None = None) -> dict[tuple[str, str], _Ignored]:
    """``catalog_check.toml``: SDK values the catalog does not model on purpose, with reasons."""
    path = Path(data_dir or os.environ.get("IMAGEGEN_DATA") or DATA_DIR) / "catalog_check.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    out = {}
    for body in raw.get("ignore", []):
        item = _Ignored(**body)
        out[(item.kind, item.value)] = item
    return out


def _known_parameters() -> set[str]:
    names = {f.name for f in fields(ImageRequest)} - {"provider", "deployment", "input_images", "operation"}
    return names | {"image", "mask", "markup"}  # edit files: [edit] images, mask and markup (grid specs)


def _walk_notes(obj, path: str):
    """Every (path, note text, status) of the catalog's pydantic entries."""
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            if name == "base_model":  # a resolved copy of another token model, walked on its own
                continue
            if name == "complexity_status" and not getattr(obj, "complexity_multiplier", None):
                continue  # a default for models without a complexity parameter: nothing rests on it
            yield from _walk_notes(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk_notes(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _walk_notes(v, f"{path}[{i}]")
    else:
        yield path, obj


def check_catalog(catalog: Catalog, sdk: SdkVocabulary, today: date,
                  ignored: dict[tuple[str, str], _Ignored] | None = None) -> FreshnessReport:
    """Everything about the catalog that needs attention on ``today``."""
    ignored = load_ignored() if ignored is None else ignored
    findings: list[Finding] = []
    skipped: list[Finding] = []

    def sdk_finding(kind: str, value: str, detail: str) -> None:
        item = ignored.get((kind, value))
        if item is not None:
            skipped.append(Finding(kind, value, f"ignored: {item.reason} ({item.source}, checked {item.checked})"))
        else:
            findings.append(Finding(kind, value, detail))

    for mid in sdk.models:
        if mid.startswith(GPT_IMAGE_PREFIXES) and not catalog.has_model(mid):
            sdk_finding("sdk_model", mid, f"the openai SDK {sdk.version} lists model {mid!r}; the catalog does not "
                        "have it. Fix: add it to imagegen/core/data/models.toml (or as an alias).")
    known_q = {q for m in catalog.models.values() for q in m.qualities} | {"auto"}
    for q in sdk.qualities:
        if q not in known_q:
            sdk_finding("sdk_quality", q, f"the SDK accepts quality {q!r}; no catalog model offers it.")
    known_f = {f for m in catalog.models.values() for f in m.output_formats}
    for f in sdk.output_formats:
        if f not in known_f:
            sdk_finding("sdk_output_format", f, f"the SDK accepts output_format {f!r}; no catalog model offers it.")
    known_p = _known_parameters()
    for p in sdk.parameters:
        if p not in known_p:
            sdk_finding("sdk_parameter", p, f"the SDK has parameter {p!r}; requests, validation and the simulator "
                        "do not model it.")

    limit = today - timedelta(days=STALE_AFTER_DAYS)
    entries = [(f"models.{k}", m) for k, m in catalog.models.items()]
    entries += [(f"models.{k}.providers.{p}", s) for k, m in catalog.models.items() for p, s in m.providers.items()]
    entries += [(f"tokens.{k}", t) for k, t in catalog.tokens.items()]
    entries += [(f"price {p.key}", p) for p in catalog.prices if not p.override]
    entries += [(f"list_price {lp.provider}/{lp.model}@{lp.effective_from}", lp) for lp in catalog.list_prices]
    for where, entry in entries:
        checked = getattr(entry, "checked", None)
        if isinstance(checked, date) and checked < limit:
            findings.append(Finding("stale", where, f"checked {checked.isoformat()}, {(today - checked).days} days "
                                    f"ago (> {STALE_AFTER_DAYS}). Fix: re-check its source and bump `checked`."))

    seen_conflicts: set[str] = set()
    walked = [(w, e) for w, e in entries if ".providers." not in w]  # a model's walk covers its providers
    for where, entry in walked:
        for path, value in _walk_notes(entry, where):
            leaf = path.rsplit(".", 1)[-1]
            segments = set(path.replace("[", ".").split("."))
            if value == "assumed" and segments & STATUS_FIELDS:
                findings.append(Finding("assumed", path, "status = assumed: to be replaced by a documented figure "
                                        "or a measurement (`calibrate --adopt`)."))
            elif (isinstance(value, str) and "conflict" in value.lower() and leaf in ("note", "conflict", "conflicts")
                  and value not in seen_conflicts):
                seen_conflicts.add(value)
                findings.append(Finding("conflict", path.rsplit(".", 1)[0], value))
    return FreshnessReport(today, sdk.version, tuple(findings), tuple(skipped))
