"""``python -m imagegen``: the command-line interface.

Each command group lives next to the code it drives and exposes ``register(subparsers)``;
this module only assembles them. Exit codes: 0 ok, 1 some cells failed, 2 refused/invalid.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from imagegen.core.dates import TODAY_ENV, working_date
from imagegen.errors import ImagegenError

if TYPE_CHECKING:
    from imagegen.core.lifecycle import Lifecycle

# The catalog (pydantic) and everything heavier load inside the commands that use them, so that
# `--help`, `runs` and `export` answer at once (bench/bench_startup.py measures it).

#: Modules that add subcommands (each has ``register(subparsers)``).
COMMAND_MODULES = ("imagegen.cli", "imagegen.execution.simulator.cli", "imagegen.cli.runs", "imagegen.cli.quality",
                   "imagegen.cli.calibrate", "imagegen.cli.catalog_cmd", "imagegen.cli.recording")


def format_usd(value: Decimal | str | None, places: int = 4) -> str:
    """``$0.1234`` from a Decimal (or its string); ``-`` when unknown."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return f"${Decimal(str(value)):.{places}f}"


def today() -> date:
    """The CLI's working date, read once in :func:`main`: ``IMAGEGEN_TODAY`` or today's date in UTC."""
    return working_date(os.environ, datetime.now(UTC))


def _pinned_note(on: date) -> str:
    return f" (pinned by {TODAY_ENV})" if os.environ.get(TODAY_ENV, "").strip() else " (UTC)"


def lifecycle_cell(life: Lifecycle) -> str:
    """A model's status on one provider as the ``models`` table shows it."""
    if life.state in ("shut_down", "retiring"):
        return f"{life.label} {life.shutdown_date.isoformat() if life.shutdown_date else ''}".strip()
    if life.state == "live" and life.shutdown_date is not None:
        return f"live (until {life.shutdown_date.isoformat()})"
    return life.label


def cmd_models(args: argparse.Namespace) -> int:
    from imagegen.core import lifecycle
    from imagegen.core.catalog import PROVIDERS, default_catalog

    catalog = default_catalog()
    on: date = args.working_date
    if args.json:
        out = {}
        for mid, m in catalog.models.items():
            d = m.model_dump(mode="json")
            d["lifecycle"] = {}
            for p in PROVIDERS:
                life = lifecycle.status(catalog, mid, p, on)
                d["lifecycle"][p] = {"on": on.isoformat(), "state": life.state, "runnable": life.runnable,
                                     "shutdown": life.shutdown_date.isoformat() if life.shutdown_date else None,
                                     "days_left": life.days_left, "successor": life.successor,
                                     "message": life.sentence}
            d["prices"] = [p.model_dump(mode="json") for p in catalog.prices if p.model == mid]
            d["token_table"] = catalog.tokens[m.tokens].model_dump(mode="json")
            out[mid] = d
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(f"catalog checked: oldest entry {catalog.oldest_check().isoformat()}")
    print(f"lifecycle on {on.isoformat()}{_pinned_note(on)}; retiring = shutdown within {catalog.soon_days} days")
    header = f"{'model':<24} {'openai':<24} {'azure':<24} {'qualities':<30} sizes"
    print(header)
    print("-" * len(header))
    for mid, m in catalog.models.items():
        sizes = ",".join(m.sizes) if m.sizes else "WxH (multiples of 16)"
        cells = [lifecycle_cell(lifecycle.status(catalog, mid, p, on)) for p in ("openai", "azure")]
        print(f"{mid:<24} {cells[0]:<24} {cells[1]:<24} {','.join(m.qualities):<30} {sizes}")
    return 0


def _with_configured_deployments(spec):
    """Azure specs may rely on the configured deployment map (IMAGEGEN_AZURE_DEPLOYMENTS …), as `run` does."""
    uses_azure = spec.provider == "azure" or "azure" in spec.axes.get("provider", ())
    if not uses_azure:
        return spec
    from imagegen.execution.settings import load_settings

    try:
        configured = dict(load_settings().deployments)
    except ImagegenError:  # an incomplete Azure setup: validation names what is missing
        return spec
    return replace(spec, deployments={**configured, **spec.deployments})


def local_catalog(home=None):
    """The catalog with this data dir's local price and token overrides applied (as the dashboard uses it)."""
    from imagegen.core.catalog import default_catalog
    from imagegen.core.overrides import apply_overrides
    from imagegen.core.token_overrides import apply_token_overrides
    from imagegen.storage.store import default_home

    home = home or default_home()
    return apply_token_overrides(apply_overrides(default_catalog(), home), home)


def _result_image(home):
    """``result:<id>`` inputs of an ``[edit]`` spec from the store (opened only when a spec names one)."""
    def read(result_id: str) -> bytes | None:
        from imagegen.storage.store import Store

        with (Store(home) if home else Store()) as store:
            return store.result_image(result_id)
    return read


def cmd_estimate(args: argparse.Namespace) -> int:
    from imagegen.core.grid import estimate_grid, load_spec
    from imagegen.execution.runner import check_simulator

    spec = load_spec(args.spec, _result_image(getattr(args, "home", None)))
    for note in spec.notes:  # e.g. a key-shaped value replaced by [REDACTED] (never echoed)
        print(f"warning: {note}", file=sys.stderr)
    check_simulator(spec, args.spec)  # the same checks as `run`: a bad [simulator] table exits 2 here too
    spec = _with_configured_deployments(spec)
    est = estimate_grid(spec, local_catalog(getattr(args, "home", None)), args.working_date)
    if args.json:
        print(json.dumps(est.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(f"{spec.name or args.spec}: {len(est.cells)} cells x {spec.repeats} repeats = {est.requests} requests "
          f"on {spec.provider} (estimated, nothing sent)")
    for cell, e in zip(est.cells, est.estimates):
        tokens = f"{e.output_tokens_min}" if e.output_tokens_min == e.output_tokens_max else \
            f"{e.output_tokens_min}-{e.output_tokens_max}"
        cost = format_usd(e.cost_usd_max) if e.cost_usd_min == e.cost_usd_max else \
            f"{format_usd(e.cost_usd_min)}-{format_usd(e.cost_usd_max)}"
        print(f"  [{cell.index:>3}] {cell.label:<50} out {tokens:>11} tok ({e.token_label or e.token_status})  {cost}")
        if spec.edit is not None:
            c = e.cost_max
            print(f"        in: {e.input_text_tokens} text + {e.input_image_tokens} image tok; cost text in "
                  f"{format_usd(c.text_input)} + image in {format_usd(c.image_input)} + image out "
                  f"{format_usd(c.image_output + c.text_output)}")
    if spec.edit is not None:
        print(f"input image tokens: {est.input_image_label}")
        extras = (spec.inputs.mask, spec.inputs.markup)
        for item in (*spec.inputs.images, *(i for i in extras if i is not None)):
            print(f"  input {item.source}: {item.width}x{item.height} {item.format} sha256 {item.sha256}")
    print(f"total: {format_usd(est.total_cost_usd_min)} - {format_usd(est.total_cost_usd_max)} (budget uses the max)")
    notes = list(dict.fromkeys(n for e in est.estimates for n in e.notes))
    for note in notes:  # assumed figures, the ambiguous partial-image rule, preview / gated features
        print(f"note: {note}")
    if est.over_budget():
        print(f"refused: the estimate's maximum {format_usd(est.total_cost_usd_max)} is over the budget "
              f"{format_usd(spec.limits.budget_usd)}. Fix: raise [limits] budget_usd or shrink the grid.", file=sys.stderr)
        return 2
    return 0


def register(sub) -> None:
    p = sub.add_parser("models", help="list the model catalog")
    p.add_argument("--json", action="store_true", help="print the whole catalog as JSON")
    p.set_defaults(func=cmd_models)
    p = sub.add_parser("estimate", help="price a grid spec without sending anything")
    p.add_argument("spec", help="grid spec TOML file")
    p.add_argument("--json", action="store_true")
    p.add_argument("--home", default=None, help="data directory whose local overrides apply (default $IMAGEGEN_HOME)")
    p.set_defaults(func=cmd_estimate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m imagegen", description="OpenAI / Azure image model cost and latency")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not name.startswith(exc.name or "\0"):
                raise
            continue
        module.register(sub)
    return parser


#: Commands whose start-up imports the SDK, pydantic and the catalog (hundreds of thousands of objects).
_RUN_COMMANDS = frozenset({"run", "estimate"})
_gc_paused = False


def resume_collection() -> None:
    """Turn the garbage collector back on if :func:`main` paused it for the start-up (idempotent).

    What the start-up made (modules, classes, the catalog) is frozen first: it lives as long as the
    process, and the first collection would otherwise scan all of it (~0.03 s) just as requests leave.
    """
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    global _gc_paused
    # Start-up imports make hundreds of thousands of objects that are never garbage; collecting
    # while they arrive costs ~0.05 s before the first request. Only a process's own start-up
    # pauses (argv None: `python -m imagegen`), never a caller's; `run` resumes once started.
    if argv is None and sys.argv[1:2] and sys.argv[1] in _RUN_COMMANDS and gc.isenabled():
        gc.disable()
        _gc_paused = True
    try:
        return _main(argv)
    finally:
        resume_collection()


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.working_date = today()  # the one clock read of a CLI run (`catalog check --today` is its own option)
        return args.func(args)
    except ImagegenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:  # a bug: the traceback helps, but it may quote a server's text or a key
        import traceback

        from imagegen.redaction import redact

        print(redact(traceback.format_exc()), file=sys.stderr)
        print("error: an unexpected failure (the traceback above, keys redacted). Please report it.",
              file=sys.stderr)
        return 1
