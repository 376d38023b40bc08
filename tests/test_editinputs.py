"""[edit] in grid specs: input files checked before anything is sent, estimates, CLI estimate and run."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from imagegen.cli import main
from imagegen.core import editinputs
from imagegen.core.catalog import default_catalog
from imagegen.core.editinputs import check_image, check_mask, read_edit_inputs
from imagegen.core.grid import estimate_grid, load_spec, loads_spec
from imagegen.errors import InvalidRequest, SpecError

TODAY = date(2026, 12, 1)


def image_bytes(fmt: str = "PNG", size=(64, 64), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 0)).save(out, fmt)
    return out.getvalue()


def spec_text(model: str = "gpt-image-1.5", images='["in.png"]', mask: str | None = None, axes: str = "",
              params: str = 'size = "1024x1024"') -> str:
    text = (f'provider = "simulator"\nmodel = "{model}"\nprompts = ["on a beach"]\n[params]\n{params}\n'
            f"{axes}\n[edit]\nimages = {images}\n")
    if mask:
        text += f'mask = "{mask}"\n'
    return text + "[simulator]\ntime_scale = 0.001\n"


@pytest.fixture
def edit_dir(tmp_path):
    (tmp_path / "in.png").write_bytes(image_bytes(size=(1024, 1024)))
    out = io.BytesIO()
    mask = Image.new("RGBA", (1024, 1024), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 512, 512))
    mask.save(out, "PNG")
    (tmp_path / "mask.png").write_bytes(out.getvalue())
    return tmp_path


# -- the files ------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(fmt=st.sampled_from(["PNG", "WEBP", "JPEG", "GIF", "BMP", "TIFF"]))
def test_formats_are_sniffed_from_the_bytes(fmt):
    item, why = check_image("photo.png", image_bytes(fmt), 0)
    if fmt in ("PNG", "WEBP", "JPEG"):
        assert why is None and item.format == fmt.lower() and (item.width, item.height) == (64, 64)
    else:
        assert item is None and "'photo.png'" in why and "edits take PNG, WEBP or JPEG" in why and "Fix:" in why


@settings(max_examples=40, deadline=None)
@given(junk=st.binary(max_size=64))
def test_bytes_that_are_no_image_are_refused(junk):
    item, why = check_image("x.png", junk, 3)
    if item is None:
        assert "images[3] 'x.png'" in why and "Fix:" in why


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.integers(-5, 5))
def test_file_size_limit_is_checked_at_the_boundary(monkeypatch, extra):
    data = image_bytes()
    monkeypatch.setattr(editinputs, "MAX_IMAGE_BYTES", len(data) + extra)
    item, why = check_image("big.png", data, 0)
    if len(data) >= len(data) + extra:
        assert item is None and "under 50 MB" in why and "'big.png'" in why
    else:
        assert why is None


def test_the_real_50_mb_limit():
    data = image_bytes() + b"\0" * (50 * 1024 * 1024)
    item, why = check_image("huge.png", data, 0)
    assert item is None and "50.0 MB" in why and "resize or recompress" in why


@settings(max_examples=20, deadline=None)
@given(count=st.integers(0, 20))
def test_count_1_to_16(tmp_path_factory, count):
    base = tmp_path_factory.mktemp("count")
    (base / "a.png").write_bytes(image_bytes())
    images = tuple(f"a.png?{i}" for i in range(count))  # distinct names; the count is refused first
    if 1 <= count <= 16:
        refs = tuple("a.png" for _ in range(count))
        inputs, errors = read_edit_inputs(refs, None, base)
        assert errors == [] and len(inputs.files) == count
    else:
        inputs, errors = read_edit_inputs(images, None, base)
        assert inputs is None and f"lists {count} files" in errors[0] and "1 to 16" in errors[0]


@settings(max_examples=20, deadline=None)
@given(count=st.integers(0, 20))
def test_spec_refuses_counts_outside_1_to_16(count):
    images = json.dumps([f"i{k}.png" for k in range(count)])
    if 1 <= count <= 16:
        assert loads_spec(spec_text(images=images)).edit.images == tuple(json.loads(images))
    else:
        with pytest.raises(SpecError, match="edit.images") as err:
            loads_spec(spec_text(images=images))
        assert "Fix" in str(err.value)


def test_mask_refusals():
    first, _ = check_image("in.png", image_bytes(size=(64, 64)), 0)
    ok, why = check_mask("m.png", image_bytes(size=(64, 64), mode="RGBA"), first)
    assert why is None and ok.width == 64
    _, why = check_mask("m.png", image_bytes(size=(64, 64)), first)
    assert "no alpha channel" in why and "'m.png'" in why and "Fix" in why
    _, why = check_mask("m.png", image_bytes(size=(32, 64), mode="RGBA"), first)
    assert "is 32x64 but the first image 'in.png' is 64x64" in why
    _, why = check_mask("m.webp", image_bytes("WEBP", mode="RGBA"), first)
    assert "a WEBP file" in why and "must be a PNG" in why
    _, why = check_mask("m.png", image_bytes(mode="RGBA") + b"\0" * (4 * 1024 * 1024), first)
    assert "under 4 MB" in why


def test_missing_files_and_results_are_named(tmp_path):
    inputs, errors = read_edit_inputs(("nope.png", "result:abc"), "gone.png", tmp_path)
    assert inputs is None and len(errors) == 3
    assert "'nope.png': file not found" in errors[0] and "relative to the spec" in errors[0]
    assert "no stored result 'abc'" in errors[1] and "'gone.png'" in errors[2]
    data = image_bytes()
    inputs, errors = read_edit_inputs(("result:abc",), None, tmp_path, {"abc": data}.get)
    assert errors == [] and inputs.files == (data,)


def test_load_spec_reads_files_relative_to_the_spec(edit_dir):
    (edit_dir / "s.toml").write_text(spec_text(images='["in.png", "nope.jpg"]'))
    with pytest.raises(SpecError, match=r"'nope.jpg': file not found"):
        load_spec(edit_dir / "s.toml")
    (edit_dir / "s.toml").write_text(spec_text(mask="mask.png"))
    spec = load_spec(edit_dir / "s.toml")
    assert spec.inputs.sizes == ((1024, 1024),) and spec.inputs.mask is not None
    assert loads_spec(spec.to_toml()).edit == spec.edit  # round-trips


def test_spec_edit_table_refusals():
    with pytest.raises(SpecError, match=r'operation = "edit" but no \[edit\] table'):
        loads_spec('provider = "simulator"\nmodel = "gpt-image-1.5"\nprompt = "x"\noperation = "edit"\n')
    with pytest.raises(SpecError, match=r'an \[edit\] table but operation = "generate"'):
        loads_spec('operation = "generate"\n' + spec_text())
    with pytest.raises(SpecError, match="edit.markups is an unknown key: .edit. takes images, mask and markup"):
        loads_spec(spec_text().replace("[simulator]", 'markups = "m.png"\n[simulator]'))
    with pytest.raises(SpecError, match=r"edit.images = \[\] is empty"):
        loads_spec(spec_text(images="[]"))


# -- per-model rules ------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "fidelity", "ok"), [
    ("gpt-image-1.5", "low", True), ("gpt-image-1.5", "high", True),
    ("gpt-image-1-mini", "low", True), ("gpt-image-1-mini", "high", False),
    ("gpt-image-2", "low", False), ("gpt-image-2.5-flare", "high", False),
])
def test_input_fidelity_per_model(edit_dir, model, fidelity, ok):
    (edit_dir / "s.toml").write_text(spec_text(model=model, params=f'input_fidelity = "{fidelity}"'))
    spec = load_spec(edit_dir / "s.toml")
    if ok:
        assert estimate_grid(spec, default_catalog(), TODAY).estimates[0].input_image_tokens > 0
    else:
        with pytest.raises(InvalidRequest, match="input_fidelity"):
            estimate_grid(spec, default_catalog(), TODAY)


def test_moderation_is_refused_on_edits_as_the_sdk_has_no_such_parameter(edit_dir):
    (edit_dir / "s.toml").write_text(spec_text(params='moderation = "low"'))
    with pytest.raises(InvalidRequest, match="moderation"):
        estimate_grid(load_spec(edit_dir / "s.toml"), default_catalog(), TODAY)


def test_estimate_uses_the_catalog_input_figures(edit_dir):
    cat = default_catalog()
    (edit_dir / "s.toml").write_text(spec_text(axes='[axes]\ninput_fidelity = ["low", "high"]'))
    low, high = estimate_grid(load_spec(edit_dir / "s.toml"), cat, TODAY).estimates
    assert (low.input_image_tokens, high.input_image_tokens) == (194, 194 + 4160)  # tiles + surcharge
    assert high.cost_max.image_input > low.cost_max.image_input
    (edit_dir / "s.toml").write_text(spec_text(model="gpt-image-2"))
    est = estimate_grid(load_spec(edit_dir / "s.toml"), cat, TODAY)
    assert est.estimates[0].input_image_tokens == 1024  # the reconciled 2.x figure (tokens.toml)
    assert "measured (third party" in est.input_image_label
    price = cat.price_for("gpt-image-2", "simulator", TODAY)
    assert est.estimates[0].cost_max.image_input == 1024 * price.image_input / Decimal(1_000_000)


# -- the CLI --------------------------------------------------------------------------------------

def test_cli_estimate_and_run_an_edit_grid(edit_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_HOME", str(tmp_path / "home"))
    spec = edit_dir / "s.toml"
    spec.write_text(spec_text(mask="mask.png", axes='[axes]\ninput_fidelity = ["low", "high"]\n'
                              'quality = ["low", "high"]'))
    assert main(["estimate", str(spec), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["cells"]) == 4 and {c["input_image_tokens"] for c in data["cells"]} == {194, 4354}
    assert set(data["cells"][0]["cost_split_usd_max"]) == {"text_input", "image_input", "image_output"}
    assert [i["source"] for i in data["inputs"]] == ["in.png", "mask.png"]
    assert main(["run", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "4/4 ok" in out


# -- the store ------------------------------------------------------------------------------------

def test_inputs_are_stored_once_linked_exported_and_kept_while_used(edit_dir, tmp_path, capsys, monkeypatch):
    import hashlib

    from imagegen.storage.store import Store

    home = tmp_path / "home"
    monkeypatch.setenv("IMAGEGEN_HOME", str(home))
    spec = edit_dir / "s.toml"
    spec.write_text(spec_text(mask="mask.png", axes='[axes]\nquality = ["low", "medium"]'))
    assert main(["run", str(spec)]) == 0 and main(["run", str(spec)]) == 0
    capsys.readouterr()
    store = Store(home)
    first, second = sorted(r["run_id"] for r in store.runs().to_dict("records"))
    image_sha = hashlib.sha256((edit_dir / "in.png").read_bytes()).hexdigest()
    mask_sha = hashlib.sha256((edit_dir / "mask.png").read_bytes()).hexdigest()
    assert [(r["role"], r["sha256"]) for r in store.run_inputs(first)] == [("image", image_sha), ("mask", mask_sha)]
    assert len(list(home.glob(f"images/*/{image_sha}.*"))) == 1  # stored once for both runs
    assert main(["export", first, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and {r["input_sha256"] for r in rows} == {f"image:{image_sha} mask:{mask_sha}"}
    store.delete_run(first)
    assert store.input_file(image_sha) == (edit_dir / "in.png").read_bytes()  # the second run still uses it
    store.delete_run(second)
    assert not list(home.glob(f"images/*/{image_sha}.*")) and not list(home.glob(f"images/*/{mask_sha}.*"))


def test_resume_uses_the_stored_inputs_even_when_the_files_are_gone(edit_dir, tmp_path):
    from imagegen.execution.runner import GridRun
    from imagegen.storage.store import Store

    store = Store(tmp_path / "home")
    spec = edit_dir / "s.toml"
    spec.write_text(spec_text(mask="mask.png"))
    run = GridRun(spec, store=store, today=TODAY)
    run.start()
    run.wait(60)
    data = (edit_dir / "in.png").read_bytes()
    (edit_dir / "in.png").unlink()
    again = GridRun(store=store, resume=run.run_id, retry_errors=True, today=TODAY)
    assert again.input_files == (data,) and again.input_mask == (edit_dir / "mask.png").read_bytes()
    assert again.estimate.cells[0].request.input_images == ((1024, 1024),)


# -- the dashboard's inputs: uploads and masks drawn in the browser ------------------------------------


def _alpha(mask: bytes):
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(mask)) as img:
        return img.mode, np.asarray(img.getchannel("A"))


def test_mask_from_box_is_transparent_exactly_inside_the_box():
    from imagegen.core.editinputs import mask_from_box

    mode, alpha = _alpha(mask_from_box(200, 100, (10, 20, 50, 100)))
    assert mode == "RGBA" and alpha.shape == (100, 200)
    assert (alpha[20:100, 20:100] == 0).all() and (alpha[:20] == 255).all() and (alpha[:, 100:] == 255).all()
    _, swapped = _alpha(mask_from_box(200, 100, (50, 100, 10, 20)))  # corners in any order
    assert (swapped == alpha).all()


def test_mask_from_painting_scales_the_strokes_to_the_image():
    import numpy as np

    from imagegen.core.editinputs import mask_from_painting

    painting = np.zeros((50, 100, 4), np.uint8)
    assert mask_from_painting(painting, 400, 200) is None  # nothing painted: no mask
    painting[10:20, 30:40, 3] = 128
    mode, alpha = _alpha(mask_from_painting(painting, 400, 200))
    assert mode == "RGBA" and alpha.shape == (200, 400)
    assert (alpha[40:80, 120:160] == 0).all() and (alpha == 0).sum() == 40 * 40


def test_check_uploads_names_each_refused_file_and_the_fix():
    from imagegen.core.editinputs import check_uploads, mask_from_box

    ok, errors = check_uploads([("a.png", image_bytes(size=(64, 32)))], ("m.png", mask_from_box(64, 32, (0, 0, 50, 50))))
    assert errors == [] and ok.sizes == ((64, 32),) and ok.mask.source == "m.png"
    none, errors = check_uploads([])
    assert none is None and "1 to 16" in errors[0] and "Fix: upload an image" in errors[0]
    _, errors = check_uploads([("a.png", image_bytes(size=(64, 32))), ("b.gif", b"GIF89a......")],
                              ("m.png", mask_from_box(32, 32, (0, 0, 1, 1))))
    assert any("Input image 2 'b.gif'" in e and "PNG, WEBP or JPEG" in e and "Fix:" in e for e in errors)
    assert any("Mask 'm.png' is 32x32" in e and "64x32" in e and "Fix: resize the mask" in e for e in errors)
    _, errors = check_uploads([("a.png", image_bytes(size=(8, 8)))] * 17)
    assert "17 input images" in errors[0] and "Fix: remove some" in errors[0]


def test_cli_edits_an_earlier_result_by_its_id(edit_dir, tmp_path, capsys, monkeypatch):
    """``result:<id>`` (iterative refinement, also what the dashboard saves for a picked result) reads the store."""
    from imagegen.storage.store import Store

    home = tmp_path / "home"
    monkeypatch.setenv("IMAGEGEN_HOME", str(home))
    spec = edit_dir / "s.toml"
    spec.write_text(spec_text())
    assert main(["run", str(spec)]) == 0
    capsys.readouterr()
    store = Store(home)
    first = store.results(store.runs()["run_id"].iloc[0])
    rid = int(first["result_id"].iloc[0])
    output = store.result_image(rid)
    again = edit_dir / "again.toml"
    again.write_text(spec_text(images=f'["result:{rid}"]'))
    assert main(["estimate", str(again), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["inputs"][0]["source"] == f"result:{rid}"
    assert data["inputs"][0]["sha256"] == __import__("hashlib").sha256(output).hexdigest()
    assert main(["run", str(again)]) == 0 and "1/1 ok" in capsys.readouterr().out
    missing = edit_dir / "missing.toml"
    missing.write_text(spec_text(images='["result:999999"]'))
    assert main(["estimate", str(missing)]) == 2
    assert "no stored result '999999'" in capsys.readouterr().err


def test_reuse_tells_an_edit_with_a_mask_from_the_same_edit_without_one(edit_dir, tmp_path, capsys, monkeypatch):
    from imagegen.storage.store import Store

    home = tmp_path / "home"
    monkeypatch.setenv("IMAGEGEN_HOME", str(home))
    masked, plain = edit_dir / "masked.toml", edit_dir / "plain.toml"
    masked.write_text(spec_text(mask="mask.png"))
    plain.write_text(spec_text())
    reused = []
    for spec, args in ((masked, []), (plain, ["--reuse"]), (masked, ["--reuse"])):
        assert main(["run", str(spec), *args]) == 0
        with Store(home) as store:  # the second: another request, sent; the third: the same, reused
            rows = store.results(store.resolve_run_id("latest"))
            reused.append(int(rows["reused"].sum()))
    capsys.readouterr()
    assert reused == [0, 0, 1]
