"""Edit runs: their inputs, each cell's input image tokens (billed vs estimated) and the edit analytics.

Billed input image tokens come from the response's ``usage.input_tokens_details.image_tokens`` (stored
per result; ``simulated`` on the simulator, ``measured`` on a real service). The estimate is the
catalog's input image rule for the cell's model (the first image at the cell's ``input_fidelity``, the
others at low), recomputed from the run's stored input sizes with today's catalog and labelled with the
rule's own status (documented, derived, measured by whom, assumed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from imagegen.core.catalog import Catalog
from imagegen.core.pricing import request_input_image_tokens
from imagegen.core.request import ImageRequest

QueryFn = Callable[..., pd.DataFrame]


@dataclass(frozen=True)
class EditRun:
    """One edit run's inputs (in order, mask last) and each cell's estimated input image tokens."""

    inputs: list[dict]                                        # store.run_inputs rows
    fidelity: dict[int, str | None] = field(default_factory=dict)   # cell_id -> input_fidelity
    estimated: dict[int, int] = field(default_factory=dict)          # cell_id -> input image tokens
    labels: dict[str, str] = field(default_factory=dict)             # model -> the rule's status label

    @property
    def images(self) -> list[dict]:
        return [i for i in self.inputs if i.get("role") not in ("mask", "markup")]

    @property
    def mask(self) -> dict | None:
        return next((i for i in self.inputs if i.get("role") == "mask"), None)

    @property
    def sizes(self) -> tuple[tuple[int, int], ...]:
        return tuple((int(i["width"]), int(i["height"])) for i in self.images if i.get("width") and i.get("height"))


def rule_label(catalog: Catalog, model_id: str) -> str:
    """How a model's input image tokens are known: the catalog rule's status and method."""
    if not catalog.has_model(model_id):
        return "unknown model (no estimate)"
    rule = catalog.token_model(catalog.model(model_id)).input_image
    if rule is None:
        return "documented (gpt-image-1 tile method, the default)"
    who = f" by {rule.measured_by}" if getattr(rule, "measured_by", "") and rule.status == "measured" else ""
    return f"{rule.status}{who}, {rule.method}"


def _estimate(catalog: Catalog, model: str, fidelity, sizes) -> int | None:
    if not catalog.has_model(model) or not sizes:
        return None
    fid = fidelity if isinstance(fidelity, str) and fidelity else None
    return request_input_image_tokens(catalog, ImageRequest(model=model, prompt="x", operation="edit",
                                                            input_fidelity=fid, input_images=sizes))


def edit_run(inputs: list[dict], cells: pd.DataFrame, catalog: Catalog) -> EditRun | None:
    """The edit view of a run from its stored inputs and its ``cells`` rows (cell_id, model, input_fidelity);
    None when the run is not an edit run."""
    if not inputs:
        return None
    run = EditRun(list(inputs))
    sizes = run.sizes
    for row in cells.to_dict("records"):
        cid = int(row["cell_id"])
        fid = row.get("input_fidelity") if isinstance(row.get("input_fidelity"), str) else None
        run.fidelity[cid] = fid
        est = _estimate(catalog, str(row["model"]), fid, sizes)
        if est is not None:
            run.estimated[cid] = est
        run.labels.setdefault(str(row["model"]), rule_label(catalog, str(row["model"])))
    return run


def load_edit_run(store, run_id: str, catalog: Catalog) -> EditRun | None:
    """:func:`edit_run` for a stored run (None for a generation run)."""
    inputs = store.run_inputs(run_id)
    if not inputs:
        return None
    cells = store.query("SELECT cell_id, model, input_fidelity FROM cells WHERE run_id = ?", (run_id,))
    return edit_run(inputs, cells, catalog)


EDIT_ROWS_SQL = (
    "SELECT r.run_id, r.cell_id, c.model, c.provider, COALESCE(c.input_fidelity, '(omitted)') AS input_fidelity, "
    "COALESCE(r.resolved_quality, c.quality) AS quality, r.input_image_tokens, r.input_text_tokens, r.cost_usd, "
    "r.cost_text_input_usd, r.cost_image_input_usd, r.cost_image_output_usd, r.cost_text_output_usd, r.simulated "
    "FROM results r JOIN cells c ON c.run_id = r.run_id AND c.cell_id = r.cell_id "
    "WHERE c.operation = 'edit' AND r.status = 'ok' AND COALESCE(r.reused, 0) = 0")


def _money(series: pd.Series) -> pd.Series:
    from decimal import Decimal, InvalidOperation

    def one(v):
        try:
            return Decimal(str(v)) if v is not None and str(v) not in ("", "nan", "None") else Decimal(0)
        except InvalidOperation:
            return Decimal(0)
    return series.map(one)


def _select(rows: pd.DataFrame, selection) -> pd.DataFrame:
    """The rows an Analytics selection keeps (providers, models, runs, simulated or measured)."""
    if selection is None or rows.empty:
        return rows
    keep = pd.Series(True, index=rows.index)
    if getattr(selection, "providers", ()):
        keep &= rows["provider"].isin(selection.providers)
    if getattr(selection, "models", ()):
        keep &= rows["model"].isin(selection.models)
    if getattr(selection, "run_ids", ()):
        keep &= rows["run_id"].isin(selection.run_ids)
    simulated = getattr(selection, "simulated", None)
    if simulated is not None:
        keep &= rows["simulated"].fillna(0).astype(int).astype(bool) == bool(simulated)
    return rows[keep]


def input_token_table(query: QueryFn, catalog: Catalog, run_sizes: Callable[[str], tuple],
                      selection=None) -> pd.DataFrame:
    """Billed vs estimated input image tokens per model x input_fidelity x source (measured or simulated).

    ``run_sizes(run_id)`` gives a run's input image sizes (for the estimate). Columns: model, input_fidelity,
    source, results, billed_mean (the source's label), estimated (the catalog rule, labelled), billed_vs_estimated.
    Simulated and measured results are separate rows, never one statistic.
    """
    rows = _select(query(EDIT_ROWS_SQL), selection)
    columns = ["model", "input_fidelity", "source", "results", "billed input image tokens (mean)",
               "estimated input image tokens", "billed ÷ estimated", "estimate status"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    sizes = {rid: run_sizes(rid) for rid in rows["run_id"].unique()}
    rows["estimated"] = [_estimate(catalog, m, None if f == "(omitted)" else f, sizes[r])
                         for r, m, f in zip(rows["run_id"], rows["model"], rows["input_fidelity"])]
    rows["source"] = rows["simulated"].map(lambda s: "simulated" if int(s or 0) else "measured")
    out = []
    for (model, fid, source), g in rows.groupby(["model", "input_fidelity", "source"], sort=True):
        billed = pd.to_numeric(g["input_image_tokens"], errors="coerce").dropna()
        est = pd.to_numeric(g["estimated"], errors="coerce").dropna()
        mean_billed = float(billed.mean()) if not billed.empty else None
        mean_est = float(est.mean()) if not est.empty else None
        ratio = mean_billed / mean_est if mean_billed is not None and mean_est else None
        out.append({"model": model, "input_fidelity": fid, "source": source, "results": len(g),
                    "billed input image tokens (mean)": mean_billed, "estimated input image tokens": mean_est,
                    "billed ÷ estimated": ratio, "estimate status": rule_label(catalog, model)})
    return pd.DataFrame(out, columns=columns)


def cost_by_fidelity_quality(query: QueryFn, selection=None) -> pd.DataFrame:
    """Mean billed cost per edit by model x input_fidelity x quality x source, split into text input, image
    input and image output (Decimal dollars; simulated and measured apart)."""
    rows = _select(query(EDIT_ROWS_SQL), selection)
    columns = ["model", "input_fidelity", "quality", "source", "results", "cost per edit", "text input",
               "image input", "image output"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows["source"] = rows["simulated"].map(lambda s: "simulated" if int(s or 0) else "measured")
    for col in ("cost_usd", "cost_text_input_usd", "cost_image_input_usd", "cost_image_output_usd",
                "cost_text_output_usd"):
        rows[col] = _money(rows[col])
    rows["image_out"] = rows["cost_image_output_usd"] + rows["cost_text_output_usd"]
    out = []
    for (model, fid, quality, source), g in rows.groupby(["model", "input_fidelity", "quality", "source"]):
        n = len(g)
        out.append({"model": model, "input_fidelity": fid, "quality": quality, "source": source, "results": n,
                    "cost per edit": sum(g["cost_usd"]) / n, "text input": sum(g["cost_text_input_usd"]) / n,
                    "image input": sum(g["cost_image_input_usd"]) / n, "image output": sum(g["image_out"]) / n})
    return pd.DataFrame(out, columns=columns)
