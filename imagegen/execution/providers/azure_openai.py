"""Azure OpenAI: the classic deployments API and the v1 API.

* classic: ``openai.AzureOpenAI(azure_endpoint, api_version)``; the SDK puts the *deployment*
  (sent as ``model``) into ``/openai/deployments/{deployment}/images/...?api-version=...``.
* v1: the plain ``openai.OpenAI(base_url=".../openai/v1/")`` (``AzureOpenAI`` builds a wrong
  path there); the deployment name goes in the body's ``model``.

The catalog id is never sent where the deployment is expected: the deployment comes from the
request (``ImageRequest.deployment``) or from the settings' deployment -> model mapping.
Auth: an API key (``api-key`` header on classic, Bearer on v1), a static AD token, or a
Microsoft Entra ID token provider when ``azure-identity`` is installed and requested.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx2
import openai

from imagegen.core.request import ImageRequest
from imagegen.errors import ConfigError
from imagegen.execution.providers.deadline import deadline_http_client
from imagegen.execution.providers.sdk import SDKProvider, client_timeout
from imagegen.execution.settings import Settings
from imagegen.redaction import redact_url, register_secret

ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"
DEFAULT_CLIENT_TIMEOUT_S = 600.0


def entra_token_provider() -> Callable[[], str]:
    """A bearer-token callable from azure-identity's DefaultAzureCredential; ConfigError if not installed."""
    try:
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider  # type: ignore[import-not-found]
    except ImportError:
        raise ConfigError("AZURE_OPENAI_USE_ENTRA_ID is set but azure-identity is not installed. Fix: "
                          "`pip install azure-identity`, or unset AZURE_OPENAI_USE_ENTRA_ID and set "
                          "AZURE_OPENAI_API_IMAGE_KEY.") from None
    return get_bearer_token_provider(DefaultAzureCredential(), ENTRA_SCOPE)


class AzureOpenAIProvider(SDKProvider):
    """Azure OpenAI, classic (``flavour="classic"``) or v1 (``flavour="v1"``)."""

    def __init__(self, settings: Settings, *, http_client: httpx2.Client | None = None,
                 token_provider: Callable[[], str] | None = None,
                 extra_headers: Mapping[str, str] | None = None) -> None:
        if settings.provider != "azure":
            raise ConfigError(f"AzureOpenAIProvider needs Azure settings, got provider {settings.provider!r}. "
                              "Fix: set IMAGEGEN_PROVIDER=azure and the AZURE_OPENAI_* variables.")
        self.settings = settings
        self.flavour = settings.flavour
        if settings.use_entra_id and token_provider is None:
            token_provider = entra_token_provider()
        timeout = client_timeout(DEFAULT_CLIENT_TIMEOUT_S)
        register_secret(settings.api_key)
        register_secret(settings.azure_ad_token)
        if http_client is None:
            http_client = deadline_http_client()
        if self.flavour == "v1":
            api_key: str | Callable[[], str] = token_provider or settings.api_key or settings.azure_ad_token or ""
            client: openai.OpenAI = openai.OpenAI(
                api_key=api_key, base_url=settings.base_url, max_retries=0, timeout=timeout, http_client=http_client,
                default_query={"api-version": settings.api_version} if settings.api_version else None)
            where = f"Azure OpenAI v1 {redact_url(settings.base_url)}"
        else:
            auth: dict = {}
            if token_provider is not None:
                auth["azure_ad_token_provider"] = token_provider
            elif settings.api_key:
                auth["api_key"] = settings.api_key
            else:
                auth["azure_ad_token"] = settings.azure_ad_token
            client = openai.AzureOpenAI(azure_endpoint=settings.azure_endpoint, api_version=settings.api_version,
                                        max_retries=0, timeout=timeout, http_client=http_client, **auth)
            where = f"Azure OpenAI {redact_url(settings.azure_endpoint)}"
        super().__init__(client, name="azure", where=where, extra_headers=extra_headers,
                         key_hint="AZURE_OPENAI_API_IMAGE_KEY (or AZURE_OPENAI_API_KEY / your Entra ID role)")

    def wire_model(self, request: ImageRequest) -> str:
        """The deployment name: the request's, else the one the settings map to its catalog model."""
        if request.deployment:
            return request.deployment
        return self.settings.deployment_for(request.model)
