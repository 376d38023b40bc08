"""OpenAI, or any OpenAI-compatible endpoint (``OPENAI_BASE_URL``): the plain ``openai.OpenAI`` client."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx2
import openai

from imagegen.execution.providers.deadline import deadline_http_client
from imagegen.execution.providers.sdk import SDKProvider, client_timeout
from imagegen.execution.settings import OPENAI_DEFAULT_BASE_URL, Settings
from imagegen.redaction import redact_url, register_secret

DEFAULT_CLIENT_TIMEOUT_S = 600.0


class OpenAIProvider(SDKProvider):
    """``POST {base_url}/images/generations|edits`` with ``Authorization: Bearer``.

    ``name`` is ``openai`` for api.openai.com and ``compatible`` for any other base URL.
    """

    def __init__(self, api_key: str, *, base_url: str | None = None, organization: str | None = None,
                 project: str | None = None, http_client: httpx2.Client | None = None,
                 extra_headers: Mapping[str, str] | None = None) -> None:
        base_url = (base_url or OPENAI_DEFAULT_BASE_URL).rstrip("/")
        is_openai = urlsplit(base_url).netloc.lower() == "api.openai.com"
        register_secret(api_key)
        client = openai.OpenAI(api_key=api_key, base_url=base_url, organization=organization, project=project,
                               max_retries=0, timeout=client_timeout(DEFAULT_CLIENT_TIMEOUT_S),
                               http_client=http_client if http_client is not None else deadline_http_client())
        name = "openai" if is_openai else "compatible"
        super().__init__(client, name=name, where=f"{'OpenAI' if is_openai else 'endpoint ' + redact_url(base_url)}",
                         extra_headers=extra_headers, key_hint="OPENAI_API_KEY")
        self.base_url = base_url

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs) -> OpenAIProvider:
        return cls(settings.api_key or "", base_url=settings.base_url, organization=settings.organization,
                   project=settings.project, **kwargs)
