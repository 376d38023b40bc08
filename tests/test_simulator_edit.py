"""The simulator's edits: only the masked region changes, the input is resized to the output, bad masks refused."""

from __future__ import annotations

import base64
import io
import json

import httpx2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from imagegen.execution.simulator import SimulatorApp, SimulatorConfig
from imagegen.execution.simulator.render import composite, mask_keep, render_edit

AUTH = {"authorization": "Bearer test-key-not-real"}


@pytest.fixture(scope="module")
def app():
    return SimulatorApp(SimulatorConfig(fixed_latency_s=0.0))


def photo(w: int, h: int, seed: int = 1) -> bytes:
    """A noisy RGB 'photo' (every pixel different, so a copied pixel is not a coincidence)."""
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB").save(buf, "PNG")
    return buf.getvalue()


def hole_mask(w: int, h: int, box: tuple[int, int, int, int]) -> bytes:
    """Opaque everywhere but a fully transparent ``box`` (x0, y0, x1, y1): the area to edit."""
    a = np.full((h, w, 4), 255, np.uint8)
    x0, y0, x1, y1 = box
    a[y0:y1, x0:x1, 3] = 0
    buf = io.BytesIO()
    Image.fromarray(a, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def edit(app, fields: dict, image: bytes, mask: bytes | None = None):
    files = [("image", ("in.png", image, "image/png"))]
    if mask is not None:
        files.append(("mask", ("mask.png", mask, "image/png")))
    req = httpx2.Request("POST", "http://x/v1/images/edits", data={"prompt": "a red hat", **fields}, files=files)
    return app.handle("POST", "/v1/images/edits", {**dict(req.headers), **AUTH}, req.read())


def out_pixels(reply) -> np.ndarray:
    assert reply.status == 200, reply.body
    return decode(base64.b64decode(json.loads(reply.body)["data"][0]["b64_json"]))


@pytest.mark.parametrize(("fidelity", "quality"), [("low", "low"), ("high", "high")])
def test_masked_edit_keeps_the_input_where_the_mask_is_opaque(app, fidelity, quality):
    image, box = photo(1024, 1024), (256, 256, 768, 768)
    out = out_pixels(edit(app, {"model": "gpt-image-1.5", "size": "1024x1024", "quality": quality,
                                "input_fidelity": fidelity}, image, hole_mask(1024, 1024, box)))
    source = decode(image)
    keep = np.ones((1024, 1024), bool)
    keep[256:768, 256:768] = False
    assert out.shape == (1024, 1024, 3)
    assert np.array_equal(out[keep], source[keep])           # every unmasked pixel is the input's
    assert (out[~keep] != source[~keep]).any(axis=1).mean() > 0.95   # the hole was redrawn


def test_without_a_mask_the_whole_image_changes_but_stays_related(app):
    image = photo(1024, 1024)
    out = out_pixels(edit(app, {"model": "gpt-image-1.5", "size": "1024x1024", "quality": "low"}, image))
    source = decode(image).astype(int)
    assert (out != source).any(axis=2).mean() > 0.9
    # half input, half scene: the output follows the input (correlated), unlike the bare scene
    assert np.corrcoef(out[..., 0].ravel(), source[..., 0].ravel())[0, 1] > 0.5


def test_input_of_another_size_is_resized_to_the_requested_size(app):
    image = photo(512, 768)
    out = out_pixels(edit(app, {"model": "gpt-image-1.5", "size": "1024x1536", "quality": "low"}, image,
                          hole_mask(512, 768, (0, 0, 256, 256))))
    assert out.shape == (1536, 1024, 3)
    with Image.open(io.BytesIO(image)) as img:
        resized = np.asarray(img.convert("RGB").resize((1024, 1536), Image.Resampling.LANCZOS))
    assert np.array_equal(out[600:, 600:], resized[600:, 600:])


def test_streamed_partials_and_the_final_image_keep_the_input(app):
    image, mask = photo(256, 256), hole_mask(256, 256, (0, 0, 128, 128))
    files = [("image", ("in.png", image, "image/png")), ("mask", ("m.png", mask, "image/png"))]
    req = httpx2.Request("POST", "http://x/v1/images/edits", files=files, data={
        "prompt": "x", "model": "gpt-image-1.5", "size": "1024x1024", "stream": "true", "partial_images": "1"})
    reply = app.handle("POST", "/v1/images/edits", {**dict(req.headers), **AUTH}, req.read())
    source = np.asarray(Image.open(io.BytesIO(image)).convert("RGB").resize((1024, 1024), Image.Resampling.LANCZOS))
    frames = [json.loads(chunk.split(b"data: ", 1)[1]) for _, chunk in reply.events]
    assert [f["type"] for f in frames] == ["image_edit.partial_image", "image_edit.completed"]
    for f in frames:
        assert np.array_equal(decode(base64.b64decode(f["b64_json"]))[512:, 512:], source[512:, 512:])


@pytest.mark.parametrize(("mask", "needle"), [
    (photo(64, 64), "alpha channel"),                       # RGB PNG: no alpha
    (hole_mask(32, 64, (0, 0, 8, 8)), "32x64 but the image is 64x64"),
    (b"\x89PNG\r\n\x1a\n broken", "alpha channel"),
])
def test_a_bad_mask_is_refused_like_the_real_endpoint(app, mask, needle):
    reply = edit(app, {"model": "gpt-image-1.5", "size": "1024x1024"}, photo(64, 64), mask)
    error = json.loads(reply.body)["error"]
    assert reply.status == 400 and error["param"] == "mask" and needle in error["message"]


def test_render_edit_labels_only_the_edited_area_and_the_png_says_simulated():
    image = photo(256, 256)
    full_keep = hole_mask(256, 256, (0, 0, 0, 0))          # nothing to edit: the input comes back unchanged
    data = render_edit("p", 256, 256, "low", "png", None, False, image, full_keep)
    assert np.array_equal(decode(data), decode(image)) and b"simulated image" in data


@settings(max_examples=25, deadline=None)
@given(w=st.integers(1, 64), h=st.integers(1, 64), data=st.data())
def test_composite_keeps_exactly_the_opaque_pixels(w, h, data):
    rng = np.random.default_rng(w * 100 + h)
    alpha = data.draw(st.lists(st.sampled_from([0, 1, 128, 254, 255]), min_size=w * h, max_size=w * h))
    a = np.dstack([rng.integers(0, 256, (h, w, 3), dtype=np.uint8), np.array(alpha, np.uint8).reshape(h, w)])
    buf = io.BytesIO()
    Image.fromarray(a, "RGBA").save(buf, "PNG")
    mask, image = buf.getvalue(), photo(w, h, seed=w + h)
    generated = np.zeros((h, w, 3), np.uint8)
    out = composite(generated, image, mask)
    keep = mask_keep(mask, w, h)
    assert np.array_equal(keep, a[..., 3] == 255)
    assert np.array_equal(out[keep], decode(image)[keep]) and not out[~keep].any()


@pytest.mark.parametrize("body", [
    {"model": "gpt-image-1.5", "prompt": "x", "images": [{"image_url": "https://example.com/a.png"}]},
    {"model": "gpt-image-1.5", "prompt": "x", "images": [{"file_id": "file-abc"}], "mask": {"file_id": "file-m"}},
])
def test_json_edits_are_refused_deliberately(app, body):
    reply = app.handle("POST", "/v1/images/edits", {**AUTH, "content-type": "application/json"},
                       json.dumps(body).encode())
    error = json.loads(reply.body)["error"]
    assert reply.status == 400 and error["param"] == "images" and "multipart/form-data" in error["message"]
