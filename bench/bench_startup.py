"""Startup: how long the CLI takes before its first request leaves, and before `models` / `runs` answer.

    python bench/bench_startup.py              # 5 repeats each, medians; exit 1 when a target is missed
    python bench/bench_startup.py --repeats 9

(a) time to first request: ``python -m imagegen run SPEC`` against the Images API simulator served over
    loopback HTTP (``OPENAI_BASE_URL``, a fake key, the real openai SDK in the child). Measured from just
    before the child process is spawned until the simulator records the request. Target: <= 0.5 s.
(b) ``python -m imagegen models`` and ``runs`` (a history of 200 runs): process start to exit. Target: < 0.3 s.

All figures are measured wall times on this machine (the answers themselves come from the simulator).
Each command runs once, unmeasured, before its repeats, with Python's bytecode cache allowed
(``PYTHONDONTWRITEBYTECODE`` is dropped from the children's environment): a user's every run after
the first one finds the modules compiled, and the first one after an install or upgrade is slower.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imagegen.execution.simulator import SimulatorApp, SimulatorConfig  # noqa: E402
from imagegen.execution.simulator.server import SimulatorServer  # noqa: E402

FIRST_REQUEST_TARGET_S = 0.5
ANSWER_TARGET_S = 0.3
SPEC = """name = "startup bench"
provider = "openai"
model = "gpt-image-2"
prompts = ["a red fox in the snow"]
[params]
size = "1024x1024"
quality = "low"
[limits]
budget_usd = 1.0
[simulator]
fixed_latency_s = 0.0
"""


def _env(home: Path, base_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "AZURE_", "IMAGEGEN_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(IMAGEGEN_HOME=str(home), IMAGEGEN_DOTENV=str(home / "none.env"), PYTHONPATH=str(ROOT))
    if base_url:
        env.update(OPENAI_API_KEY="test-key-not-real", OPENAI_BASE_URL=base_url + "/v1")
    return env


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a running process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_to_first_request(repeats: int) -> tuple[list[float], list[float]]:
    """Wall seconds from spawning ``run`` to the simulator seeing its first request, and the child's CPU
    seconds at that moment (CPU time hardly changes with the machine's load; wall time does)."""
    app = SimulatorApp(SimulatorConfig(fixed_latency_s=0.0))
    server = SimulatorServer(("127.0.0.1", 0), app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    walls, cpus = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            spec = home / "spec.toml"
            spec.write_text(SPEC, encoding="utf-8")
            env = _env(home, server.base_url)
            for i in range(repeats + 1):  # the first one warms the bytecode cache, unmeasured
                app.reset()
                start = time.time()  # the simulator stamps requests with time.time()
                child = subprocess.Popen([sys.executable, "-m", "imagegen", "run", str(spec)], env=env, cwd=ROOT,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                cpu = None
                while child.poll() is None and not app.requests:
                    time.sleep(0.001)
                if app.requests:
                    cpu = _cpu_s(child.pid)
                _, err = child.communicate(timeout=60)
                if child.returncode != 0 or not app.requests:
                    raise SystemExit(f"run failed ({child.returncode}): {err[-2000:]}")
                if i == 0:
                    continue
                walls.append(app.requests[0].at - start)
                if cpu is not None:
                    cpus.append(cpu)
    finally:
        server.shutdown()
    return walls, cpus


def _seed_history(home: Path, runs: int) -> None:
    """``runs`` small simulated runs in ``home`` (fast: 1 cell each, no latency)."""
    from imagegen.cli import today
    from imagegen.core.grid import loads_spec
    from imagegen.execution.providers import make_simulator_provider
    from imagegen.execution.runner import GridRun
    from imagegen.storage.store import Store

    store = Store(home)
    provider = make_simulator_provider(SimulatorConfig(fixed_latency_s=0.0))
    spec = loads_spec(SPEC.replace('provider = "openai"', 'provider = "simulator"'))
    for _ in range(runs):
        run = GridRun(spec, store=store, provider=provider, today=today())
        run.start()
        run.wait()
    store.close()


def answer_times(command: str, home: Path, repeats: int) -> tuple[list[float], list[float]]:
    """Wall seconds from spawning ``python -m imagegen COMMAND`` to its exit, and its CPU seconds.

    CPU time (user + system of the child) hardly changes with the machine's load; wall time does.
    """
    env = _env(home)
    walls, cpus = [], []
    subprocess.run([sys.executable, "-m", "imagegen", command], env=env, cwd=ROOT, capture_output=True, timeout=60)
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "imagegen", command], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        walls.append(time.monotonic() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        if done.returncode != 0:
            raise SystemExit(f"{command} failed: {done.stderr[-2000:]}")
    return walls, cpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    ok = True
    first, cpus = time_to_first_request(args.repeats)
    med = statistics.median(first)
    ok &= med <= FIRST_REQUEST_TARGET_S
    cpu = f", {statistics.median(cpus):.3f} s CPU" if cpus else ""
    print(f"(a) run: first request after {med:.3f} s wall{cpu} (medians of {len(first)}; wall min {min(first):.3f}, "
          f"max {max(first):.3f}; target <= {FIRST_REQUEST_TARGET_S} s) {'ok' if med <= FIRST_REQUEST_TARGET_S else 'MISSED'}")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        _seed_history(home, 200)
        for command in ("models", "runs"):
            times, cpus = answer_times(command, home, args.repeats)
            med = statistics.median(times)
            ok &= med < ANSWER_TARGET_S
            print(f"(b) {command}: answered in {med:.3f} s wall, {statistics.median(cpus):.3f} s CPU (medians of "
                  f"{len(times)}; target < {ANSWER_TARGET_S} s) {'ok' if med < ANSWER_TARGET_S else 'MISSED'}")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(the targets assume a quiet machine)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
