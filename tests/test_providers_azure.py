"""Azure OpenAI provider, classic and v1: the real openai SDK over loopback HTTP against the simulator.

The point of most tests: the *deployment* (never the catalog id) is what reaches the server, with
the right path, api-version and auth header.
"""

from __future__ import annotations

import importlib.util

import pytest

from imagegen.core.request import ImageRequest
from imagegen.errors import ConfigError, ProviderError
from imagegen.execution.providers import make_provider
from imagegen.execution.providers.azure_openai import AzureOpenAIProvider
from imagegen.execution.settings import load_settings

KEY = "azure-key-0000-wxyz"


def settings_for(url: str, no_dotenv, **extra):
    env = {"AZURE_OPENAI_API_IMAGE_KEY": KEY, "AZURE_OPENAI_API_IMAGE_ENDPOINT": url,
           "AZURE_OPENAI_API_IMAGE_MODEL": "my-images", "AZURE_OPENAI_API_VERSION": "2025-04-01-preview",
           "IMAGEGEN_AZURE_DEPLOYMENTS": "my-images=gpt-image-1.5,cheap=gpt-image-1-mini", **extra}
    return load_settings(env={k: v for k, v in env.items() if v is not None}, dotenv_path=no_dotenv)


def v1_settings_for(url: str, no_dotenv, **extra):
    return settings_for(url, no_dotenv, AZURE_OPENAI_API_IMAGE_ENDPOINT=None,
                        AZURE_OPENAI_BASE_URL=f"{url}/openai/v1/", AZURE_OPENAI_API_VERSION=None, **extra)


def req(**kw) -> ImageRequest:
    base = {"model": "gpt-image-1.5", "prompt": "a blue fox", "provider": "azure", "quality": "low",
            "size": "1024x1024"}
    return ImageRequest(**{**base, **kw})


def test_classic_sends_the_deployment_in_the_path_with_api_version_and_api_key(sim_http, no_dotenv):
    app, url = sim_http
    p = make_provider(settings_for(url, no_dotenv))
    assert isinstance(p, AzureOpenAIProvider) and (p.name, p.flavour) == ("azure", "classic")
    g = p.generate(req(size="1536x1024", quality="high"), timeout=10)
    seen = app.requests[-1]
    assert seen.path == "/openai/deployments/my-images/images/generations"
    assert seen.query == {"api-version": "2025-04-01-preview"}
    assert seen.headers["api-key"] == KEY and "authorization" not in seen.headers
    assert seen.body["model"] == "my-images"  # the deployment, never the catalog id
    assert "gpt-image-1.5" not in seen.path and "gpt-image-1.5" not in seen.body.values()
    assert {k: v for k, v in seen.body.items() if k != "model"} == {
        "prompt": "a blue fox", "size": "1536x1024", "quality": "high", "background": "auto",
        "output_format": "png", "n": 1, "moderation": "auto"}
    # gpt-image-1.5 bills text output: the simulator reports the split in output_tokens_details
    assert g.usage["output_tokens_details"]["image_tokens"] == 6208 and g.simulated
    assert g.usage["output_tokens"] == 6208 + g.usage["output_tokens_details"]["text_tokens"]
    assert g.request_id and "x-ratelimit-remaining-requests" in g.ratelimit


def test_classic_uses_the_request_deployment_and_the_mapping(sim_http, no_dotenv):
    app, url = sim_http
    p = make_provider(settings_for(url, no_dotenv))
    p.generate(req(model="gpt-image-1-mini"), timeout=10)
    assert app.requests[-1].path == "/openai/deployments/cheap/images/generations"
    p.generate(req(model="gpt-image-1-mini", deployment="my-images"), timeout=10)
    assert app.requests[-1].path == "/openai/deployments/my-images/images/generations"
    with pytest.raises(ConfigError, match="IMAGEGEN_AZURE_DEPLOYMENTS"):
        p.generate(req(model="gpt-image-2"), timeout=10)
    assert app.request_count == 2  # refused before anything was sent


def test_v1_uses_the_plain_client_with_the_deployment_in_the_body(sim_http, no_dotenv):
    app, url = sim_http
    s = v1_settings_for(url, no_dotenv)
    p = make_provider(s)
    assert p.flavour == "v1"
    g = p.generate(req(), timeout=10)
    seen = app.requests[-1]
    assert seen.path == "/openai/v1/images/generations" and seen.query == {}
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert seen.body["model"] == "my-images"
    assert g.images and g.simulated


def test_v1_with_a_preview_api_version(sim_http, no_dotenv):
    app, url = sim_http
    p = make_provider(v1_settings_for(url, no_dotenv, OPENAI_API_VERSION="preview"))
    p.generate(req(), timeout=10)
    assert app.requests[-1].query == {"api-version": "preview"}


@pytest.mark.parametrize("flavour", ["classic", "v1"])
def test_streaming(sim_http, no_dotenv, flavour):
    app, url = sim_http
    s = settings_for(url, no_dotenv) if flavour == "classic" else v1_settings_for(url, no_dotenv)
    g = make_provider(s).generate(req(stream=True, partial_images=3), timeout=10)
    assert app.requests[-1].body["stream"] is True
    assert g.partial_images_received == 3 and g.first_partial_s <= g.final_s
    assert g.usage["output_tokens_details"]["image_tokens"] == 272 + 300


@pytest.mark.parametrize("flavour", ["classic", "v1"])
def test_edits_multipart(sim_http, no_dotenv, flavour):
    from imagegen.execution.simulator.render import render

    app, url = sim_http
    s = settings_for(url, no_dotenv) if flavour == "classic" else v1_settings_for(url, no_dotenv)
    src = render("photo", 1024, 1024, "low", "jpeg", 80)
    g = make_provider(s).generate(req(operation="edit", input_images=((1024, 1024),)), timeout=10, input_files=(src,))
    seen = app.requests[-1]
    expected = "/openai/deployments/my-images/images/edits" if flavour == "classic" else "/openai/v1/images/edits"
    assert seen.path == expected and seen.headers["content-type"].startswith("multipart/form-data")
    assert seen.body["model"] == "my-images"
    assert [(f.content_type, f.size_bytes) for f in seen.files] == [("image/jpeg", len(src))]
    assert g.images[0][:8] == b"\x89PNG\r\n\x1a\n"


def test_webp_is_refused_by_azure(sim_http, no_dotenv):
    _, url = sim_http
    with pytest.raises(ProviderError) as info:
        make_provider(settings_for(url, no_dotenv)).generate(req(output_format="webp"), timeout=10)
    assert info.value.kind == "bad_request" and "webp" in info.value.message and not info.value.retryable


def test_unknown_deployment_is_not_found(sim_http, no_dotenv):
    _, url = sim_http
    p = make_provider(settings_for(url, no_dotenv))
    with pytest.raises(ProviderError) as info:
        p.generate(req(deployment="deleted-deployment"), timeout=10)
    assert (info.value.kind, info.value.status, info.value.code) == ("not_found", 404, "DeploymentNotFound")
    assert "IMAGEGEN_AZURE_DEPLOYMENTS" in info.value.message


AZURE_FAULTS = [
    ("content_filter", "moderation", 400, lambda e: (e.stage, e.code) == ("input", "contentFilter")),
    ("content_filter_output", "moderation", 400, lambda e: e.stage == "output"),
    ("content_policy_violation; categories=violence", "moderation", 400, lambda e: e.categories == ("violence",)),
    ("forbidden", "moderation", 403, lambda e: "403" in e.message),
    ("moderation; categories=harassment", "moderation", 400, lambda e: e.categories == ("harassment",)),
    ("rate_limit; retry_after=7", "rate_limited", 429, lambda e: e.retry_after == 7.0 and "retry after" in e.message),
    ("auth", "auth", 401, lambda e: "AZURE_OPENAI_API_IMAGE_KEY" in e.message),
    ("not_found", "not_found", 404, None),
    ("server_error", "server_error", 500, None),
    ("unavailable", "server_error", 503, None),
    ("drop", "connection", None, None),
    ("hang", "timeout", None, None),
    ("malformed", "bad_response", 200, None),
]


@pytest.mark.parametrize("flavour", ["classic", "v1"])
@pytest.mark.parametrize(("fault", "kind", "status", "check"), AZURE_FAULTS, ids=[f[0].split(";")[0] for f in AZURE_FAULTS])
def test_azure_faults(sim_http, no_dotenv, flavour, fault, kind, status, check):
    app, url = sim_http
    s = settings_for(url, no_dotenv) if flavour == "classic" else v1_settings_for(url, no_dotenv)
    p = make_provider(s, extra_headers={"x-simulator-fault": fault})
    with pytest.raises(ProviderError) as info:
        p.generate(req(), timeout=0.3)
    err = info.value
    assert (err.kind, err.status) == (kind, status)
    if check is not None:
        assert check(err), err.message
    assert app.request_count == 1


def test_entra_id_token_provider_sends_bearer(sim_http, no_dotenv):
    app, url = sim_http
    env = {"AZURE_OPENAI_API_IMAGE_KEY": None, "AZURE_OPENAI_USE_ENTRA_ID": "true"}
    s = settings_for(url, no_dotenv, **env)
    p = AzureOpenAIProvider(s, token_provider=lambda: "entra-token-123")
    p.generate(req(), timeout=10)
    assert app.requests[-1].headers["authorization"] == "Bearer entra-token-123"
    assert "api-key" not in app.requests[-1].headers
    v1 = AzureOpenAIProvider(v1_settings_for(url, no_dotenv, **env), token_provider=lambda: "entra-token-456")
    v1.generate(req(), timeout=10)
    assert app.requests[-1].headers["authorization"] == "Bearer entra-token-456"


def test_static_ad_token(sim_http, no_dotenv):
    app, url = sim_http
    s = settings_for(url, no_dotenv, AZURE_OPENAI_API_IMAGE_KEY=None, AZURE_OPENAI_AD_TOKEN="ad-token-789")
    make_provider(s).generate(req(), timeout=10)
    assert app.requests[-1].headers["authorization"] == "Bearer ad-token-789"


@pytest.mark.skipif(importlib.util.find_spec("azure") is not None, reason="azure-identity is installed")
def test_entra_id_without_azure_identity_names_the_fix(no_dotenv):
    s = settings_for("https://r.openai.azure.com/", no_dotenv, AZURE_OPENAI_API_IMAGE_KEY=None,
                     AZURE_OPENAI_USE_ENTRA_ID="1")
    with pytest.raises(ConfigError, match="azure-identity") as info:
        make_provider(s)
    assert "AZURE_OPENAI_API_IMAGE_KEY" in str(info.value)


def test_azure_provider_refuses_non_azure_settings(no_dotenv):
    with pytest.raises(ConfigError, match="IMAGEGEN_PROVIDER"):
        AzureOpenAIProvider(load_settings(env={}, dotenv_path=no_dotenv))
