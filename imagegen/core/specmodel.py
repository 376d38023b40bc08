"""The grid spec's schema: what every key of a spec file may hold, checked before anything is sent.

Pydantic models in the project's one validation style (:mod:`imagegen.core.validation`): tables
must be tables, integers refuse floats and booleans, numbers are finite and within sane ranges,
unknown keys are refused with a suggestion, axis values are listed once, sizes are canonical
``WIDTHxHEIGHT`` and text holds no control characters. Whether a value is allowed for a model
(its sizes, qualities, ``n`` maximum …) is the catalog's business (:func:`imagegen.core.request.problems`);
this module only checks what a value *is*.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, create_model, field_validator, model_validator

from imagegen.core.request import MAX_PROMPT_CHARS, PARAM_NAMES, RUNTIME_PROVIDERS
from imagegen.core.validation import (
    Strict,
    array,
    boolean,
    control_problem,
    integer,
    number,
    printable,
    refuse,
    show,
    size_problem,
    table,
    text,
)

MAX_AXES = 3
#: Most input images one edit takes (SDK ``images.edit`` docstring).
MAX_EDIT_IMAGES = 16
Provider = Literal["simulator", "openai", "azure", "compatible"]
assert set(Provider.__args__) == set(RUNTIME_PROVIDERS)  # type: ignore[attr-defined]


# -- value types -----------------------------------------------------------------------------------


def _size(value: object) -> str:
    why = size_problem(value)
    if why:
        raise refuse(*why)
    return value  # type: ignore[return-value]


def _prompt(value: object) -> str:
    if not isinstance(value, str):
        raise refuse(f"= {show(value)} is not text", 'write the prompt in quotes, e.g. "a red fox"')
    if not printable(value):
        raise refuse(f"= {show(value)} has no visible characters", 'write a prompt, e.g. "a red fox"')
    if len(value) > MAX_PROMPT_CHARS:
        raise refuse(f"= <{len(value):,} characters> is too long: at most {MAX_PROMPT_CHARS:,} characters",
                     f"shorten it by {len(value) - MAX_PROMPT_CHARS:,} characters")
    why = control_problem(value)
    if why:
        raise refuse(f"= {show(value)} {why}", "remove it (paste the prompt as plain text); tabs and newlines are fine")
    return value


Size = Annotated[str, BeforeValidator(_size)]
Prompt = Annotated[str, BeforeValidator(_prompt)]
Word = text(max_len=100, example="low", what="a value in quotes")
ModelName = text(max_len=200, example="gpt-image-1.5", what="a model id or deployment name")
#: Request integers: the type is checked here, the range per model by the catalog rules.
Whole = integer(None, None, example=1, what="an integer")


def _key(key: str, where: str) -> None:
    why = control_problem(key)
    if why or not key.strip():
        raise refuse(f"has a key {show(key)} that {why or 'is empty'}", f"rename the key in [{where}]")


def _unique(values: list, key: str) -> list:
    """Refuse a value listed twice on an axis (``n = [1, 1.0]`` would pay for the same cell twice)."""
    seen: dict[object, int] = {}
    for i, v in enumerate(values):
        ident: object
        if isinstance(v, bool):
            ident = ("bool", v)
        elif isinstance(v, (int, float, Decimal)):
            ident = ("number", Decimal(str(v)).normalize())
        elif isinstance(v, str):
            ident = ("text", v)
        else:  # a table or an array: the element check refuses it
            ident = ("other", repr(v))
        if ident in seen:
            first = seen[ident]
            same = f"{show(v)} twice (positions {first + 1} and {i + 1})" if show(values[first]) == show(v) else \
                f"the same value twice ({show(values[first])} at position {first + 1}, {show(v)} at {i + 1})"
            raise refuse(f"= {show(values)} lists {same}; "
                         "each would be sent (and paid for) separately",
                         f"list each value once; for repeated runs of one setting use repeats = {2}")
        seen[ident] = i
    return values


def _axis(what: str, example: str):
    """A before-validator for one axis: a non-empty array with no value listed twice."""
    check_array = array(what, example)

    def check(value: object):
        values = check_array(value)
        return _unique(values, what)
    return BeforeValidator(check)


# -- tables ----------------------------------------------------------------------------------------


#: What each request parameter's values are (text unless listed); a new entry of
#: ``request.PARAM_NAMES`` is accepted in [params] and [axes] as text until it is listed here.
PARAM_TYPES: dict[str, Any] = {
    "size": Size, "output_compression": Whole, "n": Whole, "stream": boolean(), "partial_images": Whole,
    "frame_count": Whole, "frame_duration_ms": Whole,
}
AXIS_EXAMPLES = {
    "size": '["1024x1024", "1536x1024"]', "output_compression": "[100, 50]", "n": "[1, 2]",
    "stream": "[false, true]", "partial_images": "[0, 2]", "provider": '["simulator", "openai"]',
    "model": '["gpt-image-1.5", "gpt-image-2"]', "quality": '["low", "high"]',
}


class _ParamsBase(Strict):
    """``[params]``: request parameters fixed for every cell, by API name."""

    unknown_what: ClassVar[str] = "is an unknown key: not a request parameter"


def _axis_of(tp: Any, name: str) -> Any:
    example = AXIS_EXAMPLES.get(name, '["a", "b"]')
    return Annotated[list[tp], _axis("an axis", f"{name} = {example}")]


class _AxesBase(Strict):
    """``[axes]``: up to three parameters (X, Y, Z), each with the values it takes."""

    unknown_what: ClassVar[str] = "is an unknown key: not a parameter an axis can vary"

    @model_validator(mode="before")
    @classmethod
    def _at_most_three(cls, data: Any) -> Any:
        if isinstance(data, dict) and len(data) > MAX_AXES:
            raise refuse(f"has {len(data)} axes ({', '.join(map(str, data))}): at most {MAX_AXES} axes are allowed",
                         f"use at most {MAX_AXES} axes (X, Y, Z); fix the others in [params]")
        return data


ParamsModel = create_model(
    "ParamsModel", __base__=_ParamsBase,
    **{name: (PARAM_TYPES.get(name, Word) | None, None) for name in PARAM_NAMES})
AxesModel = create_model(
    "AxesModel", __base__=_AxesBase,
    **{name: (_axis_of(PARAM_TYPES.get(name, Word), name) | None, None) for name in PARAM_NAMES},
    provider=(_axis_of(Provider, "provider") | None, None), model=(_axis_of(ModelName, "model") | None, None))


class LimitsModel(Strict):
    """``[limits]``: how fast and how far a run may go. Every value finite, positive and sane."""

    concurrency: integer(1, 100, example=4, what="an integer (requests in flight)") = 4
    rpm: number(0.1, 100_000, lo_open=False, example="60", what="requests per minute") | None = None
    budget_usd: number(0, 1_000_000, example="2.0", what="US dollars", as_decimal=True) | None = None
    timeout_s: number(0, 3600, example="300", what="seconds per attempt") = 300.0
    max_attempts: integer(1, 20, example=4, what="an integer (attempts per request)") = 4
    run_deadline_s: number(0, 7 * 86400, example="3600", what="seconds for the whole run") | None = None
    max_retry_after_s: number(0, 3600, example="60", what="seconds (longest Retry-After waited for)") = 60.0


FileRef = text(max_len=1000, example="product.png", what='a file path (relative to the spec) or "result:<id>"')


def _images(value: object) -> list:
    values = array("images", 'images = ["product.png"]')(value)
    if len(values) > MAX_EDIT_IMAGES:
        raise refuse(f"lists {len(values)} images: an edit takes 1 to {MAX_EDIT_IMAGES}",
                     f"remove {len(values) - MAX_EDIT_IMAGES} of them")
    return _unique(values, "images")


class EditModel(Strict):
    """``[edit]``: every cell is an edit of these images (and the optional mask or markup on the first one).

    ``markup`` goes only to models whose catalog entry has ``[models.X.markup]`` (checked per cell by
    ``validate_grid``); the file itself is checked by ``editinputs.check_markup``."""

    unknown_what: ClassVar[str] = "is an unknown key: [edit] takes images, mask and markup"
    missing_fix: ClassVar[dict[str, str]] = {"images": 'add images = ["product.png"] (paths relative to the spec)'}

    images: Annotated[list[FileRef], BeforeValidator(_images)]
    mask: FileRef | None = None
    markup: FileRef | None = None


def _operation(value: object) -> object:
    if value in ("generate", "edit"):
        return value
    raise refuse(f"= {show(value)} is not allowed: \"generate\" or \"edit\"", "remove it (an [edit] table makes "
                 "every cell an edit)")


class SpecModel(Strict):
    """A whole grid spec (see README "The grid spec")."""

    missing_fix: ClassVar[dict[str, str]] = {
        "model": 'add model = "gpt-image-1.5" (on azure: a deployment name)',
    }

    name: text(max_len=200, example="square vs landscape", empty_ok=True, what="a name") = ""
    provider: Provider = "simulator"
    model: ModelName
    prompts: Annotated[list[Prompt], _axis("prompts", 'prompts = ["a red fox"]')] | None = None
    prompt: Prompt | None = None
    repeats: integer(1, 100, example=1, what="an integer (runs per cell)") = 1
    params: Annotated[ParamsModel, BeforeValidator(table())] = ParamsModel()
    axes: Annotated[AxesModel, BeforeValidator(table())] = AxesModel()
    limits: Annotated[LimitsModel, BeforeValidator(table())] = LimitsModel()
    deployments: Annotated[dict[str, ModelName], BeforeValidator(table(
        'write [deployments] followed by lines such as my-images = "gpt-image-1.5"'))] = {}
    simulator: Annotated[dict[str, Any], BeforeValidator(table())] = {}  # checked by the simulator's own model
    operation: Annotated[str, BeforeValidator(_operation)] = "generate"
    edit: Annotated[EditModel, BeforeValidator(table())] | None = None

    @field_validator("deployments", "simulator", mode="before")
    @classmethod
    def _keys(cls, value: Any, info) -> Any:
        if isinstance(value, dict):
            for key in value:
                _key(str(key), info.field_name)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SpecModel:
        if self.prompts is not None and self.prompt is not None:
            raise refuse("has both prompt and prompts", "keep one: prompts = [...] lists every prompt")
        if self.prompts is None and self.prompt is None:
            raise refuse("has no prompts", 'add prompts = ["a red fox"]')
        if self.operation == "edit" and self.edit is None:
            raise refuse('has operation = "edit" but no [edit] table',
                         'add [edit] images = ["product.png"] (or remove operation)')
        if self.edit is not None and self.operation == "generate" and "operation" in self.model_fields_set:
            raise refuse('has an [edit] table but operation = "generate"', "remove operation (or the [edit] table)")
        both = sorted(self.params.model_fields_set & self.axes.model_fields_set)
        if both:
            raise refuse(f"sets {', '.join(both)} both in [params] and [axes]", "keep each parameter in one place")
        return self

    def prompt_list(self) -> tuple[str, ...]:
        return tuple(self.prompts) if self.prompts is not None else (self.prompt or "",)
