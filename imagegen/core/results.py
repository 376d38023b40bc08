"""What one request records: shared by providers, the runner, the store and the UI."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Generation:
    """A successful response to one HTTP attempt, as received (image bytes never re-encoded).

    Times are client wall-clock seconds measured around this one attempt (the SDK's own retries
    are off, so they are honest). ``first_partial_s`` is set only when streaming produced a
    partial image. ``simulated`` is True for anything the built-in simulator answered.
    """

    images: tuple[bytes, ...]
    output_format: str | None
    resolved_quality: str | None
    resolved_size: str | None
    resolved_background: str | None
    usage: dict | None
    wall_s: float
    final_s: float
    first_partial_s: float | None = None
    partial_images_received: int = 0
    processing_ms: int | None = None
    request_id: str | None = None
    ratelimit: dict[str, str] = field(default_factory=dict)
    simulated: bool = False
    #: ``replayed from <run> (<date>, <provider>)`` when a simulator served it from a recording.
    replayed_from: str | None = None
    #: The simulator's time scale (and fixed latency, when set) this answer was produced at, so
    #: latency statistics never mix scales; None for real services.
    sim_time_scale: float | None = None
    sim_fixed_latency_s: float | None = None


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt of a cell request, successful or not (every attempt is recorded)."""

    number: int
    started_at: float
    wall_s: float
    ok: bool
    error_kind: str | None = None
    error_message: str | None = None
    http_status: int | None = None
    retry_after_s: float | None = None
    request_id: str | None = None
