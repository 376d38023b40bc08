"""When and how long to wait before retrying a failed attempt.

Only errors whose ``ProviderError.retryable`` is true are retried (rate limits, timeouts, connection
errors, 408/409, 5xx); moderation blocks and other 4xx never are. A server's ``Retry-After`` is
honoured as given; otherwise the wait is capped exponential backoff with "equal jitter" (half fixed,
half random) so that parallel workers do not retry in lock-step. The random source is injectable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from imagegen.errors import ProviderError


def is_retryable(exc: BaseException) -> bool:
    """True only for a ``ProviderError`` the provider marks retryable."""
    return isinstance(exc, ProviderError) and exc.retryable


@dataclass(frozen=True)
class Backoff:
    """Backoff policy: ``base_s * 2**(n-1)`` capped at ``cap_s``; Retry-After up to ``max_retry_after_s``."""

    base_s: float = 1.0
    cap_s: float = 30.0
    max_retry_after_s: float = 300.0

    def delay(self, failed_attempt: int, error: ProviderError | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after attempt number ``failed_attempt`` (1-based) failed with ``error``."""
        if error is not None and error.retry_after is not None and error.retry_after >= 0:
            # The server knows its quota window; waiting less only earns another 429.
            return min(float(error.retry_after), self.max_retry_after_s)
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, failed_attempt - 1))
        r = (rng or random).random()
        return ceiling / 2 + r * ceiling / 2


DEFAULT_BACKOFF = Backoff()
