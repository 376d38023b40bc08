"""Output-token tables and formulas, offline text tokens, input image tokens."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagegen.core.catalog import load_catalog
from imagegen.core.tokens import (
    count_text_tokens,
    formula_tokens,
    image_output_tokens,
    input_image_tokens,
    parse_size,
    request_output_range,
    request_output_tokens,
)

# The documented gpt-image-1 table (OpenAI image-generation guide, "cost and latency").
DOCUMENTED = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"])
def test_gpt_image_1_family_reproduces_the_documented_table(catalog, model):
    tm = catalog.token_model(catalog.model(model))
    for quality, row in DOCUMENTED.items():
        for size, tokens in row.items():
            assert image_output_tokens(tm, quality, size) == tokens
            # the derived patch-grid formula alone also gives every cell exactly
            assert formula_tokens(tm, quality, *parse_size(size)) == tokens


def test_gpt_image_2_community_formula(catalog):
    tm = catalog.token_model(catalog.model("gpt-image-2"))
    assert [formula_tokens(tm, q, 1024, 1024) for q in ("low", "medium", "high")] == [196, 1756, 7024]
    assert [formula_tokens(tm, q, 1024, 1536) for q in ("low", "medium", "high")] == [158, 1372, 5488]


def test_n_and_partial_images_reserve_the_larger_reading(catalog):
    tm = catalog.token_model(catalog.model("gpt-image-1"))
    # "+100 per partial image" is ambiguous with n > 1: the budget figure is per image (n x p x 100)
    assert request_output_tokens(tm, "medium", "1024x1024", n=3, partial_images=2) == 3 * 1056 + 3 * 2 * 100
    assert request_output_range(tm, "medium", "1024x1024", n=3, partial_images=2) == (3 * 1056 + 200, 3 * 1056 + 600)
    assert request_output_range(tm, "medium", "1024x1024", n=1, partial_images=2) == (1056 + 200, 1056 + 200)


def test_text_tokens_offline_o200k():
    from imagegen.core.encoding import encoding

    # tiktoken's o200k_base ids for these strings; bpe-openai must agree, offline.
    assert encoding().encode("Hello world") == [13225, 2375]
    assert encoding().encode("hello world") == [24912, 2375]
    assert count_text_tokens("Hello world") == 2
    jp = "F1レーサーを躍動感あるように描いて。"
    assert 0 < count_text_tokens(jp) < len(jp)


def test_input_image_tokens_tile_formula():
    assert input_image_tokens(1024, 1024) == 194          # 1 tile
    assert input_image_tokens(1024, 1536) == 323          # 512x768 -> 2 tiles
    assert input_image_tokens(1024, 1024, "high") == 194 + 4160
    assert input_image_tokens(1536, 1024, "high") == 323 + 6240


@pytest.mark.parametrize("bad", ["1024", "x1024", "1024x", "axb", "0x10", ""])
def test_parse_size_refuses(bad):
    with pytest.raises(ValueError):
        parse_size(bad)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_text_counts_match_the_bpe_openai_package(text):
    """The binding loaded on its own counts exactly as the package's tiktoken-style Encoding."""
    import bpe_openai

    assert count_text_tokens(text) == len(bpe_openai.get_encoding("o200k_base").encode(text, disallowed_special=()))


def test_importing_tokens_does_not_load_the_tokenizer():
    import subprocess
    import sys

    code = ("import sys, imagegen.core.tokens as t; assert 'bpe_openai' not in sys.modules; "
            "t.count_text_tokens('a fox'); assert 'bpe_openai._bindings' in sys.modules; "
            "assert 'bpe_openai.compat' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr


def test_concurrent_first_counts_share_one_load(monkeypatch):
    """Streamlit reruns count from several threads: the second waits for the first load, never loads twice."""
    import threading

    from imagegen.core import encoding

    real = encoding._load()
    calls, release = [], threading.Event()

    def slow_load():
        calls.append(threading.current_thread().name)
        assert release.wait(5)
        return real

    monkeypatch.setattr(encoding, "_loaded", None)
    monkeypatch.setattr(encoding, "_load", slow_load)
    counted = []
    threads = [threading.Thread(target=lambda: counted.append(encoding.encoding().encode("Hello world")), name=f"t{i}")
               for i in range(2)]
    for t in threads:
        t.start()
    threads[0].join(0.2)
    assert not counted  # both wait for the load in flight
    release.set()
    for t in threads:
        t.join(5)
    assert counted == [[13225, 2375]] * 2
    assert len(calls) == 1
