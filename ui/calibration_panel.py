"""The Catalog page's calibration and catalog-check sections (issue 12).

* **Catalog check**: what the installed openai SDK knows and the catalog lacks, stale, assumed and
  conflicting entries (the same report as ``python -m imagegen catalog check``).
* **Calibration**: real runs against the catalog per model x quality x size, one button that adopts
  the measurements as local token overrides (labelled ``measured (ours, n = …)``), the saved overrides
  with a Remove button each, and export / import of a calibration file.
"""

from __future__ import annotations

import os
from datetime import date

import pandas as pd
import streamlit as st

from imagegen.errors import ImagegenError
from imagegen.facade import (
    add_token_overrides,
    calibrate,
    catalog_freshness,
    catalog_version,
    default_catalog,
    export_calibration,
    load_token_overrides,
    parse_calibration,
    proposals,
    remove_token_override,
    token_overrides_path,
)
from ui import Context
from ui.i18n import _
from ui.plain import md_escape
from ui.state import flash


def _who() -> str:
    import getpass

    try:
        return os.environ.get("IMAGEGEN_USER") or getpass.getuser() or "dashboard user"
    except (KeyError, OSError):
        return "dashboard user"


def render_catalog_check(ctx: Context, today: date) -> None:
    """Catalog check: the findings by kind (the home page links here)."""
    st.subheader(_("Catalog check"), anchor="catalog-check")
    report = catalog_freshness(default_catalog(), today)
    if report.needs_attention:  # info, not warning: the page's warnings are the lifecycle ones
        st.info(report.summary(), icon=":material/warning:")
    else:
        st.success(report.summary())
    if report.findings:
        st.dataframe(pd.DataFrame([f.__dict__ for f in report.findings]), hide_index=True, key="cat_check")
    if report.ignored:
        st.caption(_("Ignored on purpose (imagegen/core/data/catalog_check.toml): ")
                   + "; ".join(f"{f.subject} ({f.kind})" for f in report.ignored))


def _output_frame(cal) -> pd.DataFrame:
    rows = [{"model": e.model, "provider": e.provider, "quality": e.quality, "size": e.size, "n×": e.n_images,
             "partial images": e.partial_images, "results": e.n, "mean": round(e.mean, 1),
             "min–max": f"{e.min:,}–{e.max:,}", "catalog": e.catalog,
             "deviation %": None if e.deviation_pct is None else round(e.deviation_pct, 1),
             "catalog status": e.catalog_status, "adopted": e.adopted or "", "runs": len(e.runs),
             "dates": f"{e.first}…{e.last}"} for e in cal.output]
    return pd.DataFrame(rows)


def render_calibration(ctx: Context, today: date) -> None:
    """Measured vs catalog from real runs; adopt, remove, export, import."""
    st.subheader(_("Calibration from our real runs"))
    st.caption(_("Real results only: ok, not simulated, not reused, not replayed. Adopting turns "
                 "measured output tokens into local token overrides ({home}); estimates and the "
                 "planner then say “measured (ours, n = …)”. Removing one restores the catalog's "
                 "figure.").format(home=token_overrides_path(ctx.home)))
    base = default_catalog()
    if ctx.store is None:
        st.info(_("No run history is available."))
        return
    try:
        cal = calibrate(ctx.store.query, ctx.catalog, token_cache=ctx.home / "cache" / "prompt_tokens.json")
    except ImagegenError as exc:
        st.error(str(exc))
        return
    if not cal.output:
        st.info(_("No real results yet: run a grid on OpenAI or Azure, then come back."))
    else:
        st.dataframe(_output_frame(cal), hide_index=True, key="cal_output")
        if cal.latency:
            st.dataframe(pd.DataFrame([{"model": lat.model, "provider": lat.provider, "results": lat.n,
                                        "tokens/s": lat.tokens_per_s, "overhead s": lat.overhead_s,
                                        "residual sd s": lat.residual_sd_s, "mean s": lat.mean_s}
                                       for lat in cal.latency]), hide_index=True, key="cal_latency")
        found = proposals(cal, base, adopted_by=_who(), today=today)
        label = f"Adopt {len(found)} measurement(s) as local token overrides"
        if st.button(label, key="cal_adopt", type="primary", disabled=not found, icon=":material/done_all:"):
            add_token_overrides(ctx.home, found, base)
            flash(_("Adopted {found} measured figure(s); estimates and the planner now use them.").format(found=len(found)))
            st.rerun()
    try:
        saved = load_token_overrides(ctx.home, base)
    except ImagegenError as exc:
        saved = []
        st.error(_("The token overrides file cannot be used: {exc}").format(exc=md_escape(exc)))
    for e in saved:
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        c1.markdown(_("`{model} {quality} {size}`: {output_tokens:,} tokens per image, {label} "
                      "(catalog {value}, {catalog_status}); {runs} run(s) {first}…{last}, adopted by "
                      "{adopted_by} on {adopted_on}").format(model=e.model, quality=e.quality, size=e.size, output_tokens=e.output_tokens, label=e.label, value=e.catalog_tokens if e.catalog_tokens is not None else '—', catalog_status=e.catalog_status, runs=len(e.runs), first=e.first, last=e.last, adopted_by=e.adopted_by, adopted_on=e.adopted_on))
        if c2.button(_("Remove"), key=f"cal_remove_{e.model}_{e.quality}_{e.size}", icon=":material/delete:"):
            remove_token_override(ctx.home, e.model, e.quality, e.size, base)
            flash(_("Removed the token override {model} {quality} {size}: the catalog's figure is back.").format(model=e.model, quality=e.quality, size=e.size))
            st.rerun()
    c1, c2 = st.columns(2)
    if saved:
        c1.download_button(_("Export calibration file"), export_calibration(saved, base, exported_by=_who(), today=today),
                           file_name=f"calibration-{today.isoformat()}.json", mime="application/json",
                           key="cal_export", icon=":material/download:")
    upload = c2.file_uploader(_("Import a calibration file (catalog {base})").format(base=catalog_version(base)), type=["json"],
                              key="cal_import")
    if upload is not None and c2.button(_("Import"), key="cal_import_go"):
        try:
            doc = parse_calibration(upload.getvalue().decode("utf-8", "replace"), base, where=upload.name)
            add_token_overrides(ctx.home, doc.entries, base)
        except ImagegenError as exc:
            st.error(str(exc))
        else:
            flash(_("Imported {entries} token override(s) from {name} ({exported_by}).").format(entries=len(doc.entries), name=upload.name, exported_by=doc.exported_by))
            st.rerun()
