"""One validation style for every user-written table: pydantic models, one error formatter.

Grid specs, their ``[limits]`` and ``[simulator]`` tables, plans and price overrides are checked by
pydantic models built on :class:`Strict` (unknown keys forbidden) with the field types below, which
refuse silent conversions: an integer field refuses ``2.7`` and ``true``, a number refuses ``nan`` and
``inf`` and text, a table must be a table. :func:`explain` turns a ``ValidationError`` into the
project's message style, one line per problem::

    spec.toml: limits.rpm = nan is not allowed: a finite number > 0 and <= 100000. Fix: set a number such as 60.

naming the key path, the value and the fix; unknown keys get a "did you mean" for near misses.
"""

from __future__ import annotations

import difflib
import math
import re
import types
import typing
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

#: Loc parts whose values are never echoed (a key in a table must not reach a message).
SECRET_PARTS = ("api_key", "key", "token", "secret", "password")
#: Characters allowed in user text besides printable ones.
ALLOWED_CONTROLS = {"\n", "\t"}  # the form normalises Windows line ends; a spec writes "\\n"
MAX_SHOWN = 80


class Strict(BaseModel):
    """Base of every user-input model: unknown keys are refused; values are not coerced silently.

    Subclasses may set ``unknown_what`` (how an unknown key is described, e.g. "not a request
    parameter") and ``missing_fix`` (the fix shown when a required key is missing, by key).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    unknown_what: ClassVar[str] = "is an unknown key"
    missing_fix: ClassVar[dict[str, str]] = {}


def refuse(detail: str, fix: str) -> PydanticCustomError:
    """The error a field validator raises: ``detail`` (what is wrong, naming the value) and the ``fix``."""
    return PydanticCustomError("refused", "{detail}", {"detail": detail, "fix": fix})


# -- showing values ------------------------------------------------------------------------------


def show(value: object) -> str:
    """A value as it would be written in TOML, shortened: ``nan``, ``true``, ``"text"``, ``a table``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if value.is_nan():
            return "nan"
        if value.is_infinite():
            return "inf" if value > 0 else "-inf"
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        text = '"' + escape(value) + '"'
    elif isinstance(value, Mapping):
        return "a table {" + ", ".join(str(k) for k in list(value)[:5]) + ("…" if len(value) > 5 else "") + "}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(show(v) for v in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def escape(text: str) -> str:
    """``text`` as the inside of a TOML basic string: quotes, backslashes and every control character escaped."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif unicodedata.category(ch) == "Cc":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def type_name(value: object) -> str:
    """What a TOML value is, in TOML's words."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, (float, Decimal)):
        return "a float"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


def suggest(word: str, known: Iterable[str]) -> str:
    """``' (did you mean "quality"?)'`` for a near miss, else ``''``."""
    match = difflib.get_close_matches(str(word), [str(k) for k in known], n=1, cutoff=0.6)
    return f' (did you mean "{match[0]}"?)' if match else ""


# -- field types ---------------------------------------------------------------------------------


def _number(value: object) -> Decimal | None:
    """The value as a Decimal when it is a TOML number (int or float, never a boolean); else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


def _plain(x: float) -> str:
    return f"{int(x)}" if float(x).is_integer() else f"{x:g}"


def _range_text(lo, hi, lo_open: bool) -> str:
    low = f"> {_plain(lo)}" if lo_open else f">= {_plain(lo)}"
    return low if hi is None else f"{low} and <= {_plain(hi)}"


def _from_text(value: object, whole: bool) -> object:
    """Text from a URL or CSV cell as the number it spells (left as it is when it spells none)."""
    if not isinstance(value, str):
        return value
    try:
        num = Decimal(value.strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        return value
    if whole and num.is_finite() and num == num.to_integral_value() and "." not in value and "e" not in value.lower():
        return int(num)
    return num


def integer(lo: int | None, hi: int | None, example: int = 1, what: str = "an integer", *,
            from_text: bool = False) -> Any:
    """An integer field within ``lo..hi`` (None: unbounded): floats (even ``2.0``), booleans and text are refused.

    ``from_text``: the value comes from a URL or CSV, so text spelling a whole number (``"50"``) is read.
    """
    allowed = f"{what} {lo}..{hi}" if lo is not None and hi is not None else what

    def check(value: object) -> int:
        if from_text:
            value = _from_text(value, whole=True)
        if isinstance(value, bool):
            raise refuse(f"= {show(value)} is a boolean, not {allowed}", f"write a whole number such as {example}")
        if isinstance(value, int):
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise refuse(f"= {value} is not allowed: {allowed}", f"use a value between {lo} and {hi}")
            return value
        num = _number(value)
        if num is not None and num.is_finite() and num == num.to_integral_value():
            raise refuse(f"= {show(value)} is a float, not {allowed}", f"write {int(num)} (no decimal point)")
        raise refuse(f"= {show(value)} is {type_name(value)}, not {allowed}", f"write a whole number such as {example}")
    return Annotated[int, BeforeValidator(check)]


def number(lo: float, hi: float | None, *, lo_open: bool = True, example: str = "1", what: str = "a number",
           as_decimal: bool = False, from_text: bool = False) -> Any:
    """A finite number (TOML int or float) in the range; booleans, text, ``nan`` and ``inf`` are refused.

    ``from_text``: the value comes from a URL or CSV, so text spelling a number (``"12.5"``) is read.
    """
    allowed = f"{what}, finite, {_range_text(lo, hi, lo_open)}"

    def check(value: object):
        if from_text:
            value = _from_text(value, whole=False)
        num = _number(value)
        if num is None:
            raise refuse(f"= {show(value)} is {type_name(value)}, not {allowed}", f"write a number such as {example}")
        if not num.is_finite() or (num <= lo if lo_open else num < lo) or (hi is not None and num > hi):
            raise refuse(f"= {show(value)} is not allowed: {allowed}", f"set a number such as {example}")
        return num if as_decimal else float(num)
    return Annotated[Decimal if as_decimal else float, BeforeValidator(check)]


def boolean() -> Any:
    """``true`` or ``false`` only (not 1, not "yes")."""
    def check(value: object) -> bool:
        if not isinstance(value, bool):
            raise refuse(f"= {show(value)} is {type_name(value)}, not true or false", "write true or false (no quotes)")
        return value
    return Annotated[bool, BeforeValidator(check)]


def one_of(options: Sequence[str], fix: str | None = None) -> Any:
    """One of ``options`` (text); a near miss is named ("did you mean")."""
    listed = ", ".join(options)

    def check(value: object) -> str:
        if isinstance(value, str) and value in options:
            return value
        hint = suggest(value, options) if isinstance(value, str) else ""
        raise refuse(f"= {show(value)} is not allowed: one of {listed}{hint}",
                     fix or (f"use {hint.split(chr(34))[1]}" if hint else f"use one of {listed}"))
    return Annotated[str, BeforeValidator(check)]


def toml_date(example: str = "2026-11-01") -> Any:
    """A TOML date (written without quotes); text such as "November" or a date-time is refused."""
    def check(value: object) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        raise refuse(f"= {show(value)} is not a date", f"write a TOML date such as {example} (no quotes)")
    return Annotated[date, BeforeValidator(check)]


def control_problem(text: str) -> str | None:
    """Why ``text`` holds a control character (naming it and where), or None."""
    for i, ch in enumerate(text):
        if ch not in ALLOWED_CONTROLS and unicodedata.category(ch) in ("Cc", "Cs"):
            return f"holds the control character U+{ord(ch):04X} at position {i + 1}"
    return None


def printable(text: str) -> bool:
    """True when ``text`` has at least one visible character (letters, digits, symbols, marks)."""
    return any(unicodedata.category(ch)[0] in "LNPSM" for ch in text)


def text(*, max_len: int = 200, example: str = "a name", empty_ok: bool = False, what: str = "text") -> Any:
    """Text (a TOML string) of at most ``max_len`` characters, without control characters."""
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise refuse(f"= {show(value)} is {type_name(value)}, not {what}", f'write it in quotes, e.g. "{example}"')
        if not empty_ok and not value.strip():
            raise refuse(f"= {show(value)} is empty", f'write {what}, e.g. "{example}"')
        if len(value) > max_len:
            raise refuse(f"= <{len(value):,} characters> is too long: at most {max_len:,}",
                         f"shorten it by {len(value) - max_len:,} characters")
        why = control_problem(value)
        if why:
            raise refuse(f"= {show(value)} {why}", "remove it (type the text again, or paste it as plain text)")
        return value
    return Annotated[str, BeforeValidator(check)]


def table(what: str = "") -> Callable[[object], object]:
    """A before-validator insisting on a TOML table (a mapping), so ``params = 5`` is refused clearly."""
    def check(value: object):
        if not isinstance(value, Mapping):
            raise refuse(f"= {show(value)} is {type_name(value)}, not a table",
                         what or "write it as a table: a [name] line followed by key = value lines")
        return value
    return check


def array(what: str, example: str) -> Callable[[object], object]:
    """A before-validator insisting on a non-empty TOML array."""
    def check(value: object):
        if not isinstance(value, (list, tuple)) or not value:
            got = "empty" if isinstance(value, (list, tuple)) else f"{type_name(value)}, not an array"
            raise refuse(f"= {show(value)} is {got}; {what} must be a non-empty list", f"write {example}")
        return list(value)
    return check


# -- sizes ---------------------------------------------------------------------------------------

_CANONICAL_SIZE = re.compile(r"[1-9][0-9]*x[1-9][0-9]*")


def canonical_size(value: str) -> str | None:
    """The canonical ``WIDTHxHEIGHT`` (or ``auto``) for a size written loosely (``1024X1024``, full-width
    digits, ``1024 × 1024``), or None when it does not look like a size at all."""
    folded = unicodedata.normalize("NFKC", value).strip().lower()
    if folded == "auto":
        return "auto"
    m = re.fullmatch(r"0*([0-9]+)\s*[x×*]\s*0*([0-9]+)", folded)
    if not m or not m.group(1).isascii() or not m.group(2).isascii():
        return None
    w, h = int(m.group(1)), int(m.group(2))
    return f"{w}x{h}" if w and h else None


def size_problem(value: object) -> tuple[str, str] | None:
    """(what is wrong, fix) when ``value`` is not a size in the canonical form; None when it is."""
    if not isinstance(value, str):
        return f"= {show(value)} is {type_name(value)}, not a size", 'write it in quotes as WIDTHxHEIGHT, e.g. "1024x1024"'
    if value == "auto" or _CANONICAL_SIZE.fullmatch(value):
        return None
    canon = canonical_size(value)
    if canon is not None:
        return (f"= {show(value)} is not in the canonical form WIDTHxHEIGHT (ASCII digits, lower-case x)",
                f'write "{canon}"')
    return f"= {show(value)} is not a size", 'write WIDTHxHEIGHT such as "1024x1024", or "auto"'


# -- the formatter -------------------------------------------------------------------------------


def _unwrap(tp: Any) -> Any:
    """The model class (or dict/list value type) behind Optional/Annotated wrappers."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0] if len(args) == 1 else tp
            if len(args) != 1:
                return tp
        else:
            return tp


def _model_at(model: type[BaseModel] | None, loc: Sequence) -> type[BaseModel] | None:
    """The model class found at ``loc`` inside ``model`` (for "did you mean" and per-field fixes)."""
    tp: Any = model
    parts = list(loc)
    while parts:
        tp = _unwrap(tp)
        part = parts.pop(0)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(str(part))
            if info is None:
                return None
            tp = info.annotation
            continue
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (dict, Mapping) and len(args) == 2:
            tp = args[1]
        elif origin in (list, tuple, Sequence) and args:
            tp = args[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def dotted(loc: Iterable) -> str:
    """``("limits", "rpm")`` -> ``limits.rpm``; ``("axes", "n", 1)`` -> ``axes.n[1]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = str(part)
            key = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else '"' + escape(part) + '"'
            out += ("." if out else "") + key
    return out


def _is_secret(loc: Sequence) -> bool:
    return any(str(p).lower() in SECRET_PARTS for p in loc)


def explain(exc: ValidationError, where: str = "", *, model: type[BaseModel] | None = None,
            prefix: Sequence = ()) -> str:
    """The project's message for every error in ``exc``: ``where: key.path = value …. Fix: ….`` joined by spaces.

    ``model`` (the validated class) lets unknown keys suggest near misses; ``prefix`` is prepended to
    every key path (e.g. ``("simulator",)`` when a sub-table is validated on its own).
    """
    head = f"{where}: " if where else ""
    lines = []
    for err in exc.errors(include_url=False):
        loc = [*prefix, *err["loc"]]
        value = err.get("input")
        ctx = err.get("ctx") or {}
        kind = err["type"]
        path = dotted(loc) or "the spec"
        secret = _is_secret(loc)
        if kind == "refused":
            detail = str(ctx.get("detail", err["msg"]))
            if secret:
                detail = "= <hidden> is not allowed"
            lines.append(f"{head}{path} {detail}. Fix: {ctx.get('fix', 'correct the value')}.")
            continue
        shown = "<hidden>" if secret else show(value)
        owner = _model_at(model, err["loc"][:-1])
        if kind == "extra_forbidden":
            known = list(owner.model_fields) if owner is not None else []
            name = str(loc[-1]) if loc else "?"
            hint = suggest(name, known)
            what = getattr(owner, "unknown_what", "is an unknown key")
            if hint:
                fix = f"rename it to {hint.split(chr(34))[1]}"
            else:
                fix = f"remove it; use only {', '.join(known)}" if known else "remove it"
            lines.append(f"{head}{path} {what}{hint}. Fix: {fix}.")
        elif kind == "missing":
            fix = (getattr(owner, "missing_fix", {}).get(str(loc[-1])) if loc else None) or "add it"
            lines.append(f"{head}{path} is missing. Fix: {fix}.")
        elif kind in ("model_type", "dict_type", "model_attributes_type", "dataclass_type"):
            lines.append(f"{head}{path} = {shown} is {type_name(value)}, not a table. "
                         "Fix: write it as a table: a [name] line followed by key = value lines, or { key = value }.")
        elif kind in ("list_type", "tuple_type"):
            lines.append(f"{head}{path} = {shown} is {type_name(value)}, not an array. Fix: write [\"a\", \"b\"].")
        elif kind == "literal_error":
            expected = str(ctx.get("expected", ""))
            options = re.findall(r"'([^']*)'", expected)
            hint = suggest(str(value), options) if isinstance(value, str) else ""
            lines.append(f"{head}{path} = {shown} is not allowed: one of {expected}{hint}. "
                         f"Fix: use {'one of ' + expected if not hint else hint.split(chr(34))[1]}.")
        else:
            lines.append(f"{head}{path} = {shown}: {err['msg']}. Fix: correct the value.")
    return " ".join(lines)


def check(model: type[BaseModel], data: object, where: str, error: type[Exception], *, prefix: Sequence = ()):
    """``model.model_validate(data)``, raising ``error`` with :func:`explain`'s message on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(explain(exc, where, model=model, prefix=prefix)) from None
