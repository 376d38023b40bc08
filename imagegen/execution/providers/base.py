"""The provider protocol: one attempt of one request, no retries (the runner owns retrying)."""

from __future__ import annotations

from typing import Protocol

from imagegen.core.request import ImageRequest
from imagegen.core.results import Generation


class Provider(Protocol):
    """Sends one request once. Raises ``ProviderError`` (with ``kind``) on any failure."""

    name: str          # simulator | openai | azure | compatible
    simulated: bool    # True when answers come from the built-in simulator

    def generate(self, request: ImageRequest, *, timeout: float, input_files: tuple[bytes, ...] = ()) -> Generation:
        """One attempt. ``input_files`` are the edit images (original bytes)."""
        ...
