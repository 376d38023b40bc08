"""``calibrate``: compare our real runs with the catalog, adopt the measurements, share them.

    python -m imagegen calibrate [--json] [--home DIR]             # the report (real runs only)
    python -m imagegen calibrate --adopt [--who NAME] [--min-n N] [--model M]   # write token overrides
    python -m imagegen calibrate --export FILE [--who NAME]        # share the adopted overrides
    python -m imagegen calibrate --import FILE [--who NAME]        # take a team mate's file
    python -m imagegen calibrate --remove MODEL/QUALITY/SIZE       # back to the catalog's figure

The token overrides live in ``<home>/token_overrides.toml``; estimates and the planner label their
figures ``measured (ours, n = …)``. Exit 0, or 2 when a file is refused.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from imagegen.errors import ConfigError

WHO_ENV = "IMAGEGEN_USER"


def who(args: argparse.Namespace) -> str:
    """Who adopts or exports: ``--who``, else ``IMAGEGEN_USER``, else the login name."""
    name = getattr(args, "who", None) or os.environ.get(WHO_ENV) or ""
    if not name.strip():
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = ""
    if not name.strip():
        raise ConfigError(f"cannot tell who adopts the measurement. Fix: pass --who NAME or set {WHO_ENV}.")
    return name.strip()


def _home(args: argparse.Namespace) -> Path:
    from imagegen.storage.store import default_home

    return Path(args.home).expanduser() if args.home else default_home()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def print_report(cal, out=None) -> None:
    """The human-readable calibration report (to ``out``, default stdout)."""
    out = out or sys.stdout
    print(f"calibration over {cal.results:,} real results (ok, not simulated, not reused, not replayed)", file=out)
    if not cal.output:
        print("no real results yet: run a grid on OpenAI or Azure first (`python -m imagegen run SPEC`).", file=out)
        return
    print("\noutput image tokens per request (measured vs catalog)", file=out)
    header = (f"{'model':<20} {'prov':<6} {'quality':<7} {'size':<10} {'n×':>2} {'part':>4} {'runs':>4} {'n':>6} "
              f"{'mean':>9} {'min-max':>13} {'catalog':>8} {'dev':>8}  status")
    print(header, file=out)
    for e in cal.output:
        status = e.catalog_status + (f"; adopted: {e.adopted}" if e.adopted else "")
        cat = "-" if e.catalog is None else f"{e.catalog:,}"
        print(f"{e.model:<20} {e.provider:<6} {e.quality:<7} {e.size:<10} {e.n_images:>2} {e.partial_images:>4} "
              f"{len(e.runs):>4} {e.n:>6,} {e.mean:>9,.1f} {f'{e.min:,}-{e.max:,}':>13} {cat:>8} "
              f"{_pct(e.deviation_pct):>8}  {status}", file=out)
    if cal.input_text:
        print("\ninput text tokens (billed vs our o200k_base count, estimated)", file=out)
        for t in cal.input_text:
            print(f"  {t.model:<20} {t.provider:<6} n {t.n:>6,}  billed {t.mean:,.1f} ({t.min}-{t.max})  counted "
                  f"{t.counted_mean:,.1f}  dev {_pct(t.deviation_pct)}", file=out)
    if cal.input_image:
        print("\ninput image tokens (edits; measured only)", file=out)
        for t in cal.input_image:
            print(f"  {t.model:<20} {t.provider:<6} n {t.n:>6,}  mean {t.mean:,.1f} ({t.min}-{t.max})", file=out)
    if cal.latency:
        print("\nlatency fit: latency = overhead + output tokens / tokens_per_s (non-streamed)", file=out)
        for lat in cal.latency:
            fit = "too few distinct token counts to fit" if lat.tokens_per_s is None else (
                f"{lat.tokens_per_s:,.1f} tok/s + {lat.overhead_s:.2f} s (residual sd {lat.residual_sd_s:.2f} s)")
            prior = "" if lat.prior is None else (
                f"; prior {lat.prior.tokens_per_s:g} tok/s + {lat.prior.overhead_s:g} s ({lat.prior.source})")
            print(f"  {lat.model:<20} {lat.provider:<6} n {lat.n:>6,}  {fit}; mean {lat.mean_s:.2f} s "
                  f"({lat.min_s:.2f}-{lat.max_s:.2f}){prior}", file=out)


def _priors():
    from imagegen.execution.simulator.profile import default_profile
    from imagegen.insight.calibration import LatencyPrior

    # the simulator's latency per model comes from its profile (default prior + per-model figures)
    latency = default_profile().latency
    priors = {"*": LatencyPrior(latency["default"].tokens_per_s, latency["default"].overhead_s,
                                "simulator prior, assumed")}
    for model, lat in latency.items():
        if model != "default":
            priors[model] = LatencyPrior(lat.tokens_per_s, lat.overhead_s, f"simulator profile: {lat.source}")
    return priors


def cmd_calibrate(args: argparse.Namespace) -> int:
    from imagegen.core.calibration_file import export_calibration, parse_calibration
    from imagegen.core.catalog import default_catalog
    from imagegen.core.token_overrides import (
        add_token_overrides,
        apply_token_overrides,
        load_token_overrides,
        remove_token_override,
    )

    home = _home(args)
    base = default_catalog()
    if args.remove:
        parts = args.remove.split("/")
        if len(parts) != 3:
            raise ConfigError(f"--remove {args.remove!r} is not MODEL/QUALITY/SIZE. Fix: e.g. gpt-image-2/high/1024x1024.")
        kept = remove_token_override(home, *parts, catalog=base)
        print(f"removed the token override {args.remove}; {len(kept)} left. Estimates use the catalog's figure again.")
        return 0
    if args.import_file:
        path = Path(args.import_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {path} ({exc}). Fix: check the path.") from None
        doc = parse_calibration(text, base, where=str(path))
        entries = add_token_overrides(home, doc.entries, base)
        print(f"imported {len(doc.entries)} token override(s) from {path} (exported by {doc.exported_by} on "
              f"{doc.exported_on}); {len(entries)} saved in {home}.")
        return 0
    if args.export_file:
        entries = load_token_overrides(home, base)
        if not entries:
            raise ConfigError(f"no adopted token overrides in {home} to export. Fix: `calibrate --adopt` first.")
        text = export_calibration(entries, base, exported_by=who(args), today=args.working_date)
        Path(args.export_file).write_text(text, encoding="utf-8")
        print(f"wrote {len(entries)} token override(s) to {args.export_file}")
        return 0

    from imagegen.insight.calibration import calibrate, proposals
    from imagegen.storage.store import Store

    catalog = apply_token_overrides(base, home)
    with Store(home) as store:
        cal = calibrate(store.rows, catalog, _priors(), token_cache=home / "cache" / "prompt_tokens.json")
    if args.adopt:
        found = proposals(cal, base, adopted_by=who(args), today=args.working_date, min_n=args.min_n,
                          models=tuple(args.model or ()))
        if not found:
            print("nothing to adopt: " + ("no real results yet (simulated, reused and replayed ones do not count). "
                                          "Run a grid on OpenAI or Azure first (`python -m imagegen run SPEC`)."
                                          if not cal.results else
                                          "no real measurement differs from the catalog (or below --min-n)."))
            return 0
        add_token_overrides(home, found, base)
        for e in found:
            print(f"adopted {e.model} {e.quality} {e.size}: {e.output_tokens:,} output tokens per image "
                  f"(catalog {e.catalog_tokens if e.catalog_tokens is not None else '-'}, {e.catalog_status}); "
                  f"{e.label}, runs {e.first}..{e.last}, by {e.adopted_by}")
        print(f"saved in {home / 'token_overrides.toml'}; remove one with --remove MODEL/QUALITY/SIZE.")
        return 0
    if args.json:
        print(json.dumps(cal.to_dict(), indent=2, ensure_ascii=False, default=str))
        return 0
    print_report(cal)
    return 0


def register(sub) -> None:
    p = sub.add_parser("calibrate", help="compare real runs with the catalog; adopt, export or import measurements")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--adopt", action="store_true", help="save measured output tokens as local token overrides")
    p.add_argument("--who", default=None, help=f"who adopts/exports (default ${WHO_ENV}, else the login name)")
    p.add_argument("--min-n", type=int, default=1, help="adopt only settings with at least N real results")
    p.add_argument("--model", action="append", default=[], help="adopt only this model (repeatable)")
    p.add_argument("--export", dest="export_file", metavar="FILE", help="write the adopted overrides to FILE")
    p.add_argument("--import", dest="import_file", metavar="FILE", help="adopt the overrides in FILE")
    p.add_argument("--remove", metavar="MODEL/QUALITY/SIZE", help="drop one override (the catalog figure returns)")
    p.add_argument("--home", default=None, help="data directory (default $IMAGEGEN_HOME)")
    p.set_defaults(func=cmd_calibrate)
