"""Generate in Edit mode: upload an image, a mask, input_fidelity x quality on gpt-image-1.5, estimate, run."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from imagegen.core.editinputs import mask_from_box
from imagegen.storage.store import Store
from tests import ui_support
from tests.ui_support import open_app, texts, wait_for_run

PAGE = "pages/1_Generate.py"
app_env = ui_support.app_env  # fixture


def photo(w: int = 256, h: int = 256) -> bytes:
    rng = np.random.default_rng(7)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB").save(buf, "PNG")
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def edit_form(at, image: bytes):
    """Edit mode, one uploaded image, a rectangle mask, input_fidelity x quality on gpt-image-1.5 at 256x256."""
    at.radio(key="edit_mode").set_value("edit").run()
    at.selectbox(key="model").set_value("gpt-image-1.5").run()
    at.text_area(key="prompts").set_value("put a red hat on it").run()
    at.file_uploader(key="edit_images").set_value(("product.png", image, "image/png")).run()
    at.radio(key="edit_mask_mode").set_value("box").run()
    at.selectbox(key="axis_x_param").set_value("input_fidelity").run()
    at.multiselect(key="axis_x_values").set_value(["low", "high"]).run()
    at.selectbox(key="axis_y_param").set_value("quality").run()
    at.multiselect(key="axis_y_values").set_value(["low", "high"]).run()
    at.selectbox(key="fixed_size").set_value("1024x1024").run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_edit_grid_estimates_input_tokens_and_runs_four_masked_edits(app_env):
    image = photo(1024, 1024)
    at = edit_form(open_app(PAGE), image)
    m = metrics(at)
    assert m["Cells"] == "4"
    assert m["Input image tokens per request (estimated)"] == "194–4,354"  # 1024² low: 194; high: +4,160
    assert {"Cost: text input (estimated)", "Cost: image input (estimated)",
            "Cost: image output (estimated)"} <= set(m)
    assert any("Input image tokens:" in c for c in texts(at.caption))
    at.button(key="run_grid").click().run()
    assert not at.exception, at.exception
    wait_for_run(at)
    run = at.session_state["active_run"]
    store = Store(app_env)
    rows = store.results(run.run_id)
    assert len(rows) == 4 and set(rows["status"]) == {"ok"}
    assert sorted(rows["input_image_tokens"].tolist()) == [194, 194, 4354, 4354]  # billed (simulated)
    keep = np.ones((1024, 1024), bool)
    keep[256:768, 256:768] = False  # the default rectangle: 25 %..75 %
    source = decode(image)
    for rid in rows["result_id"]:
        out = decode(store.image_path(store.images(int(rid))["sha256"].iloc[0]).read_bytes())
        assert np.array_equal(out[keep], source[keep]) and (out[~keep] != source[~keep]).any()
    inputs = store.run_inputs(run.run_id)
    assert [i["role"] for i in inputs] == ["image", "mask"]
    assert inputs[1]["sha256"] is not None and store.input_file(inputs[1]["sha256"]) == mask_from_box(
        1024, 1024, (25, 25, 75, 75))
    captions = texts(at.caption)
    # every cell shows its input image tokens, billed next to the estimate, and its cost split
    token_lines = [c for c in captions if "input image tokens billed (simulated)" in c]
    assert len(token_lines) == 4
    assert sum("194 input image tokens billed (simulated) · 194 estimated (documented" in c
               for c in token_lines) == 2
    assert sum("4,354 input image tokens billed (simulated) · 4,354 estimated" in c for c in token_lines) == 2
    assert sum("text in $" in c and "image in $" in c and "image out $" in c for c in captions) == 4
    assert any("Inputs of this edit" in m for m in texts(at.markdown))
    assert len([c for c in captions if c.startswith("mask · mask-rectangle.png")]) >= 1

    at.switch_page("pages/3_Analytics.py").run()
    assert not at.exception, at.exception
    heads = texts(at.subheader)
    assert "Edits: input image tokens, billed vs estimated" in heads
    frames = [d.value for d in at.dataframe]
    tokens = next(f for f in frames if "estimated input image tokens" in f.columns)
    got = {r["input_fidelity"]: r for r in tokens.to_dict("records")}
    assert set(got) == {"low", "high"} and {r["source"] for r in got.values()} == {"simulated"}
    assert got["high"]["billed input image tokens (mean)"] == 4354 == got["high"]["estimated input image tokens"]
    assert got["low"]["billed ÷ estimated"] == 1.0 and "documented" in got["low"]["estimate status"]
    costs = next(f for f in frames if "cost per edit" in f.columns)
    assert len(costs) == 4 and all(str(v).startswith("$") for v in costs["image input"])

    at.switch_page("pages/6_Compare.py").run()  # blind compare: the input both sides edited, above the pair
    at.text_input(key="cmp_rater").input("Aiko").run()
    assert not at.exception, at.exception
    shown = " ".join(str(i.proto) for i in at.main if i.type == "image")
    assert "Both sides edited the input image" in shown and "Both sides edited the mask" in shown


def test_edit_mode_refuses_bad_inputs_before_anything_is_sent(app_env):
    at = open_app(PAGE)
    at.radio(key="edit_mode").set_value("edit").run()
    errors = " ".join(e.value for e in at.error)
    assert "no input image" in errors and "Fix: upload an image" in errors
    assert at.button(key="run_grid").disabled
    at.file_uploader(key="edit_images").set_value(("notes.png", b"GIF89a not really", "image/png")).run()
    errors = " ".join(e.value for e in at.error)
    assert "'notes.png'" in errors and "PNG, WEBP or JPEG" in errors and "Fix:" in errors
    at.file_uploader(key="edit_images").set_value(("product.png", photo(), "image/png")).run()
    at.radio(key="edit_mask_mode").set_value("upload").run()
    at.file_uploader(key="edit_mask_file").set_value(("mask.png", photo(128, 128), "image/png")).run()
    errors = " ".join(e.value for e in at.error)
    assert "Mask 'mask.png'" in errors and "no alpha channel" in errors and "Fix:" in errors
    assert at.button(key="run_grid").disabled


def test_input_fidelity_is_offered_per_model_in_edit_mode_only(app_env):
    at = open_app(PAGE)
    assert "input_fidelity" not in at.selectbox(key="axis_z_param").options
    at.radio(key="edit_mode").set_value("edit").run()
    at.selectbox(key="model").set_value("gpt-image-1.5").run()
    assert "input_fidelity" in at.selectbox(key="axis_z_param").options
    assert at.selectbox(key="fixed_input_fidelity").options == ["low", "high"]
    assert at.selectbox(key="fixed_moderation").disabled  # edits take no moderation (the SDK's images.edit)
    at.selectbox(key="model").set_value("gpt-image-1-mini").run()
    assert at.selectbox(key="fixed_input_fidelity").options == ["low"]
    at.radio(key="edit_mode").set_value("generate").run()
    assert not at.selectbox(key="fixed_moderation").disabled
    assert "input_fidelity" not in at.selectbox(key="axis_z_param").options


def test_loading_an_edit_spec_switches_to_edit_mode_and_asks_for_its_files(app_env):
    at = open_app(PAGE)
    spec = ('provider = "simulator"\nmodel = "gpt-image-1.5"\nprompts = ["p"]\n[axes]\ninput_fidelity = ["low", '
            '"high"]\n[edit]\nimages = ["product.png"]\nmask = "mask.png"\n')
    at.file_uploader(key="spec_upload").set_value(("edit.toml", spec.encode(), "application/toml")).run()
    assert not at.exception, at.exception
    assert at.radio(key="edit_mode").value == "edit"
    assert any("'product.png'" not in w.value and "product.png, mask.png" in w.value and "Fix: upload" in w.value
               for w in at.warning)
    assert at.multiselect(key="axis_x_values").value == ["low", "high"]
