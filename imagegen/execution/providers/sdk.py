"""What every provider shares: one attempt through the official openai SDK, measured and translated.

* Clients are built with ``max_retries=0`` and an explicit timeout: the runner owns retrying, so
  the wall time of an attempt is the attempt and nothing else.
* ``client.images.with_raw_response.generate/edit`` gives the headers (``x-request-id``,
  ``openai-processing-ms``, ``x-ratelimit-*``) next to the parsed body.
* ``b64_json`` is decoded to the original bytes and never re-encoded (re-encoding loses the
  format and the C2PA provenance data).
* Every SDK exception and stream error becomes a :class:`ProviderError` whose ``kind`` is an
  :class:`imagegen.errors.ErrorKind`, with a message a user can act on.
"""

from __future__ import annotations

import base64

try:  # SIMD base64: ~15x faster than the stdlib on multi-MB images (client overhead per image)
    from pybase64 import b64decode as _b64decode
except ImportError:  # pragma: no cover - the stdlib gives identical bytes, just slower
    _b64decode = base64.b64decode
import binascii
import json
import math
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import httpx2
import openai

from imagegen.core.imagefile import sniff_format
from imagegen.core.recording import REPLAY_HEADER
from imagegen.core.request import ImageRequest
from imagegen.core.results import Generation
from imagegen.errors import ErrorKind, ProviderError
from imagegen.execution.providers.deadline import attempt_deadline
from imagegen.execution.providers.response_checks import BadResponse, check_answer, check_usage
from imagegen.redaction import redact, redact_mapping

#: Error codes that mean "blocked by a safety system" (OpenAI, Azure GPT-image, DALL-E/Azure, chat-style).
MODERATION_CODES = ("moderation_blocked", "contentFilter", "content_policy_violation", "content_filter")
CONNECT_TIMEOUT_S = 5.0
MAX_SERVER_MESSAGE = 500
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}


def client_timeout(timeout: float) -> httpx2.Timeout:
    """The SDK timeout for one attempt: ``timeout`` to read/write, at most 5 s to connect."""
    return httpx2.Timeout(timeout, connect=min(CONNECT_TIMEOUT_S, timeout))


def _seconds(text: str, scale: float = 1.0) -> float | None:
    """A finite, non-negative number of seconds, or None (negative, NaN, inf and garbage fall back to backoff)."""
    try:
        value = float(text) * scale
    except (TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


def parse_retry_after(headers: Mapping[str, str] | httpx2.Headers | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (first) or ``retry-after`` (seconds or an HTTP date).

    None when absent or unusable (negative, NaN, infinite, garbage): the runner then uses its backoff.
    """
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        wait = _seconds(ms, 1 / 1000)
        if wait is not None:
            return wait
    value = headers.get("retry-after")
    if not value:
        return None
    wait = _seconds(value)
    if wait is not None:
        return wait
    if any(c.isalpha() for c in value):  # an HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT")
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return None


def ratelimit_headers(headers: Mapping[str, str] | httpx2.Headers) -> dict[str, str]:
    """The ``x-ratelimit-*`` (and retry-after) headers, as sent (secrets redacted, each value at most 200 chars)."""
    return redact_mapping({k.lower(): v[:200] for k, v in headers.items()
                           if k.lower().startswith("x-ratelimit-") or k.lower().startswith("retry-after")})


def request_id_of(headers: Mapping[str, str] | httpx2.Headers | None) -> str | None:
    if not headers:
        return None
    rid = headers.get("x-request-id") or headers.get("apim-request-id")
    return redact(rid)[:200] if rid else None


def _processing_ms(headers: Mapping[str, str] | httpx2.Headers) -> int | None:
    value = headers.get("openai-processing-ms")
    try:
        ms = int(float(value)) if value is not None else None
    except (ValueError, OverflowError):
        return None
    return ms if ms is None or 0 <= ms <= 10**9 else None


def _error_body(exc: openai.APIError) -> dict:
    body = exc.body
    if isinstance(body, Mapping):
        inner = body.get("error")
        return dict(inner) if isinstance(inner, Mapping) else dict(body)
    return {}


def _moderation_details(code: str | None, body: dict, message: str) -> tuple[str | None, tuple[str, ...]]:
    details = body.get("moderation_details") or {}
    stage = details.get("moderation_stage") if isinstance(details, Mapping) else None
    categories = tuple(details.get("categories") or ()) if isinstance(details, Mapping) else ()
    if code == "contentFilter" and stage is None:
        stage = "output" if "generated image" in message.lower() else "input"
    inner = body.get("inner_error") or {}
    results = inner.get("content_filter_results") if isinstance(inner, Mapping) else None
    if isinstance(results, Mapping) and not categories:
        categories = tuple(k for k, v in results.items() if isinstance(v, Mapping) and v.get("filtered"))
    if stage is None and code in ("content_policy_violation", "content_filter"):
        stage = "input"
    return stage, categories


def translate_error(exc: Exception, *, where: str, timeout: float | None = None,
                    key_hint: str = "the API key") -> ProviderError:
    """Sort any SDK/transport/decoding failure into a ProviderError with an actionable message."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        limit = f" within {timeout:g} s" if timeout else ""
        return ProviderError(ErrorKind.TIMEOUT, f"{where}: no answer{limit}. High-quality images can take over 2 minutes: "
                             "raise the timeout (timeout_s) or retry.")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = f" ({type(cause).__name__}: {cause})" if cause else ""
        return ProviderError(ErrorKind.CONNECTION, f"{where}: the connection failed{detail}. Check the endpoint URL and the "
                             "network; the request is safe to retry.")
    if isinstance(exc, openai.APIStatusError):
        return _translate_status(exc, where, key_hint)
    if isinstance(exc, openai.APIResponseValidationError):
        return ProviderError(ErrorKind.BAD_RESPONSE, f"{where}: the response did not match the Images API schema ({exc}). "
                             "Check that the endpoint really is an OpenAI-compatible Images API.",
                             status=exc.status_code, request_id=request_id_of(exc.response.headers))
    if isinstance(exc, openai.APIError):  # an error event inside a stream (no HTTP status)
        body = _error_body(exc)
        code = exc.code or body.get("code")
        if code in MODERATION_CODES:
            stage, cats = _moderation_details(code, body, exc.message)
            return ProviderError(ErrorKind.MODERATION, _moderation_message(where, code, stage, cats, exc.message),
                                 stage=stage, categories=cats, code=code)
        if code in ("rate_limit_exceeded", "429"):
            return ProviderError(ErrorKind.RATE_LIMITED, f"{where}: rate limited inside the stream ({exc.message}). "
                                 "Lower concurrency or rpm and retry.", code=code)
        kind = ErrorKind.BAD_REQUEST if (exc.type or body.get("type")) == "invalid_request_error" else ErrorKind.SERVER_ERROR
        return ProviderError(kind, f"{where}: the stream reported an error: {exc.message}"
                             + (" Retry later." if kind is ErrorKind.SERVER_ERROR else " Fix the request."), code=code)
    if isinstance(exc, (ValueError, binascii.Error, KeyError, TypeError, AttributeError)):
        # json.JSONDecodeError is a ValueError; so is an undecodable base64 image.
        return ProviderError(ErrorKind.BAD_RESPONSE, f"{where}: the response could not be read ({type(exc).__name__}: "
                             f"{exc}). The server sent a malformed body; retrying may help, otherwise check the "
                             "endpoint.")
    if isinstance(exc, httpx2.TimeoutException):
        return ProviderError(ErrorKind.TIMEOUT, f"{where}: timed out ({exc}). Raise the timeout or retry.")
    if isinstance(exc, httpx2.TransportError):
        return ProviderError(ErrorKind.CONNECTION, f"{where}: the connection failed ({exc}). Check the endpoint and retry.")
    raise exc


def _moderation_message(where: str, code: str | None, stage: str | None, cats: tuple[str, ...], msg: str) -> str:
    stage_text = {"input": "the prompt or input images", "output": "the generated image"}.get(stage or "", "the request")
    cat_text = f" (categories: {', '.join(cats)})" if cats else ""
    return (f"{where}: blocked by the safety system at the {stage or 'unknown'} stage, on {stage_text}{cat_text}; "
            f"code {code}. Rephrase the prompt or change the input images; retrying unchanged will not help. "
            f"Server said: {msg}")


def _translate_status(exc: openai.APIStatusError, where: str, key_hint: str) -> ProviderError:
    status = exc.status_code
    body = _error_body(exc)
    code = exc.code or body.get("code")
    code = str(code) if code is not None else None
    message = str(body.get("message") or exc.message)
    if len(message) > MAX_SERVER_MESSAGE:  # a server's text is an excerpt, never a whole body
        message = message[:MAX_SERVER_MESSAGE - 1] + "…"
    headers = exc.response.headers if exc.response is not None else None
    rid = exc.request_id or request_id_of(headers)
    common = dict(status=status, request_id=rid, code=code)
    ref = f" (request id {rid})" if rid else ""
    if code in MODERATION_CODES or (status == 403 and code == "Forbidden"):
        stage, cats = _moderation_details(code, body, message)
        if status == 403:
            return ProviderError(ErrorKind.MODERATION, f"{where}: the resource is blocked for suspected content-policy "
                                 f"violations (HTTP 403 Forbidden){ref}. Review recent prompts and contact Azure "
                                 f"support; retrying will not help. Server said: {message}",
                                 stage=stage or "input", categories=cats, **common)
        return ProviderError(ErrorKind.MODERATION, _moderation_message(where, code, stage, cats, message) + ref,
                             stage=stage, categories=cats, **common)
    if status == 429:
        wait = parse_retry_after(headers)
        hint = f" The server asks to wait {wait:g} s." if wait is not None else ""
        return ProviderError(ErrorKind.RATE_LIMITED, f"{where}: rate limited (HTTP 429){ref}.{hint} Lower concurrency or "
                             f"set [limits] rpm, then retry. Server said: {message}", retry_after=wait, **common)
    if status == 401:
        return ProviderError(ErrorKind.AUTH, f"{where}: the credentials were rejected (HTTP 401){ref}. Check {key_hint} "
                             f"(and that it belongs to this endpoint). Server said: {message}", **common)
    if status == 403:
        return ProviderError(ErrorKind.AUTH, f"{where}: permission denied (HTTP 403){ref}. Check that this key's "
                             "organization/project has access to the model (GPT image models need organization "
                             f"verification on OpenAI, an approved limited-access request on Azure). "
                             f"Server said: {message}", **common)
    if status == 404:
        return ProviderError(ErrorKind.NOT_FOUND, f"{where}: not found (HTTP 404){ref}. Check the model id or Azure "
                             "deployment name (AZURE_OPENAI_API_IMAGE_MODEL / IMAGEGEN_AZURE_DEPLOYMENTS) and the "
                             f"endpoint URL. Server said: {message}", **common)
    if status == 408:
        return ProviderError(ErrorKind.TIMEOUT, f"{where}: the server timed out (HTTP 408){ref}; retry. Server said: {message}",
                             **common)
    if status == 409:
        return ProviderError(ErrorKind.SERVER_ERROR, f"{where}: conflict (HTTP 409){ref}; retry. Server said: {message}",
                             **common)
    if status >= 500:
        return ProviderError(ErrorKind.SERVER_ERROR, f"{where}: server error (HTTP {status}){ref}. It is usually temporary: "
                             f"retry later. Server said: {message}", **common)
    param = body.get("param")
    about = f" (parameter {param})" if param else ""
    return ProviderError(ErrorKind.BAD_REQUEST, f"{where}: the request was refused (HTTP {status}){about}{ref}. Fix the "
                         f"request; retrying unchanged will not help. Server said: {message}", **common)


def decode_image(b64: object) -> bytes:
    """The original image bytes from ``b64_json``; ValueError when it is missing or not base64."""
    if not isinstance(b64, str) or not b64:
        raise ValueError("an image in the response has no b64_json")
    return _b64decode(b64, validate=True)


def _images_of(payload: object) -> tuple[bytes, ...]:
    """The decoded ``data[].b64_json`` images of a response body; BadResponse naming what is wrong."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise BadResponse(f"data is {type(data).__name__}, not a list of images")
    out = []
    for i, item in enumerate(data):
        try:
            out.append(decode_image(item.get("b64_json") if isinstance(item, dict) else None))
        except (ValueError, binascii.Error):
            raise BadResponse(f"image {i + 1} has no valid base64 b64_json") from None
    return tuple(out)


def _edit_files(input_files: tuple[bytes, ...]) -> list[tuple[str, bytes, str]]:
    files = []
    for i, data in enumerate(input_files):
        fmt = sniff_format(data) or "png"
        files.append((f"image_{i}.{'jpg' if fmt == 'jpeg' else fmt}", data, MIME.get(fmt, "application/octet-stream")))
    return files


class SDKProvider:
    """One attempt of one request through an ``openai.OpenAI``/``AzureOpenAI`` client (no retries)."""

    name: str = "openai"
    simulated: bool = False

    def __init__(self, client: openai.OpenAI, *, name: str, simulated: bool = False, where: str | None = None,
                 extra_headers: Mapping[str, str] | None = None, key_hint: str = "the API key") -> None:
        self.client = client.with_options(max_retries=0) if client.max_retries else client
        self.name = name
        self.simulated = simulated
        self.where = where or name
        self.extra_headers = dict(extra_headers or {})
        self.key_hint = key_hint

    def close(self) -> None:
        """Close the client's pooled connections now (idempotent); otherwise they close when it is dropped."""
        self.client.close()

    def wire_model(self, request: ImageRequest) -> str:
        """What goes in the body's ``model`` (Azure: the deployment name)."""
        return request.model

    def call_kwargs(self, request: ImageRequest) -> dict:
        kwargs = request.api_body()
        kwargs["model"] = self.wire_model(request)
        return kwargs

    def generate(self, request: ImageRequest, *, timeout: float, input_files: tuple[bytes, ...] = (),
                 extra_headers: Mapping[str, str] | None = None, mask: bytes | None = None,
                 markup: bytes | None = None) -> Generation:
        """Send ``request`` once; return the Generation or raise ProviderError. ``mask`` (edits): a PNG
        whose transparent pixels mark where the first image is edited; ``markup`` (edits, GPT Image 2.5):
        a transparent PNG overlaid on the first image to guide the edit."""
        kwargs = self.call_kwargs(request)
        headers = {**self.extra_headers, **(extra_headers or {})}
        start = time.perf_counter()
        try:
            with attempt_deadline(timeout):  # connect + headers + body, however slowly the bytes come
                return self._send(request, kwargs, headers, timeout, input_files, start, mask, markup)
        except ProviderError as err:
            err.simulated = err.simulated or self.simulated
            raise
        except Exception as exc:  # every failure leaves as a ProviderError (or re-raised if unknown)
            err = translate_error(exc, where=self.where, timeout=timeout, key_hint=self.key_hint)
            response = getattr(exc, "response", None)
            err.simulated = self._simulated(response.headers if response is not None else {})
            raise err from exc

    def _send(self, request: ImageRequest, kwargs: dict, headers: dict, timeout: float,
              input_files: tuple[bytes, ...], start: float, mask: bytes | None = None,
              markup: bytes | None = None) -> Generation:
        images_api = self.client.images.with_raw_response
        if request.operation == "edit":
            files = _edit_files(tuple(input_files))
            if not files:
                raise ProviderError(ErrorKind.BAD_REQUEST, f"{self.where}: an edit needs at least one input image. "
                                    "Attach an image.")
            if mask is not None:
                kwargs["mask"] = ("mask.png", mask, "image/png")
            if markup is not None:
                kwargs["markup"] = ("markup.png", markup, "image/png")
            raw = images_api.edit(image=files if len(files) > 1 else files[0], **kwargs,
                                  timeout=client_timeout(timeout), extra_headers=headers or None)
        else:
            raw = images_api.generate(**kwargs, timeout=client_timeout(timeout), extra_headers=headers or None)
        if request.stream:
            return self._read_stream(raw, request, start)
        return self._read_response(raw, request, start)

    def _bad(self, reason: str, usage, headers) -> ProviderError:
        """An HTTP 200 whose answer failed the boundary checks: billed, so never retried, cost kept as spent."""
        err = ProviderError(ErrorKind.BAD_RESPONSE, f"{self.where}: the answer failed the checks: {reason}. It was "
                            "answered (HTTP 200), so what it cost stays counted as spent, and it is not retried. "
                            "Check that the endpoint really is an OpenAI-compatible Images API.",
                            status=200, request_id=request_id_of(headers))
        err.answered = True
        err.usage = usage
        err.simulated = self._simulated(headers or {})
        return err

    def _simulated(self, headers) -> bool:
        # Anything the built-in simulator answered is marked, even when reached as a "compatible" endpoint.
        return self.simulated or headers.get("x-simulator") == "true"

    def _read_response(self, raw, request: ImageRequest, start: float) -> Generation:
        final_s = time.perf_counter() - start  # the body has been received when with_raw_response returns
        headers = raw.headers
        try:
            payload = json.loads(raw.http_response.content)
        except (ValueError, UnicodeDecodeError):
            raise self._bad("the body is not JSON", None, headers) from None
        images = self._checked(payload, headers, request, lambda: _images_of(payload))
        return self._generation(payload, images, headers, request, start, final_s)

    def _checked(self, body: object, headers, request: ImageRequest, images_of, expected: int | None = None
                 ) -> tuple[bytes, ...]:
        """The decoded images of an answer that passed every boundary check; else a bad_response error."""
        usage = None
        try:
            if isinstance(body, dict):
                usage = check_usage(body.get("usage"), request)
            images = images_of()
            check_answer(body, images, request, expected_images=expected)
        except BadResponse as exc:
            raise self._bad(exc.reason, exc.usage or usage, headers) from None
        return images

    def _read_stream(self, raw, request: ImageRequest, start: float) -> Generation:
        headers = raw.headers
        stream = raw.parse()
        first_partial: float | None = None
        partials = 0
        images: list[bytes] = []
        final: dict = {}
        final_s: float | None = None
        try:
            for event in stream:
                kind = getattr(event, "type", "")
                if kind.endswith(".partial_image"):
                    partials += 1
                    if first_partial is None:
                        first_partial = time.perf_counter() - start
                elif kind.endswith(".completed"):
                    images.append(decode_image(getattr(event, "b64_json", None)))
                    final = event.to_dict() if hasattr(event, "to_dict") else dict(event)
                    final_s = time.perf_counter() - start
        finally:
            stream.close()
        if not images or final_s is None:
            raise ValueError("the event stream ended without an image_generation.completed event")
        self._checked(final, headers, request, lambda: tuple(images))
        return self._generation(final, tuple(images), headers, request, start, final_s,
                                first_partial_s=first_partial, partial_images_received=partials)

    def _generation(self, body: dict, images: tuple[bytes, ...], headers, request: ImageRequest, start: float,
                    final_s: float, **streaming) -> Generation:
        """A Generation from a response body or a stream's completed event (same resolved fields)."""
        return Generation(
            images=images,
            output_format=body.get("output_format") or sniff_format(images[0]) or request.output_format,
            resolved_quality=body.get("quality"),
            resolved_size=body.get("size"),
            resolved_background=body.get("background"),
            usage=body.get("usage"),
            wall_s=time.perf_counter() - start,
            final_s=final_s,
            processing_ms=_processing_ms(headers),
            request_id=request_id_of(headers),
            ratelimit=ratelimit_headers(headers),
            simulated=self._simulated(headers),
            replayed_from=headers.get(REPLAY_HEADER) or None,
            sim_time_scale=_float_header(headers, "x-simulator-time-scale") if self._simulated(headers) else None,
            sim_fixed_latency_s=_float_header(headers, "x-simulator-fixed-latency-s") if self._simulated(headers)
            else None,
            **streaming,
        )


def _float_header(headers, name: str) -> float | None:
    """A numeric response header (the simulator's time scale), or None when absent or not a number."""
    try:
        value = float(headers.get(name))
    except (TypeError, ValueError):
        return None
    return value if value == value and value >= 0 else None  # no NaN, no negatives
