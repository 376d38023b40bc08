"""How the simulator behaves: latency model, fault rules, deployments.

Plain data, constructible from a grid spec's ``[simulator]`` table::

    [simulator]
    time_scale = 0.01          # 1.0 = latency as modelled; 0.01 = a hundred times faster
    fixed_latency_s = 0.05     # or: every answer takes exactly this long (benchmarks, tests)
    tokens_per_s = 133.0       # output tokens per second for EVERY model (default: per model, profile.toml)
    overhead_s = 2.0           # fixed time per request on top of the tokens (default: per model)
    access = ["gif"]           # access-gated features the simulated account has (gif, svg); default none
    faults = [{ kind = "rate_limited", match = "fox", times = 2, retry_after = 0.5 }]
    deployments = { my-images = "gpt-image-1.5" }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, field_validator

from imagegen.core.validation import Strict, check, integer, number, refuse, show, suggest, text
from imagegen.errors import ConfigError

#: Faults the simulator can inject (header ``x-simulator-fault: KIND[; key=value...]`` or config rules).
#: Where a fault answers with one of the providers' error kinds it has that kind's name
#: (:class:`imagegen.errors.ErrorKind`: rate_limited, server_error, moderation, auth, not_found,
#: bad_request); the others name how the answer goes wrong (hang, drop, malformed, ...).
FAULT_KINDS = {
    "rate_limited": "HTTP 429 with Retry-After / retry-after-ms",
    "server_error": "HTTP 500 (or `status`)",
    "unavailable": "HTTP 503",
    "hang": "no answer until past the client's read timeout",
    "drop": "the connection closes without a response",
    "stream_drop": "the connection closes in the middle of an event stream",
    "malformed": "HTTP 200 whose body is not valid JSON (or an undecodable SSE event)",
    "bad_image": "HTTP 200 whose b64_json is not base64",
    "moderation": "HTTP 400 moderation_blocked (stage input|output, categories)",
    "content_filter": "HTTP 400 Azure contentFilter (stage input|output)",
    "content_policy_violation": "HTTP 400 content_policy_violation (DALL-E / Azure shape)",
    "forbidden": "HTTP 403 Azure abuse block (code Forbidden)",
    "auth": "HTTP 401 invalid key",
    "not_found": "HTTP 404 model or deployment not found",
    "bad_request": "HTTP 400 invalid_request_error",
    "stream_error": "an error event inside an event stream (server_error)",
}
FAULT_ALIASES = {
    "429": "rate_limited", "rate_limit": "rate_limited", "500": "server_error", "503": "unavailable",
    "timeout": "hang", "connection": "drop", "moderation_blocked": "moderation", "contentFilter": "content_filter",
    "401": "auth", "404": "not_found", "403": "forbidden", "400": "bad_request",
    "moderation_input": "moderation", "moderation_output": "moderation",
    "content_filter_input": "content_filter", "content_filter_output": "content_filter",
}


def fault_kind(name: str) -> str:
    """The canonical fault kind for ``name``; ConfigError listing the kinds when unknown."""
    kind = FAULT_ALIASES.get(name, name)
    if kind not in FAULT_KINDS:
        raise ConfigError(
            f"simulator fault {name!r} is unknown. Allowed: {', '.join(FAULT_KINDS)}. "
            "Fix: use one of these in [simulator] faults or the x-simulator-fault header."
        )
    return kind


@dataclass(frozen=True)
class FaultRule:
    """Answer requests whose prompt contains ``match`` with a fault, ``times`` times (None = always)."""

    kind: str
    match: str | None = None
    times: int | None = None
    retry_after: float = 1.0
    stage: str = "input"
    categories: tuple[str, ...] = ()
    model: str | None = None
    status: int | None = None

    def __post_init__(self) -> None:
        if str(self.kind).endswith("_output") and self.stage == "input":
            object.__setattr__(self, "stage", "output")  # moderation_output / content_filter_output
        object.__setattr__(self, "kind", fault_kind(self.kind))
        if self.kind in ("moderation", "content_filter") and self.stage not in ("input", "output"):
            raise ConfigError(f"simulator fault stage {self.stage!r} is unknown. Fix: use stage = \"input\" or \"output\".")
        object.__setattr__(self, "categories", tuple(self.categories))
        if self.times is not None and (not isinstance(self.times, int) or self.times < 0):
            raise ConfigError(f"simulator fault times = {self.times!r} is not a count. Fix: use an integer >= 0.")

    @classmethod
    def from_value(cls, value: FaultRule | Mapping | str) -> FaultRule:
        """A rule from a TOML table, a header-style string (``"rate_limited; retry_after=2"``) or a rule."""
        if isinstance(value, FaultRule):
            return value
        if isinstance(value, str):
            return parse_fault(value)
        if not isinstance(value, Mapping):
            raise ConfigError(f"simulator fault {value!r} is not a table. Fix: write {{ kind = \"rate_limited\" }}.")
        table = check(FaultTable, dict(value), "", ConfigError, prefix=("simulator", "faults"))
        return cls(**table.model_dump(exclude_unset=True))


def fault_fields(text: str) -> dict:
    """``"moderation; stage=output; categories=violence,self-harm"`` -> the fields of a FaultRule (unchecked)."""
    head, *params = [p.strip() for p in text.split(";")]
    stage = "output" if head.endswith("_output") else "input"
    data: dict = {"kind": head, "stage": stage}
    for param in params:
        if not param:
            continue
        key, sep, val = param.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(f"x-simulator-fault parameter {param!r} has no value. Fix: write key=value.")
        if key == "retry_after":
            try:
                data[key] = float(val)
            except ValueError:
                raise ConfigError(f"x-simulator-fault retry_after={val.strip()!r} is not a number. "
                                  "Fix: write retry_after=0.5.") from None
        elif key in ("times", "status"):
            try:
                data[key] = int(val)
            except ValueError:
                raise ConfigError(f"x-simulator-fault {key}={val.strip()!r} is not a whole number. "
                                  f"Fix: write {key}=2.") from None
        elif key == "categories":
            data[key] = tuple(c.strip() for c in val.split(",") if c.strip())
        elif key in ("stage", "match", "model"):
            data[key] = val.strip()
        else:
            raise ConfigError(f"x-simulator-fault parameter {key!r} is unknown. "
                              "Fix: use retry_after, stage, categories, status, times, match or model.")
    return data


def parse_fault(text: str) -> FaultRule:
    """``"moderation; stage=output; categories=violence,self-harm"`` -> FaultRule."""
    return FaultRule(**fault_fields(text))


# -- the [simulator] table as written in a spec (one validation style: imagegen.core.validation) ---


def _fault_kind(value: object) -> str:
    if not isinstance(value, str):
        raise refuse(f"= {show(value)} is not a fault kind", f"use one of {', '.join(FAULT_KINDS)}")
    if FAULT_ALIASES.get(value, value) not in FAULT_KINDS:
        raise refuse(f"= {show(value)} is not a fault kind{suggest(value, [*FAULT_KINDS, *FAULT_ALIASES])}",
                     f"use one of {', '.join(FAULT_KINDS)}")
    return value


def _categories(value: object) -> object:
    if isinstance(value, str):
        return [c.strip() for c in value.split(",") if c.strip()]
    return value


def _fault_table(value: object) -> object:
    """A header-style string or a FaultRule becomes a table; a table is checked as it is."""
    if isinstance(value, FaultRule):
        return {k: v for k, v in asdict(value).items() if v is not None}
    if isinstance(value, str):
        try:
            return fault_fields(value)
        except ConfigError as exc:
            raise refuse(f"= {show(value)}: {exc}".rsplit(". Fix:", 1)[0], "write a fault such as "
                         '"rate_limited; retry_after=0.5" or { kind = "rate_limited", times = 2 }') from None
    if not isinstance(value, Mapping):
        raise refuse(f"= {show(value)} is not a fault", 'write { kind = "rate_limited" } or "rate_limited; times=2"')
    return value


def _fault_list(value: object) -> object:
    return [value] if isinstance(value, (str, Mapping, FaultRule)) else value


Short = text(max_len=500, example="fox", what="text")


class FaultTable(Strict):
    """One ``[simulator] faults`` entry."""

    kind: Annotated[str, BeforeValidator(_fault_kind)]
    match: Short | None = None
    times: integer(0, 1_000_000, example=2, what="a count") | None = None
    retry_after: number(-1e9, 1e9, lo_open=False, example="0.5", what="seconds") = 1.0
    stage: Literal["input", "output"] = "input"
    categories: Annotated[tuple[Short, ...], BeforeValidator(_categories)] = ()
    model: Short | None = None
    status: integer(100, 599, example=500, what="an HTTP status") | None = None


class SimulatorTable(Strict):
    """A spec's ``[simulator]`` table (see the module docstring)."""

    time_scale: number(0, 1000, lo_open=False, example="0.05", what="a time scale") = 1.0
    fixed_latency_s: number(0, 3600, lo_open=False, example="0.05", what="seconds") | None = None
    tokens_per_s: number(0, 1e6, example="133", what="output tokens per second") | None = None
    overhead_s: number(0, 3600, lo_open=False, example="2.0", what="seconds") | None = None
    access: tuple[Literal["gif", "svg"], ...] = ()
    jitter: number(0, 1, lo_open=False, example="0.1", what="a fraction") = 0.1
    seed: integer(None, None, example=0) = 0
    faults: Annotated[list[Annotated[FaultTable, BeforeValidator(_fault_table)]], BeforeValidator(_fault_list)] = []
    deployments: dict[Short, Short] = {}
    api_key: text(max_len=500, example="anything", what="text") | None = None
    rpm_limit: integer(1, 1_000_000, example=60, what="requests per minute") | None = None
    hang_s: number(0, 86400, lo_open=False, example="600", what="seconds") = 600.0
    #: Serve this recording (``recording export``): matching requests get the recorded answers.
    replay: text(max_len=4096, example="examples/recordings/demo-3-cells.json", what="a recording file") | None = None
    #: A request not in the recording: "error" (HTTP 400 not_in_recording) or "profile" (simulate it).
    replay_fallback: Literal["error", "profile"] = "error"

    @field_validator("deployments", mode="before")
    @classmethod
    def _table(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise refuse(f"= {show(value)} is not a table", 'write deployments = { my-images = "gpt-image-1.5" }')
        return value


def check_table(data: Mapping | None, where: str = "", error: type[Exception] = ConfigError) -> SimulatorTable:
    """Validate a ``[simulator]`` table; ``error`` (ConfigError, or SpecError for a spec) names key, value, fix."""
    if data is not None and not isinstance(data, Mapping):
        raise error(f"{where + ': ' if where else ''}simulator = {show(data)} is not a table. "
                    "Fix: write [simulator] followed by key = value lines.")
    return check(SimulatorTable, dict(data or {}), where, error, prefix=("simulator",))


@dataclass(frozen=True)
class SimulatorConfig:
    """The simulator's knobs. ``SimulatorConfig.from_dict(spec.simulator)`` reads a grid spec table.

    Latency of an answer = ``fixed_latency_s`` when set, else
    ``(overhead_s + output_tokens / tokens_per_s) * time_scale``, times a deterministic jitter of
    +-``jitter`` (a fraction). ``tokens_per_s``/``overhead_s`` default to None: each model's figures
    from the simulator profile (``profile.toml``); set them to force one rate for every model. The
    figures are priors and third-party measurements, not ours: the simulator's output is always
    labelled simulated. ``access`` lists the access-gated features (gif, svg) the simulated account
    has; without them such requests are refused like the real API.
    """

    time_scale: float = 1.0
    fixed_latency_s: float | None = None
    tokens_per_s: float | None = None
    overhead_s: float | None = None
    jitter: float = 0.1
    seed: int = 0
    faults: tuple[FaultRule, ...] = ()
    deployments: tuple[tuple[str, str], ...] = ()
    api_key: str | None = field(default=None, repr=False)
    rpm_limit: int | None = None
    hang_s: float = 600.0
    replay: str | None = None
    replay_fallback: str = "error"

    access: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "access", tuple(self.access))
        if self.replay_fallback not in ("error", "profile"):
            raise ConfigError(f"[simulator] replay_fallback = {self.replay_fallback!r} is not allowed: error or "
                              "profile. Fix: error (refuse requests not in the recording) or profile (simulate them).")
        object.__setattr__(self, "faults", tuple(FaultRule.from_value(f) for f in self.faults))
        deps = self.deployments
        if isinstance(deps, Mapping):
            deps = tuple(deps.items())
        object.__setattr__(self, "deployments", tuple((str(k), str(v)) for k, v in deps))
        for name in ("time_scale", "tokens_per_s", "overhead_s", "jitter", "hang_s"):
            value = getattr(self, name)
            if value is None and name in ("tokens_per_s", "overhead_s"):
                continue  # per model, from the profile
            if not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"[simulator] {name} = {value!r} must be a number >= 0. Fix: set a non-negative number.")
            object.__setattr__(self, name, float(value))
        if self.tokens_per_s == 0:
            raise ConfigError("[simulator] tokens_per_s = 0. Fix: set a positive number (e.g. 133).")
        if self.fixed_latency_s is not None:
            if not isinstance(self.fixed_latency_s, (int, float)) or self.fixed_latency_s < 0:
                raise ConfigError(f"[simulator] fixed_latency_s = {self.fixed_latency_s!r}. Fix: set a number >= 0.")
            object.__setattr__(self, "fixed_latency_s", float(self.fixed_latency_s))

    @property
    def deployment_map(self) -> dict[str, str]:
        return dict(self.deployments)

    @classmethod
    def from_dict(cls, data: Mapping | None, where: str = "", error: type[Exception] = ConfigError) -> SimulatorConfig:
        """Build from a plain mapping (a grid spec's ``[simulator]`` table); unknown keys and bad values are
        refused with ``error`` naming the key, the value and the fix."""
        if data is None:
            return cls()
        if isinstance(data, SimulatorConfig):
            return data
        table = check_table(data, where, error)
        values = {k: getattr(table, k) for k in table.model_fields_set}
        if "faults" in values:
            values["faults"] = tuple(FaultRule(**f.model_dump(exclude_unset=True)) for f in table.faults)
        return cls(**values)

    def with_(self, **changes) -> SimulatorConfig:
        return replace(self, **changes)
