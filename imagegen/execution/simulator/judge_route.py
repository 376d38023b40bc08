"""The simulator's deterministic judge: ``POST …/chat/completions`` with an image, answered offline.

Routes: ``/v1/chat/completions`` (OpenAI), ``/openai/deployments/{dep}/chat/completions?api-version=…``
(Azure classic) and ``/openai/v1/chat/completions`` (Azure v1). The answer is a Chat Completions
response whose message is the rubric JSON, marked ``x-simulator: true`` and with ``"simulated": true``
in the rationale. Scores are a pure function of the image and the prompt:

* the simulator draws its images on a latent grid whose cell size is the quality's patch size
  (64 px low … 16 px high), so the judge measures the mean run length of equal pixels along sampled
  columns (the texture varies along a row, not down a latent cell: the run length is the patch size, seen from the image itself) and scores *artifacts* and *adherence* from it
  (finer grid = fewer artifacts); a sha256 of image and prompt adds a deterministic ±1 to adherence;
* *text_rendering* is 5 when the prompt asks for no text, else it follows the detail.

Usage counts the text with o200k (``count_text_tokens``) plus a fixed number of tokens per image.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import time
from collections.abc import Mapping

ROUTE = re.compile(r"^(?:/v1|/openai/v1|/openai/deployments/(?P<dep>[^/]+))/chat/completions$")
IMAGE_TOKENS = 85  # the simulated judge bills a low-detail image at a flat 85 tokens
TEXT_HINT = re.compile(r"(\"[^\"]+\"|「[^」]+」|\breads?\b|\bsays?\b|\btext\b|\bsign\b|\blabel)", re.IGNORECASE)


def matches(path: str) -> bool:
    """Whether ``path`` is a judge route."""
    return bool(ROUTE.match(path))


def _error(status: int, message: str) -> tuple[int, dict, bytes]:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
    return status, {"content-type": "application/json", "x-simulator": "true"}, json.dumps(body).encode()


def _image_and_prompt(payload: dict) -> tuple[bytes | None, str]:
    image, texts = None, []
    for message in payload.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
            continue
        for part in content or []:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text":
                texts.append(str(part.get("text", "")))
            elif part.get("type") == "image_url":
                url = (part.get("image_url") or {}).get("url", "")
                if url.startswith("data:") and "," in url:
                    image = base64.b64decode(url.split(",", 1)[1])
    joined = "\n".join(texts)
    m = re.search(r"<<<(.*?)>>>", joined, re.DOTALL)
    return image, (m.group(1) if m else joined)


def patch_size(image: bytes) -> float:
    """Mean run length of identical pixels down sampled columns: the latent cell size of a simulated image."""
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(image)) as im:
        a = np.asarray(im.convert("RGB"), dtype=np.int16)
    cols = a[:, :: max(1, a.shape[1] // 24)]
    changes = (np.abs(np.diff(cols, axis=0)).sum(axis=2) > 0).sum(axis=0)
    return float(a.shape[0] / (float(np.median(changes)) + 1))


def scores(image: bytes, prompt: str) -> dict:
    """The rubric JSON the simulated judge answers (deterministic)."""
    import math

    patch = patch_size(image)
    detail = max(1, min(5, round(7 - math.log2(max(patch, 1.0) / 2))))  # 16 px -> 4, 32 -> 3, 64 -> 2, 8 -> 5
    jitter = hashlib.sha256(image + prompt.encode("utf-8")).digest()[0] % 3 - 1
    adherence = max(1, min(5, detail + jitter))
    wants_text = bool(TEXT_HINT.search(prompt))
    text = max(1, min(5, detail)) if wants_text else 5
    return {"adherence": adherence, "text_rendering": text, "artifacts": detail,
            "rationale": f"simulated judge: latent cells of ~{patch:.0f} px; "
                         f"{'text requested' if wants_text else 'no text requested'}",
            "simulated": True}


def handle(method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str],
           body: bytes) -> tuple[int, dict, bytes] | None:
    """(status, headers, body) for a judge route, or None when ``path`` is not one."""
    m = ROUTE.match(path)
    if not m:
        return None
    if method != "POST":
        return _error(405, f"Method {method} is not allowed on {path}; use POST.")
    if not (headers.get("authorization") or headers.get("api-key")):
        return _error(401, "simulated judge: no API key sent. Fix: send any key (the simulator accepts all).")
    if m["dep"] is not None and not query.get("api-version"):
        return _error(400, "simulated judge: api-version is missing on the Azure route. Fix: set api_version.")
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return _error(400, "simulated judge: the body is not JSON. Fix: send a Chat Completions JSON body.")
    image, prompt = _image_and_prompt(payload)
    if image is None:
        return _error(400, "simulated judge: no image (data URL) in the messages. Fix: attach the image to judge.")
    try:
        verdict = scores(image, prompt)
    except Exception as exc:  # not an image the judge can read
        return _error(400, f"simulated judge: cannot read the image ({type(exc).__name__}). Fix: send PNG/JPEG/WebP.")
    from imagegen.core.tokens import count_text_tokens

    content = json.dumps(verdict)
    text_in = sum(count_text_tokens(str(msg.get("content")) if isinstance(msg.get("content"), str) else
                                    " ".join(str(p.get("text", "")) for p in msg.get("content") or []
                                             if isinstance(p, dict)))
                  for msg in payload.get("messages") or [] if isinstance(msg, dict))
    usage = {"prompt_tokens": text_in + IMAGE_TOKENS, "completion_tokens": count_text_tokens(content)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    reply = {
        "id": "chatcmpl-sim-" + hashlib.sha256(body).hexdigest()[:16], "object": "chat.completion",
        "created": int(time.time()), "model": str(payload.get("model") or m["dep"] or "judge"),
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": usage,
    }
    return 200, {"content-type": "application/json", "x-simulator": "true",
                 "x-request-id": "req_sim_judge_" + hashlib.sha256(body).hexdigest()[:12]}, json.dumps(reply).encode()
