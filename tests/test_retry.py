"""Which errors are retried, and how long the runner waits."""

import random

import pytest

from imagegen.errors import ProviderError
from imagegen.execution.retry import Backoff, is_retryable


@pytest.mark.parametrize("kind,status,expected", [
    ("rate_limited", 429, True),
    ("server_error", 500, True),
    ("server_error", 503, True),
    ("timeout", None, True),
    ("connection", None, True),
    ("bad_request", 409, True),      # conflicts are transient
    ("bad_request", 408, True),
    ("moderation", 400, False),
    ("bad_request", 400, False),
    ("auth", 401, False),
    ("auth", 403, False),
    ("not_found", 404, False),
    ("bad_response", 200, False),
])
def test_only_retryable_provider_errors_are_retried(kind, status, expected):
    assert is_retryable(ProviderError(kind, "x", status=status)) is expected


def test_other_exceptions_are_not_retried():
    assert is_retryable(ValueError("bug")) is False


def test_retry_after_is_honoured_exactly():
    err = ProviderError("rate_limited", "slow down", status=429, retry_after=7.5)
    assert Backoff().delay(1, err, random.Random(1)) == 7.5
    assert Backoff().delay(3, err, random.Random(2)) == 7.5


def test_retry_after_zero_means_now_and_huge_values_are_bounded():
    assert Backoff().delay(1, ProviderError("rate_limited", "x", retry_after=0.0)) == 0.0
    assert Backoff(max_retry_after_s=60).delay(1, ProviderError("rate_limited", "x", retry_after=3600)) == 60


def test_exponential_backoff_with_equal_jitter_and_a_cap():
    policy = Backoff(base_s=1.0, cap_s=8.0)
    err = ProviderError("server_error", "boom", status=500)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (10, 8.0)]:
        delays = [policy.delay(attempt, err, random.Random(seed)) for seed in range(200)]
        assert min(delays) >= ceiling / 2
        assert max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # jitter really spreads workers out


def test_injected_rng_makes_delays_reproducible():
    err = ProviderError("timeout", "slow")
    assert Backoff().delay(2, err, random.Random(42)) == Backoff().delay(2, err, random.Random(42))
