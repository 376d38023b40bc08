"""The runner, the store and the pages against a hostile Images API (tests/fakes/hostile.py).

Every mode runs in a grid beside a good cell (tests/hostile_cases.py says what "held" means); the
same cases make the README's reliability table (``python bench/reliability.py``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from imagegen.core.grid import GridSpec, Limits
from imagegen.execution.providers import make_simulator_provider
from imagegen.execution.runner import GridRun
from imagegen.storage.store import Store
from tests import hostile_cases as hc
from tests import ui_support
from tests.fakes import hostile
from tests.ui_support import open_app

ROOT = Path(__file__).resolve().parents[1]
app_env = ui_support.app_env  # fixture
CASE_IDS = ([f"openai-{m}" for m in hostile.MODES] + [f"azure-{m}" for m in hc.AZURE_MODES] + ["files"])


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every hostile case, run once for this module (about 10-30 s on 2 cores)."""
    home = tmp_path_factory.mktemp("hostile-home")
    out = hc.all_cases(home)
    return dict(zip(CASE_IDS, out, strict=True))


@pytest.mark.parametrize("case", CASE_IDS)
def test_every_hostile_mode_holds(results, case):
    result = results[case]
    assert result.held, f"{result.group} / {result.name}: {result.problems}"


def test_the_cases_can_fail(tmp_path):
    """The checks are not vacuous: a grid whose bad cell is recorded ok is a problem."""
    server = hostile.start()
    try:
        store = Store(tmp_path)
        events: list = []
        run = GridRun(hc.spec_text("usage_3x"), provider=hc.openai_provider(server), store=store, today=hc.TODAY,
                      on_event=events.append)
        run.run()
        problems = hc.check_run(run, store, "usage_negative", (hc.OPENAI_KEY,), events)  # pretend it was bad
        assert "the bad answer was recorded ok" in problems
        assert hc.check_run(run, store, "usage_3x", (hc.OPENAI_KEY,), events) == []
        assert hc.check_run(run, store, "usage_3x", ("a red fox",), events)  # a "key" that is in the export
    finally:
        hostile.stop(server)


def test_cli_run_against_every_mode_prints_and_stores_no_key(tmp_path):
    """One grid of every mode through ``python -m imagegen run``: exit 1, bad cells failed, good cells ok,
    the key in none of stdout, stderr, the SQLite files, the CSV or JSON export."""
    server = hostile.start()
    try:
        modes = [m for m in hostile.MODES if m != "truncated_jpeg"]  # that one needs a jpeg spec
        prompts = ["a red fox, good"] + [f"mode:{m} x" for m in modes]
        spec = tmp_path / "all.toml"
        spec.write_text(
            'name = "every hostile mode"\nprovider = "compatible"\nmodel = "gpt-image-1-mini"\n'
            f"prompts = {json.dumps(prompts)}\n"
            '[params]\nsize = "1024x1024"\nquality = "low"\n'
            f"[limits]\nconcurrency = 12\ntimeout_s = {hc.TIMEOUT_S}\nmax_attempts = 2\n", encoding="utf-8")
        home = tmp_path / "home"
        env = {**os.environ, "IMAGEGEN_HOME": str(home), "IMAGEGEN_PROVIDER": "compatible",
               "OPENAI_BASE_URL": f"{server.base_url}/v1", "OPENAI_API_KEY": hc.OPENAI_KEY,
               "PYTHONPATH": str(ROOT)}
        env.pop("AZURE_OPENAI_API_IMAGE_KEY", None)
        run = subprocess.run([sys.executable, "-m", "imagegen", "run", str(spec)], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 1, run.stderr[-2000:]
        exports = [subprocess.run([sys.executable, "-m", "imagegen", "export", "latest", "--format", fmt],
                                  cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
                   for fmt in ("csv", "json")]
        rows = json.loads(exports[1].stdout)
    finally:
        hostile.stop(server)
    for text in (run.stdout, run.stderr, *(e.stdout for e in exports), *(e.stderr for e in exports)):
        assert hc.OPENAI_KEY not in text
    assert hc.key_places(home, (hc.OPENAI_KEY,)) == []
    by_prompt = {r["prompt"]: r for r in rows}
    assert by_prompt["a red fox, good"]["status"] == "ok"
    for m in modes:
        row = by_prompt[f"mode:{m} x"]
        assert (row["status"] == "ok") == hostile.MODES[m][1], (m, row["status"], row["error_message"])


# -- pages ---------------------------------------------------------------------------------------

PLANTED = "![x](http://127.0.0.1:9/n.png) :red[PAY NOW] [link](http://127.0.0.1:9/pay)"
#: The planted markdown/HTML, unescaped (escaped, each starts with a backslash and shows literally).
RAW_MARKUP = re.compile(r"(?<!\\)(!\[x\]|:red\[|\[link\]\(|<img|<script)")


def _page_texts(at) -> tuple[list[str], list[str]]:
    """(texts Streamlit renders as markdown, texts it shows as they are: tables, select options)."""
    out = []
    for kind in ("markdown", "error", "warning", "info", "success", "caption", "subheader", "header", "title"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [str(m.value) + str(m.label) for m in at.metric]
    plain = [df.value.to_csv() for df in at.dataframe] + [str(e.value) for e in [*at.code, *at.text]]
    for box in at.selectbox:
        plain += [str(o) for o in box.options]
    return out, plain


def test_results_page_shows_server_and_user_text_literally_and_no_key(app_env):
    server = hostile.start()
    try:
        store = Store(app_env)
        ids = []
        for mode in ("markdown_error", "html_error", "echo_key_body", "echo_key_headers_ok", "echo_bearer_body"):
            result = hc.run_case(mode, server, store)
            assert result.held, result.problems
            ids.append(store.runs().iloc[0]["run_id"])
    finally:
        hostile.stop(server)
    spec = GridSpec(provider="simulator", model="gpt-image-1.5", prompts=(PLANTED, "a fox"), name=PLANTED,
                    params={"size": "1024x1024", "quality": "low"}, limits=Limits(concurrency=2))
    ids.append(GridRun(spec, provider=make_simulator_provider({"time_scale": 0}), store=store).run().run_id)
    at = open_app("pages/2_Results.py")
    seen: list[str] = []
    for run_id in ids:
        at.selectbox(key="open_run").set_value(run_id).run()
        assert not at.exception, at.exception
        shown, plain = _page_texts(at)
        assert not [t for t in shown + plain if hc.OPENAI_KEY in t], run_id
        planted = [t for t in shown if RAW_MARKUP.search(t)]
        assert not planted, planted
        seen += shown
    # the markdown arrived, escaped: literal on the page (from the server's message and from the prompt)
    assert any(r"\:red\[PAY NOW\]" in t and "bad_request" in t for t in seen)
    assert any(r"prompt = \!\[x\]" in t for t in seen)


def test_pages_draw_a_placeholder_for_missing_or_damaged_images(app_env):
    spec = GridSpec(provider="simulator", model="gpt-image-1.5", prompts=("a fox",), name="damaged",
                    params={"size": "1024x1024"}, axes={"quality": ("low", "medium", "high")},
                    limits=Limits(concurrency=3))
    store = Store(app_env)
    run_id = GridRun(spec, provider=make_simulator_provider({"time_scale": 0}), store=store).run().run_id
    rows = store.results(run_id).sort_values("cell_id")
    paths = [store.image_path(p) for p in rows["image_path"]]
    paths[0].unlink()                                   # missing
    paths[1].write_bytes(paths[1].read_bytes()[:200])    # truncated
    paths[2].write_bytes(hostile.bomb_png())             # a decompression bomb where an image was
    at = open_app("pages/2_Results.py")
    at.selectbox(key="open_run").set_value(run_id).run()
    assert not at.exception, "\n".join(at.exception[0].stack_trace)
    warnings = [w.value for w in at.warning if str(w.value).startswith("Image unavailable")]
    assert len(warnings) == 3, warnings
    # compare two cells at full size: placeholders too, never an exception
    at.multiselect(key="res_compare").set_value(list(rows["result_id"].astype(int))[1:3]).run()
    assert not at.exception, at.exception
    assert len([w for w in at.warning if str(w.value).startswith("Image unavailable")]) == 5
