"""Validation refuses every documented invalid combination, with actionable messages, and nothing else escapes."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagegen.core.catalog import load_catalog
from imagegen.core.request import ImageRequest, validate
from imagegen.core.request import warnings as request_warnings
from imagegen.errors import ImagegenError, InvalidRequest

CATALOG = load_catalog()
TODAY = date(2026, 11, 25)


def ok(**kw):
    base = dict(model="gpt-image-1.5", prompt="a red fox", provider="simulator")
    return ImageRequest(**{**base, **kw})


def refused(req, *needles):
    with pytest.raises(InvalidRequest) as err:
        validate(req, CATALOG, TODAY)
    msg = str(err.value)
    for n in needles:
        assert n in msg, msg
    assert "Fix:" in msg
    return msg


def test_a_plain_request_is_valid():
    assert validate(ok(size="1024x1536", quality="high"), CATALOG, TODAY)


def test_transparent_with_jpeg():
    refused(ok(background="transparent", output_format="jpeg"), "background='transparent'", "png or webp")


def test_compression_with_png():
    refused(ok(output_compression=50), "output_compression=50", "jpeg or webp")
    assert validate(ok(output_format="jpeg", output_compression=50), CATALOG, TODAY)


def test_size_and_quality_not_offered():
    refused(ok(size="512x512"), "size='512x512'", "1024x1024")
    refused(ok(quality="hd"), "quality='hd'", "DALL·E")
    refused(ok(quality="xhigh"), "quality='xhigh'")
    assert validate(ok(model="gpt-image-2.5-flare", quality="xhigh"), CATALOG, TODAY)


def test_arbitrary_size_rules_of_newer_models():
    assert validate(ok(model="gpt-image-2", size="2048x1152"), CATALOG, TODAY)
    refused(ok(model="gpt-image-2", size="1000x1000"), "multiples of 16")
    refused(ok(model="gpt-image-2", size="3072x768"), "aspect")
    refused(ok(model="gpt-image-2", size="4096x2048"), "longest edge")
    refused(ok(model="gpt-image-2", size="512x512"), "pixel count")


def test_webp_on_azure():
    refused(ok(provider="azure", model="gpt-image-1.5", output_format="webp"), "webp", "Azure documents no WEBP")


def test_partial_images():
    refused(ok(partial_images=4, stream=True), "partial_images=4", "0..3")
    refused(ok(partial_images=2), "partial_images=2", "stream=true")
    assert validate(ok(partial_images=3, stream=True), CATALOG, TODAY)


def test_n_range():
    refused(ok(n=0), "n=0", "1..10")
    refused(ok(n=11), "n=11")


def test_prompt_empty_or_too_long():
    refused(ok(prompt="   "), "prompt", "non-empty")
    refused(ok(prompt="x" * 32_001), "32,000", "shorten it by 1")
    assert validate(ok(prompt="あ" * 32_000), CATALOG, TODAY)


def test_prompt_needs_visible_characters_and_no_control_characters():
    """The dashboard builds requests without a spec file: the same rules hold there."""
    refused(ok(prompt="\x01\x02\u200b"), "prompt", "visible characters")
    refused(ok(prompt="a red \x1b[31mfox"), "U+001B at position 7")
    refused(ok(prompt="a red fox\x7f"), "U+007F")
    refused(ok(prompt="a red\rfox"), "U+000D")
    assert validate(ok(prompt="a red fox,\tin the snow\nwide shot 🏎️‍🔥"), CATALOG, TODAY)


def test_input_fidelity():
    img = ((1024, 1024),)
    refused(ok(model="gpt-image-1-mini", operation="edit", input_images=img, input_fidelity="high"), "input_fidelity='high'")
    refused(ok(model="gpt-image-2", operation="edit", input_images=img, input_fidelity="low"), "omit it")
    refused(ok(input_fidelity="high"), "only on edits")
    assert validate(ok(operation="edit", input_images=img, input_fidelity="high"), CATALOG, TODAY)


def test_shut_down_model_names_date_and_successor():
    msg = refused(ok(provider="openai", model="gpt-image-1"), "2026-10-23", "gpt-image-2.5-sunburst")
    assert "simulator" in msg
    refused(ok(provider="azure", model="gpt-image-1"), "2026-10-23", "gpt-image-1.5")
    # the same model runs on the simulator: its documented behaviour stays the reference
    assert validate(ok(model="gpt-image-1"), CATALOG, TODAY)
    # mini is still alive on OpenAI until 2026-12-01 and on Azure into 2027
    assert validate(ok(provider="openai", model="gpt-image-1-mini"), CATALOG, TODAY)
    with pytest.raises(InvalidRequest, match="2026-12-01"):
        validate(ok(provider="openai", model="gpt-image-1-mini"), CATALOG, date(2026, 12, 1))
    assert validate(ok(provider="azure", model="gpt-image-1-mini"), CATALOG, date(2026, 12, 1))


def test_transparency_refused_where_not_offered():
    # SDK 3.57 names 2.5 (supported) and gpt-image-2 (preview), not 2.6
    refused(ok(model="gpt-image-2.6-flare", background="transparent"), "no transparency")


@pytest.mark.parametrize("model", ["gpt-image-2.5-flare", "gpt-image-2.5-sunburst", "gpt-image-2"])
def test_transparency_accepted_on_2_5_and_in_preview_on_2(model):
    req = ok(model=model, background="transparent", output_format="png")
    assert validate(req, CATALOG, TODAY) is req
    preview = [w for w in request_warnings(req, CATALOG) if "preview" in w]
    assert bool(preview) == (model == "gpt-image-2")


def test_every_problem_is_listed_at_once():
    with pytest.raises(InvalidRequest) as err:
        validate(ok(n=0, size="1x1", output_compression=5), CATALOG, TODAY)
    assert {p.field for p in err.value.problems} == {"n", "size", "output_compression"}


# ---------------------------------------------------------------- property-based

ANY = st.one_of(st.none(), st.booleans(), st.integers(-5, 200), st.text(max_size=12), st.floats(allow_nan=True))
MODELS = st.sampled_from([*CATALOG.models, "gpt-image-1-2025-04-15", "dall-e-3", "nope"])
SIZES = st.sampled_from(["auto", "1024x1024", "1024x1536", "1536x1024", "2048x2048", "512x512", "1000x1000",
                         "3840x1280", "4096x4096", "bogus", "16x16"])
QUALITIES = st.sampled_from(["auto", "low", "medium", "high", "xhigh", "max", "standard", "hd"])
FORMATS = st.sampled_from(["png", "jpeg", "webp", "gif", "bmp"])


def maybe(strategy):
    return st.one_of(strategy, ANY)


ALIVE = {p: [m for m, spec in CATALOG.models.items()
             if spec.providers[p].available and not (spec.providers[p].shutdown and spec.providers[p].shutdown <= TODAY)]
         for p in ("openai", "azure")}

#: For each field, values to swap into a valid request (documented mistakes among them).
MUTATIONS = {
    "prompt": st.sampled_from(["", "   ", "x" * 32_001, "ok"]),
    "provider": st.sampled_from(["simulator", "openai", "azure", "compatible"]),
    "size": SIZES,
    "quality": QUALITIES,
    "background": st.sampled_from(["auto", "opaque", "transparent"]),
    "output_format": st.sampled_from(["png", "jpeg", "webp", "gif"]),
    "output_compression": st.sampled_from([None, 0, 50, 100, -1, 101]),
    "moderation": st.sampled_from(["auto", "low", "high"]),
    "n": st.sampled_from([1, 10, 0, 11]),
    "stream": st.booleans(),
    "partial_images": st.sampled_from([0, 1, 3, 4, -1]),
    "input_fidelity": st.sampled_from([None, "low", "high"]),
    "model": st.sampled_from(list(CATALOG.models)),
    "complexity": st.sampled_from([None, "low", "high", "extreme"]),
}


@st.composite
def near_valid(draw):
    """A valid request with 0-2 fields swapped for arbitrary (often invalid) values."""
    model_id = draw(st.sampled_from(list(CATALOG.models)))
    model = CATALOG.model(model_id)
    providers = ["simulator", "compatible"] + [p for p in ("openai", "azure") if model_id in ALIVE[p]]
    provider = draw(st.sampled_from(providers))
    fmt = draw(st.sampled_from(model.formats_for(provider)))
    backgrounds = ["auto", "opaque"] + (["transparent"] if model.transparency and fmt in ("png", "webp") else [])
    stream = draw(st.booleans()) and fmt not in ("gif", "svg")  # gif/svg output does not stream
    operation = draw(st.sampled_from(["generate", "edit"]))
    fields = dict(
        model=model_id, prompt=draw(st.sampled_from(["a red fox", "F1レーサーを躍動感あるように描いて。"])),
        provider=provider, size=draw(st.sampled_from(["auto", *model.size_values()])),
        quality=draw(st.sampled_from(["auto", *model.qualities])), output_format=fmt,
        background=draw(st.sampled_from(backgrounds)),
        output_compression=draw(st.one_of(st.none(), st.integers(0, 100))) if fmt in ("jpeg", "webp") else None,
        n=1 if fmt == "svg" else draw(st.integers(1, model.n_max)), stream=stream,
        partial_images=draw(st.integers(0, model.partial_images_max)) if stream else 0,
        operation=operation,
        input_fidelity=draw(st.sampled_from([None, *model.input_fidelity])) if operation == "edit" else None,
        input_images=((1024, 1024),) if operation == "edit" else (),
        complexity=draw(st.sampled_from([None, *model.complexity])),
    )
    mutated = draw(st.lists(st.sampled_from(list(MUTATIONS)), max_size=2, unique=True))
    for name in mutated:
        fields[name] = draw(MUTATIONS[name])
    return ImageRequest(**fields), bool(mutated)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid())
def test_near_valid_requests(case):
    req, mutated = case
    expected = documented_invalid(req)
    try:
        validate(req, CATALOG, TODAY)
    except InvalidRequest as exc:
        assert mutated, f"a valid request was refused: {exc}"
        return
    assert expected == [], f"let through: {req}"


# Anything at all, odd types included.
garbage = st.builds(
    ImageRequest,
    model=maybe(MODELS),
    prompt=st.one_of(st.text(max_size=40), ANY),
    provider=maybe(st.sampled_from(["simulator", "openai", "azure", "compatible"])),
    size=maybe(SIZES),
    quality=maybe(QUALITIES),
    background=maybe(st.sampled_from(["auto", "opaque", "transparent"])),
    output_format=maybe(FORMATS),
    output_compression=st.one_of(st.none(), st.integers(-10, 120), ANY),
    moderation=maybe(st.sampled_from(["auto", "low", "high"])),
    n=st.one_of(st.integers(-1, 12), ANY),
    stream=st.one_of(st.booleans(), ANY),
    partial_images=st.one_of(st.integers(-1, 5), ANY),
    operation=maybe(st.sampled_from(["generate", "edit"])),
    input_fidelity=st.one_of(st.none(), st.sampled_from(["low", "high"]), ANY),
    input_images=st.lists(st.tuples(st.integers(64, 4096), st.integers(64, 4096)), max_size=3).map(tuple),
)


def documented_invalid(r: ImageRequest) -> list[str]:
    """An independent oracle: the documented invalid combinations (facts file, section 1)."""
    reasons = []
    model = CATALOG.model(r.model) if isinstance(r.model, str) and CATALOG.has_model(r.model) else None
    if r.background == "transparent" and r.output_format == "jpeg":
        reasons.append("transparent+jpeg")
    if r.output_compression is not None and r.output_format == "png":
        reasons.append("compression+png")
    if r.provider == "azure" and r.output_format == "webp":
        reasons.append("webp on azure")
    if isinstance(r.partial_images, int) and not isinstance(r.partial_images, bool):
        if not 0 <= r.partial_images <= 3:
            reasons.append("partial_images range")
        elif r.partial_images > 0 and r.stream is not True:
            reasons.append("partial without stream")
    if isinstance(r.n, int) and not isinstance(r.n, bool) and not 1 <= r.n <= 10:
        reasons.append("n range")
    if isinstance(r.prompt, str) and (not r.prompt.strip() or len(r.prompt) > 32_000):
        reasons.append("prompt")
    if r.quality in ("standard", "hd"):
        reasons.append("dall-e quality")
    if r.size in ("512x512", "16x16", "4096x4096", "bogus"):
        reasons.append("size never valid for gpt image models")
    if model is not None:
        if model.sizes is not None and r.size not in (*model.sizes, "auto"):
            reasons.append("size not offered")
        if r.quality in ("xhigh", "max") and r.quality not in model.qualities:
            reasons.append("quality not offered")
        if r.input_fidelity is not None and r.operation == "edit" and r.input_fidelity not in model.input_fidelity:
            reasons.append("input_fidelity unsupported")
        if r.provider in ("openai", "azure"):
            spec = model.providers[r.provider]
            if not spec.available or (spec.shutdown and spec.shutdown <= TODAY):
                reasons.append("shut down")
    if r.input_fidelity is not None and r.operation == "generate":
        reasons.append("input_fidelity on generate")
    if r.complexity is not None and (model is None or r.complexity not in model.complexity):
        reasons.append("complexity (gpt-image-2.6 only; low/medium/high)")
    if r.output_format == "svg" and r.n != 1:
        reasons.append("svg needs n = 1")
    if r.output_format in ("gif", "svg") and r.stream is True:
        reasons.append("gif/svg output does not stream (SDK 3.57)")
    return reasons


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage)
def test_validation_raises_only_our_error_and_lets_nothing_documented_through(req):
    try:
        validate(req, CATALOG, TODAY)
    except InvalidRequest as exc:
        assert exc.problems and all("Fix:" in str(p) for p in exc.problems)
        return
    except Exception as exc:  # pragma: no cover - the property under test
        assert isinstance(exc, ImagegenError), f"{type(exc).__name__}: {exc}"
        return
    assert documented_invalid(req) == [], f"let through: {req}"


DISAGREE = "sources disagree on what gpt-image-2.6-flare accepts here"


def test_a_refusal_the_catalog_records_a_conflict_about_says_that_sources_disagree():
    """2.6 follows the SDK (no max, no custom sizes); third parties say otherwise: the refusal says so."""
    assert "catalog check" in refused(ok(model="gpt-image-2.6-flare", provider="openai", quality="max"), DISAGREE)
    refused(ok(model="gpt-image-2.6-flare", provider="openai", size="2048x1152"), DISAGREE)
    assert DISAGREE not in refused(ok(model="gpt-image-2.6-flare", provider="openai", n=99), "n=99")  # undisputed
    assert "sources disagree" not in refused(ok(model="gpt-image-1.5", quality="max"), "quality='max'")  # no conflict


def test_disputed_fields_need_the_conflict_they_are_about(tmp_path):
    import shutil

    from imagegen.core.catalog import DATA_DIR
    from imagegen.errors import CatalogError

    for f in DATA_DIR.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    models = tmp_path / "models.toml"
    text = models.read_text(encoding="utf-8")
    start = text.index('[models."gpt-image-2.6-flare"]')
    line = text.index("\nconflict = ", start)
    end = text.index("\n", line + 1)
    models.write_text(text[:line] + text[end:], encoding="utf-8")  # the conflict gone, `disputed` left
    with pytest.raises(CatalogError, match="disputed"):
        load_catalog(tmp_path)
