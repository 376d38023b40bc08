"""The working date of an entry point: ``IMAGEGEN_TODAY`` when set, else the UTC date it passes in.

Nothing in ``imagegen`` reads the clock for logic; the entry points (the CLI's main, the page
setup) read ``datetime.now(UTC)`` once and call :func:`working_date`, then pass the date down.
``IMAGEGEN_TODAY=YYYY-MM-DD`` pins it: for demos and "what will still run on 2027-05-01?".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from imagegen.errors import ConfigError

TODAY_ENV = "IMAGEGEN_TODAY"


def pinned_date(raw: str | None) -> date | None:
    """The date ``IMAGEGEN_TODAY`` pins (None when unset or empty); ConfigError naming the fix when malformed."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{TODAY_ENV}={raw!r} is not a date: it must be YYYY-MM-DD (e.g. 2027-05-01). "
                          f"Fix: correct it, or unset {TODAY_ENV} to use today's date (UTC).") from None


def working_date(env: Mapping[str, str], now_utc: datetime) -> date:
    """``IMAGEGEN_TODAY`` from ``env`` when set, else the date of ``now_utc`` (which must be in UTC)."""
    pinned = pinned_date(env.get(TODAY_ENV))
    if pinned is not None:
        return pinned
    offset = now_utc.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        raise ValueError("working_date needs an aware UTC datetime, e.g. datetime.now(UTC)")
    return now_utc.date()
