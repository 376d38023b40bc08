"""``catalog check``: what needs attention in the catalog (exit 1 when anything does).

    python -m imagegen catalog check [--json] [--today YYYY-MM-DD]

Lists what the installed openai SDK knows and the catalog lacks (models, qualities, parameters,
output formats), entries whose ``checked`` date is more than 90 days before today
(``--today``, else ``IMAGEGEN_TODAY``, else the UTC date), entries with status ``assumed`` and
documented conflicts. Values left out on purpose are listed as ignored, with their reason
(``imagegen/core/data/catalog_check.toml``).
"""

from __future__ import annotations

import argparse
import json
from datetime import date

from imagegen.errors import ConfigError

HEADINGS = {
    "sdk_model": "models the openai SDK lists and the catalog lacks",
    "sdk_quality": "qualities the SDK accepts and no catalog model offers",
    "sdk_output_format": "output formats the SDK accepts and no catalog model offers",
    "sdk_parameter": "parameters the SDK has and we do not model",
    "stale": "entries checked more than 90 days ago",
    "assumed": "entries with status assumed",
    "conflict": "documented conflicts between sources",
}


def freshness_report(today: date):
    """The report for the packaged catalog and the installed SDK (what the CLI and the home page show)."""
    from imagegen.core.catalog import default_catalog
    from imagegen.execution.providers.sdk_vocabulary import catalog_freshness

    return catalog_freshness(default_catalog(), today)


def cmd_catalog_check(args: argparse.Namespace) -> int:
    if args.today:
        try:
            today = date.fromisoformat(args.today)
        except ValueError:
            raise ConfigError(f"--today {args.today!r} is not a date. Fix: write YYYY-MM-DD, e.g. 2027-03-01.") from None
    else:
        today = args.working_date  # main's one clock read (IMAGEGEN_TODAY or UTC)
    report = freshness_report(today)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return 1 if report.needs_attention else 0
    print(f"{report.summary()} (as of {today.isoformat()})")
    for kind, heading in HEADINGS.items():
        found = [f for f in report.findings if f.kind == kind]
        if not found:
            continue
        print(f"\n{heading} ({len(found)}):")
        for f in found:
            print(f"  {f.subject}: {f.detail}")
    if report.ignored:
        print(f"\nignored on purpose ({len(report.ignored)}, imagegen/core/data/catalog_check.toml):")
        for f in report.ignored:
            print(f"  {f.kind} {f.subject}: {f.detail}")
    return 1 if report.needs_attention else 0


def register(sub) -> None:
    p = sub.add_parser("catalog", help="catalog maintenance")
    inner = p.add_subparsers(dest="catalog_command", required=True)
    c = inner.add_parser("check", help="what the SDK knows and the catalog lacks; stale, assumed and conflicting "
                                       "entries (exit 1 when something needs attention)")
    c.add_argument("--json", action="store_true")
    c.add_argument("--today", default=None, help="the date to judge staleness on (default $IMAGEGEN_TODAY or today, UTC)")
    c.set_defaults(func=cmd_catalog_check)
