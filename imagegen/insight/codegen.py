""""View code": the request behind a grid cell as runnable Python (openai SDK) and curl.

Pure text generation from an :class:`~imagegen.core.request.ImageRequest` and the settings'
``describe()`` (which never holds a key). Keys and endpoints are always read from environment
variables in the generated code, never written into it. Three flavours:

- ``openai``: ``OpenAI()`` (reads ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``);
- ``azure``: classic Azure, ``AzureOpenAI(azure_endpoint, api_key, api_version)``; the wire
  ``model`` is the deployment name;
- ``azure_v1``: Azure's v1 API, the plain ``OpenAI(base_url=".../openai/v1/")`` client, as
  Microsoft documents (``AzureOpenAI`` builds a wrong path there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from imagegen.core import lifecycle
from imagegen.core.catalog import Catalog
from imagegen.core.request import ImageRequest
from imagegen.insight.gridlayout import as_float

FLAVOURS = ("openai", "azure", "azure_v1")
FLAVOUR_LABELS = {"openai": "OpenAI", "azure": "Azure OpenAI (classic)", "azure_v1": "Azure OpenAI (v1 API)"}
DEFAULT_API_VERSION = "2025-04-01-preview"
DEPLOYMENT_PLACEHOLDER = "YOUR-DEPLOYMENT"
#: Environment variables the generated code reads (the openai SDK's own names).
ENV = {
    "openai": {"key": "OPENAI_API_KEY", "url": "OPENAI_BASE_URL"},
    "azure": {"key": "AZURE_OPENAI_API_KEY", "url": "AZURE_OPENAI_ENDPOINT"},
    "azure_v1": {"key": "AZURE_OPENAI_API_KEY", "url": "AZURE_OPENAI_BASE_URL"},
}


@dataclass(frozen=True)
class Snippet:
    """One piece of generated code, with the language to highlight it as."""

    label: str
    language: str
    code: str
    warning: str = ""   # set when the request cannot run on this snippet's provider on the date asked about


def flavour_provider(flavour: str) -> str:
    """The catalog provider a flavour's code talks to."""
    return "openai" if flavour == "openai" else "azure"


def lifecycle_warning(request: ImageRequest, flavour: str, catalog: Catalog, today: date) -> str:
    """Why this code would be refused on ``flavour``'s provider on ``today`` ("" when the model may run there)."""
    if not catalog.has_model(request.model):
        return ""
    life = lifecycle.status(catalog, request.model, flavour_provider(flavour), today)
    if life.runnable:
        return ""
    fix = f" Use {life.successor} instead." if life.successor else ""
    return f"{life.sentence} This code would be refused there on {today.isoformat()}.{fix}"


def _py(value) -> str:
    """A Python literal; strings keep non-ASCII text (Japanese prompts stay readable)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _deployment(request: ImageRequest, settings: Mapping | None) -> str:
    if request.deployment:
        return request.deployment
    for dep, mid in dict((settings or {}).get("deployments") or {}).items():
        if mid == request.model:
            return dep
    return DEPLOYMENT_PLACEHOLDER


def _api_version(settings: Mapping | None) -> str:
    return str((settings or {}).get("api_version") or DEFAULT_API_VERSION)


def wire_body(request: ImageRequest, flavour: str = "openai", settings: Mapping | None = None) -> dict:
    """The JSON body (generate) or form fields (edit) as sent for ``flavour``.

    On OpenAI ``model`` is the catalog id; on Azure it is the deployment name.
    """
    _check(flavour)
    body = request.with_(deployment=None).api_body()
    if flavour != "openai":
        body["model"] = _deployment(request, settings)
    return body


def _check(flavour: str) -> None:
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour {flavour!r} is not one of {', '.join(FLAVOURS)}")


#: Which ``Settings.sources`` entry names the variable the user actually set, per flavour and role.
_SOURCE_SETTING = {"openai": {"key": "openai_api_key", "url": "openai_base_url"},
                   "azure": {"key": "azure_api_key", "url": "azure_endpoint"},
                   "azure_v1": {"key": "azure_api_key", "url": "azure_base_url"}}


def env_names(flavour: str, settings: Mapping | None = None) -> dict[str, str]:
    """Variable names for the key and URL: the ones the user configured (``describe()["sources"]``,
    e.g. the seed's ``AZURE_OPENAI_API_IMAGE_KEY``), else the SDK's standard names."""
    _check(flavour)
    names = dict(ENV[flavour])
    sources = dict((settings or {}).get("sources") or {})
    for role, setting in _SOURCE_SETTING[flavour].items():
        layer, _, variable = str(sources.get(setting) or "").partition(":")
        if variable and variable.isidentifier():
            names[role] = variable
    if flavour == "azure_v1" and "azure_base_url" not in sources and "azure_endpoint" in sources \
            and (settings or {}).get("flavour") == "v1":
        names["url"] = str(sources["azure_endpoint"]).partition(":")[2] or names["url"]
    return names


def _client_lines(flavour: str, settings: Mapping | None) -> list[str]:
    env = env_names(flavour, settings)
    if flavour == "openai" and env != ENV["openai"]:
        # OpenAI() reads only the standard names itself; other names are passed explicitly.
        return ["from openai import OpenAI", "",
                "client = OpenAI(",
                f"    api_key=os.environ[{_py(env['key'])}],",
                f"    base_url=os.environ.get({_py(env['url'])}),",
                ")"]
    if flavour == "openai":
        return ["from openai import OpenAI", "",
                f"# Reads {env['key']} (and {env['url']}, if set) from the environment.",
                "client = OpenAI()"]
    if flavour == "azure":
        return ["from openai import AzureOpenAI", "",
                "client = AzureOpenAI(",
                f"    azure_endpoint=os.environ[{_py(env['url'])}],  # https://YOUR-RESOURCE.openai.azure.com/",
                f"    api_key=os.environ[{_py(env['key'])}],",
                f"    api_version={_py(_api_version(settings))},",
                ")"]
    return ["from openai import OpenAI", "",
            "# Azure's v1 API takes the plain OpenAI client (AzureOpenAI builds a wrong path for it).",
            "client = OpenAI(",
            f"    base_url=os.environ[{_py(env['url'])}],  # https://YOUR-RESOURCE.openai.azure.com/openai/v1/",
            f"    api_key=os.environ[{_py(env['key'])}],",
            ")"]


def _input_names(request: ImageRequest, inputs: Sequence[str]) -> list[str]:
    """File names for an edit's input images: the run's own (base names; ``result:<id>`` as a file name)."""
    count = max(1, len(request.input_images), len(inputs))
    names = [re.sub(r"[^A-Za-z0-9._-]+", "-", str(n).rsplit("/", 1)[-1]).strip("-") or f"input-{i + 1}.png"
             for i, n in enumerate(inputs)]
    names = [n if "." in n else f"{n}.png" for n in names]
    return names + [f"input-{i + 1}.png" for i in range(len(names), count)]


def python_code(request: ImageRequest, flavour: str = "openai", settings: Mapping | None = None, *,
                inputs: Sequence[str] = (), mask: str | None = None, markup: str | None = None) -> str:
    """Runnable Python with the openai SDK that sends the same request and saves the image.

    Edits send ``inputs`` (file names; default ``input-N.png``), ``mask`` and ``markup`` (file names) as
    multipart files."""
    _check(flavour)
    body = wire_body(request, flavour, settings)
    ext = request.output_format
    edit = request.operation == "edit"
    lines = ["import base64"]
    if flavour != "openai" or env_names(flavour, settings) != ENV["openai"]:
        lines.append("import os")
    lines += ["", *_client_lines(flavour, settings), ""]
    call = "client.images.edit(" if edit else "client.images.generate("
    lines.append(("stream = " if request.stream else "result = ") + call)
    if edit:
        files = ", ".join(f"open({_py(n)}, \"rb\")" for n in _input_names(request, inputs))
        lines.append(f"    image=[{files}],")
        if mask is not None:
            lines.append(f"    mask=open({_py(_input_names(request, [mask])[0])}, \"rb\"),"
                         "  # transparent pixels = where the first image is edited")
        if markup is not None:
            lines.append(f"    markup=open({_py(_input_names(request, [markup])[0])}, \"rb\"),"
                         "  # overlaid on the first image to guide the edit (GPT Image 2.5)")
    if flavour != "openai":
        lines.append(f"    model={_py(body.pop('model'))},  # the deployment name")
    for key, value in body.items():
        lines.append(f"    {key}={_py(value)},")
    lines.append(")")
    if request.stream:
        kind = "image_edit" if edit else "image_generation"
        lines += [
            "for event in stream:",
            f'    if event.type == "{kind}.partial_image":',
            f'        with open(f"partial-{{event.partial_image_index}}.{ext}", "wb") as f:',
            "            f.write(base64.b64decode(event.b64_json))",
            f'    elif event.type == "{kind}.completed":',
            f'        with open("image.{ext}", "wb") as f:',
            "            f.write(base64.b64decode(event.b64_json))  # the original bytes, never re-encoded",
            "        print(event.usage)",
        ]
    else:
        lines += [
            "for i, image in enumerate(result.data):",
            f'    with open(f"image-{{i}}.{ext}", "wb") as f:',
            "        f.write(base64.b64decode(image.b64_json))  # the original bytes, never re-encoded",
            "print(result.usage)  # billed tokens",
        ]
    return "\n".join(lines) + "\n"


def _sh(text: str) -> str:
    """Single-quote for POSIX shells."""
    return "'" + text.replace("'", "'\\''") + "'"


def _url(flavour: str, request: ImageRequest, settings: Mapping | None) -> str:
    path = "images/edits" if request.operation == "edit" else "images/generations"
    env = env_names(flavour, settings)
    if flavour == "openai":
        return f'"${{{env["url"]}:-https://api.openai.com/v1}}/{path}"'
    if flavour == "azure":
        dep = _deployment(request, settings)
        return f'"${{{env["url"]}%/}}/openai/deployments/{dep}/{path}?api-version={_api_version(settings)}"'
    return f'"${{{env["url"]}%/}}/{path}"'


def curl_command(request: ImageRequest, flavour: str = "openai", settings: Mapping | None = None, *,
                 inputs: Sequence[str] = (), mask: str | None = None, markup: str | None = None) -> str:
    """A curl command sending the same request (keys from environment variables); edits as ``-F`` files."""
    _check(flavour)
    env = env_names(flavour, settings)
    auth = f'"Authorization: Bearer ${env["key"]}"' if flavour == "openai" else f'"api-key: ${env["key"]}"'
    body = wire_body(request, flavour, settings)
    ext = request.output_format
    lines = [f"curl -sS {'-N ' if request.stream else ''}{_url(flavour, request, settings)}", f"  -H {auth}"]
    if request.operation == "edit":
        for name in _input_names(request, inputs):
            lines.append(f"  -F {_sh(f'image[]=@{name}')}")
        if mask is not None:
            lines.append(f"  -F {_sh(f'mask=@{_input_names(request, [mask])[0]}')}")
        if markup is not None:
            lines.append(f"  -F {_sh(f'markup=@{_input_names(request, [markup])[0]}')}")
        for key, value in body.items():
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            # --form-string: a prompt starting with @ or < is text, not a file
            lines.append(f"  --form-string {_sh(f'{key}={text}')}")
    else:
        lines.append('  -H "Content-Type: application/json"')
        lines.append(f"  -d {_sh(json.dumps(body, ensure_ascii=False))}")
    if request.stream:
        lines[-1] += "  # prints server-sent events; the completed event holds b64_json and usage"
        return " \\\n".join(lines) + "\n"
    lines.append(f"  | jq -r '.data[0].b64_json' | base64 --decode > image.{ext}")
    return " \\\n".join(lines) + "\n"


def snippets(request: ImageRequest, settings: Mapping | None, *, catalog: Catalog, today: date,
             inputs: Sequence[str] = (), mask: str | None = None, markup: str | None = None) -> list[Snippet]:
    """Python and curl for every flavour; the one matching the cell's provider comes first.

    A flavour whose provider no longer runs the model on ``today`` gets a ``warning`` (and a comment
    at the top of its code), from :func:`imagegen.core.lifecycle.status`.
    """
    flavours = list(FLAVOURS)
    first = "azure" if request.provider == "azure" else "openai"
    if settings and settings.get("flavour") == "v1" and request.provider == "azure":
        first = "azure_v1"
    flavours.sort(key=lambda f: f != first)
    warnings = {f: lifecycle_warning(request, f, catalog, today) for f in flavours}

    def code(text: str, flavour: str) -> str:
        return f"# WARNING: {warnings[flavour]}\n{text}" if warnings[flavour] else text

    out = [Snippet(f"Python · {FLAVOUR_LABELS[f]}", "python", code(python_code(request, f, settings, inputs=inputs, mask=mask, markup=markup), f), warnings[f])
           for f in flavours]
    out += [Snippet(f"curl · {FLAVOUR_LABELS[f]}", "bash", code(curl_command(request, f, settings, inputs=inputs, mask=mask, markup=markup), f), warnings[f])
            for f in flavours]
    return out


def request_of(row: dict) -> ImageRequest:
    """The request a stored result row (a dict of the result view's columns) was made with, for "view code"."""
    def opt_int(v):
        f = as_float(v)
        return None if f is None else int(f)

    return ImageRequest(
        model=str(row.get("model")), prompt=str(row.get("prompt") or ""), provider=str(row.get("provider")),
        size=str(row.get("size") or "auto"), quality=str(row.get("quality") or "auto"),
        background=str(row.get("background") or "auto"), output_format=str(row.get("output_format") or "png"),
        output_compression=opt_int(row.get("output_compression")), moderation=str(row.get("moderation") or "auto"),
        n=opt_int(row.get("n")) or 1, stream=bool(as_float(row.get("stream"))),
        partial_images=opt_int(row.get("partial_images")) or 0,
        deployment=row.get("deployment") if isinstance(row.get("deployment"), str) else None,
        operation="edit" if row.get("operation") == "edit" else "generate",
        input_fidelity=row.get("input_fidelity") if isinstance(row.get("input_fidelity"), str) else None,
        input_images=tuple(row.get("input_sizes") or ()),
        complexity=row.get("complexity") if isinstance(row.get("complexity"), str) else None,
    )
