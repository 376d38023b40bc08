"""Fuzz: random near-valid spec files never crash, never send, and are either accepted or refused with exit 2.

Each example starts from a valid spec and applies a few mutations (wrong types, NaN/inf, odd unicode,
control characters, duplicate axis values, unknown keys, tables replaced by scalars, damaged bytes).
The file then goes through what ``python -m imagegen run`` does before its first request (``GridRun``'s
constructor). Only the refusals that exit 2 may escape, each with a fix; a provider that fails the test
if called stands in for every provider; an accepted spec must survive ``to_toml`` and read back equal.
"""

from __future__ import annotations

import copy
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from imagegen.core.grid import loads_spec
from imagegen.core.validation import escape
from imagegen.errors import BudgetExceeded, ConfigError, InvalidRequest, SpecError
from imagegen.execution.runner import GridRun
from imagegen.storage.store import Store
from tests.clock import TODAY

#: What ``cli.main`` turns into exit 2 (refused before any request).
REFUSALS = (SpecError, InvalidRequest, BudgetExceeded, ConfigError)

BASE = {
    "name": "fuzz",
    "provider": "simulator",
    "model": "gpt-image-1.5",
    "prompts": ["a red fox", "F1レーサー"],
    "repeats": 1,
    "params": {"output_format": "png", "n": 1},
    "axes": {"quality": ["low", "high"], "size": ["1024x1024", "1536x1024"]},
    "limits": {"concurrency": 4, "budget_usd": Decimal("5.0"), "timeout_s": 30, "rpm": 60},
    "simulator": {"fixed_latency_s": Decimal("0.01"), "faults": [{"kind": "rate_limit", "match": "fox", "times": 1}]},
}
PATHS = [("name",), ("provider",), ("model",), ("prompts",), ("prompts", 0), ("repeats",), ("params",),
         ("params", "n"), ("params", "output_format"), ("params", "size"), ("params", "stream"), ("axes",),
         ("axes", "quality"), ("axes", "size"), ("axes", "size", 0), ("axes", "n"), ("limits",),
         ("limits", "concurrency"), ("limits", "rpm"), ("limits", "budget_usd"), ("limits", "timeout_s"),
         ("limits", "max_attempts"), ("limits", "run_deadline_s"), ("limits", "max_retry_after_s"), ("simulator",),
         ("simulator", "time_scale"), ("simulator", "fixed_latency_s"), ("simulator", "faults"),
         ("simulator", "faults", 0), ("simulator", "seed"), ("deployments",), ("operation",), ("edit",)]

odd_text = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    st.sampled_from(["", " ", "\x1b[31mred", "a\rb", "\x7f", "\x00", "\u3000", "１０２４x１０２４", "1024X1024",
                     "1024 x 1024", "auto", "AUTO", "low", "high", "png", "edit", "gpt-image-1.5", "fox\u200b",
                     "🏎️‍🔥", "\ud7ff", "﻿bom"]),
)
numbers = st.one_of(
    st.integers(min_value=-10, max_value=10**7),
    st.decimals(allow_nan=True, allow_infinity=True, places=3),
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("0"), Decimal("2.7"),
                     Decimal("1.0"), Decimal("1e9")]),
)
scalars = st.one_of(st.booleans(), numbers, odd_text)
values = st.one_of(scalars, st.lists(scalars, max_size=3),
                   st.dictionaries(st.text(min_size=1, max_size=6), scalars, max_size=2))
#: Valid alternatives, so that accepted specs (and their round trip) are explored too.
PLAUSIBLE = {
    ("name",): ["", "ｸﾞﾘｯﾄﾞ 2", "tab\there"], ("provider",): ["simulator", "compatible"],
    ("model",): ["gpt-image-1", "gpt-image-1-mini", "gpt-image-2"], ("prompts",): [["x"], ["赤い狐", "line\nbreak"]],
    ("repeats",): [2, 3], ("params", "n"): [2], ("params", "size"): ["auto", "1536x1024"],
    ("params", "stream"): [True, False], ("axes", "quality"): [["medium"], ["low", "medium", "high"]],
    ("axes", "n"): [[1, 2]], ("limits", "concurrency"): [1, 16], ("limits", "rpm"): [Decimal("0.5"), 600],
    ("limits", "budget_usd"): [Decimal("0.5"), 100], ("limits", "timeout_s"): [Decimal("0.5"), 3600],
    ("limits", "max_attempts"): [1, 20], ("limits", "run_deadline_s"): [60], ("limits", "max_retry_after_s"): [1],
    ("simulator", "time_scale"): [0, Decimal("0.01")], ("simulator", "seed"): [7],
    ("simulator", "faults"): ["rate_limit; times=2", [{"kind": "500"}]], ("operation",): ["generate"],
}
duplicates = st.sampled_from([[1, Decimal("1.0")], ["low", "low"], ["1024x1024", "1024x1024"], [True, True],
                              ["a red fox", "a red fox"]])


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        if v.is_nan():
            return "nan"
        if v.is_infinite():
            return "inf" if v > 0 else "-inf"
        text = format(v, "f")
        return text if "." in text else text + ".0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + escape(v) + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def _toml_key(k: str) -> str:
    return '"' + escape(str(k)) + '"'


def to_toml(doc: dict) -> str:
    """A TOML document for ``doc``: scalars first, then one [table] per dict (the spec's layout)."""
    head = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    tables = []
    for k, v in doc.items():
        if isinstance(v, dict):
            tables.append(f"[{_toml_key(k)}]")
            tables += [f"{_toml_key(kk)} = {_toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(head + tables) + "\n"


def _set(doc: dict, path: tuple, value) -> None:
    # A copy: sampled_from hands out the *same* list/dict object on every draw (PLAUSIBLE, duplicates), so
    # setting it in place let a later mutation write into the shared object, across examples too, and
    # ("axes", "size") = D then ("axes", "size", 0) = D made D contain itself: a RecursionError in _toml_value.
    value = copy.deepcopy(value)
    node = doc
    for part in path[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(part, {})
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return
    last = path[-1]
    if isinstance(node, dict) or (isinstance(node, list) and isinstance(last, int) and last < len(node)):
        node[last] = value


mutation = st.one_of(
    st.sampled_from(sorted(PLAUSIBLE)).flatmap(lambda p: st.tuples(st.just("set"), st.just(p),
                                                                  st.sampled_from(PLAUSIBLE[p]))),
    st.tuples(st.just("set"), st.sampled_from(PATHS), values),
    st.tuples(st.just("set"), st.sampled_from(PATHS), duplicates),
    st.tuples(st.just("unknown"), st.sampled_from([(), ("params",), ("axes",), ("limits",), ("simulator",)]),
              st.tuples(st.one_of(st.text(min_size=1, max_size=10),
                                  st.sampled_from(["qualty", "promts", "operaton", "timeout", "concurency", "edit"])),
                        scalars)),
    st.tuples(st.just("drop"), st.sampled_from(PATHS), st.none()),
)


def mutate(mutations) -> dict:
    """BASE with ``mutations`` ((kind, path, arg) tuples) applied; neither BASE nor any arg is changed."""
    doc = copy.deepcopy(BASE)
    for kind, path, arg in mutations:
        if kind == "set":
            _set(doc, path, arg)
        elif kind == "unknown":
            key, value = arg
            _set(doc, (*path, key), value)
        elif kind == "drop":
            node = doc
            for part in path[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                node.pop(path[-1], None)
    return doc


@st.composite
def spec_files(draw) -> bytes:
    raw = to_toml(mutate(draw(st.lists(mutation, min_size=1, max_size=3)))).encode("utf-8")
    if draw(st.integers(0, 9)) == 0:  # damage the bytes: encoding and syntax errors
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=3)) + raw[at + 1:]
    return raw


class FailProvider:
    """Stands in for every provider: a request reaching it fails the test."""

    simulated = True

    def generate(self, request, *, timeout, input_files=()):
        raise AssertionError(f"a request was sent while checking a spec: {request}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(raw=spec_files())
def test_fuzzed_specs_are_accepted_or_refused_with_exit_2_and_nothing_is_sent(tmp_path, raw):
    path = tmp_path / "fuzz.toml"
    path.write_bytes(raw)
    store = Store(tmp_path / "home")
    try:
        run = GridRun(path, provider=FailProvider(), store=store, today=TODAY)
    except REFUSALS as exc:
        event(f"refused: {type(exc).__name__}")
        message = str(exc)
        assert "Fix:" in message, message
        assert "Traceback" not in message
        return
    # Accepted: every value was valid, and the spec survives Save spec / resume.
    event("accepted")
    assert loads_spec(run.spec.to_toml()) == loads_spec(raw.decode("utf-8-sig"))
    assert store.count_runs() == 0  # the constructor never records or sends anything


def test_a_value_set_twice_never_nests_into_itself_or_changes_the_strategies():
    """The draw that hit RecursionError: the same sampled list set at a path and then inside itself."""
    shared = [1, Decimal("1.0")]
    before = copy.deepcopy((shared, PLAUSIBLE, BASE))
    doc = mutate([("set", ("axes", "size"), shared), ("set", ("axes", "size", 0), shared),
                  ("set", ("simulator", "faults"), PLAUSIBLE[("simulator", "faults")][1]),
                  ("set", ("simulator", "faults", 0), "x")])
    assert doc["axes"]["size"] == [[1, Decimal("1.0")], Decimal("1.0")]
    assert "[[1, 1.0], 1.0]" in to_toml(doc)
    assert (shared, PLAUSIBLE, BASE) == before
