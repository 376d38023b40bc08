"""``recording export``: write runs as a self-contained recording the simulator can replay.

    python -m imagegen recording export RUN_ID [RUN_ID…] --output FILE [--home DIR]

The file holds each successful result's request, original image bytes, usage, latencies and the
headers we keep (keys scrubbed). Serve it with ``python -m imagegen simulator --replay FILE``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from imagegen.errors import ConfigError


def cmd_recording_export(args: argparse.Namespace) -> int:
    from imagegen.core.calibration_file import catalog_version
    from imagegen.core.catalog import default_catalog
    from imagegen.storage.recordings import export_recording
    from imagegen.storage.store import Store

    catalog = default_catalog()
    store = Store(args.home) if args.home else Store()
    with store:
        recording = export_recording(store, args.run_ids, catalog, catalog_version=catalog_version(catalog))
    out = Path(args.output)
    if out.is_dir():
        raise ConfigError(f"--output {out} is a directory. Fix: name a file, e.g. {out / 'recording.json'}.")
    text = recording.to_json()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # an ordinary file (mkstemp makes it private)
        os.replace(tmp, out)
    except OSError as exc:
        raise ConfigError(f"cannot write {out} ({exc}). Fix: choose a writable path.") from None
    runs = ", ".join(f"{r.run_id} ({r.provider}{', simulated' if r.simulated else ''})" for r in recording.runs)
    print(f"wrote {out}: {len(recording.entries)} answers from {runs}; {len(text.encode()):,} bytes", file=sys.stderr)
    print(out)
    return 0


def register(sub) -> None:
    p = sub.add_parser("recording", help="export runs as a recording the simulator can replay")
    inner = p.add_subparsers(dest="recording_command", required=True)
    e = inner.add_parser("export", help="write runs (requests, images, usage, latencies, headers) to one file")
    e.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="run ids (or latest)")
    e.add_argument("--output", "-o", required=True, help="the recording file to write (JSON)")
    e.add_argument("--home", default=None, help="data directory (default $IMAGEGEN_HOME)")
    e.set_defaults(func=cmd_recording_export)
