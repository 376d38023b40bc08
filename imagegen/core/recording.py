"""Recordings: runs written down with everything needed to serve them again, offline.

``python -m imagegen recording export RUN_ID… --output FILE`` writes one JSON file holding, per
successful result: the request (every API parameter), the original image bytes (base64, checked
against their SHA-256), the ``usage``, the latencies and the response headers we keep (request id,
processing time, rate-limit headers; keys scrubbed). The simulator serves it back
(``simulator --replay FILE``): a request whose parameters match gets the recorded images, usage and
latency; results served this way are labelled :func:`replay_label` (``replayed from <run> (<date>,
<provider>)``), never measured. Format (validated on load, unknown keys refused)::

    {"format": "imagegen-recording", "format_version": 1, "created_at": "...", "catalog_version": "...",
     "runs": [{"run_id", "name", "provider", "model", "created_at", "simulated"}],
     "entries": [{"run_id", "cell_id", "repeat", "provider", "params": {...}, "key",
                  "response": {"resolved_quality", "resolved_size", "resolved_background", "output_format",
                               "usage", "latency_s", "first_partial_s", "processing_ms", "request_id",
                               "headers", "images": [{"sha256", "format", "bytes", "b64"}]}}]}

Matching ignores the provider, the Azure deployment and the catalog alias (a run recorded on Azure
replays through the simulator's OpenAI route); every other request parameter must be equal.
See docs/recordings.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import fields
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from imagegen.core.request import ImageRequest
from imagegen.errors import RecordingError

FORMAT = "imagegen-recording"
FORMAT_VERSION = 1
#: Request fields that do not take part in matching: where it went, not what was asked.
UNMATCHED = ("provider", "deployment", "input_images")
MATCH_FIELDS = tuple(f.name for f in fields(ImageRequest) if f.name not in UNMATCHED)
#: Response header a replaying simulator sets; providers copy it into ``Generation.replayed_from``.
REPLAY_HEADER = "x-imagegen-replayed"
# The store keeps 0/1 and the wire JSON true/false: both must give the same key.
_BOOL = {"stream"}
_INT = {"n", "partial_images", "output_compression"}



class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class RecordedImage(_Strict):
    """One image as received: original bytes (base64), their SHA-256, format and size."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    format: str
    bytes: int = Field(ge=1)
    b64: str

    @model_validator(mode="after")
    def _matches(self) -> RecordedImage:
        data = self.data()
        if len(data) != self.bytes or hashlib.sha256(data).hexdigest() != self.sha256:
            raise ValueError("the image bytes do not match their sha256/bytes (the file was altered)")
        return self

    def data(self) -> bytes:
        """The original bytes."""
        try:
            return base64.b64decode(self.b64, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("b64 is not base64") from None

    @classmethod
    def of(cls, data: bytes, fmt: str) -> RecordedImage:
        return cls(sha256=hashlib.sha256(data).hexdigest(), format=fmt, bytes=len(data),
                   b64=base64.b64encode(data).decode("ascii"))


class RecordedResponse(_Strict):
    """What came back for one request."""

    resolved_quality: str | None = None
    resolved_size: str | None = None
    resolved_background: str | None = None
    output_format: str | None = None
    usage: dict[str, Any] | None = None
    latency_s: float = Field(ge=0)
    first_partial_s: float | None = None
    processing_ms: int | None = None
    request_id: str | None = None
    headers: dict[str, str] = {}
    images: tuple[RecordedImage, ...] = Field(min_length=1)


class RecordedRun(_Strict):
    """A run the recording comes from."""

    run_id: str
    name: str = ""
    provider: str
    model: str
    created_at: str
    simulated: bool


class RecordingEntry(_Strict):
    """One successful result: its request and response."""

    run_id: str
    cell_id: int
    repeat: int
    provider: str
    params: dict[str, Any]
    key: str
    response: RecordedResponse

    @model_validator(mode="after")
    def _key(self) -> RecordingEntry:
        if match_key(self.params) != self.key:
            raise ValueError("key does not match params (the file was altered)")
        return self


class Recording(_Strict):
    """A validated recording (see the module docstring)."""

    format: Literal["imagegen-recording"]
    format_version: Literal[1]
    created_at: str
    catalog_version: str
    runs: tuple[RecordedRun, ...] = Field(min_length=1)
    entries: tuple[RecordingEntry, ...]

    @model_validator(mode="after")
    def _runs_known(self) -> Recording:
        known = {r.run_id for r in self.runs}
        for i, e in enumerate(self.entries):
            if e.run_id not in known:
                raise ValueError(f"entries[{i}] names run {e.run_id!r}, which is not in runs")
        return self

    @property
    def simulated(self) -> bool:
        """True when any recorded run was made on the simulator (nothing real is claimed then)."""
        return any(r.simulated for r in self.runs)

    def run(self, run_id: str) -> RecordedRun:
        return next(r for r in self.runs if r.run_id == run_id)

    def label(self, entry: RecordingEntry) -> str:
        return replay_label(self.run(entry.run_id))

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")) + "\n"


def replay_label(run: RecordedRun) -> str:
    """``replayed from <run> (<date>, <provider>)``: how every replayed figure is labelled."""
    return f"replayed from {run.run_id} ({run.created_at[:10]}, {run.provider})"


def match_params(req: ImageRequest | dict) -> dict[str, Any]:
    """The parameters that identify a request for replay (provider, deployment and input images left out)."""
    body = req if isinstance(req, dict) else {f: getattr(req, f) for f in MATCH_FIELDS}
    defaults = ImageRequest(model="", prompt="")
    out = {}
    for name in MATCH_FIELDS:
        value = body.get(name, getattr(defaults, name))
        if isinstance(value, float) and value != value:  # NULL read through pandas
            value = None
        if name in _BOOL and value is not None:
            value = bool(value)
        elif name in _INT and value is not None:
            value = int(value)
        out[name] = value
    return out


def match_key(params: dict[str, Any]) -> str:
    """SHA-256 of the matching parameters (a request and its recorded twin share it)."""
    return hashlib.sha256(json.dumps(match_params(params), sort_keys=True, default=str).encode()).hexdigest()


def parse_recording(text: str | bytes, where: str = "recording") -> Recording:
    """Validate a recording; RecordingError naming the problem and the fix when it is refused."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise RecordingError(f"{where}: not valid JSON ({exc}). Fix: export it again with "
                             "`python -m imagegen recording export RUN_ID --output FILE`.") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise RecordingError(f"{where}: not an imagegen recording (\"format\" must be {FORMAT!r}). "
                             "Fix: pass a file written by `recording export`.")
    try:
        return Recording.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise RecordingError(f"{where}: {loc}: {err['msg']}. Fix: export the recording again "
                             f"(format_version {FORMAT_VERSION}).") from None
