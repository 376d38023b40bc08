"""[edit] markup (GPT Image 2.5): catalog data, checks before sending, the real SDK sends it, the simulator checks it."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date

import httpx2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from imagegen.cli import main
from imagegen.core.catalog import default_catalog
from imagegen.core.editinputs import EditInput, check_markup
from imagegen.core.grid import load_spec, loads_spec, validate_grid
from imagegen.errors import InvalidRequest, SpecError
from imagegen.execution.simulator import SimulatorApp, SimulatorConfig
from imagegen.insight.codegen import curl_command, python_code

TODAY = date(2026, 12, 1)
AUTH = {"authorization": "Bearer test-key-not-real"}


def png(size=(1024, 1024), alpha: int | None = 0, fmt: str = "PNG") -> bytes:
    """RGB when ``alpha`` is None, else RGBA with a red mark on an ``alpha`` background."""
    out = io.BytesIO()
    if alpha is None:
        Image.new("RGB", size, (10, 120, 200)).save(out, fmt)
    else:
        im = Image.new("RGBA", size, (0, 0, 0, alpha))
        im.paste((255, 0, 0, 255), (0, 0, size[0] // 4, size[1] // 4))
        im.save(out, fmt)
    return out.getvalue()


def spec_text(model: str = "gpt-image-2.5-sunburst", extra: str = 'markup = "guide.png"\n', axes: str = "") -> str:
    return (f'provider = "simulator"\nmodel = "{model}"\nprompts = ["a red hat"]\n[params]\nsize = "1024x1024"\n'
            f'{axes}\n[edit]\nimages = ["in.png"]\n{extra}[simulator]\ntime_scale = 0.001\n')


@pytest.fixture
def edit_dir(tmp_path):
    (tmp_path / "in.png").write_bytes(png(alpha=None))
    (tmp_path / "guide.png").write_bytes(png())
    (tmp_path / "mask.png").write_bytes(png())
    return tmp_path


def test_which_models_take_markup_is_catalog_data():
    catalog = default_catalog()
    assert catalog.markup_models() == ("gpt-image-2.5-flare", "gpt-image-2.5-sunburst")
    entry = catalog.model("gpt-image-2.5-sunburst").markup
    assert entry.status == "documented" and "images.edit" in entry.source and entry.checked == TODAY
    assert catalog.model("gpt-image-1.5").markup is None


FIRST = EditInput("in.png", b"", "png", 1024, 1024)


@settings(max_examples=30, deadline=None)
@given(w=st.integers(16, 96), h=st.integers(16, 96), alpha=st.sampled_from([None, 0, 128, 255]),
       fmt=st.sampled_from(["PNG", "WEBP", "JPEG"]))
def test_check_markup_png_same_size_with_a_transparent_pixel(w, h, alpha, fmt):
    first = EditInput("in.png", b"", "png", 64, 64)
    data = png((w, h), None if fmt == "JPEG" else alpha, fmt)  # JPEG has no alpha
    item, why = check_markup("guide.png", data, first)
    ok = fmt == "PNG" and (w, h) == (64, 64) and alpha in (0, 128)
    assert (item is not None) == ok and (why is None) == ok
    if not ok:
        assert why.startswith("[edit] markup 'guide.png'") and "Fix:" in why
        if fmt != "PNG":
            assert "must be a PNG" in why
        elif (w, h) != (64, 64):
            assert f"{w}x{h} but the first image 'in.png' is 64x64" in why
        else:
            assert "no transparent pixel" in why


def test_spec_round_trips_and_refusals(edit_dir):
    (edit_dir / "s.toml").write_text(spec_text())
    spec = load_spec(edit_dir / "s.toml")
    assert spec.edit.markup == "guide.png" and spec.inputs.markup.width == 1024 and spec.inputs.mask is None
    assert loads_spec(spec.to_toml()).edit == spec.edit
    (edit_dir / "both.toml").write_text(spec_text(extra='mask = "mask.png"\nmarkup = "guide.png"\n'))
    with pytest.raises(SpecError, match="markup cannot be combined with mask.*Fix: remove one"):
        load_spec(edit_dir / "both.toml")
    (edit_dir / "missing.toml").write_text(spec_text(extra='markup = "nope.png"\n'))
    with pytest.raises(SpecError, match=r"\[edit\] markup 'nope.png': file not found"):
        load_spec(edit_dir / "missing.toml")


@pytest.mark.parametrize("axes", ["", '[axes]\nmodel = ["gpt-image-2.5-flare", "gpt-image-1.5"]'])
def test_a_model_without_markup_is_refused_naming_the_models_that_take_it(edit_dir, axes):
    model = "gpt-image-1.5" if not axes else "gpt-image-2.5-sunburst"
    (edit_dir / "s.toml").write_text(spec_text(model=model, axes=axes))
    with pytest.raises(InvalidRequest) as err:
        validate_grid(load_spec(edit_dir / "s.toml"), default_catalog(), TODAY)
    text = str(err.value)
    assert "markup" in text and "guide.png" in text and "not gpt-image-1.5" in text
    assert "gpt-image-2.5-flare, gpt-image-2.5-sunburst" in text and "remove markup" in text


def test_cli_refuses_bad_markup_with_exit_2_before_sending(edit_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_HOME", str(tmp_path / "home"))
    (edit_dir / "guide.png").write_bytes(png(alpha=255))  # opaque everywhere
    (edit_dir / "s.toml").write_text(spec_text())
    sent = []
    monkeypatch.setattr(SimulatorApp, "handle", lambda *a, **k: sent.append(a))
    for command in ("estimate", "run"):
        assert main([command, str(edit_dir / "s.toml")]) == 2
        assert "no transparent pixel" in capsys.readouterr().err
    (edit_dir / "s.toml").write_text(spec_text(model="gpt-image-2"))
    (edit_dir / "guide.png").write_bytes(png())
    assert main(["run", str(edit_dir / "s.toml")]) == 2
    assert "gpt-image-2.5-flare, gpt-image-2.5-sunburst" in capsys.readouterr().err
    assert sent == []


def test_cli_runs_a_markup_edit_through_the_sdk_and_the_body_carries_the_file(edit_dir, tmp_path, capsys,
                                                                               monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("IMAGEGEN_HOME", str(home))
    (edit_dir / "s.toml").write_text(spec_text())
    seen: list[bytes] = []
    original = SimulatorApp._check_markup

    def spy(operation, model, fields_, uploads):
        seen.extend(u[3] for u in uploads if u[0] == "markup")
        return original(operation, model, fields_, uploads)

    monkeypatch.setattr(SimulatorApp, "_check_markup", staticmethod(spy))
    assert main(["run", str(edit_dir / "s.toml")]) == 0
    assert "1/1 ok" in capsys.readouterr().out
    guide = (edit_dir / "guide.png").read_bytes()
    assert seen == [guide]  # the multipart body the SDK sent held the markup file, byte for byte
    from imagegen.storage.store import Store

    store = Store(home)
    run_id = store.runs().to_dict("records")[0]["run_id"]
    sha = hashlib.sha256(guide).hexdigest()
    assert [r["role"] for r in store.run_inputs(run_id)] == ["image", "markup"]
    assert main(["export", run_id, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["input_sha256"].endswith(f" markup:{sha}")


def sim_edit(app, model: str, extra_files=(), fields=None):
    files = [("image", ("in.png", png(alpha=None), "image/png")), *extra_files]
    req = httpx2.Request("POST", "http://x/v1/images/edits", files=files,
                         data={"prompt": "a red hat", "model": model, "size": "1024x1024", **(fields or {})})
    return app.handle("POST", "/v1/images/edits", {**dict(req.headers), **AUTH}, req.read())


@pytest.mark.parametrize(("model", "files", "fields", "needle"), [
    ("gpt-image-1.5", [("markup", ("g.png", png(), "image/png"))], {}, "not supported for gpt-image-1.5"),
    ("gpt-image-2.5-flare", [("markup", ("g.png", png(), "image/png")), ("mask", ("m.png", png(), "image/png"))],
     {}, "cannot be combined with mask"),
    ("gpt-image-2.5-flare", [], {"markup": "g.png"}, "uploaded PNG file"),
])
def test_simulator_refuses_markup_where_the_real_endpoint_would(model, files, fields, needle):
    app = SimulatorApp(SimulatorConfig(fixed_latency_s=0.0))
    reply = sim_edit(app, model, files, fields)
    error = json.loads(reply.body)["error"]
    assert reply.status == 400 and error["param"] == "markup" and needle in error["message"]


def test_simulator_accepts_markup_on_2_5():
    app = SimulatorApp(SimulatorConfig(fixed_latency_s=0.0))
    reply = sim_edit(app, "gpt-image-2.5-sunburst", [("markup", ("g.png", png(), "image/png"))])
    assert reply.status == 200, reply.body
    assert np.asarray(json.loads(reply.body)["data"]).size == 1


def test_codegen_writes_the_markup_file(edit_dir):
    spec = load_spec((edit_dir / "s.toml").write_text(spec_text()) and edit_dir / "s.toml")
    req = validate_grid(spec, default_catalog(), TODAY)[0].request
    assert 'markup=open("guide.png", "rb"),' in python_code(req, inputs=["in.png"], markup="guide.png")
    assert "-F 'markup=@guide.png'" in curl_command(req, inputs=["in.png"], markup="guide.png")


def test_markup_refused_on_gpt_image_2_6_says_that_sources_disagree(edit_dir):
    """OpenAI's 2.6-sunburst page and third parties name markup; the SDK does not: the refusal says both exist."""
    (edit_dir / "s.toml").write_text(spec_text(model="gpt-image-2.6-sunburst"))
    with pytest.raises(InvalidRequest) as err:
        validate_grid(load_spec(edit_dir / "s.toml"), default_catalog(), TODAY)
    assert "not gpt-image-2.6-sunburst" in str(err.value)
    assert "sources disagree on what gpt-image-2.6-sunburst accepts here" in str(err.value)
