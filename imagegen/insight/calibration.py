"""Calibrate the catalog from our own real runs: what ``usage`` and latency say against the catalog.

Real results are ``ok`` results that are not simulated, not reused from history and not replayed
from a recording (a replay copies another run's figures; counting it would count them twice).
Everything is aggregated in SQL over the store's ``result_rows`` view (a handful of grouped rows
reach Python), so a store of 100,000 results calibrates in well under 2 s
(``bench/bench_calibration.py``).

* **Output tokens** per model x provider x quality x size x n x partial images (x complexity where
  the store records it): n, mean, min-max, spread, the catalog's figure for that request and its
  status (documented / derived / assumed, or ``measured (ours, n = …)`` once adopted), deviation.
  Quality and size are the resolved ones the response reported (``auto`` resolved), else the requested.
* **Input text tokens** per model x provider: billed against our offline o200k_base count of each
  prompt (an estimate).
* **Input image tokens** per model x provider (edits): measured only; the store keeps no input sizes.
* **Latency** per model x provider: a least-squares fit ``latency = overhead + tokens / tokens_per_s``
  over non-streamed results, with the residual spread, next to a prior the caller passes in.

:func:`proposals` turns output-token entries into local token overrides
(:mod:`imagegen.core.token_overrides`) with their provenance; nothing is written here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from imagegen.core.catalog import PROVIDER_FLAVOUR, Catalog
from imagegen.core.token_overrides import TokenOverride
from imagegen.core.tokens import count_text_tokens, request_output_tokens, token_figure

#: ``Store.query`` (a DataFrame) or ``Store.rows`` (named tuples, no pandas needed): both work.
if TYPE_CHECKING:
    import pandas as pd

QueryFn = Callable[[str, Sequence], "pd.DataFrame | list"]
#: Where real results come from (the same filter for every figure).
ENCODING = "o200k_base"
REAL = ("status = 'ok' AND COALESCE(simulated, 0) = 0 AND COALESCE(reused, 0) = 0")


@dataclass(frozen=True)
class LatencyPrior:
    """A latency model to compare the fit with: ``overhead_s + tokens / tokens_per_s``, and where it comes from."""

    tokens_per_s: float
    overhead_s: float
    source: str


@dataclass(frozen=True)
class OutputEntry:
    """Measured output image tokens of one request setting against the catalog's figure."""

    model: str
    provider: str
    quality: str
    size: str
    n_images: int
    partial_images: int
    complexity: str | None
    n: int
    mean: float
    min: int
    max: int
    sd: float
    catalog: int | None
    catalog_status: str
    adopted: str | None
    runs: tuple[str, ...]
    first: str
    last: str

    @property
    def deviation(self) -> float | None:
        return None if self.catalog is None else self.mean - self.catalog

    @property
    def deviation_pct(self) -> float | None:
        return None if not self.catalog else (self.mean - self.catalog) / self.catalog * 100

    @property
    def per_image(self) -> float:
        return self.mean / max(self.n_images, 1)


@dataclass(frozen=True)
class InputTextEntry:
    """Billed input text tokens against our offline count (o200k_base) of the same prompts."""

    model: str
    provider: str
    n: int
    mean: float
    min: int
    max: int
    counted_mean: float
    status: str = "estimated (o200k_base offline count)"

    @property
    def deviation(self) -> float:
        return self.mean - self.counted_mean

    @property
    def deviation_pct(self) -> float | None:
        return None if not self.counted_mean else self.deviation / self.counted_mean * 100


@dataclass(frozen=True)
class InputImageEntry:
    """Billed input image tokens of edits (the store keeps no input sizes to compare with)."""

    model: str
    provider: str
    n: int
    mean: float
    min: int
    max: int


@dataclass(frozen=True)
class LatencyEntry:
    """The per-model latency fit ``overhead_s + tokens / tokens_per_s`` with its spread, against a prior."""

    model: str
    provider: str
    n: int
    tokens_per_s: float | None
    overhead_s: float | None
    residual_sd_s: float | None
    mean_s: float
    min_s: float
    max_s: float
    prior: LatencyPrior | None


@dataclass(frozen=True)
class Calibration:
    """Everything :func:`calibrate` found; ``to_dict`` is the ``calibrate --json`` document."""

    output: tuple[OutputEntry, ...]
    input_text: tuple[InputTextEntry, ...]
    input_image: tuple[InputImageEntry, ...]
    latency: tuple[LatencyEntry, ...]
    results: int
    dimensions: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        def entry(e) -> dict:
            d = asdict(e)
            for name in ("deviation", "deviation_pct", "per_image"):
                if hasattr(type(e), name):
                    d[name] = getattr(e, name)
            return d
        return {"results": self.results, "real_results": "ok, not simulated, not reused, not replayed",
                "dimensions": list(self.dimensions),
                "output_tokens": [entry(e) for e in self.output],
                "input_text_tokens": [entry(e) for e in self.input_text],
                "input_image_tokens": [entry(e) for e in self.input_image],
                "latency": [entry(e) for e in self.latency]}


def _records(result) -> list:
    """Named tuples from a DataFrame (``Store.query``) or a list of them (``Store.rows``)."""
    return list(result.itertuples(index=False)) if hasattr(result, "itertuples") else list(result)


def _columns(query: QueryFn) -> set[str]:
    return {r.name for r in _records(query("SELECT name FROM pragma_table_info('result_rows')", ()))}


def _real_filter(cols: set[str]) -> str:
    where = REAL
    if "replayed_from" in cols:
        where += " AND replayed_from IS NULL"
    return where


def _catalog_figure(catalog: Catalog, model: str, quality: str, size: str, n: int, partials: int,
                    complexity: str | None = None) -> tuple[int | None, str]:
    """The catalog's own figure (local overrides ignored) and its status label for a resolved setting."""
    if not catalog.has_model(model):
        return None, "not in the catalog"
    tm = catalog.token_model(catalog.model(model))
    if quality not in tm.qualities():
        return None, f"no figure for quality {quality!r}"
    try:
        tokens = request_output_tokens(tm, quality, size, n, partials, complexity or None)
        label = token_figure(tm, quality, size, complexity or None).label
    except (ValueError, KeyError):
        return None, f"no figure for size {size!r}"
    return tokens, label


def _cells(query: QueryFn, cols: set[str]) -> list:
    """One pass over the real results, grouped per run x cell x resolved setting, with every sum we need."""
    cx = "complexity" if "complexity" in cols else "NULL"
    streamed = "COALESCE(stream, 0) = 1"
    plain = f"NOT ({streamed}) AND latency_s IS NOT NULL AND output_tokens IS NOT NULL"
    return _records(query(
        "SELECT run_id, model, provider, prompt, COALESCE(resolved_quality, quality) AS q,"
        " COALESCE(resolved_size, size) AS s, COALESCE(n, 1) AS n_images,"
        f" CASE WHEN {streamed} THEN COALESCE(partial_images, 0) ELSE 0 END AS p, {cx} AS cx,"
        " COUNT(t) AS cnt, SUM(t) AS sx, SUM(t * t) AS sxx, MIN(t) AS lo, MAX(t) AS hi,"
        " MIN(created_at) AS first, MAX(created_at) AS last,"
        " COUNT(input_text_tokens) AS tcnt, SUM(input_text_tokens) AS tsum, MIN(input_text_tokens) AS tlo,"
        " MAX(input_text_tokens) AS thi,"
        " SUM(input_image_tokens > 0) AS icnt, SUM(CASE WHEN input_image_tokens > 0 THEN input_image_tokens END)"
        " AS isum, MIN(CASE WHEN input_image_tokens > 0 THEN input_image_tokens END) AS ilo,"
        " MAX(input_image_tokens) AS ihi,"
        f" SUM({plain}) AS lcnt, SUM(CASE WHEN {plain} THEN x END) AS lx, SUM(CASE WHEN {plain} THEN latency_s END)"
        f" AS ly, SUM(CASE WHEN {plain} THEN x * x END) AS lxx, SUM(CASE WHEN {plain} THEN x * latency_s END) AS lxy,"
        f" SUM(CASE WHEN {plain} THEN latency_s * latency_s END) AS lyy,"
        f" MIN(CASE WHEN {plain} THEN latency_s END) AS llo, MAX(CASE WHEN {plain} THEN latency_s END) AS lhi"
        " FROM (SELECT *, output_tokens - COALESCE(output_text_tokens, 0) AS t, CAST(output_tokens AS REAL) AS x"
        f" FROM result_rows WHERE {_real_filter(cols)})"
        " GROUP BY run_id, cell_id, q, s, cx", ()))


def _lo(a, b):
    return b if a is None else a if b is None else min(a, b)


def _hi(a, b):
    return b if a is None else a if b is None else max(a, b)


def _output(rows: list, catalog: Catalog) -> tuple[list[OutputEntry], int]:
    acc: dict[tuple, dict] = {}
    for r in rows:
        if not r.cnt or r.q in (None, "auto") or r.s in (None, "auto"):
            continue  # no usage, or an auto setting the response did not resolve: nothing to compare
        key = (r.model, PROVIDER_FLAVOUR.get(r.provider, r.provider), r.q, r.s, int(r.n_images), int(r.p), r.cx)
        a = acc.setdefault(key, {"cnt": 0, "sx": 0.0, "sxx": 0.0, "lo": None, "hi": None, "first": r.first,
                                 "last": r.last, "runs": set()})
        a["cnt"] += int(r.cnt)
        a["sx"] += float(r.sx)
        a["sxx"] += float(r.sxx)
        a["lo"], a["hi"] = _lo(a["lo"], int(r.lo)), _hi(a["hi"], int(r.hi))
        a["first"], a["last"] = min(a["first"], r.first), max(a["last"], r.last)
        a["runs"].add(r.run_id)
    out = []
    total = 0
    for (model, provider, q, s, n_images, p, cx), a in sorted(acc.items(), key=lambda kv: tuple(map(str, kv[0]))):
        cnt = a["cnt"]
        total += cnt
        mean = a["sx"] / cnt
        sd = math.sqrt(max(0.0, a["sxx"] / cnt - mean * mean))
        figure, status = _catalog_figure(catalog, model, q, s, n_images, p, cx)
        ours = catalog.measured_tokens(model, q, s)
        out.append(OutputEntry(model, provider, q, s, n_images, p, cx, cnt, mean, a["lo"], a["hi"], sd, figure,
                               status, ours.label if ours else None, tuple(sorted(a["runs"])),
                               a["first"][:10], a["last"][:10]))
    return out, total


def _input_text(rows: list, counts: Mapping[str, int]) -> list[InputTextEntry]:
    acc: dict[tuple, list] = {}
    for r in rows:
        if not r.tcnt:
            continue
        key = (r.model, PROVIDER_FLAVOUR.get(r.provider, r.provider))
        a = acc.setdefault(key, [0, 0.0, None, None, 0.0])
        a[0] += int(r.tcnt)
        a[1] += float(r.tsum)
        a[2], a[3] = _lo(a[2], int(r.tlo)), _hi(a[3], int(r.thi))
        a[4] += counts[str(r.prompt)] * int(r.tcnt)
    return [InputTextEntry(m, p, a[0], a[1] / a[0], a[2], a[3], a[4] / a[0]) for (m, p), a in sorted(acc.items())]


def _input_image(rows: list) -> list[InputImageEntry]:
    acc: dict[tuple, list] = {}
    for r in rows:
        if not r.icnt:
            continue
        key = (r.model, PROVIDER_FLAVOUR.get(r.provider, r.provider))
        a = acc.setdefault(key, [0, 0.0, None, None])
        a[0] += int(r.icnt)
        a[1] += float(r.isum)
        a[2], a[3] = _lo(a[2], int(r.ilo)), _hi(a[3], int(r.ihi))
    return [InputImageEntry(m, p, a[0], a[1] / a[0], a[2], a[3]) for (m, p), a in sorted(acc.items())]


def _latency(rows: list, priors: Mapping[str, LatencyPrior]) -> list[LatencyEntry]:
    acc: dict[tuple, list] = {}
    for r in rows:
        if not r.lcnt:
            continue
        key = (r.model, PROVIDER_FLAVOUR.get(r.provider, r.provider))
        a = acc.setdefault(key, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, math.inf, -math.inf])
        for i, v in enumerate((r.lcnt, r.lx, r.ly, r.lxx, r.lxy, r.lyy)):
            a[i] += float(v)
        a[6], a[7] = min(a[6], float(r.llo)), max(a[7], float(r.lhi))
    out = []
    for (model, provider), (cnt, sx, sy, sxx, sxy, syy, lo, hi) in sorted(acc.items()):
        cnt = int(cnt)
        var_x = sxx - sx * sx / cnt
        tps = overhead = resid = None
        if cnt >= 2 and var_x > 1e-9:
            slope = (sxy - sx * sy / cnt) / var_x
            intercept = (sy - slope * sx) / cnt
            sse = syy - intercept * sy - slope * sxy  # residual sum of squares of the least-squares line
            resid = math.sqrt(max(0.0, sse) / max(cnt - 2, 1))
            overhead = intercept
            tps = 1 / slope if slope > 0 else None
        out.append(LatencyEntry(model, provider, cnt, tps, overhead, resid, sy / cnt, lo, hi,
                                priors.get(model) or priors.get("*")))
    return out


def prompt_token_counts(prompts: Sequence[str], cache: Path | None = None) -> dict[str, int]:
    """Our o200k_base count of each prompt; ``cache`` (a JSON file) keeps them so the encoding loads once."""
    known: dict[str, int] = {}
    if cache is not None:
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
            if data.get("encoding") == ENCODING:
                known = {str(k): int(v) for k, v in data.get("counts", {}).items()}
        except (OSError, ValueError, AttributeError, TypeError):
            known = {}  # a missing or damaged cache only costs the recount
    out, added = {}, False
    for prompt in set(prompts):
        digest = hashlib.sha256(prompt.encode()).hexdigest()[:32]
        if digest not in known:
            known[digest] = count_text_tokens(prompt)
            added = True
        out[prompt] = known[digest]
    if cache is not None and added:
        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f".{cache.name}.tmp")
            tmp.write_text(json.dumps({"encoding": ENCODING, "counts": known}), encoding="utf-8")
            tmp.replace(cache)
    return out


def calibrate(query: QueryFn, catalog: Catalog, priors: Mapping[str, LatencyPrior] | None = None, *,
              token_cache: Path | None = None) -> Calibration:
    """Compare every real result in the store (``query`` = ``Store.query``) with ``catalog``.

    ``priors`` maps a model id (or ``"*"`` for every model) to the latency model to compare the fit with;
    ``token_cache`` is a JSON file for our prompt token counts (see :func:`prompt_token_counts`).
    """
    cols = _columns(query)
    rows = _cells(query, cols)
    output, total = _output(rows, catalog)
    counts = prompt_token_counts([str(r.prompt) for r in rows if r.tcnt], token_cache)
    dims = ("model", "provider", "quality", "size", "n", "partial_images") + (
        ("complexity",) if "complexity" in cols else ())
    return Calibration(tuple(output), tuple(_input_text(rows, counts)), tuple(_input_image(rows)),
                       tuple(_latency(rows, priors or {})), total, dims)


def proposals(cal: Calibration, catalog: Catalog, *, adopted_by: str, today: date, min_n: int = 1,
              models: Sequence[str] = ()) -> list[TokenOverride]:
    """Local token overrides from the output-token entries (per image, plain requests without partial images).

    One override per model x quality x size, pooled over providers and ``n``; only settings with at
    least ``min_n`` results whose rounded mean differs from the catalog's figure. ``models`` narrows them.
    """
    pooled: dict[tuple[str, str, str], list] = {}
    for e in cal.output:
        if e.partial_images or e.complexity not in (None, "") or (models and e.model not in models):
            continue
        key = (e.model, e.quality, e.size)
        a = pooled.setdefault(key, [0, 0.0, math.inf, -math.inf, set(), e.first, e.last, set()])
        per = max(e.n_images, 1)
        a[0] += e.n
        a[1] += e.mean / per * e.n
        a[2], a[3] = min(a[2], e.min / per), max(a[3], e.max / per)
        a[4].update(e.runs)
        a[5], a[6] = min(a[5], e.first), max(a[6], e.last)
        a[7].add(e.provider)
    out = []
    for (model, quality, size), (n, sx, lo, hi, runs, first, last, provs) in sorted(pooled.items()):
        if n < min_n or not catalog.has_model(model):
            continue
        mean = round(sx / n)
        figure, status = _catalog_figure(catalog, model, quality, size, 1, 0)
        if figure is not None and mean == figure:
            continue
        out.append(TokenOverride(
            model=catalog.model(model).id, quality=quality, size=size, output_tokens=mean, catalog_tokens=figure,
            catalog_status=status, n=n, min=min(math.floor(lo), mean), max=max(math.ceil(hi), mean),
            runs=tuple(sorted(runs)), first=date.fromisoformat(first), last=date.fromisoformat(last),
            provider="azure" if provs == {"azure"} else "openai", adopted_by=adopted_by, adopted_on=today))
    return out
