"""What the installed openai SDK's types say about the Images API (read from its ``Literal`` annotations).

The SDK is generated from OpenAI's spec, so its ``ImageModel`` alias and the ``Literal`` values of
``images.generate`` / ``images.edit`` parameters are the freshest offline list of models, qualities,
output formats and parameters. :func:`sdk_vocabulary` reads them for ``imagegen.core.freshness``.

The home page shows this check on its first render, so the SDK's type files are read as source
(``ast``: the ``Literal`` values written in them) instead of importing the SDK (~0.5 s); when
that reading fails, the types are imported and resolved (:func:`imported_vocabulary`), which a
test keeps equal to the source reading.
"""

from __future__ import annotations

import ast
import importlib.util
import typing
from datetime import date
from pathlib import Path

from imagegen.core.catalog import Catalog
from imagegen.core.freshness import FreshnessReport, SdkVocabulary, check_catalog


def _literals(tp) -> list[str]:
    """Every string ``Literal`` value inside an annotation (through Optional, Union, Required)."""
    out: list[str] = []
    origin = typing.get_origin(tp)
    if origin is typing.Literal or str(origin).endswith("Literal"):
        return [a for a in typing.get_args(tp) if isinstance(a, str)]
    for arg in typing.get_args(tp):
        out += _literals(arg)
    return out


def _hints(cls) -> dict:
    return typing.get_type_hints(cls, include_extras=True)


def _source_literals(node: ast.AST | None) -> list[str]:
    """Every string inside a ``Literal[...]`` of an annotation, as written in the source."""
    out: list[str] = []
    for sub in ast.walk(node) if node is not None else ():
        if isinstance(sub, ast.Subscript) and getattr(sub.value, "id", getattr(sub.value, "attr", "")) == "Literal":
            out += [c.value for c in ast.walk(sub.slice) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    return list(dict.fromkeys(out))


def _class_fields(tree: ast.Module, name: str) -> dict[str, ast.AST]:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return {n.target.id: n.annotation for n in node.body
                    if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    raise LookupError(name)


def source_vocabulary() -> SdkVocabulary:
    """:func:`sdk_vocabulary` read from the SDK's source files, without importing the SDK."""
    spec = importlib.util.find_spec("openai")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("openai is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))

    def parse(rel: str) -> ast.Module:
        return ast.parse((root / rel).read_text(encoding="utf-8"))

    gen = _class_fields(parse("types/image_generate_params.py"), "ImageGenerateParamsBase")
    edit = _class_fields(parse("types/image_edit_params.py"), "ImageEditParamsBase")
    alias = next(n for n in parse("types/image_model.py").body
                 if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "ImageModel")
    version = next(n.value.value for n in parse("_version.py").body
                   if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "__version__")
    models = tuple(_source_literals(alias.value))
    qualities = tuple(dict.fromkeys(_source_literals(gen.get("quality")) + _source_literals(edit.get("quality"))))
    formats = tuple(dict.fromkeys(_source_literals(gen.get("output_format"))
                                  + _source_literals(edit.get("output_format"))))
    backgrounds = tuple(_source_literals(gen.get("background")))
    params = tuple(dict.fromkeys([*gen, *edit, "stream"]))
    if not models or not qualities or not formats:
        raise LookupError("the SDK's type files no longer hold the Literal lists")
    return SdkVocabulary(str(version), models, qualities, formats, params, backgrounds)


def sdk_vocabulary() -> SdkVocabulary:
    """Models, qualities, output formats, backgrounds and parameter names the installed SDK lists."""
    try:
        return source_vocabulary()
    except (OSError, SyntaxError, LookupError, StopIteration, AttributeError, IndexError):
        return imported_vocabulary()


def imported_vocabulary() -> SdkVocabulary:
    """:func:`sdk_vocabulary` from the imported SDK types (``typing.get_type_hints``)."""
    import openai
    from openai.types import image_edit_params, image_generate_params, image_model

    gen = _hints(image_generate_params.ImageGenerateParamsBase)
    edit = _hints(image_edit_params.ImageEditParamsBase)
    models = tuple(dict.fromkeys(_literals(image_model.ImageModel)))
    qualities = tuple(dict.fromkeys(_literals(gen.get("quality")) + _literals(edit.get("quality"))))
    formats = tuple(dict.fromkeys(_literals(gen.get("output_format")) + _literals(edit.get("output_format"))))
    backgrounds = tuple(dict.fromkeys(_literals(gen.get("background"))))
    params = tuple(dict.fromkeys([*gen, *edit, "stream"]))
    return SdkVocabulary(openai.__version__, models, qualities, formats, params, backgrounds)


def catalog_freshness(catalog: Catalog, today: date) -> FreshnessReport:
    """``catalog check`` for ``catalog`` against the installed SDK on ``today`` (the CLI and the home page)."""
    return check_catalog(catalog, sdk_vocabulary(), today)
