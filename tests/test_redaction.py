"""imagegen/redaction.py: configured keys and anything shaped like a key never survive a message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagegen.errors import ConfigError, ProviderError
from imagegen.redaction import REDACTED, redact, redact_mapping, register_secret

# Fake credentials, assembled at run time (a literal of the real shape would trip the commit hook).
OPENAI_SHAPED = "sk-" + "proj-" + "abcDEF123" * 3
AZURE_HEX = "".join(["9a8b7c6d"] * 4)
AZURE_NEW = "A1b2C3d4" * 10 + "ZzYy"  # 84 letters and digits
JWT = "eyJ" + "hbGciOiJSUzI1NiJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "." + "c2lnbmF0dXJlLXgteQ"


@pytest.mark.parametrize("text", [
    f"Incorrect API key provided: {OPENAI_SHAPED}.",
    f"Authorization: Bearer {OPENAI_SHAPED}",
    "authorization: bearer some-opaque-token-123",
    f"Access denied due to invalid subscription key {AZURE_HEX}.",
    f'{{"api-key": "{AZURE_HEX}"}}',
    f"api_key={AZURE_NEW}",
    "https://x.example/v1?key=plainsecretvalue&x=1",
    f"token: {JWT}",
    f"Ocp-Apim-Subscription-Key: {AZURE_NEW}",
])
def test_credential_shapes_are_removed(text):
    out = redact(text)
    for secret in (OPENAI_SHAPED, AZURE_HEX, AZURE_NEW, JWT, "some-opaque-token-123", "plainsecretvalue"):
        assert secret not in out, out
    assert REDACTED in out


def test_registered_secrets_of_any_shape_are_removed():
    odd = "test-key-not-real-7f3a"
    assert odd in redact(f"server said {odd}")
    register_secret(odd)
    assert odd not in redact(f"server said {odd} twice: {odd}")
    register_secret("short")  # too short to search for: words like it must survive
    assert redact("a short message") == "a short message"


def test_ordinary_text_survives():
    for text in ("rate limited (HTTP 429) (request id req_0123456789abcdef0123456789abcdef). Retry later.",
                 "image sha256 " + "ab" * 32, "apim-request-id 123e4567-e89b-12d3-a456-426614174000",
                 "Fix: set OPENAI_API_KEY (environment, .env or secrets).", "output_tokens: 4160"):
        assert redact(text) == text


def test_errors_redact_on_construction():
    err = ProviderError("auth", f"rejected {OPENAI_SHAPED}", request_id=f"Bearer {OPENAI_SHAPED}")
    assert OPENAI_SHAPED not in err.message and OPENAI_SHAPED not in str(err) and OPENAI_SHAPED not in err.request_id
    assert OPENAI_SHAPED not in str(ConfigError(f"bad value {OPENAI_SHAPED}"))


def test_headers():
    out = redact_mapping({"authorization": "anything", "x-ratelimit-limit": OPENAI_SHAPED, "x-ok": "5"})
    assert out == {"authorization": REDACTED, "x-ratelimit-limit": REDACTED, "x-ok": "5"}


@given(st.text(max_size=40), st.text(max_size=40))
def test_a_key_never_survives_whatever_surrounds_it(before, after):
    assert OPENAI_SHAPED not in redact(before + OPENAI_SHAPED + after)
    assert AZURE_HEX not in redact(before + " " + AZURE_HEX + " " + after)


def test_the_cli_redacts_an_unexpected_traceback(monkeypatch, capsys):
    from imagegen import cli

    def boom(args):
        raise RuntimeError(f"upstream echoed {OPENAI_SHAPED}")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    args = parser.parse_args(["runs"])
    monkeypatch.setattr(parser, "parse_args", lambda argv=None: args)
    monkeypatch.setattr(args, "func", boom)
    assert cli.main(["runs"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError" in err and OPENAI_SHAPED not in err and "unexpected failure" in err


def test_words_that_merely_contain_sk_survive():
    assert redact("a task-management-system dashboard, whisk-and-bowl") == \
        "a task-management-system dashboard, whisk-and-bowl"
    assert "abcdefghijklmnop" not in redact("key sk-abcdefghijklmnop")
