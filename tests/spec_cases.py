"""The bad specs of issue 10, shared by tests/test_spec_input.py and the README's reliability table.

Each case runs the real CLI in-process (``run``, then ``estimate``) with every provider replaced by one
that records any use. A case *held* when both commands exit 2, stderr names the file, the key (the
case's ``needle``) and a fix without a traceback, no provider was built or called, and the store holds
no run.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import traceback
from pathlib import Path
from unittest import mock

TOP = 'name = "bad spec"\nprovider = "simulator"\nmodel = "gpt-image-1.5"\n'
PROMPTS = 'prompts = ["a red fox"]\n'
TABLES = '[params]\nsize = "1024x1024"\n[limits]\nbudget_usd = 1.0\n[simulator]\nfixed_latency_s = 0.01\n'
GOOD = TOP + PROMPTS + TABLES


def with_top(line: str) -> str:
    """A spec with ``line`` among the top-level keys (before the first table)."""
    return TOP + PROMPTS + line + "\n" + TABLES


def with_limit(line: str) -> str:
    return GOOD.replace("budget_usd = 1.0\n", f"budget_usd = 1.0\n{line}\n")


def with_prompt(escaped: str) -> str:
    """A spec whose prompt is the TOML basic string ``escaped`` (escapes such as \\u001b kept as written)."""
    return TOP + f'prompts = ["{escaped}"]\n' + TABLES


#: (case, spec text or bytes, what the message must name)
BAD_SPECS = [
    ("params = 5", with_top("params = 5").replace("[params]\nsize = \"1024x1024\"\n", ""),
     "params = 5 is an integer, not a table"),
    ("axes = 'x'", with_top('axes = "x"'), 'axes = "x" is text, not a table'),
    ("limits = 3", with_top("limits = 3").replace("[limits]\nbudget_usd = 1.0\n", ""),
     "limits = 3 is an integer, not a table"),
    ("deployments = 'x'", with_top('deployments = "x"'), 'deployments = "x" is text, not a table'),
    ("simulator = 1", with_top("simulator = 1").replace("[simulator]\nfixed_latency_s = 0.01\n", ""),
     "simulator = 1 is an integer, not a table"),
    ("rpm = nan", with_limit("rpm = nan"), "limits.rpm = nan is not allowed"),
    ("rpm = inf", with_limit("rpm = inf"), "limits.rpm = inf is not allowed"),
    ("timeout_s = 0", with_limit("timeout_s = 0"), "limits.timeout_s = 0 is not allowed"),
    ("concurrency = 2.7", with_limit("concurrency = 2.7"), "limits.concurrency = 2.7 is a float"),
    ("concurrency = true", with_limit("concurrency = true"), "limits.concurrency = true is a boolean"),
    ("1024X1024", GOOD.replace('"1024x1024"', '"1024X1024"'), 'params.size = "1024X1024" is not in the canonical form'),
    ("full-width digits", GOOD.replace('"1024x1024"', '"１０２４x１０２４"'), 'Fix: write "1024x1024"'),
    ("operation = 'edit'", with_top('operation = "edit"'), "but no [edit] table"),
    ("[edit] table, missing file", GOOD + '[edit]\nimages = ["in.png"]\n', "'in.png': file not found"),
    ("n = [1, 1.0]", GOOD + "[axes]\nn = [1, 1.0]\n", "axes.n = [1, 1.0] lists the same value twice"),
    ("only control characters", with_prompt(r"\u0001\u0002\u001b"), "has no visible characters"),
    ("ESC in a prompt", with_prompt(r"a red \u001b[31mfox"), "control character U+001B"),
    ("CR in a prompt", with_prompt(r"a red\rfox"), "control character U+000D"),
    ("DEL in a prompt", with_prompt(r"a red fox\u007f"), "control character U+007F"),
    ("unknown key, near miss", with_top("repeets = 2"), 'repeets is an unknown key (did you mean "repeats"?)'),
    ("unknown limit", with_limit("timeout = 5"), 'did you mean "timeout_s"?'),
    ("[simulator] typo", GOOD.replace("fixed_latency_s", "fixed_latency"), 'did you mean "fixed_latency_s"?'),
    ("[simulator] wrong type", GOOD.replace("fixed_latency_s = 0.01", 'fixed_latency_s = "fast"'),
     'simulator.fixed_latency_s = "fast" is text'),
    ("non-UTF-8 file", GOOD.encode("utf-8").replace(b"a red fox", b"a red \xff fox"),
     "is not UTF-8 text (byte 0xff on line 4)"),
]
#: Export targets that cannot be written (relative ones are made under the scratch dir).
BAD_OUTPUTS = ["a-directory", "a-file/out.csv", "missing-dir/out.csv", "/proc/version"]


class Recorder:
    """Stands in for every provider: counts builds and requests (a refused spec must have none)."""

    def __init__(self) -> None:
        self.built: list[str] = []
        self.sent = 0

    def factory(self, spec, settings=None):
        def make(name):
            self.built.append(name)
            return self

        return make

    simulated = True

    def generate(self, request, *, timeout, input_files=()):
        self.sent += 1
        raise AssertionError(f"a request was sent for a refused spec: {request}")


def cli(argv: list[str], home: Path, recorder: Recorder | None = None) -> tuple[int, str]:
    """``python -m imagegen ARGV`` in-process with data dir ``home``: (exit code, stderr)."""
    from imagegen.cli import main
    from imagegen.execution import runner

    err = io.StringIO()
    patches = [mock.patch.dict(os.environ, {"IMAGEGEN_HOME": str(home)})]
    if recorder is not None:
        patches.append(mock.patch.object(runner, "default_provider_factory", recorder.factory))
    with contextlib.ExitStack() as stack:
        for p in patches:
            stack.enter_context(p)
        stack.enter_context(contextlib.redirect_stderr(err))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        try:
            code = main(argv)
        except Exception:  # a crash is a case that did not hold, not the end of the table
            return 1, err.getvalue() + "Traceback (in-process):\n" + traceback.format_exc()
    return code, err.getvalue()


def spec_problems(path: Path, needle: str, home: Path) -> list[str]:
    """Why the spec at ``path`` was not refused as it should be (empty = held)."""
    from imagegen.storage.store import Store

    problems = []
    recorder = Recorder()
    for command in ("run", "estimate"):
        code, err = cli([command, str(path)], home, recorder)
        if code != 2:
            problems.append(f"{command} exited {code}, not 2")
        if needle not in err:
            problems.append(f"{command}'s message lacks {needle!r}: {err.strip()[:300]!r}")
        if "Fix:" not in err or str(path) not in err:
            problems.append(f"{command}'s message names no fix or not the file: {err.strip()[:300]!r}")
        if "Traceback" in err:
            problems.append(f"{command} printed a traceback")
    if recorder.built or recorder.sent:
        problems.append(f"providers built {recorder.built}, {recorder.sent} request(s) sent")
    if home.exists() and Store(home).count_runs():
        problems.append("a run was recorded")
    return problems


def export_problems(target: str, home: Path) -> list[str]:
    """Why ``export --output target`` (a path that cannot be written) did not exit 2 with a clear message."""
    code, err = cli(["export", "latest", "--format", "csv", "--output", target], home)
    problems = []
    if code != 2:
        problems.append(f"export exited {code}, not 2")
    if f"--output {target}" not in err or "Fix:" not in err or "Traceback" in err:
        problems.append(f"unclear message: {err.strip()[:300]!r}")
    return problems


def all_cases(tmp: Path, group: str = "bad specs") -> list:
    """Every bad-spec case (plus a directory as the spec and unwritable export paths) as CaseResults."""
    from bench.reliability_cases import CaseResult

    out = []
    for i, (name, body, needle) in enumerate(BAD_SPECS):
        t0 = time.perf_counter()
        path = tmp / f"case{i}" / "bad.toml"
        path.parent.mkdir(parents=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
        problems = spec_problems(path, needle, tmp / f"case{i}" / "home")
        out.append(CaseResult(group, name, problems, time.perf_counter() - t0))
    t0 = time.perf_counter()
    folder = tmp / "a-spec-folder"
    folder.mkdir()
    (folder / "mine.toml").write_text(GOOD, encoding="utf-8")
    out.append(CaseResult(group, "directory as the spec",
                          spec_problems(folder, "is a directory, not a spec file (it holds mine.toml)", tmp / "dir-home"),
                          time.perf_counter() - t0))
    home = tmp / "export-home"
    good = tmp / "good.toml"
    good.write_text(GOOD, encoding="utf-8")
    code, err = cli(["run", str(good)], home)
    (tmp / "a-directory").mkdir()
    (tmp / "a-file").write_text("x")
    for where in BAD_OUTPUTS:
        t0 = time.perf_counter()
        target = where if where.startswith("/") else str(tmp / where)
        problems = [f"the good spec did not run (exit {code}): {err[:200]!r}"] if code != 0 else []
        out.append(CaseResult(group, f"unwritable export path {where}", problems + export_problems(target, home),
                              time.perf_counter() - t0))
    return out
