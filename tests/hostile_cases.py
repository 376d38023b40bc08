"""Hostile-endpoint cases: each mode of tests/fakes/hostile.py in a grid beside a good cell.

Shared by the tests (tests/test_hostile.py) and the README's reliability table
(``python bench/reliability.py``). A case *holds* when the grid finished, the bad cell is recorded
not ok (or ok, for the few modes that are harmless), the good cell is ok, an answered bad response
still counts what it cost, a slow server never holds a cell past its deadline, and the key is in
none of: the run's events and summary, its CSV/JSON export, the SQLite files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from bench.reliability_cases import CaseResult
from imagegen.execution.providers.openai_api import OpenAIProvider
from imagegen.execution.retry import Backoff
from imagegen.execution.runner import GridRun
from imagegen.storage.store import Store
from tests.fakes import hostile

TODAY = date(2026, 12, 1)
#: Obviously fake keys, assembled at run time (a literal of the real shape would trip the commit hook).
OPENAI_KEY = "sk-" + "proj-" + "H0STILE" + "-test-key-not-real-" + "q" * 8
AZURE_KEY = "".join(["0f1e2d3c"] * 4)  # Azure's 32-hex shape
TIMEOUT_S = 2.0
FAST_BACKOFF = Backoff(base_s=0.01, cap_s=0.05)
#: A slow mode's cell may take its deadline plus this (set-up, a last read, scheduling on 2 busy cores).
DEADLINE_SLACK_S = 1.5
#: Cases run at once by all_cases (2 cores: most of a case's time is waiting on the server).
CASE_WORKERS = 4
SLOW_MODES = ("drip", "drip_headers", "stall")
ANSWERED_MODES_PREFIXES = ("stream_usage", "stream_svg", "stream_bomb", "usage_", "quality_", "size_", "background_", "format_", "data_", "b64_", "text_",
                           "svg_", "html_image", "truncated_png", "truncated_jpeg", "bad_crc", "bomb", "small_",
                           "wrong_format", "not_json", "json_")


def spec_text(mode: str, *, provider: str = "compatible", model: str = "gpt-image-1-mini") -> str:
    prompt = f"mode:{mode} a red fox"
    fmt = "jpeg" if mode == "truncated_jpeg" else "png"
    stream = "stream = true\npartial_images = 1\n" if mode.startswith("stream_") else ""
    return f"""
name = "hostile {mode}"
provider = "{provider}"
model = "{model}"
prompts = ["a red fox, good", "{prompt}"]
[params]
size = "1024x1024"
quality = "low"
output_format = "{fmt}"
{stream}[limits]
concurrency = 2
timeout_s = {TIMEOUT_S}
max_attempts = 2
"""


def key_places(home: Path, keys: tuple[str, ...]) -> list[str]:
    """Files under ``home`` (the SQLite database, its WAL, every file) that contain a key."""
    found = []
    for path in sorted(home.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            for key in keys:
                if key.encode() in data:
                    found.append(f"{path.name} holds the key")
    return found


def check_run(run: GridRun, store: Store, mode: str, keys: tuple[str, ...], events: list) -> list[str]:
    """Everything a hostile case must show, as a list of problems (empty = held)."""
    problems = []
    expected_ok = hostile.MODES[mode][1] if mode in hostile.MODES else True
    if run.error is not None:
        problems.append(f"the run failed: {type(run.error).__name__}: {run.error}")
    s = run.summary
    if s is None or s.status != "finished":
        problems.append(f"the grid did not finish (status {getattr(s, 'status', None)})")
        return problems
    rows = store.results(run.run_id).to_dict("records")
    by_prompt = {r["prompt"]: r for r in rows}
    good = next((r for p, r in by_prompt.items() if not p.startswith("mode:")), None)
    bad = next((r for p, r in by_prompt.items() if p.startswith("mode:")), None)
    if good is None or good["status"] != "ok":
        problems.append(f"the good cell is not ok: {good and (good['status'], good['error_message'])}")
    if bad is None:
        problems.append("the bad cell has no row")
        return problems
    if expected_ok and bad["status"] != "ok":
        problems.append(f"a harmless mode was not ok: {bad['error_kind']}: {(bad['error_message'] or '')[:200]}")
    if not expected_ok and bad["status"] == "ok":
        problems.append("the bad answer was recorded ok")
    if not expected_ok and bad["status"] == "error" and not bad["error_message"]:
        problems.append("the bad cell has no reason")
    if mode.startswith(ANSWERED_MODES_PREFIXES) and not expected_ok:
        if bad["error_kind"] != "bad_response":
            problems.append(f"an answered bad response was recorded as {bad['error_kind']}")
        if not bad["cost_usd"] or float(bad["cost_usd"]) <= 0:
            problems.append("an answered (billed) bad response counts nothing as spent")
        if float(bad["cost_usd"] or 0) < 0:
            problems.append("a negative cost was recorded")
    if mode in SLOW_MODES:
        if bad["error_kind"] != "timeout":
            problems.append(f"a slow server ended as {bad['error_kind']}, not timeout")
        per_attempt = [a for a in store.attempts(int(bad["result_id"]))["wall_s"].tolist()]
        if any(w > TIMEOUT_S + DEADLINE_SLACK_S for w in per_attempt):
            problems.append(f"an attempt outlived its {TIMEOUT_S} s deadline: {per_attempt}")
    if mode.startswith("retry_after"):
        if bad["error_kind"] != "rate_limited":
            problems.append(f"an endless 429 ended as {bad['error_kind']}")
        if mode in ("retry_after_huge", "retry_after_ms_huge") and "999,999" not in (bad["error_message"] or ""):
            problems.append("the refused wait is not named in the message")
        if s.wall_s > 10:
            problems.append(f"the run slept on a Retry-After ({s.wall_s:.1f} s)")
    texts = [repr(s)] + [e.message for e in events] + [store.export(run.run_id, "csv"), store.export(run.run_id,
                                                                                                      "json")]
    for key in keys:
        if any(key in t for t in texts):
            problems.append("the key is in an event, the summary or an export")
    return problems


def openai_provider(server: hostile.HostileServer) -> OpenAIProvider:
    return OpenAIProvider(OPENAI_KEY, base_url=f"{server.base_url}/v1")


def azure_settings(server: hostile.HostileServer, tmp: Path):
    from imagegen.execution.settings import load_settings

    return load_settings(env={"AZURE_OPENAI_API_IMAGE_KEY": AZURE_KEY, "AZURE_OPENAI_API_IMAGE_ENDPOINT":
                              server.base_url, "AZURE_OPENAI_API_IMAGE_MODEL": "my-images",
                              "IMAGEGEN_AZURE_DEPLOYMENTS": "my-images=gpt-image-1.5",
                              "IMAGEGEN_PROVIDER": "azure"}, dotenv_path=tmp / "absent.env")


def run_case(mode: str, server: hostile.HostileServer, store: Store, *, flavour: str = "openai",
             tmp: Path | None = None) -> CaseResult:
    """Run one mode (beside a good cell) and check it."""
    t0 = time.perf_counter()
    events: list = []
    if flavour == "azure":
        from imagegen.execution.providers.azure_openai import AzureOpenAIProvider

        settings = azure_settings(server, tmp or store.home)
        provider = AzureOpenAIProvider(settings)
        spec = spec_text(mode, provider="azure", model="gpt-image-1.5")
        keys = (AZURE_KEY,)
    else:
        settings, provider, spec, keys = None, openai_provider(server), spec_text(mode), (OPENAI_KEY,)
    result = CaseResult(f"hostile endpoint ({flavour})", mode)
    try:
        run = GridRun(spec, provider=provider, store=store, today=TODAY, backoff=FAST_BACKOFF, settings=settings,
                      on_event=events.append)
        run.start()
        if not run.wait(30):
            run.cancel()
            result.problems.append("the grid hung (30 s)")
        else:
            result.problems += check_run(run, store, mode, keys, events)
    except Exception as exc:  # the case itself crashed: that is a failure to hold, not a test error
        result.problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        provider.close()  # its sockets now, not whenever the collector reaches them (a ResourceWarning)
    result.wall_s = time.perf_counter() - t0
    return result


AZURE_MODES = ("echo_key_body", "echo_bearer_body", "echo_key_headers_error", "echo_key_headers_ok",
               "echo_key_not_json", "markdown_error", "usage_huge", "bomb", "drip", "retry_after_huge")


def all_cases(home: Path) -> list[CaseResult]:
    """Every mode on the OpenAI route, the key-echo and a few others on the Azure route, then the files."""
    server = hostile.start()
    out: list[CaseResult] = []
    try:
        store = Store(home)
        jobs = [(m, "openai") for m in hostile.MODES] + [(m, "azure") for m in AZURE_MODES]
        # A few grids at once (the slow modes mostly wait); results keep the list's order.
        with ThreadPoolExecutor(max_workers=CASE_WORKERS) as pool:
            out += list(pool.map(lambda job: run_case(job[0], server, store, flavour=job[1], tmp=home), jobs))
        store.close()
        files = CaseResult("hostile endpoint (files)", "no key in the SQLite files or images")
        files.problems = key_places(home, (OPENAI_KEY, AZURE_KEY))
        out.append(files)
    finally:
        hostile.stop(server)
    return out


ROOT = Path(__file__).resolve().parents[1]


def cli_case(tmp: Path) -> CaseResult:
    """One grid of every mode through ``python -m imagegen run``, then ``export``: exit 1, each cell as its
    mode expects, the key in none of stdout, stderr, the SQLite files, the CSV or JSON export."""
    result = CaseResult("hostile endpoint (CLI)", "every mode in one grid via `python -m imagegen run` + export")
    t0 = time.perf_counter()
    server = hostile.start()
    try:
        # truncated_jpeg needs a jpeg spec, the stream modes a streamed one
        modes = [m for m in hostile.MODES if m != "truncated_jpeg" and not m.startswith("stream_")]
        prompts = ["a red fox, good"] + [f"mode:{m} x" for m in modes]
        spec = tmp / "all.toml"
        spec.write_text(
            'name = "every hostile mode"\nprovider = "compatible"\nmodel = "gpt-image-1-mini"\n'
            f"prompts = {json.dumps(prompts)}\n"
            '[params]\nsize = "1024x1024"\nquality = "low"\n'
            f"[limits]\nconcurrency = 12\ntimeout_s = {TIMEOUT_S}\nmax_attempts = 2\n", encoding="utf-8")
        home = tmp / "cli-home"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI", "OPENAI_"))}
        env.update({"IMAGEGEN_HOME": str(home), "IMAGEGEN_PROVIDER": "compatible", "PYTHONPATH": str(ROOT),
                    "OPENAI_BASE_URL": f"{server.base_url}/v1", "OPENAI_API_KEY": OPENAI_KEY})
        run = subprocess.run([sys.executable, "-m", "imagegen", "run", str(spec), "--yes"], cwd=tmp, env=env,
                             capture_output=True, text=True, timeout=180)
        if run.returncode == 2 and "--yes" in run.stderr:  # a CLI without the confirmation flag
            run = subprocess.run([sys.executable, "-m", "imagegen", "run", str(spec)], cwd=tmp, env=env,
                                 capture_output=True, text=True, timeout=180)
        exports = [subprocess.run([sys.executable, "-m", "imagegen", "export", "latest", "--format", fmt], cwd=tmp,
                                  env=env, capture_output=True, text=True, timeout=60) for fmt in ("csv", "json")]
    finally:
        hostile.stop(server)
    if run.returncode != 1:
        result.problems.append(f"exit {run.returncode}, not 1: {run.stderr[-500:]}")
    for label, text in (("stdout", run.stdout), ("stderr", run.stderr), ("the CSV export", exports[0].stdout),
                        ("the JSON export", exports[1].stdout), ("export stderr", exports[0].stderr + exports[1].stderr)):
        if OPENAI_KEY in text:
            result.problems.append(f"the key is in {label}")
    result.problems += key_places(home, (OPENAI_KEY,))
    try:
        rows = {r["prompt"]: r for r in json.loads(exports[1].stdout)}
    except ValueError:
        result.problems.append(f"the JSON export is not JSON: {exports[1].stderr[-300:]}")
        return result
    if rows.get("a red fox, good", {}).get("status") != "ok":
        result.problems.append("the good cell is not ok")
    for m in modes:
        row = rows.get(f"mode:{m} x")
        if row is None:
            result.problems.append(f"{m}: no row")
        elif (row["status"] == "ok") != hostile.MODES[m][1]:
            result.problems.append(f"{m}: recorded {row['status']} ({row['error_kind']})")
    result.wall_s = time.perf_counter() - t0
    result.figures = {"cells": str(len(rows)), "wall": f"{result.wall_s:.1f} s"}
    return result


# -- pages (AppTest) ------------------------------------------------------------------------------

PLANTED = "![x](http://127.0.0.1:9/n.png) :red[PAY NOW] [link](http://127.0.0.1:9/pay)"
#: The planted markdown/HTML, unescaped (escaped, each starts with a backslash and shows literally).
RAW_MARKUP = re.compile(r"(?<!\\)(!\[x\]|:red\[|\[link\]\(|<img|<script)")
PAGE_MODES = ("markdown_error", "html_error", "echo_key_body", "echo_key_headers_ok", "echo_bearer_body")


def page_texts(at) -> tuple[list[str], list[str]]:
    """(texts Streamlit renders as markdown, texts it shows as they are: tables, code, select options)."""
    out = []
    for kind in ("markdown", "error", "warning", "info", "success", "caption", "subheader", "header", "title"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [str(m.value) + str(m.label) for m in at.metric]
    plain = [df.value.to_csv() for df in at.dataframe] + [str(e.value) for e in [*at.code, *at.text]]
    for box in at.selectbox:
        plain += [str(o) for o in box.options]
    return out, plain


@contextlib.contextmanager
def page_env(home: Path):
    """The app on the simulator with its store in ``home``, no real service variables, clean caches."""
    import streamlit as st

    from tests.ui_support import REAL_SERVICE_VARS

    saved = dict(os.environ)
    for var in REAL_SERVICE_VARS:
        os.environ.pop(var, None)
    os.environ.update({"IMAGEGEN_HOME": str(home), "IMAGEGEN_PROVIDER": "simulator", "IMAGEGEN_SIM_TIME_SCALE": "0",
                       "IMAGEGEN_DOTENV": str(home / "absent.env")})
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        st.cache_data.clear()
        st.cache_resource.clear()


def _open(at, run_id: str, result: CaseResult) -> bool:
    at.selectbox(key="open_run").set_value(run_id).run()
    if at.exception:
        result.problems.append(f"the page raised: {at.exception[0].message}")
        return False
    return True


def page_cases(tmp: Path) -> list[CaseResult]:
    """Results page (AppTest) for runs whose server messages, prompt and name are markdown/HTML or echo the key,
    and for a run whose image files are missing, truncated or a decompression bomb."""
    from imagegen.core.grid import GridSpec, Limits
    from imagegen.execution.providers import make_simulator_provider
    from tests.ui_support import open_app

    home = tmp / "pages-home"
    out: list[CaseResult] = []
    server = hostile.start()
    try:
        store = Store(home)
        runs = []
        for mode in PAGE_MODES:
            before = set(store.runs()["run_id"]) if store.count_runs() else set()
            setup = run_case(mode, server, store)
            new = [r for r in store.runs()["run_id"] if r not in before]
            runs.append((f"Results page: {mode}", new[0] if new else None, setup.problems))
    finally:
        hostile.stop(server)
    spec = GridSpec(provider="simulator", model="gpt-image-1.5", prompts=(PLANTED, "a fox"), name=PLANTED,
                    params={"size": "1024x1024", "quality": "low"}, limits=Limits(concurrency=2))
    sim = make_simulator_provider({"time_scale": 0})
    runs.append(("Results page: markdown in the run name and a prompt", GridRun(spec, provider=sim, store=store, today=TODAY)
                 .run().run_id, []))
    damaged = GridSpec(provider="simulator", model="gpt-image-1.5", prompts=("a fox",), name="damaged",
                       params={"size": "1024x1024"}, axes={"quality": ("low", "medium", "high")},
                       limits=Limits(concurrency=3))
    damaged_id = GridRun(damaged, provider=sim, store=store, today=TODAY).run().run_id
    rows = store.results(damaged_id).sort_values("cell_id")
    paths = [store.image_path(p) for p in rows["image_path"]]
    paths[0].unlink()                                   # missing
    paths[1].write_bytes(paths[1].read_bytes()[:200])    # truncated
    paths[2].write_bytes(hostile.bomb_png())             # a decompression bomb where an image was
    with page_env(home):
        at = open_app("pages/2_Results.py")
        seen: list[str] = []
        for name, run_id, setup_problems in runs:
            result = CaseResult("pages (AppTest)", name, list(setup_problems))
            if run_id is None or not _open(at, run_id, result):
                result.problems.append("no run to open" if run_id is None else "")
                out.append(result)
                continue
            shown, plain = page_texts(at)
            if any(OPENAI_KEY in t for t in shown + plain):
                result.problems.append("the key is on the page")
            planted = [t[:120] for t in shown if RAW_MARKUP.search(t)]
            if planted:
                result.problems.append(f"markup rendered, not escaped: {planted}")
            seen += shown
            out.append(result)
        literal = CaseResult("pages (AppTest)", "planted markdown shows as literal text (server message and prompt)")
        if not any(r"\:red\[PAY NOW\]" in t and "bad_request" in t for t in seen):
            literal.problems.append("the server's markdown message is not on the page, escaped")
        if not any(r"prompt = \!\[x\]" in t for t in seen):
            literal.problems.append("the planted prompt is not on the page, escaped")
        out.append(literal)
        images = CaseResult("pages (AppTest)", "missing, truncated and bomb images draw a placeholder (grid and compare)")
        if _open(at, damaged_id, images):
            n = len([w for w in at.warning if str(w.value).startswith("Image unavailable")])
            if n != 3:
                images.problems.append(f"{n} placeholders in the grid, not 3")
            at.multiselect(key="res_compare").set_value(list(rows["result_id"].astype(int))[1:3]).run()
            if at.exception:
                images.problems.append(f"compare raised: {at.exception[0].message}")
            elif len([w for w in at.warning if str(w.value).startswith("Image unavailable")]) != 5:
                images.problems.append("compare does not draw placeholders")
        out.append(images)
    return out
