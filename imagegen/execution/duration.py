"""How long a grid is expected to take: modelled latency per request under the run's limits. Pure, no Streamlit.

Moved out of the Generate form (:mod:`imagegen.core.gridform`) because it needs the simulator's latency
profile and the runner's ideal schedule, which live in this layer.
"""

from __future__ import annotations

from imagegen.core.grid import GridEstimate
from imagegen.execution.ratelimit import ideal_wall_s
from imagegen.execution.simulator import SimulatorConfig
from imagegen.execution.simulator.profile import default_profile, modelled_latency_s


def request_latency_s(output_tokens: float, simulator: dict | None, simulated: bool, model: str = "",
                      complexity: str | None = None) -> float:
    """Modelled latency of one request: the simulator's profile for ``model`` (and its config) or the
    same priors unscaled.

    Real services have no published latency model; the priors (per-model rates in the simulator
    profile, from public logs and third-party measurements) give an *estimate*, labelled as such.
    """
    cfg = SimulatorConfig.from_dict({k: v for k, v in (simulator or {}).items() if k != "faults"})
    if simulated and cfg.fixed_latency_s is not None:
        return cfg.fixed_latency_s
    base = modelled_latency_s(default_profile(), model, int(output_tokens), complexity, cfg.tokens_per_s,
                              cfg.overhead_s)
    return base * cfg.time_scale if simulated else base


def expected_duration_s(estimate: GridEstimate, simulator: dict | None = None) -> float:
    """Expected wall time of a grid: mean modelled latency under its concurrency and RPM limits.

    Uses the runner's ideal schedule (``imagegen.execution.ratelimit.ideal_wall_s``), so it is a lower
    bound on the same latencies; retries and queueing at the provider come on top.
    """
    spec = estimate.spec
    if not estimate.estimates:
        return 0.0
    latencies = [request_latency_s((e.output_tokens_min + e.output_tokens_max) / 2, simulator,
                                   e.request.provider == "simulator", e.request.model, e.request.complexity)
                 for e in estimate.estimates]
    mean = sum(latencies) / len(latencies)
    return ideal_wall_s(estimate.requests, mean, spec.limits.concurrency, spec.limits.rpm)
