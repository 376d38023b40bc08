"""The Images API as a pure request handler: ``SimulatorApp.handle(method, target, headers, body)``.

It answers like the real OpenAI / Azure OpenAI Images API, driven by its OWN profile
(``profile.toml``: usage, acceptance rules, latency per model), not by the estimator's catalog, so
a wrong catalog entry shows up as a deviation:

* routes ``POST /v1/images/{generations,edits}`` (OpenAI), ``/openai/deployments/{dep}/images/...
  ?api-version=...`` (Azure classic) and ``/openai/v1/images/...`` (Azure v1);
* validation with :func:`imagegen.core.request.problems` -> HTTP 400 with the real error shape; the
  Azure routes refuse ``webp``;
* ``usage`` from the profile (+100 output tokens per streamed partial image, each of the n x
  partial_images partials billed), a content-dependent spread where no figure is published
  (deterministic per prompt), ``output_tokens_details`` for models that bill text output; the
  resolved ``quality``/``size``/``background``/``output_format`` echoed;
* access-gated output (gif, svg) is refused with HTTP 400 ``preview_access_required`` unless the
  config's ``access`` grants it (the real error for a missing preview is not documented);
* latency proportional to output tokens (see :class:`SimulatorConfig`); the handler does not
  sleep: it returns *when* each part may be sent (``Reply.ready_at``, streamed events' times)
  and the HTTP server / in-process transport wait, so render time counts towards the latency;
* edits (multipart) change only the masked region: the output keeps the first input image's pixels
  where the mask is opaque (alpha 255) and draws the simulated scene where it is transparent; the
  input is resized (Lanczos) to the requested/resolved size when it differs; without a mask the whole
  image changes (input and scene blended half and half). A mask that is not an RGBA/alpha PNG, or not
  the first image's size, is refused with HTTP 400 (param ``mask``); JSON edits (``images[]`` with
  ``image_url`` or ``file_id``, in the OpenAPI spec) are refused on purpose (400, param ``images``): the
  simulator fetches no URLs or files;
* faults on demand (``x-simulator-fault`` header or config rules);
* a thread-safe log of every request that reached it (``requests``, ``request_count``).

How ``auto`` resolves (deterministic, documented here because OpenAI does not document it):

* ``quality=auto`` -> ``high`` (the Replicate logs for gpt-image-1 and -mini with auto reported
  high-quality token counts); on the Azure routes the catalog's Azure default (mini: medium).
* ``size=auto`` -> ``1536x1024`` when the prompt asks for a landscape/wide picture,
  ``1024x1536`` for portrait/tall, else ``1024x1024``.
* ``background=auto`` -> ``transparent`` when the prompt asks for a transparent background and
  the model and format allow it, else ``opaque``.
* ``output_compression`` defaults to 100 (the documented default) for jpeg/webp.
* Streaming with ``n > 1``: each image sends its partials and a ``completed`` event; every
  ``completed`` event carries the usage of the whole request (clients keep the last one).
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlsplit

from imagegen.core.catalog import Catalog, ModelSpec, default_catalog
from imagegen.core.editinputs import png_header
from imagegen.core.recording import REPLAY_HEADER
from imagegen.core.request import ImageRequest, problems
from imagegen.core.tokens import count_text_tokens, parse_size
from imagegen.errors import ImagegenError
from imagegen.execution.simulator import judge_route
from imagegen.execution.simulator import profile as sim_profile
from imagegen.execution.simulator.config import FaultRule, SimulatorConfig, parse_fault
from imagegen.execution.simulator.profile import Profile, default_profile
from imagegen.execution.simulator.render import image_size, render, render_edit, render_gif, render_svg
from imagegen.execution.simulator.replay import Replay

FAULT_HEADER = "x-simulator-fault"
ROUTE_OPENAI = re.compile(r"^/v1/images/(?P<op>generations|edits)/?$")
ROUTE_AZURE = re.compile(r"^/openai/deployments/(?P<dep>[^/]+)/images/(?P<op>generations|edits)/?$")
ROUTE_AZURE_V1 = re.compile(r"^/openai/v1/images/(?P<op>generations|edits)/?$")
#: The oldest Azure api-version that serves GPT image models.
AZURE_MIN_API_VERSION = "2025-04-01-preview"

GENERATE_PARAMS = {"model", "prompt", "size", "quality", "background", "output_format", "output_compression",
                   "moderation", "n", "stream", "partial_images", "user", "safety_identifier", "response_format",
                   "style", "complexity", "frame_count", "frame_duration_ms", "svg"}
EDIT_PARAMS = (GENERATE_PARAMS - {"moderation", "style"}) | {"image", "image[]", "mask", "markup", "input_fidelity"}
#: Real API parameters the simulator does not model (gated or newer features).
UNSUPPORTED_PARAMS: set[str] = set()
#: Access-gated output formats and the preview each one needs (SDK 3.57 docstrings).
GATED = {"gif": "the GIF preview", "svg": "SVG model selection"}
LANDSCAPE_WORDS = ("landscape", "wide", "panorama", "panoramic", "banner", "widescreen", "横長", "横向き", "ワイド")
PORTRAIT_WORDS = ("portrait", "tall", "vertical", "poster", "縦長", "縦向き", "ポスター")
TRANSPARENT_WORDS = ("transparent background", "transparent", "no background", "透明", "背景なし")

#: The date the simulator validates with: it serves every model on every date (see _validate).
ANY_DATE = date(2000, 1, 1)


@dataclass
class Reply:
    """What to send back. The server/transport wait until ``ready_at`` (``time.monotonic()``)."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    #: For event streams: (monotonic time to send at, bytes) pairs, produced lazily.
    events: Iterator[tuple[float, bytes]] | None = None
    ready_at: float = 0.0
    #: "hang" (no answer until the client gives up) or "drop" (close without a response).
    action: str | None = None
    hang_s: float = 0.0


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str
    content_type: str
    size_bytes: int
    dimensions: tuple[int, int] | None


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it reached the simulator (in memory only; tests assert on it)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict
    files: tuple[UploadedFile, ...]
    flavour: str | None
    deployment: str | None
    operation: str | None
    at: float
    status: int | None = None
    fault: str | None = None


class _ApiError(Exception):
    def __init__(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload
        self.headers = headers or {}


def _openai_error(message: str, *, type_: str = "invalid_request_error", param: str | None = None,
                  code: str | None = None, **extra) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code, **extra}}


def _azure_error(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], list[tuple[str, str, str, bytes]]]:
    """Split a multipart/form-data body into text fields and files ``(field, filename, type, data)``."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise ValueError("multipart body without a boundary")
    delimiter = b"--" + m.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: list[tuple[str, str, str, bytes]] = []
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part[2:] if part.startswith(b"\r\n") else part
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("multipart part without headers")
        data = data[:-2] if data.endswith(b"\r\n") else data
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if not name:
            raise ValueError("multipart part without a name")
        if filename:
            files.append((name.group(1), filename.group(1), headers.get("content-type", ""), data))
        else:
            fields[name.group(1)] = data.decode("utf-8")
    return fields, files


def resolve_size(prompt: str, model: ModelSpec) -> str:
    """``size=auto`` -> a concrete size from the prompt's wording (see the module docstring)."""
    text = prompt.lower()
    if any(w in text for w in LANDSCAPE_WORDS):
        size = "1536x1024"
    elif any(w in text for w in PORTRAIT_WORDS):
        size = "1024x1536"
    else:
        size = "1024x1024"
    if model.sizes is not None and size not in model.sizes:
        return model.sizes[0]
    return size


def resolve_quality(model: ModelSpec, flavour: str) -> str:
    """``quality=auto`` -> high (observed), or the provider's documented default on Azure."""
    spec = model.providers.get("azure" if flavour.startswith("azure") else "openai")
    default = spec.default_quality if spec is not None else None
    if default and default != "auto" and default in model.qualities:
        return default
    return "high" if "high" in model.qualities else model.qualities[-1]


def resolve_background(prompt: str, model: ModelSpec, output_format: str) -> str:
    wants = any(w in prompt.lower() for w in TRANSPARENT_WORDS)
    return "transparent" if wants and model.transparency and output_format in ("png", "webp") else "opaque"


class SimulatorApp:
    """The Images API simulator as a pure handler (no sockets); thread-safe."""

    def __init__(self, config: SimulatorConfig | Mapping | None = None, catalog: Catalog | None = None,
                 profile: Profile | None = None, *, replay: Replay | None = None) -> None:
        self.config = SimulatorConfig.from_dict(config) if not isinstance(config, SimulatorConfig) else config
        self.catalog = catalog or default_catalog()
        #: What the simulator bills, accepts and how long it takes (its own data, not the catalog).
        self.profile = profile or default_profile()
        #: The catalog's request rules with the profile's acceptance rules in place of the catalog's.
        self.accepting = self.profile.accepting_catalog(self.catalog)
        #: A recording to serve (``[simulator] replay = FILE``); None = answer from the profile only.
        self.replay = replay if replay is not None else (
            Replay.from_file(self.config.replay, self.config.replay_fallback) if self.config.replay else None)
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._rule_hits: dict[int, int] = {}
        self._window: deque[tuple[float, int]] = deque()
        self._rng = random.Random(self.config.seed)
        self.closing = threading.Event()
        # Loading the o200k encoding takes ~1 s once per process: do it now, not on the first
        # request's clock, so that request's simulated latency stays honest.
        count_text_tokens("warm up")

    # --- the request log -------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        """How many requests reached the simulator (every route, failed ones included)."""
        with self._lock:
            return len(self.requests)

    def reset(self) -> None:
        """Forget the request log and the fault-rule counters."""
        with self._lock:
            self.requests.clear()
            self._rule_hits.clear()
            self._window.clear()

    def _record(self, rec: RecordedRequest) -> int:
        with self._lock:
            self.requests.append(rec)
            return len(self.requests) - 1

    def _set_outcome(self, index: int, status: int, fault: str | None) -> None:
        with self._lock:
            old = self.requests[index]
            self.requests[index] = RecordedRequest(**{**old.__dict__, "status": status, "fault": fault})

    # --- the handler -------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one HTTP request. ``target`` is the path with its query string."""
        start = time.monotonic()
        headers = {k.lower(): v for k, v in headers.items()}
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        judged = judge_route.handle(method, parts.path, query, headers, body)  # the judge lives apart (issue 14)
        if judged is not None:
            self._record(RecordedRequest(method, parts.path, query, dict(headers), {}, (), None, None, "judge",
                                         time.time(), judged[0]))
            return Reply(judged[0], judged[1], judged[2], ready_at=start)
        flavour, deployment, operation = self._route(parts.path)
        fields_: dict = {}
        uploads: list[tuple[str, str, str, bytes]] = []
        parse_error: str | None = None
        if method == "POST" and flavour is not None:
            try:
                fields_, uploads = self._parse_body(headers, body)
            except ValueError as exc:
                parse_error = str(exc)
        files = tuple(UploadedFile(f, n, t, len(d), image_size(d)) for f, n, t, d in uploads)
        index = self._record(RecordedRequest(method, parts.path, query, dict(headers), fields_, files,
                                             flavour, deployment, operation, time.time()))
        fault: FaultRule | None = None
        try:
            if flavour is None:
                if method == "GET" and parts.path in ("/", "/health", "/healthz"):
                    return self._finish(index, self._health())
                raise _ApiError(404, _openai_error(f"Invalid URL ({method} {parts.path})"))
            if method != "POST":
                raise _ApiError(405, _openai_error(f"Method {method} is not allowed on {parts.path}; use POST."))
            fault = self._pick_fault(headers, fields_)
            self._check_auth(flavour, headers, fault)
            self._check_api_version(flavour, query)
            if parse_error:
                raise _ApiError(400, _openai_error(f"Could not parse the request body: {parse_error}. "
                                                   "Send JSON (generations) or multipart/form-data (edits)."))
            model = self._resolve_model(flavour, deployment, fields_, fault)
            reply = self._answer(start, flavour, operation, model, fields_, uploads, headers, fault)
            return self._finish(index, reply, fault)
        except _ApiError as err:
            reply = Reply(err.status, {**self._common_headers(flavour, headers, start), **err.headers,
                                       "content-type": "application/json"},
                          json.dumps(err.payload).encode(), ready_at=start)
            return self._finish(index, reply, fault)
        except ImagegenError as err:  # a bad fault header, for instance
            reply = Reply(400, {"content-type": "application/json"},
                          json.dumps(_openai_error(str(err), param=FAULT_HEADER)).encode(), ready_at=start)
            return self._finish(index, reply, fault)

    def _finish(self, index: int, reply: Reply, fault: FaultRule | None = None) -> Reply:
        self._set_outcome(index, reply.status, fault.kind if fault else None)
        return reply

    def _health(self) -> Reply:
        body = {"simulator": True, "models": sorted(self.catalog.models),
                "routes": ["/v1/images/generations", "/v1/images/edits",
                           "/openai/deployments/{deployment}/images/{generations,edits}?api-version=...",
                           "/openai/v1/images/{generations,edits}"]}
        return Reply(200, {"content-type": "application/json"}, json.dumps(body).encode())

    @staticmethod
    def _route(path: str) -> tuple[str | None, str | None, str | None]:
        if m := ROUTE_OPENAI.match(path):
            return "openai", None, m["op"]
        if m := ROUTE_AZURE.match(path):
            return "azure", m["dep"], m["op"]
        if m := ROUTE_AZURE_V1.match(path):
            return "azure_v1", None, m["op"]
        return None, None, None

    @staticmethod
    def _parse_body(headers: dict[str, str], body: bytes) -> tuple[dict, list]:
        ctype = headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            return parse_multipart(body, ctype)
        if ctype.startswith("application/x-www-form-urlencoded"):
            return {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}, []
        if not body:
            return {}, []
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("the JSON body is not an object")
        return data, []

    # --- checks ------------------------------------------------------------------------

    def _pick_fault(self, headers: dict[str, str], fields_: dict) -> FaultRule | None:
        if FAULT_HEADER in headers and headers[FAULT_HEADER].strip():
            return parse_fault(headers[FAULT_HEADER])
        prompt = str(fields_.get("prompt", "")).lower()
        model = str(fields_.get("model", ""))
        with self._lock:
            for i, rule in enumerate(self.config.faults):
                if rule.match is not None and rule.match.lower() not in prompt:
                    continue
                if rule.model is not None and rule.model != model:
                    continue
                hits = self._rule_hits.get(i, 0)
                if rule.times is not None and hits >= rule.times:
                    continue
                self._rule_hits[i] = hits + 1
                return rule
        return None

    def _check_auth(self, flavour: str, headers: dict[str, str], fault: FaultRule | None) -> None:
        bearer = headers.get("authorization", "")
        key = bearer[7:].strip() if bearer.lower().startswith("bearer ") else None
        if flavour != "openai" and headers.get("api-key"):
            key = headers["api-key"]
        expected = self.config.api_key
        bad = fault is not None and fault.kind == "auth"
        if not key or bad or (expected is not None and key != expected):
            if flavour == "openai":
                if not key:
                    msg = ("You didn't provide an API key. You need to provide your API key in an Authorization "
                           "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
                else:
                    msg = f"Incorrect API key provided: ...{key[-4:]}. You can find your API key in your account."
                raise _ApiError(401, _openai_error(msg, code="invalid_api_key" if key else None))
            raise _ApiError(401, _azure_error(
                "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
                "valid key for an active subscription and use a correct regional API endpoint for your resource."))

    @staticmethod
    def _check_api_version(flavour: str, query: dict[str, str]) -> None:
        if flavour != "azure":
            return
        version = query.get("api-version")
        if not version:
            raise _ApiError(404, _azure_error("404", "Resource not found: the api-version query parameter is "
                                              f"missing. Use api-version={AZURE_MIN_API_VERSION} or newer."))
        if re.match(r"^\d{4}-\d{2}-\d{2}", version) and version[:10] < AZURE_MIN_API_VERSION[:10]:
            raise _ApiError(400, _azure_error(
                "OperationNotSupported", f"The images operation is not supported with api-version {version} for GPT "
                f"image models. Use api-version={AZURE_MIN_API_VERSION} or newer."))

    def _resolve_model(self, flavour: str, deployment: str | None, fields_: dict, fault: FaultRule | None) -> ModelSpec:
        name = deployment if flavour == "azure" else fields_.get("model")
        forced = fault is not None and fault.kind == "not_found"
        if flavour == "openai":
            if not name and not forced:
                raise _ApiError(400, _openai_error("model is required for GPT image models. Pass model, e.g. "
                                                   "'gpt-image-1.5'.", param="model", code="missing_required_parameter"))
            if forced or not self.catalog.has_model(str(name)):
                raise _ApiError(404, _openai_error(
                    f"The model `{name}` does not exist or you do not have access to it.", code="model_not_found"))
            return self.catalog.model(str(name))
        mapped = self.config.deployment_map.get(str(name), str(name)) if name else None
        if forced or not mapped or not self.catalog.has_model(mapped):
            raise _ApiError(404, _azure_error(
                "DeploymentNotFound", f"The API deployment {name!r} for this resource does not exist. If you created "
                "the deployment within the last 5 minutes, please wait a moment and try again."))
        return self.catalog.model(mapped)

    def _request_from(self, flavour: str, operation: str, model: ModelSpec, fields_: dict,
                      uploads: list) -> ImageRequest:
        allowed = GENERATE_PARAMS if operation == "generations" else EDIT_PARAMS
        if operation == "edits" and not uploads and ("images" in fields_ or "mask" in fields_):
            # The OpenAPI spec also allows JSON edits (images[] with image_url or file_id); the SDK's images.edit
            # sends multipart only, and the simulator cannot fetch URLs or files: refused on purpose.
            raise _ApiError(400, _openai_error(
                "JSON edits (images[] with image_url or file_id) are not simulated: the simulator cannot fetch "
                "URLs or uploaded files. Send the image bytes as multipart/form-data (image, image[], mask), as "
                "the SDK's images.edit does.", param="images", code="unsupported_parameter"))
        self._check_markup(operation, model, fields_, uploads)
        for key in fields_:
            if key in UNSUPPORTED_PARAMS:
                raise _ApiError(400, _openai_error(f"The simulator does not model {key!r}. Remove it.", param=key,
                                                   code="unsupported_parameter"))
            if key not in allowed:
                raise _ApiError(400, _openai_error(f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter"))
        for key in ("response_format", "style"):
            if key in fields_ and fields_[key] not in (None, "b64_json"):
                raise _ApiError(400, _openai_error(
                    f"{key} is not supported for {model.id} (GPT image models always return b64_json). Remove it.",
                    param=key, code="unsupported_parameter"))
        multipart = operation == "edits"

        def get(key: str, default, kind=str):
            value = fields_.get(key, default)
            if value is None:
                return default
            if multipart and kind is int:
                try:
                    return int(value)
                except (TypeError, ValueError):
                    raise _ApiError(400, _openai_error(f"Invalid type for '{key}': expected an integer, got "
                                                       f"{value!r}.", param=key, code="invalid_type")) from None
            if multipart and kind is bool:
                return str(value).lower() in ("true", "1")
            if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
                raise _ApiError(400, _openai_error(f"Invalid type for '{key}': expected an integer, got {value!r}.",
                                                   param=key, code="invalid_type"))
            if kind is bool and not isinstance(value, bool):
                raise _ApiError(400, _openai_error(f"Invalid type for '{key}': expected a boolean, got {value!r}.",
                                                   param=key, code="invalid_type"))
            if kind is str and not isinstance(value, str):
                raise _ApiError(400, _openai_error(f"Invalid type for '{key}': expected a string, got {value!r}.",
                                                   param=key, code="invalid_type"))
            return value

        images = [u for u in uploads if u[0] in ("image", "image[]")]
        dims = []
        for _, filename, _, data in images:
            size = image_size(data)
            if size is None:
                raise _ApiError(400, _openai_error(
                    f"Invalid image file {filename!r}: it is not a PNG, JPEG or WEBP image. Upload a valid image.",
                    param="image", code="invalid_image_format"))
            dims.append(size)
        return ImageRequest(
            model=model.id,
            prompt=get("prompt", ""),
            provider="simulator",
            size=get("size", "auto"),
            quality=get("quality", "auto"),
            background=get("background", "auto"),
            output_format=get("output_format", "png"),
            output_compression=get("output_compression", None, int),
            moderation=get("moderation", "auto"),
            n=get("n", 1, int),
            stream=get("stream", False, bool),
            partial_images=get("partial_images", 0, int),
            operation="generate" if operation == "generations" else "edit",
            input_fidelity=get("input_fidelity", None),
            input_images=tuple(dims),
            complexity=get("complexity", None),
            frame_count=get("frame_count", None, int),
            frame_duration_ms=get("frame_duration_ms", None, int),
        )

    def _validate(self, flavour: str, req: ImageRequest, model: ModelSpec, fields_: dict | None = None) -> None:
        fields_ = fields_ or {}
        if "svg" in fields_ and req.output_format != "svg":
            raise _ApiError(400, _openai_error("svg options require output_format=svg. Remove svg or set "
                                               "output_format=svg.", param="svg", code="invalid_value"))
        gate = req.output_format if req.output_format in model.gated_formats else None
        if gate is not None and gate not in self.config.access:
            raise _ApiError(400, _openai_error(
                f"output_format={gate!r} on {model.id} requires access to {GATED.get(gate, 'a preview')}. Request "
                "access, or use png, jpeg or webp.", param="output_format", code="preview_access_required"))
        try:
            # provider="simulator": every model is served on every date, so the date cannot change the
            # answer; a fixed one keeps the simulator free of the wall clock.
            found = problems(req, self.accepting, today=ANY_DATE)
        except (TypeError, ValueError, AttributeError) as exc:
            raise _ApiError(400, _openai_error(f"Invalid request: {exc}")) from None
        if flavour.startswith("azure") and req.output_format not in model.formats_for("azure"):
            raise _ApiError(400, _azure_error(
                "BadRequest", f"output_format {req.output_format!r} is not supported on Azure OpenAI; supported: "
                f"{', '.join(model.formats_for('azure'))}. Use png or jpeg.", param="output_format"))
        if found:
            p = found[0]
            param = "image" if p.field == "image" else p.field
            raise _ApiError(400, _openai_error(f"Invalid value for '{param}': {p}", param=param, code="invalid_value"))

    # --- the answer ----------------------------------------------------------------------

    def _answer(self, start: float, flavour: str, operation: str, model: ModelSpec, fields_: dict,
                uploads: list, headers: dict[str, str], fault: FaultRule | None) -> Reply:
        self._rate_limit(flavour, fault)
        early = self._early_fault(flavour, fault)
        if early is not None:
            early.headers = {**self._common_headers(flavour, headers, start), **early.headers}
            early.ready_at = start
            return early
        model = self.accepting.model(model.id)  # the profile's acceptance rules
        req = self._request_from(flavour, operation, model, fields_, uploads)
        self._validate(flavour, req, model, fields_)
        if fault is not None and fault.kind == "moderation" and fault.stage == "input":
            raise _ApiError(400, self._moderation_payload(fault))
        if fault is not None and fault.kind in ("content_filter", "content_policy_violation") and fault.stage == "input":
            raise _ApiError(400, self._content_filter_payload(fault))
        replayed = self._replay_answer(start, flavour, headers, req)
        if replayed is not None:
            return replayed

        quality = req.quality if req.quality != "auto" else resolve_quality(model, flavour)
        size = req.size if req.size != "auto" else resolve_size(req.prompt, model)
        fmt = req.output_format
        background = req.background if req.background != "auto" else resolve_background(req.prompt, model, fmt)
        compression = req.output_compression if req.output_compression is not None else (
            100 if fmt in ("jpeg", "webp") else None)
        width, height = parse_size(size)
        partials = req.partial_images if req.stream else 0
        prof = self.profile
        image_out, text_out = sim_profile.output_usage(prof, model.id, quality, size, req.prompt, req.n, partials,
                                                       req.complexity)
        out_tokens = image_out + text_out
        text_tokens = count_text_tokens(req.prompt)
        image_tokens = sim_profile.input_image_tokens(prof, model.id, req.input_images, req.input_fidelity)
        usage: dict = {
            "input_tokens": text_tokens + image_tokens,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
            "output_tokens": out_tokens,
            "total_tokens": text_tokens + image_tokens + out_tokens,
        }
        if model.id in prof.text_output:  # models that bill text output report the split
            usage["output_tokens_details"] = {"image_tokens": image_out, "text_tokens": text_out}
        latency = self._latency(out_tokens, model.id, req.complexity)
        resolved = {"background": background, "output_format": fmt, "quality": quality, "size": size}

        source, mask = self._edit_sources(req, uploads)

        def image(i: int, coarsen: int = 0) -> bytes:
            prompt = req.prompt if i == 0 else f"{req.prompt}\n#{i}"
            if source is not None and fmt in ("png", "jpeg", "webp"):
                return render_edit(prompt, width, height, quality, fmt, compression, background == "transparent",
                                   source, mask, coarsen)
            if fmt == "gif":
                return render_gif(prompt, width, height, quality, req.frame_count or 9, req.frame_duration_ms or 200)
            if fmt == "svg":
                return render_svg(prompt, width, height)
            return render(prompt, width, height, quality, fmt, compression, background == "transparent", coarsen)

        base_headers = self._common_headers(flavour, headers, start)
        if req.stream:
            base_headers["content-type"] = "text/event-stream; charset=utf-8"
            base_headers["openai-processing-ms"] = str(max(1, round((time.monotonic() - start) * 1000)))
            events = self._events(start, latency, req, resolved, usage, image, fault)
            return Reply(200, base_headers, events=events, ready_at=time.monotonic())

        if fault is not None and fault.kind in ("moderation", "content_filter", "content_policy_violation"):
            # output stage: the image was generated, then blocked, so the time was spent
            payload = self._moderation_payload(fault) if fault.kind == "moderation" \
                else self._content_filter_payload(fault)
            base_headers["content-type"] = "application/json"
            return Reply(400, base_headers, json.dumps(payload).encode(), ready_at=start + latency)
        images = [image(i) for i in range(req.n)]
        encoded = [base64.b64encode(b).decode("ascii") for b in images]
        if fault is not None and fault.kind == "bad_image":
            encoded = ["!!not base64!!" + e[:16] for e in encoded]
        payload = {"created": int(time.time()), **resolved, "data": [{"b64_json": e} for e in encoded],
                   "usage": usage}
        body = json.dumps(payload).encode()
        if fault is not None and fault.kind == "malformed":
            body = body[: max(10, len(body) // 3)]
        base_headers["content-type"] = "application/json"
        base_headers["openai-processing-ms"] = str(max(1, round(latency * 1000)))
        return Reply(200, base_headers, body, ready_at=start + latency)

    @staticmethod
    def _check_markup(operation: str, model: ModelSpec, fields_: dict, uploads: list) -> None:
        """HTTP 400 (param ``markup``) unless markup is a file, on an edit, of a model whose catalog entry
        takes it, without a mask (SDK 3.57 images.edit). The output is then the edit without a mask."""
        markups = [u for u in uploads if u[0] == "markup"]
        if not markups and "markup" not in fields_:
            return
        if operation != "edits":
            why = "markup is an edit parameter (images.edit only). Remove it."
        elif "markup" in fields_:
            why = "markup must be an uploaded PNG file (multipart), not a text field."
        elif model.markup is None:
            why = f"markup is not supported for {model.id}. Remove it, or use a GPT Image 2.5 model."
        elif any(u[0] == "mask" for u in uploads):
            why = "markup cannot be combined with mask. Remove one of them."
        else:
            return
        raise _ApiError(400, _openai_error(why, param="markup", code="unsupported_parameter"))

    @staticmethod
    def _edit_sources(req: ImageRequest, uploads: list) -> tuple[bytes | None, bytes | None]:
        """(the first input image, the mask) of an edit, the mask checked as the real endpoint checks it.

        The mask must be a PNG with an alpha channel, the first image's size (HTTP 400, param ``mask``).
        """
        if req.operation != "edit":
            return None, None
        images = [u[3] for u in uploads if u[0] in ("image", "image[]")]
        masks = [u for u in uploads if u[0] == "mask"]
        if not masks:
            return (images[0] if images else None), None
        _, filename, _, data = masks[0]
        head = png_header(data)
        if head is None or not head[2]:
            raise _ApiError(400, _openai_error(
                f"Invalid mask image {filename!r}: the mask must be a PNG with an alpha channel (transparent where "
                "the image is edited). Save it as RGBA PNG.", param="mask", code="invalid_image_format"))
        first = image_size(images[0]) if images else None
        if first is not None and first != head[:2]:
            raise _ApiError(400, _openai_error(
                f"Invalid mask image {filename!r}: it is {head[0]}x{head[1]} but the image is {first[0]}x{first[1]}; "
                "the mask must be the same size as the first image. Resize the mask.", param="mask",
                code="invalid_image_format"))
        return (images[0] if images else None), data

    def _replay_answer(self, start: float, flavour: str, headers: dict[str, str], req: ImageRequest) -> Reply | None:
        """The recorded answer of ``req`` when a recording is served (None: answer from the profile).

        The recorded image bytes, usage and resolved settings come back as they were received, after the
        recorded latency (times ``time_scale``); the ``x-imagegen-replayed`` header carries the label.
        """
        if self.replay is None:
            return None
        entry = self.replay.lookup(req)
        if entry is None:
            if self.replay.fallback == "profile":
                return None
            raise _ApiError(400, _openai_error(self.replay.missing_message(req), code="not_in_recording"))
        rec = entry.response
        latency = rec.latency_s * self.config.time_scale
        out = self._common_headers(flavour, headers, start)
        out.update({k: v for k, v in rec.headers.items() if k.startswith("x-ratelimit-")})
        out[REPLAY_HEADER] = self.replay.label(entry)
        if rec.processing_ms is not None:
            out["openai-processing-ms"] = str(rec.processing_ms)
        resolved = {k: v for k, v in (("background", rec.resolved_background), ("output_format", rec.output_format),
                                      ("quality", rec.resolved_quality), ("size", rec.resolved_size)) if v is not None}
        if req.stream:
            # Partial images are not recorded: a streamed replay sends each final image, at the recorded time.
            prefix = "image_generation" if req.operation == "generate" else "image_edit"
            out["content-type"] = "text/event-stream; charset=utf-8"
            count = len(rec.images)

            def events() -> Iterator[tuple[float, bytes]]:
                for i, im in enumerate(rec.images):
                    data = {"type": f"{prefix}.completed", "b64_json": im.b64, "created_at": int(time.time()),
                            **resolved, "usage": rec.usage}
                    yield start + latency * (i + 1) / count, \
                        f"event: {prefix}.completed\ndata: {json.dumps(data)}\n\n".encode()
            return Reply(200, out, events=events(), ready_at=time.monotonic())
        payload = {"created": int(time.time()), **resolved, "data": [{"b64_json": im.b64} for im in rec.images]}
        if rec.usage is not None:
            payload["usage"] = rec.usage
        out["content-type"] = "application/json"
        return Reply(200, out, json.dumps(payload).encode(), ready_at=start + latency)

    def _events(self, start: float, latency: float, req: ImageRequest, resolved: dict, usage: dict,
                image, fault: FaultRule | None) -> Iterator[tuple[float, bytes]]:
        prefix = "image_generation" if req.operation == "generate" else "image_edit"
        partials = req.partial_images

        def sse(event: str, data: dict) -> bytes:
            return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()

        def generate() -> Iterator[tuple[float, bytes]]:
            total = req.n * (partials + 1)
            step = 0
            for i in range(req.n):
                for k in range(partials):
                    step += 1
                    at = start + latency * step / total
                    if fault is not None and fault.kind == "stream_drop":
                        yield at, b""  # the server/transport drops the connection here
                        return
                    data = {"type": f"{prefix}.partial_image", "b64_json": base64.b64encode(
                        image(i, coarsen=partials - k)).decode("ascii"), "created_at": int(time.time()),
                        "partial_image_index": k, **resolved}
                    yield at, sse(f"{prefix}.partial_image", data)
                step += 1
                at = start + latency * step / total
                if fault is not None:
                    if fault.kind in ("moderation", "content_filter", "content_policy_violation"):
                        payload = self._moderation_payload(fault) if fault.kind == "moderation" \
                            else self._content_filter_payload(fault)
                        yield at, sse("error", {"type": "error", **payload})
                        return
                    if fault.kind == "stream_error":
                        yield at, sse("error", {"type": "error", **_openai_error(
                            "The server had an error while processing your request. Sorry about that!",
                            type_="server_error", code="server_error")})
                        return
                    if fault.kind == "malformed":
                        yield at, f"event: {prefix}.completed\ndata: {{\"type\": \"{prefix}.comp\n\n".encode()
                        return
                    if fault.kind == "stream_drop":
                        yield at, b""
                        return
                b64 = base64.b64encode(image(i)).decode("ascii")
                if fault is not None and fault.kind == "bad_image":
                    b64 = "!!not base64!!"
                data = {"type": f"{prefix}.completed", "b64_json": b64, "created_at": int(time.time()),
                        **resolved, "usage": usage}
                yield at, sse(f"{prefix}.completed", data)

        return generate()

    def _early_fault(self, flavour: str, fault: FaultRule | None) -> Reply | None:
        """Faults answered before the request is validated or rendered."""
        if fault is None:
            return None
        kind = fault.kind
        if kind == "rate_limited":
            return self._rate_limited(flavour, fault.retry_after)
        if kind in ("server_error", "unavailable"):
            status = fault.status or (503 if kind == "unavailable" else 500)
            if flavour == "openai":
                payload = _openai_error("The server had an error while processing your request. Sorry about that!"
                                        if status != 503 else "The engine is currently overloaded, please try again "
                                        "later.", type_="server_error", code=None)
            else:
                payload = _azure_error(str(status), "The service is temporarily unable to process your request. "
                                       "Please try again later." if status == 503 else "Internal server error.")
            return Reply(status, {"content-type": "application/json"}, json.dumps(payload).encode())
        if kind == "hang":
            return Reply(0, {}, action="hang", hang_s=self.config.hang_s)
        if kind == "drop":
            return Reply(0, {}, action="drop")
        if kind == "forbidden":
            payload = _azure_error("Forbidden", "Your resource has been temporarily blocked because we detected "
                                   "behavior that may violate our content policy. Review your prompts and contact "
                                   "support if you believe this is an error.")
            return Reply(403, {"content-type": "application/json"}, json.dumps(payload).encode())
        if kind == "bad_request":
            payload = _openai_error("Invalid request (injected by the simulator).", param=None, code="invalid_request")
            return Reply(400, {"content-type": "application/json"}, json.dumps(payload).encode())
        return None

    def _rate_limited(self, flavour: str, retry_after: float) -> Reply:
        if flavour == "openai":
            payload = _openai_error(f"Rate limit reached for requests. Please try again in {retry_after:g}s.",
                                    type_="requests", code="rate_limit_exceeded")
        else:
            payload = _azure_error("429", "Requests to the Images_Generations Operation under Azure OpenAI API have "
                                   f"exceeded the rate limit of your current tier. Please retry after "
                                   f"{max(1, round(retry_after))} seconds.")
        headers = {"content-type": "application/json", "retry-after": f"{retry_after:g}",
                   "retry-after-ms": str(round(retry_after * 1000))}
        return Reply(429, headers, json.dumps(payload).encode())

    def _rate_limit(self, flavour: str, fault: FaultRule | None) -> None:
        limit = self.config.rpm_limit
        if limit is None or fault is not None:
            return
        now = time.monotonic()
        with self._lock:
            while self._window and now - self._window[0][0] > 60:
                self._window.popleft()
            if len(self._window) >= limit:
                wait = max(0.001, 60 - (now - self._window[0][0]))
                reply = self._rate_limited(flavour, round(wait, 3))
                raise _ApiError(429, json.loads(reply.body), {k: v for k, v in reply.headers.items()
                                                              if k.startswith("retry")})
            self._window.append((now, 0))

    @staticmethod
    def _moderation_payload(fault: FaultRule) -> dict:
        return _openai_error(
            "Your request was rejected by the safety system. If you believe this is an error, rephrase the prompt "
            "and try again." if fault.stage == "input" else
            "The generated image was rejected by the safety system. Rephrase the prompt and try again.",
            type_="image_generation_user_error", code="moderation_blocked",
            moderation_details={"moderation_stage": fault.stage, "categories": list(fault.categories)})

    @staticmethod
    def _content_filter_payload(fault: FaultRule) -> dict:
        if fault.kind == "content_policy_violation":
            results = {c: {"filtered": True, "severity": "high"} for c in (fault.categories or ("violence",))}
            return {"error": {"code": "content_policy_violation", "type": "invalid_request_error", "param": None,
                              "message": "Your request was rejected as a result of our safety system.",
                              "inner_error": {"code": "ResponsibleAIPolicyViolation",
                                              "content_filter_results": results, "revised_prompt": None}}}
        message = "Your task failed as a result of our safety system." if fault.stage == "input" \
            else "Generated image was filtered as a result of our safety system."
        return {"created": int(time.time()), "error": {"code": "contentFilter", "message": message}}

    # --- latency and headers --------------------------------------------------------------

    def modelled_latency_s(self, model_id: str, output_tokens: int, complexity: str | None = None) -> float:
        """Latency the profile models for a request at time scale 1, before jitter (config overrides win)."""
        cfg = self.config
        return sim_profile.modelled_latency_s(self.profile, model_id, output_tokens, complexity,
                                              cfg.tokens_per_s, cfg.overhead_s)

    def _latency(self, output_tokens: int, model_id: str = "", complexity: str | None = None) -> float:
        cfg = self.config
        if cfg.fixed_latency_s is not None:
            return cfg.fixed_latency_s
        base = self.modelled_latency_s(model_id, output_tokens, complexity) * cfg.time_scale
        if cfg.jitter:
            with self._lock:
                base *= 1 + self._rng.uniform(-cfg.jitter, cfg.jitter)
        return max(0.0, base)

    def _common_headers(self, flavour: str | None, headers: dict[str, str], start: float) -> dict[str, str]:
        out = {"x-request-id": f"req_{uuid.uuid4().hex}", "x-simulator": "true",
               "openai-processing-ms": str(max(1, round((time.monotonic() - start) * 1000))),
               # recorded with each result so latency statistics never mix time scales
               "x-simulator-time-scale": f"{self.config.time_scale:g}"}
        if self.config.fixed_latency_s is not None:
            out["x-simulator-fixed-latency-s"] = f"{self.config.fixed_latency_s:g}"
        limit = self.config.rpm_limit or 50
        with self._lock:
            used = sum(1 for t, _ in self._window if time.monotonic() - t <= 60)
        remaining = max(0, limit - used)
        out["x-ratelimit-remaining-requests"] = str(remaining)
        out["x-ratelimit-remaining-tokens"] = "100000"
        if flavour == "openai":
            out["openai-version"] = "2020-10-01"
            out["x-ratelimit-limit-requests"] = str(limit)
            out["x-ratelimit-limit-tokens"] = "100000"
            out["x-ratelimit-reset-requests"] = f"{round(60_000 / limit)}ms"
            out["x-ratelimit-reset-tokens"] = "0s"
            for name in ("openai-organization", "openai-project"):
                if headers.get(name):
                    out[name] = headers[name]
        else:
            out["apim-request-id"] = str(uuid.uuid4())
            out["x-ms-region"] = "Simulator"
        return out


def fault_header(kind: str, **params) -> dict[str, str]:
    """``{"x-simulator-fault": "kind; key=value"}`` for ``extra_headers``."""
    parts = [kind] + [f"{k}={','.join(v) if isinstance(v, (list, tuple)) else v}" for k, v in params.items()]
    return {FAULT_HEADER: "; ".join(parts)}


