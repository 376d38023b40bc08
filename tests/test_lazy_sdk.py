"""The SDK's type namespaces load on use, and give exactly the objects an eager import gives."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imagegen.execution.providers.lazy_sdk import reexports

ROOT = Path(__file__).resolve().parents[1]

# Every package under openai.types, each exported name -> "module.qualname" (or repr) of what it is.
_DUMP = """
import json, pathlib, sys
LAZY = sys.argv[1] == "lazy"
if LAZY:
    from imagegen.execution.providers import lazy_sdk
    assert lazy_sdk.install()
import importlib, openai
from imagegen.execution.providers.lazy_sdk import reexports
root = pathlib.Path(openai.__file__).parent / "types"
out = {}
for init in sorted(root.rglob("__init__.py")):
    package = "openai." + ".".join(init.parent.relative_to(root.parent).parts)
    names = reexports(init.read_text(encoding="utf-8")) or {}
    module = importlib.import_module(package)
    def ident(obj):
        qual = getattr(obj, "__qualname__", None)
        return f"{getattr(obj, '__module__', None)}.{qual}" if qual else repr(obj)
    out[package] = {name: ident(getattr(module, name)) for name in sorted(names)}
    if LAZY and names:
        assert set(names) <= set(dir(module)), package
print(json.dumps(out))
"""


def _dump(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _DUMP, mode], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_every_name_of_every_lazy_package_is_the_object_an_eager_import_gives():
    lazy, eager = _dump("lazy"), _dump("eager")
    assert lazy == eager
    assert sum(len(names) for names in eager.values()) > 500  # the walk really reached the SDK's types


def test_building_a_provider_loads_a_fraction_of_the_sdk_and_the_types_still_resolve():
    code = ("import sys\nfrom imagegen.execution.providers.openai_api import OpenAIProvider\n"
            "p = OpenAIProvider('test-key-not-real', base_url='http://127.0.0.1:9/v1')\n"
            "p.client.images\nimport openai.resources.images\n"
            "loaded = [m for m in sys.modules if m.startswith('openai.types')]\n"
            "assert 'openai.types.responses.response' not in sys.modules, 'responses loaded eagerly'\n"
            "from openai.types import ImagesResponse, image_generate_params\n"
            "from openai.types.images_response import ImagesResponse as Direct\n"
            "assert ImagesResponse is Direct and openai.types.ImagesResponse is Direct\n"
            "assert image_generate_params.__name__ == 'openai.types.image_generate_params'\n"
            "r = ImagesResponse.model_validate({'created': 1, 'data': [{'b64_json': 'aGk='}], 'usage': {\n"
            "    'input_tokens': 5, 'output_tokens': 196, 'total_tokens': 201,\n"
            "    'input_tokens_details': {'text_tokens': 5, 'image_tokens': 0}}})\n"
            "assert r.data[0].b64_json == 'aGk=' and r.usage.output_tokens == 196\n"
            "print(len(loaded))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) < 150  # an eager import loads over 400 openai.types modules


def test_an_unknown_name_is_an_attribute_error_as_before():
    code = ("from imagegen.execution.providers import lazy_sdk\nimport openai.types\n"
            "try:\n    openai.types.NoSuchThing\nexcept AttributeError as e:\n    print('AE', e)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "AE module 'openai.types' has no attribute 'NoSuchThing'" in done.stdout


@pytest.mark.parametrize("source", ["x = 1\n", "from .a import *\n", "import os\n", "from os import path\n",
                                    "from .a import B as B\nif True:\n    pass\n", "from ..a import B\n"])
def test_a_package_that_does_more_than_re_export_loads_eagerly(source):
    assert reexports(source) is None


def test_re_exports_are_read_with_their_submodule_and_alias():
    source = ("from __future__ import annotations\nfrom .batch import Batch as Batch\n"
              "from .shared import (Metadata as Metadata, ChatModel)\nfrom . import beta\n")
    assert reexports(source) == {"Batch": ("batch", "Batch"), "Metadata": ("shared", "Metadata"),
                                 "ChatModel": ("shared", "ChatModel"), "beta": (None, "beta")}
