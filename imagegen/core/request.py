"""One image request and its validation against the catalog, before anything is built or sent."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field, replace
from datetime import date

from imagegen.core import lifecycle
from imagegen.core.catalog import Catalog, ModelSpec, size_problem
from imagegen.core.validation import control_problem, printable
from imagegen.errors import CatalogError, InvalidRequest, Problem

MAX_PROMPT_CHARS = 32_000
RUNTIME_PROVIDERS = ("simulator", "openai", "azure", "compatible")
BACKGROUNDS = ("auto", "opaque", "transparent")
OPERATIONS = ("generate", "edit")
MAX_INPUT_IMAGES = 16
#: Request fields that may be set in a grid spec's [params] or [axes], by API name.
PARAM_NAMES = (
    "size",
    "quality",
    "background",
    "output_format",
    "output_compression",
    "moderation",
    "n",
    "stream",
    "partial_images",
    "input_fidelity",
    "complexity",
    "frame_count",
    "frame_duration_ms",
)
#: GIF output: frame_count 2..16 (SDK 3.57 docstring); frame_duration_ms is rounded to 10 ms, capped.
FRAME_COUNT_RANGE = (2, 16)
MAX_FRAME_DURATION_MS = 655_350


@dataclass(frozen=True)
class ImageRequest:
    """A request to the Images API, by API parameter names (``model`` is the catalog id).

    On Azure the wire ``model``/path carries ``deployment`` instead; the catalog id is kept here so
    the request can be priced and validated.
    """

    model: str
    prompt: str
    provider: str = "simulator"
    size: str = "auto"
    quality: str = "auto"
    background: str = "auto"
    output_format: str = "png"
    output_compression: int | None = None
    moderation: str = "auto"
    n: int = 1
    stream: bool = False
    partial_images: int = 0
    operation: str = "generate"
    input_fidelity: str | None = None
    input_images: tuple[tuple[int, int], ...] = field(default=())
    deployment: str | None = None
    #: gpt-image-2.6: computation spent planning the image (low/medium/high); None = omitted.
    complexity: str | None = None
    #: GIF output only (access-gated): frames 2..16 and the delay per frame.
    frame_count: int | None = None
    frame_duration_ms: int | None = None

    def with_(self, **changes) -> ImageRequest:
        return replace(self, **changes)

    def params(self) -> dict:
        """Every request parameter under its API name (for specs, exports, estimates)."""
        d = asdict(self)
        d.pop("input_images")
        return d

    def api_body(self) -> dict:
        """The JSON body (generate) or form fields (edit) sent to the API, without the image files."""
        body: dict = {
            "model": self.deployment or self.model,
            "prompt": self.prompt,
            "size": self.size,
            "quality": self.quality,
            "background": self.background,
            "output_format": self.output_format,
            "n": self.n,
        }
        if self.output_compression is not None:
            body["output_compression"] = self.output_compression
        if self.operation == "generate":
            body["moderation"] = self.moderation
        if self.stream:
            body["stream"] = True
            body["partial_images"] = self.partial_images
        if self.input_fidelity is not None:
            body["input_fidelity"] = self.input_fidelity
        for key in ("complexity", "frame_count", "frame_duration_ms"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return body


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _one_of(values) -> str:
    return "one of " + ", ".join(repr(v) for v in values)


@functools.lru_cache(maxsize=256)
def _prompt_problem(prompt: str) -> Problem | None:
    """Why a prompt's characters are refused (cached: a grid checks the same prompt in every cell)."""
    if not printable(prompt):
        return Problem("prompt", prompt, "a text with visible characters", "write a prompt")
    why = control_problem(prompt)
    if why:
        return Problem("prompt", prompt, f"text without control characters (this one {why})",
                       "remove it (paste the prompt as plain text); tabs and newlines are fine")
    return None


def problems(req: ImageRequest, catalog: Catalog, today: date) -> list[Problem]:
    """Every reason ``req`` would be refused on date ``today`` (empty when it is valid). Never raises."""
    out: list[Problem] = []
    add = out.append

    if not isinstance(req.prompt, str) or not req.prompt.strip():
        add(Problem("prompt", req.prompt, "a non-empty text", "write a prompt"))
    elif len(req.prompt) > MAX_PROMPT_CHARS:
        add(Problem("prompt", f"<{len(req.prompt):,} characters>", f"at most {MAX_PROMPT_CHARS:,} characters",
                    f"shorten it by {len(req.prompt) - MAX_PROMPT_CHARS:,} characters"))
    elif _prompt_problem(req.prompt):
        add(_prompt_problem(req.prompt))
    if req.provider not in RUNTIME_PROVIDERS:
        add(Problem("provider", req.provider, _one_of(RUNTIME_PROVIDERS), "choose a supported provider"))
        return out
    if not isinstance(req.model, str) or not catalog.has_model(req.model):
        add(Problem("model", req.model, _one_of(sorted(catalog.models)), "choose a catalog model"))
        return out
    model = catalog.model(req.model)
    _lifecycle(req, catalog, today, add)
    _size(req, model, add)
    _quality(req, model, add)
    formats = model.formats_for(req.provider)
    if req.output_format not in formats:
        fix = "use png or jpeg (Azure documents no WEBP)" if req.provider == "azure" and req.output_format == "webp" \
            else f"use {formats[0]}"
        add(Problem("output_format", req.output_format, f"{_one_of(formats)} for {model.id} on {req.provider}", fix))
    if req.background not in BACKGROUNDS:
        add(Problem("background", req.background, _one_of(BACKGROUNDS), "use auto, opaque or transparent"))
    elif req.background == "transparent":
        if not model.transparency:
            add(Problem("background", "transparent", f"auto or opaque for {model.id} (no transparency)",
                        "use background=opaque or a gpt-image-1 family model"))
        elif req.output_format not in ("png", "webp"):
            add(Problem("background", "transparent", f"only with output_format png or webp (got {req.output_format!r})",
                        "set output_format=png, or background=opaque"))
    _compression(req, model, add)
    if req.moderation not in model.moderation:
        add(Problem("moderation", req.moderation, _one_of(model.moderation), "use auto or low"))
    elif req.operation == "edit" and req.moderation != "auto":
        add(Problem("moderation", req.moderation, "only on generations (edits take no moderation parameter)",
                    "leave moderation=auto for edits"))
    if not _is_int(req.n) or not 1 <= req.n <= model.n_max:
        add(Problem("n", req.n, f"an integer 1..{model.n_max}", f"use n between 1 and {model.n_max}"))
    _streaming(req, model, add)
    _edit(req, model, add)
    _complexity(req, model, add)
    _gated(req, model, add)
    return disputed(out, model)


def disputed(found: list[Problem], model: ModelSpec) -> list[Problem]:
    """``found`` with a word on each refusal the catalog records a conflict about (``model.disputed``).

    The refusal stands (the entry follows the source it names), but a user told "not allowed" where a
    third party says it works should hear that sources disagree, and where to read both sides.
    """
    if not model.conflict or not model.disputed:
        return found
    note = (f" (sources disagree on what {model.id} accepts here; `python -m imagegen catalog check` shows "
            "the conflict)")
    return [replace(p, fix=p.fix + note) if p.field in model.disputed else p for p in found]


def warnings(req: ImageRequest, catalog: Catalog) -> list[str]:
    """Things a valid request should be told before it is sent (preview support, access gates)."""
    if not catalog.has_model(req.model):
        return []
    model = catalog.model(req.model)
    out = []
    if req.background == "transparent" and model.transparency and model.transparency_stage == "preview":
        out.append(f"transparent backgrounds on {model.id} are in preview (SDK 3.57): the service may still "
                   "refuse them or return an opaque image")
    if req.output_format in model.gated_formats:
        out.append(f"output_format={req.output_format} on {model.id} needs access to a preview: without it the "
                   "service refuses the request")
    return out


def _complexity(req: ImageRequest, model: ModelSpec, add) -> None:
    c = req.complexity
    if c is None:
        return
    if not model.complexity:
        add(Problem("complexity", c, f"omitted for {model.id} (complexity is documented for gpt-image-2.6 only)",
                    "remove complexity, or use gpt-image-2.6-flare / -sunburst"))
    elif c not in model.complexity:
        add(Problem("complexity", c, f"{_one_of(model.complexity)} for {model.id}", "use low, medium or high"))


def _gated(req: ImageRequest, model: ModelSpec, add) -> None:
    """GIF/SVG output rules (SDK 3.57): frames only with gif; neither streams nor compresses."""
    fmt = req.output_format
    for key in ("frame_count", "frame_duration_ms"):
        if getattr(req, key) is not None and fmt != "gif":
            add(Problem(key, getattr(req, key), "only with output_format=gif", f"remove {key}, or set output_format=gif"))
    if fmt not in ("gif", "svg") or fmt not in model.gated_formats:
        return
    fc, fd = req.frame_count, req.frame_duration_ms
    lo, hi = FRAME_COUNT_RANGE
    if fc is not None and (not _is_int(fc) or not lo <= fc <= hi):
        add(Problem("frame_count", fc, f"an integer {lo}..{hi}", f"use {lo} to {hi} frames"))
    if fd is not None and (not _is_int(fd) or not 0 < fd <= MAX_FRAME_DURATION_MS):
        add(Problem("frame_duration_ms", fd, f"an integer 1..{MAX_FRAME_DURATION_MS:,}", "use e.g. 200"))
    if req.stream:
        add(Problem("stream", True, f"false with output_format={fmt} (no streaming)", "turn streaming off"))
    if fmt == "svg" and req.n != 1:
        add(Problem("n", req.n, "1 with output_format=svg", "use n=1"))


def _lifecycle(req: ImageRequest, catalog: Catalog, today: date, add) -> None:
    life = lifecycle.status(catalog, req.model, req.provider, today)
    if life.runnable:
        return  # live or retiring; the simulator serves every model, compatible endpoints decide for themselves
    add(lifecycle_problem(life, req.model))


def lifecycle_problem(life: lifecycle.Lifecycle, value: str) -> Problem:
    """The validation message for a model that cannot run on its provider on the day (``value`` as written)."""
    allowed = f"a model that runs on {life.provider} on {life.on.isoformat()} ({life.sentence.rstrip('.')})"
    if life.state == "not_offered":
        others = "the simulator" if life.provider == "azure" else "another provider"
        return Problem("model", value, allowed, f"choose another model or run it on {others}")
    fix = f"use {life.successor}" if life.successor else "use a model live there"
    return Problem("model", value, allowed, f"{fix}, or the simulator to reproduce its documented behaviour")


def _size(req: ImageRequest, model: ModelSpec, add) -> None:
    why = size_problem(model, req.size, req.provider)
    if why is None:
        return
    if model.sizes is not None:
        add(Problem("size", req.size, f"{_one_of(model.sizes)} or 'auto' for {model.id} ({why})",
                    f"use one of {', '.join(model.sizes)}"))
        return
    rule = model.size_rule
    assert rule is not None
    add(Problem("size", req.size, f"{rule.describe()}; refused because {why}",
                "pick a size such as 1024x1024, 1536x1024 or 2048x1152"))


def _quality(req: ImageRequest, model: ModelSpec, add) -> None:
    if req.quality == "auto" or req.quality in model.qualities:
        return
    fix = "standard/hd are DALL·E values; use low, medium or high" if req.quality in ("standard", "hd") \
        else f"use one of {', '.join(model.qualities)} or auto"
    add(Problem("quality", req.quality, f"{_one_of((*model.qualities, 'auto'))} for {model.id}", fix))


def _compression(req: ImageRequest, model: ModelSpec, add) -> None:
    c = req.output_compression
    if c is None:
        return
    if not _is_int(c) or not 0 <= c <= 100:
        add(Problem("output_compression", c, "an integer 0..100", "use a value between 0 and 100"))
    elif not model.compression:
        add(Problem("output_compression", c, f"unset for {model.id}", "remove output_compression"))
    elif req.output_format not in ("jpeg", "webp"):
        add(Problem("output_compression", c, f"only with output_format jpeg or webp (got {req.output_format!r})",
                    "remove output_compression, or set output_format=jpeg"))


def _streaming(req: ImageRequest, model: ModelSpec, add) -> None:
    if not isinstance(req.stream, bool):
        add(Problem("stream", req.stream, "true or false", "use a boolean"))
        return
    if req.stream and not model.streaming:
        add(Problem("stream", True, f"false for {model.id}", "turn streaming off"))
    p = req.partial_images
    if not _is_int(p) or not 0 <= p <= model.partial_images_max:
        add(Problem("partial_images", p, f"an integer 0..{model.partial_images_max}",
                    f"use 0 to {model.partial_images_max}"))
    elif p > 0 and not req.stream:
        add(Problem("partial_images", p, "only with stream=true", "set stream=true, or partial_images=0"))


def _edit(req: ImageRequest, model: ModelSpec, add) -> None:
    if req.operation not in OPERATIONS:
        add(Problem("operation", req.operation, _one_of(OPERATIONS), "use generate or edit"))
        return
    fid = req.input_fidelity
    if req.operation == "generate":
        if fid is not None:
            add(Problem("input_fidelity", fid, "only on edits", "remove input_fidelity"))
        return
    if not model.edits:
        add(Problem("operation", "edit", f"generate only for {model.id}", "use a model that supports edits"))
    if not 1 <= len(req.input_images) <= MAX_INPUT_IMAGES:
        add(Problem("image", f"<{len(req.input_images)} images>", f"1..{MAX_INPUT_IMAGES} input images",
                    "attach at least one image"))
    if fid is not None and fid not in model.input_fidelity:
        allowed = _one_of(model.input_fidelity) if model.input_fidelity else "no input_fidelity (omit it)"
        add(Problem("input_fidelity", fid, f"{allowed} for {model.id}", "remove input_fidelity or use low"
                    if "low" in model.input_fidelity else "remove input_fidelity"))


def validate(req: ImageRequest, catalog: Catalog, today: date) -> ImageRequest:
    """Return ``req`` when every rule holds on ``today``; otherwise raise InvalidRequest listing every problem."""
    try:
        found = problems(req, catalog, today)
    except (TypeError, ValueError, AttributeError, CatalogError) as exc:  # odd types from user input
        raise InvalidRequest([Problem("request", repr(req)[:200], "well-formed parameters", str(exc))]) from None
    if found:
        raise InvalidRequest(found, context=f"{req.model} on {req.provider}")
    return req
