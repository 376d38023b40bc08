"""Catalog freshness: SDK values the catalog lacks, stale checked dates, assumed entries, conflicts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest

from imagegen.cli import main
from imagegen.core.catalog import default_catalog
from imagegen.core.freshness import STALE_AFTER_DAYS, SdkVocabulary, check_catalog, load_ignored
from imagegen.execution.providers.sdk_vocabulary import sdk_vocabulary

DAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def vocab(**kw) -> SdkVocabulary:
    base = SdkVocabulary("9.9.9", models=("gpt-image-2", "dall-e-3"), qualities=("low", "auto"),
                         output_formats=("png",), parameters=("prompt", "size", "quality"))
    return replace(base, **kw)


def test_the_installed_sdk_lists_no_gpt_image_model_the_catalog_lacks(catalog):
    sdk = sdk_vocabulary()
    assert "gpt-image-2" in sdk.models and "quality" in sdk.parameters  # the SDK's types were read
    missing = [f.subject for f in check_catalog(catalog, sdk, DAY).findings if f.kind == "sdk_model"]
    assert missing == [], f"the installed openai SDK {sdk.version} lists GPT image models the catalog lacks: {missing}"


def test_an_sdk_model_quality_format_or_parameter_the_catalog_lacks_is_reported(catalog):
    report = check_catalog(catalog, vocab(models=("gpt-image-9", "dall-e-3"), qualities=("ultra",),
                                          output_formats=("png", "avif"), parameters=("prompt", "sparkle")),
                           DAY, ignored={})
    found = {(f.kind, f.subject) for f in report.findings}
    assert {("sdk_model", "gpt-image-9"), ("sdk_quality", "ultra"), ("sdk_output_format", "avif"),
            ("sdk_parameter", "sparkle")} <= found
    assert ("sdk_model", "dall-e-3") not in found  # not a GPT image model
    assert report.needs_attention and "missing" in report.summary()


def test_ignored_values_are_listed_with_their_reason(catalog):
    ignored = load_ignored()
    assert ("sdk_quality", "hd") in ignored
    report = check_catalog(catalog, vocab(qualities=("hd",)), DAY, ignored=ignored)
    assert not [f for f in report.findings if f.subject == "hd"]
    assert [f for f in report.ignored if f.subject == "hd" and "DALL-E" in f.detail]


def test_entries_become_stale_after_90_days(catalog):
    newest = max(m.checked for m in catalog.models.values())
    oldest = catalog.oldest_check()
    fresh = check_catalog(catalog, vocab(), oldest + timedelta(days=STALE_AFTER_DAYS), ignored={})
    assert fresh.count("stale") == 0
    stale = check_catalog(catalog, vocab(), newest + timedelta(days=STALE_AFTER_DAYS + 1), ignored={})
    today = newest + timedelta(days=STALE_AFTER_DAYS + 1)
    subjects = {f.subject: f.detail for f in stale.findings if f.kind == "stale"}
    for mid, m in catalog.models.items():
        assert f"{(today - m.checked).days} days ago" in subjects[f"models.{mid}"]


def test_assumed_entries_and_conflicts_are_listed(catalog):
    report = check_catalog(catalog, vocab(), DAY, ignored={})
    assumed = {f.subject for f in report.findings if f.kind == "assumed"}
    expected = {f"tokens.{k}.{field}" for k, t in catalog.tokens.items()
                for field in ("status", "formula_status") if getattr(t, field) == "assumed"}
    expected |= {f"tokens.{k}.quality_status.{q}" for k, t in catalog.tokens.items()
                 for q, st in t.quality_status.items() if st == "assumed"}
    expected |= {f"tokens.{k}.complexity_status" for k, t in catalog.tokens.items()
                 if t.complexity_multiplier and t.complexity_status == "assumed"}
    assert expected and expected <= assumed
    assert "tokens.gpt-image-1.status" not in assumed  # documented
    assert "tokens.gpt-image-1.complexity_status" not in assumed  # no complexity parameter: nothing rests on it
    conflicts = {f.subject: f.detail for f in report.findings if f.kind == "conflict"}
    azure_15 = catalog.models["gpt-image-1.5"].providers["azure"]
    texts = [t for t in (azure_15.note, getattr(azure_15, "conflict", "")) if "conflict" in str(t).lower()]
    assert conflicts["models.gpt-image-1.5.providers.azure"] in texts
    assert all("conflict" in d.lower() for d in conflicts.values())


def test_cli_exits_1_when_something_needs_attention(capsys, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_TODAY", "2026-12-01")
    report_needs = check_catalog(default_catalog(), sdk_vocabulary(), DAY).needs_attention
    assert main(["catalog", "check"]) == (1 if report_needs else 0)
    out = capsys.readouterr().out
    assert out.startswith("catalog check:") and "2026-12-01" in out
    assert main(["catalog", "check", "--json", "--today", "2027-12-01"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["today"] == "2027-12-01" and any(f["kind"] == "stale" for f in doc["findings"])
    assert main(["catalog", "check", "--today", "soon"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_modelled_edit_files_are_not_reported_as_missing_parameters(catalog):
    """markup (like image and mask) is an [edit] file the grid, validation and the simulator model."""
    sdk = sdk_vocabulary()
    assert {"markup", "mask", "svg"} <= set(sdk.parameters)  # the installed SDK's edit/generate parameters
    missing = {f.subject for f in check_catalog(catalog, sdk, DAY, ignored={}).findings if f.kind == "sdk_parameter"}
    assert "markup" not in missing and "mask" not in missing
    assert "svg" in missing  # still not modelled


def test_a_model_entry_conflict_is_listed(catalog):
    conflicts = {f.subject: f.detail for f in check_catalog(catalog, vocab(), DAY, ignored={}).findings
                 if f.kind == "conflict"}
    assert conflicts["models.gpt-image-2.6-flare"] == catalog.models["gpt-image-2.6-flare"].conflict
