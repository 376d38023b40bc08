"""providers/response_checks.py: what an answer must be before it is priced or stored."""

from __future__ import annotations

import pytest

from imagegen.core.request import ImageRequest
from imagegen.execution.providers.response_checks import (
    BadResponse,
    check_answer,
    check_image,
    check_usage,
    output_token_bound,
)
from tests.fakes import hostile

REQ = ImageRequest(model="gpt-image-1-mini", prompt="a fox", provider="compatible", size="1024x1024", quality="low")
USAGE = {"input_tokens": 12, "output_tokens": 272, "total_tokens": 284,
         "input_tokens_details": {"text_tokens": 12, "image_tokens": 0}}


def body(**kw):
    out = {"size": "1024x1024", "quality": "low", "output_format": "png", "background": "opaque", "usage": USAGE}
    out.update(kw)
    return out


def test_a_good_answer_passes_with_its_usage_and_dimensions():
    checked = check_answer(body(), (hostile.image_bytes(),), REQ)
    assert checked.usage.output_tokens == 272 and checked.usage.input_text_tokens == 12
    assert checked.dimensions == ((1024, 1024),) and checked.formats == ("png",)


@pytest.mark.parametrize(("usage", "reason"), [
    (None, "no usage"), (5, "not an object"), ({**USAGE, "output_tokens": "272"}, "not a whole number"),
    ({**USAGE, "output_tokens": True}, "not a whole number"), ({**USAGE, "output_tokens": 272.0}, "not a whole"),
    ({**USAGE, "output_tokens": -1}, "negative"), ({**USAGE, "output_tokens": 10**13}, "above the sane bound"),
    ({**USAGE, "input_tokens": 10**13}, "above the sane bound"), ({"output_tokens": 5}, "no input_tokens"),
    ({**USAGE, "input_tokens_details": {"text_tokens": 50, "image_tokens": 0}}, "more than usage.input_tokens"),
    ({**USAGE, "input_tokens_details": [1]}, "not an object"),
])
def test_usage_that_is_not_sane_is_refused(usage, reason):
    with pytest.raises(BadResponse, match=reason):
        check_usage(usage, REQ)


def test_the_usage_bound_leaves_room_for_an_endpoint_that_bills_three_times_the_table():
    assert check_usage({**USAGE, "output_tokens": 3 * 6240}, REQ).output_tokens == 18720
    assert output_token_bound(REQ) >= 10 * 4160  # ten times the high-quality table, and far from 10**13
    assert output_token_bound(REQ.with_(n=4)) == 4 * output_token_bound(REQ)


@pytest.mark.parametrize(("data", "reason"), [
    (b"hello", "not an image"), (hostile.SVG, "an SVG document"), (hostile.image_bytes()[:500], "truncated"),
    (hostile.bad_crc_png(), "bad CRC"), (hostile.image_bytes("256x256"), "256x256, but 1024x1024"),
    (hostile.image_bytes("1024x1024", "jpeg"), "is jpeg, but png"), (b"", "empty"),
])
def test_images_are_read_from_their_header_and_refused(data, reason):
    with pytest.raises(BadResponse, match=reason):
        check_image(data, REQ)


def test_a_decompression_bomb_is_refused_from_its_header():
    with pytest.raises(BadResponse, match="above the limit"):
        check_image(hostile.bomb_png(), REQ.with_(size="auto"))


def test_jpeg_and_webp_truncation():
    jpeg = REQ.with_(output_format="jpeg")
    assert check_image(hostile.image_bytes("1024x1024", "jpeg"), jpeg)[1:] == (1024, 1024)
    with pytest.raises(BadResponse, match="end-of-image"):
        check_image(hostile.image_bytes("1024x1024", "jpeg")[:-100], jpeg)
    webp = REQ.with_(output_format="webp")
    assert check_image(hostile.image_bytes("1024x1024", "webp"), webp)[0] == "webp"
    with pytest.raises(BadResponse, match="truncated"):
        check_image(hostile.image_bytes("1024x1024", "webp")[:-10], webp)


@pytest.mark.parametrize(("fields", "reason"), [
    ({"quality": ["low"]}, "not a string"), ({"size": {"w": 1}}, "not a string"), ({"size": "big"}, "WIDTHxHEIGHT"),
    ({"quality": "high"}, "'low' was asked for"), ({"size": "1536x1024"}, "was asked for"),
    ({"output_format": "exe"}, "was asked for|not one of"), ({"background": 7}, "not a string"),
])
def test_resolved_fields_have_the_expected_types_and_values(fields, reason):
    with pytest.raises(BadResponse, match=reason):
        check_answer(body(**fields), (hostile.image_bytes(),), REQ)


def test_image_count_and_a_bad_image_keep_the_usage_for_the_bill():
    with pytest.raises(BadResponse, match="2 image") as info:
        check_answer(body(), (hostile.image_bytes(),) * 2, REQ)
    assert info.value.usage.output_tokens == 272
    with pytest.raises(BadResponse, match="no usage") as info:
        check_answer(body(usage=None), (hostile.image_bytes(),), REQ)
    assert info.value.usage is None
