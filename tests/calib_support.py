"""Stores of "real" results for calibration tests: rows written through the Store's own API.

No machine here reaches OpenAI, so a real run is written the way the runner records one from a
real provider: ``simulated=False``, with the usage and latency we choose (e.g. deliberately shifted
from the catalog). Nothing is claimed about a real service: these are test fixtures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from imagegen.core.catalog import Catalog
from imagegen.core.grid import estimate_grid, loads_spec
from imagegen.core.pricing import Usage, billed_cost
from imagegen.core.results import Attempt, Generation
from imagegen.storage.store import ResultRecord, Store

TODAY = date(2026, 12, 1)
PNG_1x1 = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def real_run(store: Store, catalog: Catalog, *, model: str, quality: str, size: str, output_tokens: Sequence[int],
             latencies: Sequence[float] | None = None, provider: str = "openai", prompt: str = "a red fox",
             text_tokens: int | None = None, simulated: bool = False, today: date = TODAY) -> str:
    """One run of len(output_tokens) repeats of one cell, recorded as answered by ``provider``."""
    spec = loads_spec(f'provider = "{provider}"\nmodel = "{model}"\nprompts = ["{prompt}"]\n'
                      f"repeats = {len(output_tokens)}\n[params]\nquality = \"{quality}\"\nsize = \"{size}\"\n")
    grid = estimate_grid(spec, catalog, today)
    run_id = store.create_run(spec, grid, simulated=simulated)
    req = grid.cells[0].request
    for r, out in enumerate(output_tokens):
        latency = latencies[r] if latencies is not None else 2.0 + out / 100
        text = text_tokens if text_tokens is not None else grid.estimates[0].input_text_tokens
        usage = {"input_tokens": text, "input_tokens_details": {"text_tokens": text, "image_tokens": 0},
                 "output_tokens": out, "total_tokens": text + out}
        gen = Generation(images=(PNG_1x1,), output_format="png", resolved_quality=quality, resolved_size=size,
                         resolved_background="opaque", usage=usage, wall_s=latency, final_s=latency,
                         request_id=f"req_{r}", simulated=simulated)
        billed = billed_cost(Usage.from_api(usage), req, catalog, quality, size, today)
        store.record_result(ResultRecord(run_id, 0, r, "ok", attempts=(Attempt(1, 1.0e9, latency, True),),
                                         generation=gen, billed=billed, elapsed_s=latency, simulated=simulated))
    store.finish_run(run_id, "finished", 1.0)
    return run_id
