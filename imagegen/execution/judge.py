"""The optional automatic judge: a vision-capable chat model scores each image with a fixed rubric.

* The prompt and rubric are data (``judge_data/rubric.toml``, with a ``version``); every score
  records the version that produced it.
* Judge models and their prices are data too (``judge_data/models.toml``, with source, date and
  status). ``estimate`` prices a judging pass before anything is sent (text tokens of the rubric
  counted offline with o200k, the model's per-image token figure, the full output allowance).
* ``run_judge`` sends one Chat Completions request per image (``image_url`` data URL, detail from
  the rubric) through the same provider settings as the images: OpenAI, Azure OpenAI or a
  compatible endpoint over the openai SDK, or the built-in simulator's deterministic judge route.
  Each call's cost comes from the response's ``usage`` × the model's prices (exact ``Decimal``),
  is stored with the score and added to the run's spend. Scores are labelled ``judge: <model>``
  and live in their own table, never mixed with human votes.
"""

from __future__ import annotations

import base64
import json
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from imagegen.core.imagefile import sniff_format
from imagegen.core.tokens import count_text_tokens
from imagegen.errors import ConfigError, ProviderError
from imagegen.execution.settings import Settings
from imagegen.storage import votes as vote_store
from imagegen.storage.store import Store

DATA = Path(__file__).with_name("judge_data")
MILLION = Decimal(1_000_000)
DEFAULT_MODEL = "gpt-4.1-mini"
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}


@dataclass(frozen=True)
class Rubric:
    """The judge's prompt: system text, a user template with ``{prompt}`` and the criteria, a version."""

    version: str
    system: str
    user: str
    criteria: dict[str, str]
    max_output_tokens: int
    image_detail: str

    def user_text(self, prompt: str) -> str:
        return self.user.format(prompt=prompt, **self.criteria)


def load_rubric(path: Path | str | None = None) -> Rubric:
    """Read and validate the rubric file (a mistake names the file, the key and the fix)."""
    path = Path(path) if path is not None else DATA / "rubric.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"judge rubric {path}: {exc}. Fix: restore the file or correct its TOML.") from None
    for key in ("version", "system", "user", "criteria", "max_output_tokens"):
        if key not in raw:
            raise ConfigError(f"judge rubric {path}: key {key!r} is missing. Fix: add it (see judge_data/rubric.toml).")
    criteria = raw["criteria"]
    missing = [c for c in vote_store.RUBRIC if c not in criteria]
    if missing:
        raise ConfigError(f"judge rubric {path}: criteria {missing} are missing; the rubric scores "
                          f"{', '.join(vote_store.RUBRIC)}. Fix: describe each criterion under [criteria].")
    if "{prompt}" not in raw["user"]:
        raise ConfigError(f"judge rubric {path}: the user template has no {{prompt}}. Fix: add it.")
    detail = raw.get("image_detail", "low")
    if detail not in ("low", "high", "auto"):
        raise ConfigError(f"judge rubric {path}: image_detail = {detail!r}; low, high or auto. Fix: use low.")
    return Rubric(str(raw["version"]), raw["system"].strip(), raw["user"].strip(), dict(criteria),
                  int(raw["max_output_tokens"]), detail)


@dataclass(frozen=True)
class JudgeModel:
    """A judge model's prices (USD per 1M tokens) and the expected input tokens of one image."""

    model: str
    input_usd_per_1m: Decimal
    output_usd_per_1m: Decimal
    image_tokens: int
    effective_from: str
    status: str
    source: str

    def price_entry(self, provider: str) -> str:
        return f"openai/{self.model}@{self.effective_from}" + (" (openai prices)" if provider == "azure" else "")

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        return (Decimal(input_tokens) * self.input_usd_per_1m + Decimal(output_tokens) * self.output_usd_per_1m) \
            / MILLION


def judge_models(path: Path | str | None = None) -> dict[str, JudgeModel]:
    """The judge models file, validated."""
    path = Path(path) if path is not None else DATA / "models.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8")).get("models", {})
    out = {}
    for name, m in raw.items():
        try:
            out[name] = JudgeModel(name, Decimal(m["input_usd_per_1m"]), Decimal(m["output_usd_per_1m"]),
                                   int(m["image_tokens"]), str(m["effective_from"]), str(m["status"]),
                                   str(m["source"]))
        except (KeyError, ArithmeticError, ValueError) as exc:
            raise ConfigError(f"judge models {path}: [models.{name!r}] is incomplete or wrong ({exc}). "
                              "Fix: give input/output_usd_per_1m as strings, image_tokens, effective_from, "
                              "status and source.") from None
    return out


def judge_model(model: str) -> JudgeModel:
    """One judge model's prices; an unknown model is refused before anything is sent."""
    models = judge_models()
    if model not in models:
        raise ConfigError(f"judge model {model!r} has no prices in imagegen/execution/judge_data/models.toml "
                          f"(known: {', '.join(sorted(models))}). Fix: pick one of them or add its prices there.")
    return models[model]


def label(model: str) -> str:
    """How every judge figure is labelled."""
    return f"judge: {model}"


@dataclass(frozen=True)
class Todo:
    """One image to judge."""

    result_id: int
    run_id: str
    prompt: str
    image_path: str       # store-relative path of the image


def pending(store: Store, items: Sequence[Todo], rubric: Rubric, model: str) -> list[Todo]:
    """The items that have no score yet from this judge with this rubric version."""
    run_ids = sorted({t.run_id for t in items})
    done = vote_store.judge_scores(store, run_ids)
    done = done[(done["judge"] == label(model)) & (done["prompt_version"] == rubric.version)]
    have = set(done["result_id"].astype(int))
    return [t for t in items if t.result_id not in have]


@dataclass(frozen=True)
class Estimate:
    """What a judging pass is expected to cost at most (estimated: before anything is sent)."""

    images: int
    per_image_usd: Decimal
    total: Decimal
    price_entry: str
    status: str            # the price data's status (documented | assumed …)


def estimate(items: Sequence[Todo], rubric: Rubric, model: str, settings: Settings) -> Estimate:
    """Upper estimate: rubric text tokens + the model's image tokens in, the full output allowance out."""
    jm = judge_model(model)
    per = Decimal(0)
    total = Decimal(0)
    for t in items:
        text = count_text_tokens(rubric.system) + count_text_tokens(rubric.user_text(t.prompt))
        cost = jm.cost(text + jm.image_tokens, rubric.max_output_tokens)
        total += cost
        per = max(per, cost)
    return Estimate(len(items), per, total, jm.price_entry(settings.provider), jm.status)


def make_judge_client(settings: Settings, simulator_app=None):
    """An SDK provider for the judge on the configured provider (the simulator in-process when no key)."""
    from imagegen.execution.providers import make_provider, make_simulator_provider

    if settings.provider == "simulator":
        return make_simulator_provider(app=simulator_app) if simulator_app is not None else make_simulator_provider()
    return make_provider(settings)


def _parse_verdict(content: str, where: str) -> dict:
    try:
        verdict = json.loads(content)
    except (TypeError, ValueError):
        raise ProviderError("bad_response", f"{where}: the judge did not answer JSON ({str(content)[:80]!r}). "
                            "Fix: use a model that follows JSON instructions, or check the rubric.") from None
    for key in vote_store.RUBRIC:
        value = verdict.get(key) if isinstance(verdict, dict) else None
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise ProviderError("bad_response", f"{where}: the judge's {key} = {value!r} is not an integer 1..5. "
                                "Fix: check the rubric's output format.")
    return verdict


def judge_image(provider, rubric: Rubric, model: str, image: bytes, prompt: str, *,
                timeout: float = 120.0) -> dict:
    """One judge call: returns the verdict, usage tokens, latency and whether the simulator answered."""
    from imagegen.execution.providers.sdk import client_timeout, translate_error

    fmt = sniff_format(image) or "png"
    url = f"data:{MIME.get(fmt, 'image/png')};base64,{base64.b64encode(image).decode('ascii')}"
    messages = [{"role": "system", "content": rubric.system},
                {"role": "user", "content": [
                    {"type": "text", "text": rubric.user_text(prompt)},
                    {"type": "image_url", "image_url": {"url": url, "detail": rubric.image_detail}}]}]
    start = time.perf_counter()
    try:
        raw = provider.client.chat.completions.with_raw_response.create(
            model=model, messages=messages, max_tokens=rubric.max_output_tokens,
            response_format={"type": "json_object"}, timeout=client_timeout(timeout))
        payload = json.loads(raw.http_response.content)
    except ProviderError:
        raise
    except Exception as exc:
        err = translate_error(exc, where=f"judge on {provider.where}", timeout=timeout)
        err.simulated = provider.simulated
        raise err from exc
    latency = time.perf_counter() - start
    simulated = bool(provider.simulated or raw.headers.get("x-simulator") == "true")
    try:
        content = payload["choices"][0]["message"]["content"]
        usage = payload["usage"]
        tokens_in, tokens_out = int(usage["prompt_tokens"]), int(usage["completion_tokens"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise ProviderError("bad_response", f"judge on {provider.where}: the response has no message or usage. "
                            "Fix: check that the endpoint speaks Chat Completions.", simulated=simulated) from None
    verdict = _parse_verdict(content, f"judge on {provider.where}")
    return {"verdict": verdict, "input_tokens": tokens_in, "output_tokens": tokens_out, "latency_s": latency,
            "simulated": simulated}


def run_judge(store: Store, items: Sequence[Todo], rubric: Rubric, model: str, settings: Settings, *,
              provider=None, on_score: Callable[[vote_store.JudgeScore], None] | None = None) -> list[vote_store.JudgeScore]:
    """Judge every item (one call each), store each score with its exact cost as it arrives."""
    jm = judge_model(model)
    provider = provider or make_judge_client(settings)
    wire_model = model
    est = estimate(items, rubric, model, settings)
    per_item = est.per_image_usd
    out = []
    for t in items:
        image = store.image_path(t.image_path).read_bytes()
        answer = judge_image(provider, rubric, wire_model, image, t.prompt)
        v = answer["verdict"]
        overall = round(sum(v[k] for k in vote_store.RUBRIC) / len(vote_store.RUBRIC), 4)
        score = vote_store.JudgeScore(
            result_id=t.result_id, judge=label(model), provider=settings.provider, model=model,
            prompt_version=rubric.version, adherence=v["adherence"], text_rendering=v["text_rendering"],
            artifacts=v["artifacts"], overall=overall, rationale=str(v.get("rationale", ""))[:500],
            input_tokens=answer["input_tokens"], output_tokens=answer["output_tokens"],
            cost_usd=jm.cost(answer["input_tokens"], answer["output_tokens"]), estimated_cost_usd=per_item,
            price_entry=jm.price_entry(settings.provider), latency_s=answer["latency_s"],
            simulated=answer["simulated"])
        vote_store.record_judge_score(store, score)
        out.append(score)
        if on_score is not None:
            on_score(score)
    return out
