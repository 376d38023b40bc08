"""The project's own error types.

Every error a user can cause or meet carries a message that names the value, what is
allowed and the fix. Callers catch :class:`ImagegenError` and show ``str(err)``.
"""

from __future__ import annotations

from dataclasses import dataclass


class ImagegenError(Exception):
    """Base class of every error raised by ``imagegen``."""


class CatalogError(ImagegenError):
    """A catalog data file is missing or invalid (names the file, the key and the fix)."""


class ConfigError(ImagegenError):
    """A setting is missing or wrong (names the variable to set)."""


class SpecError(ImagegenError):
    """A grid spec file cannot be read or has an unknown key."""


@dataclass(frozen=True)
class Problem:
    """One reason a request is refused."""

    field: str
    value: object
    allowed: str
    fix: str

    def __str__(self) -> str:
        return f"{self.field}={self.value!r} is not allowed: {self.allowed}. Fix: {self.fix}"


class InvalidRequest(ImagegenError):
    """A request the model/provider does not accept; refused before anything is sent."""

    def __init__(self, problems: list[Problem], context: str = "") -> None:
        self.problems = list(problems)
        self.context = context
        head = f"{context}: " if context else ""
        super().__init__(head + "; ".join(str(p) for p in self.problems))


class BudgetExceeded(ImagegenError):
    """The estimate (or a reservation) would pass the budget cap."""


class StoreError(ImagegenError):
    """Database, migration or image-file problem."""


class ProviderError(ImagegenError):
    """A request reached a provider and failed; ``kind`` sorts it (see ``ERROR_KINDS``)."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
        stage: str | None = None,
        categories: tuple[str, ...] = (),
        code: str | None = None,
        simulated: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.request_id = request_id
        self.stage = stage
        self.categories = categories
        self.code = code
        self.simulated = simulated  # answered by the built-in simulator (even as a "compatible" endpoint)

    @property
    def retryable(self) -> bool:
        """Only rate limits, timeouts, connection errors, 408/409 and 5xx are retried."""
        if self.kind in ("rate_limited", "timeout", "connection", "server_error"):
            return True
        return self.status in (408, 409)


#: The small set of kinds every provider failure is sorted into.
ERROR_KINDS = (
    "rate_limited",
    "moderation",
    "auth",
    "not_found",
    "bad_request",
    "timeout",
    "connection",
    "server_error",
    "bad_response",
)
