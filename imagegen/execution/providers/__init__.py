"""Providers: one attempt of one request to OpenAI, Azure OpenAI or the built-in simulator.

All of them go through the official openai SDK (3.x, httpx2) with the SDK's retries off; the
runner owns retrying. ``make_provider(settings)`` picks the configured one; with no key anywhere
that is the in-process simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from imagegen.execution.providers import lazy_sdk
from imagegen.execution.providers.base import Provider
from imagegen.execution.settings import Settings
from imagegen.execution.simulator.config import SimulatorConfig

lazy_sdk.install()  # before any provider imports the SDK: its type namespaces load on use (~0.2 s sooner)

if TYPE_CHECKING:  # the SDK (~0.5 s) and the simulator's app (numpy, Pillow) load when a provider is built
    from imagegen.execution.providers.sdk import SDKProvider, translate_error
    from imagegen.execution.providers.simulator import SimulatorProvider


def make_simulator_provider(config: SimulatorConfig | Mapping | None = None, flavour: str = "openai", *,
                            base_url: str | None = None, **kwargs) -> SimulatorProvider:
    """The simulator through the real SDK: in-process (default) or at ``base_url`` over HTTP.

    ``flavour`` is ``openai``, ``azure`` (classic) or ``azure_v1``. ``.app`` holds the request log.
    """
    from imagegen.execution.providers.simulator import SimulatorProvider

    return SimulatorProvider(config, flavour, base_url=base_url, **kwargs)


def make_provider(settings: Settings, *, simulator: SimulatorConfig | Mapping | None = None, **kwargs) -> Provider:
    """The provider ``settings`` configure. ``simulator`` configures the simulator when it is the one.

    Raises ConfigError naming the variable to set when the settings are incomplete.
    """
    if settings.provider == "simulator":
        return make_simulator_provider(simulator, "openai", **kwargs)
    if settings.provider in ("openai", "compatible"):
        from imagegen.execution.providers.openai_api import OpenAIProvider

        return OpenAIProvider.from_settings(settings, **kwargs)
    if settings.provider == "azure":
        from imagegen.execution.providers.azure_openai import AzureOpenAIProvider

        return AzureOpenAIProvider(settings, **kwargs)
    from imagegen.errors import ConfigError

    raise ConfigError(f"provider {settings.provider!r} is unknown. Fix: set IMAGEGEN_PROVIDER to simulator, openai "
                      "or azure.")


def __getattr__(name: str):
    if name == "SimulatorProvider":
        from imagegen.execution.providers.simulator import SimulatorProvider

        return SimulatorProvider
    if name in ("SDKProvider", "translate_error"):
        from imagegen.execution.providers import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Provider", "SDKProvider", "SimulatorProvider", "make_provider", "make_simulator_provider",
           "translate_error"]
