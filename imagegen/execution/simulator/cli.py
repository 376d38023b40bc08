"""``python -m imagegen simulator --port N``: serve the Images API simulator over HTTP."""

from __future__ import annotations

import argparse
import os
import sys

from imagegen.execution.simulator.config import SimulatorConfig


def cmd_simulator(args: argparse.Namespace) -> int:
    from imagegen.execution.simulator.app import SimulatorApp
    from imagegen.execution.simulator.server import SimulatorServer

    data: dict = {"time_scale": args.time_scale}
    if args.latency is not None:
        data["fixed_latency_s"] = args.latency
    if args.api_key:
        data["api_key"] = args.api_key
    if args.rpm is not None:
        data["rpm_limit"] = args.rpm
    if args.fault:
        data["faults"] = list(args.fault)
    deployments = _deployments(args.deployment, os.environ.get("IMAGEGEN_AZURE_DEPLOYMENTS", ""))
    if deployments:
        data["deployments"] = deployments
    if args.replay:
        data["replay"] = args.replay
        data["replay_fallback"] = args.fallback
    config = SimulatorConfig.from_dict(data)
    app = SimulatorApp(config)  # a bad recording is refused here, before the port is opened
    server = SimulatorServer((args.host, args.port), app)
    base = server.base_url
    if app.replay is not None:
        print(f"replaying {args.replay}: {app.replay.describe()}; not in the recording -> "
              f"{'simulated from the profile' if args.fallback == 'profile' else 'HTTP 400 not_in_recording'}",
              file=sys.stderr, flush=True)
    print(f"imagegen simulator on {base} (simulated answers; time_scale={config.time_scale:g}"
          f"{f', latency={config.fixed_latency_s:g}s' if config.fixed_latency_s is not None else ''})\n"
          f"  OpenAI:         OPENAI_BASE_URL={base}/v1 OPENAI_API_KEY=anything\n"
          f"  Azure classic:  AZURE_OPENAI_ENDPOINT={base} AZURE_OPENAI_API_KEY=anything\n"
          f"  Azure v1:       AZURE_OPENAI_BASE_URL={base}/openai/v1/\n"
          f"  Azure deployments: {', '.join(f'{d}={m}' for d, m in deployments.items()) or '(named after catalog models)'}\n"
          "Ctrl+C to stop.", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.app.closing.set()
        server.server_close()
    return 0


def _deployments(flags: list[str], env_value: str) -> dict[str, str]:
    """Deployment -> model from IMAGEGEN_AZURE_DEPLOYMENTS, then --deployment flags (which win)."""
    out: dict[str, str] = {}
    for item in [*env_value.split(","), *flags]:
        name, sep, model = item.strip().partition("=")
        if not item.strip():
            continue
        if not sep or not name.strip() or not model.strip():
            raise SystemExit(f"error: deployment {item.strip()!r} is not NAME=MODEL. Fix: e.g. my-images=gpt-image-1.5")
        out[name.strip()] = model.strip()
    return out


def register(sub) -> None:
    p = sub.add_parser("simulator", help="serve the built-in Images API simulator over HTTP")
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0 = any free port)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--time-scale", type=float, default=1.0,
                   help="multiply the modelled latency (0.01 = a hundred times faster; default 1)")
    p.add_argument("--latency", type=float, default=None, help="answer every request after exactly S seconds")
    p.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty key)")
    p.add_argument("--rpm", type=int, default=None, help="answer 429 above this many requests per minute")
    p.add_argument("--fault", action="append", default=[],
                   help='a fault rule, header syntax: "rate_limited; match=fox; times=2; retry_after=1" (repeatable)')
    p.add_argument("--deployment", action="append", default=[], metavar="NAME=MODEL",
                   help="an Azure deployment the simulator serves, e.g. my-images=gpt-image-1.5 (repeatable; "
                        "IMAGEGEN_AZURE_DEPLOYMENTS is read too)")
    p.add_argument("--replay", default=None, metavar="FILE",
                   help="serve this recording (`recording export`): matching requests get the recorded answers")
    p.add_argument("--fallback", choices=("error", "profile"), default="error",
                   help="a request not in the recording: error (HTTP 400, default) or profile (simulate it)")
    p.set_defaults(func=cmd_simulator)
