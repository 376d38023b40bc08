"""The built-in simulator, reached through the real openai SDK (in-process, or loopback HTTP).

Flavours: ``openai`` (``/v1/images/...``), ``azure`` (classic deployments route with
``api-version``) and ``azure_v1`` (``/openai/v1/images/...``). Every Generation it returns is
marked ``simulated=True``.
"""

from __future__ import annotations

from collections.abc import Mapping

import openai

from imagegen.core.request import ImageRequest
from imagegen.core.results import Generation
from imagegen.execution.providers.deadline import deadline_http_client
from imagegen.execution.providers.sdk import SDKProvider, client_timeout
from imagegen.execution.simulator.app import SimulatorApp
from imagegen.execution.simulator.config import SimulatorConfig
from imagegen.execution.simulator.transport import http_client

FLAVOURS = ("openai", "azure", "azure_v1")
IN_PROCESS_URL = "http://simulator.invalid"
SIMULATOR_KEY = "sk-simulator-0000"
SIMULATOR_API_VERSION = "2025-04-01-preview"


class SimulatorProvider(SDKProvider):
    """The simulator as a provider. ``.app`` is the SimulatorApp (request log, counters) when in-process."""

    def __init__(self, config: SimulatorConfig | Mapping | None = None, flavour: str = "openai", *,
                 base_url: str | None = None, app: SimulatorApp | None = None, api_key: str = SIMULATOR_KEY,
                 extra_headers: Mapping[str, str] | None = None) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"simulator flavour {flavour!r} is not one of {FLAVOURS}")
        self.flavour = flavour
        self.config = config if isinstance(config, SimulatorConfig) else SimulatorConfig.from_dict(config)
        if base_url is None:
            self.app: SimulatorApp | None = app or SimulatorApp(self.config)
            root, http = IN_PROCESS_URL, http_client(self.app)
        else:
            self.app = app
            root, http = base_url.rstrip("/"), deadline_http_client()
        self.base_url = root
        timeout = client_timeout(600.0)
        if flavour == "openai":
            client: openai.OpenAI = openai.OpenAI(api_key=api_key, base_url=f"{root}/v1", max_retries=0,
                                                  timeout=timeout, http_client=http)
        elif flavour == "azure":
            client = openai.AzureOpenAI(api_key=api_key, azure_endpoint=root, api_version=SIMULATOR_API_VERSION,
                                        max_retries=0, timeout=timeout, http_client=http)
        else:
            client = openai.OpenAI(api_key=api_key, base_url=f"{root}/openai/v1/", max_retries=0, timeout=timeout,
                                   http_client=http)
        where = "simulator" + ("" if base_url is None else f" at {root}")
        super().__init__(client, name="simulator", simulated=True, where=where, extra_headers=extra_headers,
                         key_hint="the simulator's api_key setting")

    def wire_model(self, request: ImageRequest) -> str:
        # On the Azure routes the simulator accepts catalog ids as deployment names, and mapped deployments.
        if self.flavour != "openai" and request.deployment:
            return request.deployment
        return request.model

    def generate(self, request: ImageRequest, *, timeout: float, input_files: tuple[bytes, ...] = (),
                 extra_headers: Mapping[str, str] | None = None, mask: bytes | None = None,
                 markup: bytes | None = None) -> Generation:
        return super().generate(request, timeout=timeout, input_files=input_files, extra_headers=extra_headers,
                                mask=mask, markup=markup)

    @property
    def request_count(self) -> int:
        return self.app.request_count if self.app is not None else 0

    def describe(self) -> dict:
        return {"provider": "simulator", "simulated": True, "flavour": self.flavour,
                "endpoint": "in-process simulator" if self.base_url == IN_PROCESS_URL else self.base_url}
