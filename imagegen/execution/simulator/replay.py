"""Serve a recording (:mod:`imagegen.core.recording`) from the simulator: recorded images, usage, latency.

``Replay.lookup(request)`` finds the recorded answers of an identical request (same parameters; the
provider, deployment and alias do not matter) and hands them out in recorded order, starting over
when they run out, so a 3-repeat cell replays its three answers. A request with no recorded twin
gets ``None``; the simulator then answers HTTP 400 ``not_in_recording`` (``fallback = "error"``) or
models the answer from its profile (``fallback = "profile"``, labelled simulated as usual).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from imagegen.core.recording import Recording, RecordingEntry, RecordingError, match_key, parse_recording
from imagegen.core.request import ImageRequest

FALLBACKS = ("error", "profile")


class Replay:
    """A recording indexed by request (thread-safe)."""

    def __init__(self, recording: Recording, fallback: str = "error", source: str = "recording") -> None:
        if fallback not in FALLBACKS:
            raise RecordingError(f"replay fallback {fallback!r} is not allowed: {' or '.join(FALLBACKS)}. "
                                 "Fix: error (refuse requests not in the recording) or profile (simulate them).")
        self.recording = recording
        self.fallback = fallback
        self.source = source
        self._by_key: dict[str, list[RecordingEntry]] = {}
        for entry in recording.entries:
            self._by_key.setdefault(entry.key, []).append(entry)
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | Path, fallback: str = "error") -> Replay:
        """Load (and validate) a recording file; RecordingError naming the fix when it is refused."""
        return cls(_load(str(Path(path).expanduser().resolve()), _mtime(path)), fallback, source=str(path))

    def lookup(self, request: ImageRequest) -> RecordingEntry | None:
        """The next recorded answer of an identical request, or None."""
        key = match_key(request)  # type: ignore[arg-type]
        with self._lock:
            found = self._by_key.get(key)
            if not found:
                return None
            i = self._next.get(key, 0)
            self._next[key] = i + 1
            return found[i % len(found)]

    def label(self, entry: RecordingEntry) -> str:
        return self.recording.label(entry)

    def describe(self) -> str:
        """What the recording holds, for error messages: runs and a few of their settings."""
        runs = ", ".join(r.run_id for r in self.recording.runs)
        settings = sorted({f"{e.params.get('model')} {e.params.get('quality')} {e.params.get('size')}"
                           for e in self.recording.entries})
        more = f" (+{len(settings) - 6} more)" if len(settings) > 6 else ""
        return f"{len(self.recording.entries)} answers from run(s) {runs}: {'; '.join(settings[:6])}{more}"

    def missing_message(self, request: ImageRequest) -> str:
        return (f"not in the recording: no recorded answer for {request.model} quality={request.quality} "
                f"size={request.size} format={request.output_format} n={request.n} with this prompt "
                f"({self.source} holds {self.describe()}). Fix: send a request from the recorded runs, or start the "
                "simulator with fallback = \"profile\" to simulate anything else.")


def _mtime(path: str | Path) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        raise RecordingError(f"recording {path} does not exist. Fix: check the path (or export one with "
                             "`python -m imagegen recording export RUN_ID --output FILE`).") from None


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Recording:
    # Cached per path and modification time: a dashboard rerun does not re-read a multi-MB file.
    with open(path, "rb") as fh:
        return parse_recording(fh.read(), where=path)


def entries_for(recording: Recording, run_ids: Sequence[str]) -> list[RecordingEntry]:
    """The recorded answers of some runs, in order (for tests and demos)."""
    return [e for e in recording.entries if e.run_id in run_ids]
