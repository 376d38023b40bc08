"""``run``, ``runs`` and ``export``: grid runs from the command line.

    python -m imagegen run SPEC [--resume RUN_ID] [--reuse] [--retry-errors] [--yes] [--home DIR]
    python -m imagegen runs [--limit N] [--json] [--home DIR]
    python -m imagegen export RUN_ID|latest --format csv|json [--excel] [--output FILE] [--home DIR]

``run`` exits 0 when every cell x repeat succeeded, 1 when some did not, 2 when refused before any
request (invalid spec, an estimate over the budget, another runner holding the run, a database that is
not ours or newer, or a big run not confirmed). A real-money run that may cost more than $10 or sends
more than 1,000 requests asks first (``--yes`` skips; without a terminal it is refused); simulated runs
spend nothing and never ask. Progress goes to stderr; the summary table
and the run id to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from imagegen.cli import format_usd, resume_collection
from imagegen.errors import ConfigError

if TYPE_CHECKING:  # imported inside the commands: `estimate` and `--help` stay fast
    from imagegen.execution.runner import GridRun, RunEvent
    from imagegen.storage.store import Store


def _num(value, fmt: str = "{:.2f}") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return fmt.format(value)


def _store(args: argparse.Namespace) -> Store:
    from imagegen.storage.store import Store

    return Store(args.home) if getattr(args, "home", None) else Store()


def _print_estimate(run: GridRun) -> None:
    est, spec = run.estimate, run.spec
    todo = len(run.jobs)
    resumed = f", {todo} still to run" if todo != run.total else ""
    print(f"{spec.name or spec.model}: {len(est.cells)} cells x {spec.repeats} repeats = {est.requests} requests "
          f"on {spec.provider}{resumed}")
    budget = f", budget {format_usd(spec.limits.budget_usd)}" if spec.limits.budget_usd is not None else ""
    rpm = f", {spec.limits.rpm:g} rpm" if spec.limits.rpm else ""
    print(f"estimated cost: {format_usd(est.total_cost_usd_min)} - {format_usd(est.total_cost_usd_max)}{budget}; "
          f"concurrency {spec.limits.concurrency}{rpm}")


def _progress(run: GridRun):
    import threading

    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())  # a thread lock: tqdm's default also makes a multiprocessing lock (~0.02 s)
    bar = tqdm(total=run.total, initial=run.total - len(run.jobs), unit="img", file=sys.stderr,
               dynamic_ncols=True, disable=None)

    def on_event(event: RunEvent) -> None:
        if event.kind == "result":
            bar.update(1)
            bar.set_postfix_str(f"spent {format_usd(event.spent_usd)}", refresh=False)
            row = event.row or {}
            if row.get("status") == "error":
                bar.write(f"cell {event.cell_id} repeat {event.repeat}: {row.get('error_kind')}: "
                          f"{row.get('error_message')}", file=sys.stderr)
        elif event.kind == "retry":
            bar.write(f"cell {event.cell_id} repeat {event.repeat}: {event.message}", file=sys.stderr)
    return bar, on_event


def _print_summary(store: Store, run: GridRun) -> None:
    summary = run.summary
    assert summary is not None
    rows = store.results(summary.run_id)
    print()
    replayed = sorted({r for r in rows["replayed_from"].dropna() if r}) if "replayed_from" in rows else []
    # a recording's figures are replayed, never "simulated" (nor measured); a profile fallback mixes both
    n_replayed = int(rows["replayed_from"].notna().sum()) if replayed else 0
    sim = "" if not summary.simulated else " (simulated)" if not replayed else \
        " (replayed)" if n_replayed == int((rows["status"] == "ok").sum()) else " (simulated and replayed)"
    for label in replayed:
        print(f"latency, tokens and cost below are {label}: a recording served by the simulator, not measured now")
    if summary.simulated and not replayed:
        print("latency, tokens and cost below are SIMULATED (built-in simulator), not measured on a real service")
    header = f"{'cell':>4} {'rep':>3}  {'settings':<40} {'status':<9} {'latency s':>9} {'out tok':>7} {'cost':>9}"
    print(header)
    print("-" * len(header))
    for r in rows.itertuples(index=False):
        coords = json.loads(r.coords) if r.coords else {}
        label = ", ".join(f"{k}={v}" for k, v in coords.items()) or "single cell"
        status = r.status + ("*" if r.reused else "")
        tokens = "-" if r.output_tokens is None or r.output_tokens != r.output_tokens else f"{int(r.output_tokens)}"
        print(f"{r.cell_id:>4} {r.repeat:>3}  {label[:40]:<40} {status:<9} {_num(r.latency_s):>9} {tokens:>7} "
              f"{format_usd(r.cost_usd):>9}")
    print("-" * len(header))
    ok = f"{summary.ok}/{summary.total} ok"
    extra = [f"{n} {k}" for k, n in (("errors", summary.errors), ("cancelled", summary.cancelled),
                                     ("skipped", summary.skipped), ("reused*", summary.reused),
                                     ("still in flight", summary.in_flight)) if n]
    print(f"{ok}{', ' + ', '.join(extra) if extra else ''}; billed {format_usd(summary.spent_usd)}{sim} "
          f"(estimated {format_usd(summary.estimate_min_usd)} - {format_usd(summary.estimate_max_usd)}); "
          f"wall {summary.wall_s:.1f} s (measured)")
    if summary.unanswered:
        print(f"{summary.unanswered} sent but not answered before the crash: {format_usd(summary.unanswered_usd)} counted "
              "as spent (recorded as interrupted errors; --retry-errors sends them again)")
    if summary.error_kinds:
        print("errors by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(summary.error_kinds.items())))
    print(f"run id: {summary.run_id}")


def _confirmed(run: GridRun, yes: bool) -> bool:
    """Ask before a big real-money run (as the dashboard does); ``--yes`` skips, no terminal refuses."""
    reason = run.confirmation_reason()
    if reason is None:
        if run.simulated and run.jobs:
            print("simulated run: nothing is charged, so no confirmation is needed", file=sys.stderr)
        return True
    if yes:
        print(f"confirmed by --yes: {reason}", file=sys.stderr)
        return True
    if not sys.stdin or not sys.stdin.isatty():
        print(f"refused: {reason}, and there is no terminal to confirm it. Nothing was sent. "
              "Fix: pass --yes to confirm, or shrink the grid.", file=sys.stderr)
        return False
    print(f"{reason}. Send {len(run.jobs)} requests for up to {format_usd(run.remaining_max_usd)}? [y/N] ",
          end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    if answer in ("y", "yes"):
        return True
    print("not started: nothing was sent.", file=sys.stderr)
    return False


def cmd_run(args: argparse.Namespace) -> int:
    if args.spec is None and args.resume is None:
        raise ConfigError("no spec given. Fix: `python -m imagegen run SPEC` or `run --resume RUN_ID`.")
    # (Loading the tokenizer in a background thread here was measured slower to the first request:
    # bench/bench_startup.py, 2026-12-01, load 1: 0.49-0.50 s without it, 0.51-0.54 s with it.)
    from imagegen.execution.runner import GridRun

    store = _store(args)
    # Validation and the budget check happen here, before any request (errors exit 2 in cli.main).
    run = GridRun(None if args.resume else Path(args.spec), store=store, resume=args.resume, reuse=args.reuse,
                  retry_errors=args.retry_errors, today=args.working_date)
    for note in run.spec.notes:  # e.g. a key-shaped value replaced by [REDACTED] (never echoed)
        print(f"warning: {note}", file=sys.stderr)
    if args.resume and args.spec:
        print(f"resuming {run.run_id}: the spec stored with the run is used, not {args.spec}", file=sys.stderr)
    if run.unanswered_message:
        print(run.unanswered_message, file=sys.stderr)
    _print_estimate(run)
    if not _confirmed(run, args.yes):
        return 2
    bar, on_event = _progress(run)
    run.on_event = on_event
    run.start()
    resume_collection()  # the start-up is over (see cli.main)
    try:
        while not run.wait(0.1):
            run.poll()  # the bar is driven by on_event; drop the queued copies
    except KeyboardInterrupt:
        run.cancel()
        bar.write("cancelling: nothing more is sent; requests in flight are recorded if they arrive "
                  f"(finish later with --resume {run.run_id})", file=sys.stderr)
        run.wait(5.0)
    finally:
        bar.close()
    if run.error is not None:
        print(f"error: the run stopped: {run.error}. Completed results are kept; "
              f"finish with `python -m imagegen run --resume {run.run_id}`.", file=sys.stderr)
    if run.summary is None:
        return 1
    _print_summary(store, run)
    return 1 if run.error is not None else run.summary.exit_code


def cmd_runs(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.json:
        df = store.runs(limit=args.limit)
        print(df.drop(columns=["spec_toml"]).to_json(orient="records", indent=2, force_ascii=False))
        return 0
    rows = store.run_lines(limit=args.limit)  # plain rows: the table needs no pandas (fast start)
    if not rows:
        print(f"no runs yet in {store.home}")
        return 0
    header = f"{'run id':<23} {'created (UTC)':<19} {'name':<24} {'model':<16} {'status':<9} {'ok':>9} {'cost':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        sim = " sim" if r["simulated"] else ""
        done = f"{r['ok']}/{r['requests']}"
        print(f"{r['run_id']:<23} {r['created_at'][:19]:<19} {(r['name'] or '')[:24]:<24} {r['model'][:16]:<16} "
              f"{r['status']:<9} {done:>9} {format_usd(r['cost_usd']):>9}{sim}")
    total = store.count_runs()
    if total > len(rows):
        print(f"({len(rows)} of {total} runs; --limit N for more)")
    return 0


def writable_output(path: str) -> Path:
    """``path`` when a file can be written there; ConfigError saying why not (checked before exporting)."""
    out = Path(path)
    if out.is_dir():
        raise ConfigError(f"--output {path} is a directory. Fix: name a file, e.g. {out / 'results.csv'}.")
    parent = out.parent
    if not parent.is_dir():
        raise ConfigError(f"--output {path}: the directory {parent} does not exist. Fix: create it or choose "
                          "another path.")
    if (out.exists() and not os.access(out, os.W_OK)) or (not out.exists() and not os.access(parent, os.W_OK)):
        raise ConfigError(f"--output {path} cannot be written (permission denied). Fix: choose a path you can "
                          "write to, or leave out --output to print to stdout.")
    return out


def cmd_export(args: argparse.Namespace) -> int:
    if args.excel and args.format != "csv":
        raise ConfigError("--excel is for CSV only (it adds the byte order mark Excel needs). Fix: use "
                          "--format csv --excel, or leave out --excel.")
    out = writable_output(args.output) if args.output else None
    store = _store(args)
    text = store.export(args.run_id, args.format, excel=args.excel)
    if out is None and args.excel:  # bytes, whatever the terminal's encoding: the file must be UTF-8 with BOM
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()
        return 0
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--output {args.output} cannot be written ({exc.strerror or exc}). "
                              "Fix: choose another path, or leave out --output to print to stdout.") from None
        rows = text.count("\n") - 1 if args.format == "csv" else len(json.loads(text))
        print(f"wrote {rows} rows to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def register(sub) -> None:
    p = sub.add_parser("run", help="run a grid spec (prints the estimate, then runs it)")
    p.add_argument("spec", nargs="?", help="grid spec TOML file (optional with --resume)")
    p.add_argument("--resume", metavar="RUN_ID", help="finish only the missing cells of a past run")
    p.add_argument("--reuse", action="store_true",
                   help="take identical requests from history (marked reused, $0) instead of sending them")
    p.add_argument("--retry-errors", action="store_true", help="with --resume, also redo cells that failed")
    p.add_argument("--home", metavar="DIR", help="data directory (default $IMAGEGEN_HOME or .imagegen/)")
    p.add_argument("--yes", "-y", action="store_true",
                   help="do not ask before a run that may cost more than $10 or sends more than 1,000 requests")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("runs", help="list past runs")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.add_argument("--home", metavar="DIR")
    p.set_defaults(func=cmd_runs)
    p = sub.add_parser("export", help="write a run's results as CSV or JSON")
    p.add_argument("run_id", metavar="RUN_ID|latest")
    p.add_argument("--format", choices=("csv", "json"), required=True)
    p.add_argument("--output", "-o", metavar="FILE")
    p.add_argument("--excel", action="store_true",
                   help="CSV for Excel: UTF-8 with a byte order mark, so Japanese prompts open ungarbled "
                        "(without it: plain UTF-8, for scripts)")
    p.add_argument("--home", metavar="DIR")
    p.set_defaults(func=cmd_export)
