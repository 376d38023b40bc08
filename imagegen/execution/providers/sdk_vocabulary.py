"""What the installed openai SDK's types say about the Images API (read from its ``Literal`` annotations).

The SDK is generated from OpenAI's spec, so its ``ImageModel`` alias and the ``Literal`` values of
``images.generate`` / ``images.edit`` parameters are the freshest offline list of models, qualities,
output formats and parameters. :func:`sdk_vocabulary` reads them for ``imagegen.core.freshness``.
"""

from __future__ import annotations

import typing
from datetime import date

import openai
from openai.types import image_edit_params, image_generate_params, image_model

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


def sdk_vocabulary() -> SdkVocabulary:
    """Models, qualities, output formats, backgrounds and parameter names the installed SDK lists."""
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
