"""The project's own error types, in one hierarchy.

Every error a user can cause or meet carries a message that names the value, what is allowed
and the fix. Callers catch :class:`ImagegenError` (or one branch of it) and show ``str(err)``::

    ImagegenError                  everything below; catch this to show any project error
    ├── CatalogError               a catalog data file is missing or invalid (file, key, fix)
    │   ├── OverrideError          a local price override is invalid (file, key, fix)
    │   └── TokenOverrideError     a local token override or calibration file is invalid or refused
    ├── ConfigError                a setting is missing or wrong (names the variable to set)
    ├── SpecError                  a grid spec file cannot be read or has an unknown key
    ├── InvalidRequest             a request the model/provider refuses; before anything is sent
    │                              (``problems``: one :class:`Problem` per reason)
    ├── BudgetExceeded             an estimate or reservation would pass the budget cap
    ├── StoreError                 the SQLite history, a migration or an image file failed
    │   └── RunBusy                another runner holds the run's lease (one runner per run)
    ├── RecordingError             a recording file is malformed, or a request is not in it
    ├── PlanError                  a budget plan, plan link or plan CSV cannot be used
    ├── QualityError               runs that cannot be compared for quality (none, simulated with real)
    ├── RankingError               votes that cannot be ranked (unknown outcome, a setting against itself)
    ├── LayoutError (ValueError)   a grid layout or grid image asked for an axis or size it lacks
    └── ProviderError              a request reached a provider and failed; ``kind`` is an
                                   :class:`ErrorKind` (``retryable`` says whether to retry)

Plain ``ValueError`` / ``TypeError`` inside ``imagegen`` mean a programming mistake or a parse
step whose caller turns it into one of the errors above; they never reach a user as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from imagegen.redaction import redact


class ErrorKind(StrEnum):
    """The small set of kinds every provider failure is sorted into.

    A ``str`` enum (``StrEnum`` is ``str, Enum`` whose ``str()`` and format are the value): the
    values are what the history stores in ``error_kind``, the CLI prints and the UI shows, so
    ``ErrorKind.RATE_LIMITED == "rate_limited"``. The providers, the simulator's fault rules,
    the runner and the pages all use these names.
    """

    RATE_LIMITED = "rate_limited"
    MODERATION = "moderation"
    AUTH = "auth"
    NOT_FOUND = "not_found"
    BAD_REQUEST = "bad_request"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    SERVER_ERROR = "server_error"
    BAD_RESPONSE = "bad_response"
    INTERNAL = "internal"      # an unexpected exception inside one cell (a bug); the grid goes on
    INTERRUPTED = "interrupted"  # sent, never answered before the run's process died; counted as spent


#: The kinds a failed attempt is retried for (plus HTTP 408/409, see ``ProviderError.retryable``).
RETRYABLE_KINDS = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.TIMEOUT, ErrorKind.CONNECTION, ErrorKind.SERVER_ERROR})

#: Every kind's value, in declaration order (kept for callers that want plain strings).
ERROR_KINDS = tuple(k.value for k in ErrorKind)


class ImagegenError(Exception):
    """Base class of every error raised by ``imagegen``.

    Its message is redacted on construction (configured keys and anything shaped like a key or a
    Bearer token), so no error can carry a secret to a message, a row, an export or a page.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))


class CatalogError(ImagegenError):
    """A catalog data file is missing or invalid (names the file, the key and the fix)."""


class OverrideError(CatalogError):
    """A local price override is invalid (names the file, the key and the fix)."""


class TokenOverrideError(CatalogError):
    """A local token override or a calibration file is invalid, or from another catalog version."""


class RecordingError(ImagegenError):
    """A recording file is malformed, or a request is not in it (the message names the fix)."""


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


class RunBusy(StoreError):
    """Another runner holds the run's lease (a second resume of the same run is refused)."""


class PlanError(ImagegenError):
    """A plan, plan link or plan CSV that cannot be used (names the value and the fix)."""


class QualityError(ImagegenError):
    """Runs that cannot be compared (nothing to compare, simulated mixed with real, …)."""


class RankingError(ImagegenError):
    """Votes that cannot be ranked (unknown outcome, a setting compared with itself, …)."""


class LayoutError(ImagegenError, ValueError):
    """A grid layout or grid image names an axis the run lacks, or a size out of range.

    Also a ``ValueError``, which is what these functions raised before the hierarchy existed.
    """


class ProviderError(ImagegenError):
    """A request reached a provider and failed; ``kind`` (an :class:`ErrorKind`) sorts it."""

    def __init__(
        self,
        kind: ErrorKind | str,
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
        message = redact(message)
        super().__init__(message)
        self.kind = ErrorKind(kind)  # a plain string must be one of the values; anything else is a bug
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.request_id = request_id
        self.stage = stage
        self.categories = categories
        self.code = code
        self.simulated = simulated  # answered by the built-in simulator (even as a "compatible" endpoint)
        self.request_id = redact(request_id)[:200] if request_id else request_id
        #: HTTP 200 came back (the request was billed) but the response failed the boundary checks.
        self.answered = False
        #: The validated ``pricing.Usage`` of an answered bad response (None when usage itself was bad).
        self.usage: object | None = None

    @property
    def retryable(self) -> bool:
        """Only rate limits, timeouts, connection errors, 408/409 and 5xx are retried."""
        if self.kind in RETRYABLE_KINDS:
            return True
        return self.status in (408, 409)
