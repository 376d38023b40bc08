"""Tidy tables of the catalog for the Catalog page (pure pandas: no Streamlit calls here)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from imagegen.core.catalog import PROVIDERS, STANDARD_QUALITIES, Catalog, PriceEntry
from imagegen.core.lifecycle import Lifecycle, every_status, status
from imagegen.core.overrides import PRICE_FIELDS
from imagegen.core.pricing import Usage, cost_of, documented_output_tokens
from imagegen.core.tokens import token_figure


def lifecycle(catalog: Catalog, today: date) -> list[Lifecycle]:
    """Every model x provider on ``today`` (:func:`imagegen.core.lifecycle.every_status`)."""
    return every_status(catalog, today)


def models_table(catalog: Catalog) -> pd.DataFrame:
    """One row per model: what it accepts."""
    rows = []
    for mid, m in catalog.models.items():
        rows.append({
            "model": mid, "label": m.label, "aliases": ", ".join(m.aliases),
            "sizes": ", ".join(m.sizes) if m.sizes else m.size_rule.describe() if m.size_rule else "",
            "qualities": ", ".join((*m.qualities, "auto")), "formats": ", ".join(m.output_formats),
            "transparency": m.transparency and (m.transparency_stage if m.transparency_stage != "ga" else True),
            "complexity": ", ".join(m.complexity) or "omit", "gated formats": ", ".join(m.gated_formats),
            "compression": m.compression, "n_max": m.n_max,
            "streaming": f"yes, up to {m.partial_images_max} partial" if m.streaming else "no",
            "edits": m.edits, "input_fidelity": ", ".join(m.input_fidelity) or "omit",
            "moderation": ", ".join(m.moderation), "tokens": m.tokens, "source": m.source,
            "checked": m.checked.isoformat(), "note": m.note,
        })
    return pd.DataFrame(rows)


def lifecycle_table(catalog: Catalog, today: date) -> pd.DataFrame:
    """One row per model x provider: dates, successor, status, provider-specific defaults and source."""
    states = {(lc.model, lc.provider): lc.label for lc in lifecycle(catalog, today)}
    rows = []
    for mid, m in catalog.models.items():
        for provider in PROVIDERS:
            spec = m.providers.get(provider)
            if spec is None:
                continue
            rows.append({
                "model": mid, "provider": provider, "status": states[(mid, provider)],
                "released": spec.released, "deprecated": spec.deprecated, "shutdown": spec.shutdown,
                "successor": spec.successor or "", "default_quality": spec.default_quality or "",
                "formats": ", ".join(spec.output_formats or m.output_formats),
                "max edge": f"< {spec.max_edge_below}" if spec.max_edge_below else "",
                "conflict": spec.conflict, "source": spec.source,
                "checked": spec.checked.isoformat(), "note": spec.note,
            })
    return pd.DataFrame(rows)


def token_table(catalog: Catalog, key: str) -> pd.DataFrame:
    """Output tokens per image, quality x common size, marking where the figure is from."""
    tm = catalog.tokens[key]
    models = [m for m in catalog.models.values() if m.tokens == key]
    sizes: list[str] = []
    for m in models:
        sizes += [s for s in m.size_values() if s not in sizes]
    rows = []
    for quality in tm.qualities():
        row: dict = {"quality": quality}
        labels: list[str] = []
        for size in sizes:
            fig = token_figure(tm, quality, size)
            in_table = tm.table.get(quality, {}).get(size) is not None
            text = f"{fig.tokens:,}" + ("" if in_table else " ·")
            if fig.is_range:
                text += f" ({fig.low:,}–{fig.high:,})"
            row[size] = text
            labels += [fig.label] if fig.label not in labels else []
        row["status"] = "; ".join(labels)
        rows.append(row)
    return pd.DataFrame(rows)


def formula_text(catalog: Catalog, key: str) -> str:
    """The token formula in words with its parameters."""
    tm = catalog.tokens[key]
    if tm.method == "relative":
        mult = ", ".join(f"{q} ×{m}" + (f" [{tm.multiplier_range[q][0]}–{tm.multiplier_range[q][1]}]"
                                        if q in tm.multiplier_range else "") for q, m in tm.multiplier.items())
        return f"tokens = ceil(tokens of {tm.base} × multiplier), multiplier: {mult}"
    if tm.method == "patch_grid":
        patches = ", ".join(f"{q} {p}" for q, p in (tm.patch or {}).items())
        return f"tokens = ceil(H / p) × (ceil(W / p) + 1), patch p: {patches}"
    factors = ", ".join(f"{q} {f}" + (f" [{tm.quality_factor_range[q][0]}–{tm.quality_factor_range[q][1]}, assumed]"
                                     if q in tm.quality_factor_range else "")
                        for q, f in (tm.quality_factor or {}).items())
    return ("sa = (2·qf·S + L) // (2·L); tokens = ceil(qf · sa · (2,000,000 + W·H) / 4,000,000), "
            f"L/S the long/short edge, quality factor qf: {factors}")


def prices_table(catalog: Catalog) -> pd.DataFrame:
    """Every price entry (overrides marked) in USD per 1M tokens, with source and checked date."""
    rows = []
    for p in sorted(catalog.prices, key=lambda p: (p.model, p.provider, p.effective_from, p.override)):
        row = {"model": p.model, "provider": p.provider, "effective_from": p.effective_from,
               "kind": "local override" if p.override else "catalog"}
        row.update({f: (str(getattr(p, f)) if getattr(p, f) is not None else "") for f in PRICE_FIELDS})
        row.update({"status": p.status, "source": p.source, "checked": p.checked.isoformat(), "note": p.note,
                    "key": p.key})
        rows.append(row)
    return pd.DataFrame(rows)


def per_image_estimates(catalog: Catalog, provider: str, size: str, on: date,
                        prompt_tokens: int = 0) -> pd.DataFrame:
    """Estimated cost of one image per model x standard quality at ``size`` with the prices in force.

    Output tokens from the documented table/formula (+ ``prompt_tokens`` of text input), priced
    with the entry ``Catalog.price_in_force`` picks on ``on`` (a local override wins); ``price`` names
    it and ``status`` says whether the model is live, retiring or shut down on ``provider`` that day.
    """
    rows = []
    for mid, m in catalog.models.items():
        price = catalog.price_in_force(mid, provider, on)
        if price is None:  # no price on this provider on that date: nothing to estimate
            continue
        row: dict = {"model": mid, "status": status(catalog, mid, provider, on).label}
        for quality in STANDARD_QUALITIES:
            if quality not in m.qualities:
                row[quality] = None
                continue
            tokens = documented_output_tokens(catalog, mid, quality, size)
            row[quality] = cost_of(Usage(input_text_tokens=prompt_tokens, output_tokens=tokens), price).total
        row["price"] = price.key
        row["override"] = price.override
        rows.append(row)
    return pd.DataFrame(rows, columns=["model", "status", *STANDARD_QUALITIES, "price", "override"])


def money_cells(frame: pd.DataFrame, columns: tuple[str, ...] = STANDARD_QUALITIES) -> pd.DataFrame:
    """Decimal USD columns as ``$0.0338`` strings (exact value kept to 6 places)."""
    out = frame.copy()
    for col in columns:
        out[col] = [f"${v.quantize(Decimal('0.000001'))}" if isinstance(v, Decimal) else "–" for v in frame[col]]
    return out


def base_price(catalog: Catalog, model: str, provider: str, on: date) -> PriceEntry | None:
    """The catalog's own entry (overrides ignored) for prefilling the override form."""
    return catalog.price_in_force(model, provider, on, overrides=False)
