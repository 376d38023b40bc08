"""Edit analytics: billed vs estimated input image tokens per model x fidelity, cost per edit, labelled."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from imagegen.core.catalog import default_catalog
from imagegen.insight.edits import cost_by_fidelity_quality, edit_run, input_token_table, rule_label

CAT = default_catalog()


def fake_query(rows: list[dict]):
    def query(sql, params=()):
        assert "c.operation = 'edit'" in sql
        return pd.DataFrame(rows)
    return query


def row(fid, quality, billed, simulated=1, cost="0.0500", image_in="0.0100"):
    return {"run_id": "r1", "cell_id": 0, "model": "gpt-image-1.5", "provider": "simulator", "input_fidelity": fid,
            "quality": quality, "input_image_tokens": billed, "input_text_tokens": 5, "cost_usd": cost,
            "cost_text_input_usd": "0.0001", "cost_image_input_usd": image_in, "cost_image_output_usd": "0.0399",
            "cost_text_output_usd": None, "simulated": simulated}


def test_billed_vs_estimated_per_fidelity_keeps_simulated_and_measured_apart():
    rows = [row("low", "low", 194), row("low", "high", 194), row("high", "low", 4354),
            row("high", "low", 4400, simulated=0)]
    table = input_token_table(fake_query(rows), CAT, lambda run: ((1024, 1024),))
    got = {(r["input_fidelity"], r["source"]): r for r in table.to_dict("records")}
    assert set(got) == {("low", "simulated"), ("high", "simulated"), ("high", "measured")}
    assert got[("low", "simulated")]["estimated input image tokens"] == 194       # tile method, 1024²
    assert got[("high", "simulated")]["estimated input image tokens"] == 194 + 4160  # + documented surcharge
    assert got[("high", "measured")]["billed ÷ estimated"] == 4400 / 4354
    assert got[("low", "simulated")]["results"] == 2
    assert got[("low", "simulated")]["estimate status"] == rule_label(CAT, "gpt-image-1.5")


def test_cost_per_edit_by_fidelity_and_quality_is_decimal_and_split():
    rows = [row("low", "low", 194, cost="0.0500"), row("low", "low", 194, cost="0.0700", image_in="0.0300")]
    table = cost_by_fidelity_quality(fake_query(rows))
    r = table.iloc[0]
    assert r["cost per edit"] == Decimal("0.0600") and r["image input"] == Decimal("0.0200")
    assert r["text input"] == Decimal("0.0001") and r["image output"] == Decimal("0.0399") and r["results"] == 2


def test_empty_history_gives_empty_tables():
    assert input_token_table(lambda *a: pd.DataFrame(), CAT, lambda r: ()).empty
    assert cost_by_fidelity_quality(lambda *a: pd.DataFrame()).empty


def test_edit_run_estimates_each_cell_from_the_stored_input_sizes():
    inputs = [{"role": "image", "source": "a.png", "sha256": "x", "width": 1024, "height": 1024},
              {"role": "mask", "source": "m.png", "sha256": "y", "width": 1024, "height": 1024}]
    cells = pd.DataFrame([{"cell_id": 0, "model": "gpt-image-1.5", "input_fidelity": "low"},
                          {"cell_id": 1, "model": "gpt-image-1.5", "input_fidelity": "high"}])
    run = edit_run(inputs, cells, CAT)
    assert run.sizes == ((1024, 1024),) and run.mask["source"] == "m.png"
    assert run.estimated == {0: 194, 1: 4354} and run.fidelity == {0: "low", 1: "high"}
    assert edit_run([], cells, CAT) is None
