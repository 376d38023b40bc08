"""One redaction function for secrets: every message, header and body excerpt passes through it.

Removes (a) every configured key or token registered with :func:`register_secret` (settings and
providers register theirs when they load them), and (b) anything *shaped* like a credential even
when nobody registered it: OpenAI keys (``sk-…``), ``Bearer …`` tokens, JWTs (Entra ID / AD tokens),
Azure keys (32 hex digits, or the newer 84-character keys) and the value of any ``api-key`` /
``key=`` / ``authorization`` pair. This module is the lowest layer: it imports nothing of imagegen.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[REDACTED]"
#: Registered secrets shorter than this are not searched for (a 3-character "key" would blank out words).
MIN_SECRET_CHARS = 8

_PATTERNS = [
    # OpenAI keys: sk-..., sk-proj-..., sk-svcacct-... standing alone, or glued to other text when they hold a
    # digit (so "task-management-system" survives)
    re.compile(r"\bsk-[A-Za-z0-9_\-]{12,}"),
    re.compile(r"sk-(?=[A-Za-z0-9_\-]*[0-9])[A-Za-z0-9_\-]{12,}"),
    # Authorization: Bearer <token> (any token, any case)
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]{6,}"),
    # JSON web tokens (AD / Entra ID tokens)
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"),
    # Azure keys: 32 hex digits standing alone (request ids are UUIDs with dashes or req_<hex>)
    re.compile(r"(?<![A-Za-z0-9_\-])[0-9a-fA-F]{32}(?![A-Za-z0-9_\-])"),
    # newer Azure keys: 84 letters/digits standing alone
    re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9]{84}(?![A-Za-z0-9+/_\-])"),
    # credentials in a URL: https://user:secret@host/ (the whole user:secret part)
    re.compile(r"(?<=://)[^/\s@:\[\]]+:[^/\s@]+(?=@)"),
]
# "api-key: v", "api_key=v", '"x-api-key": "v"', "key=v" in a URL, "authorization: v", "subscription-key: v"
_PAIR = re.compile(
    r"(?i)(?P<name>\b(?:x-)?api[-_ ]?key|\bkey|\bsubscription[-_]key|\bocp-apim-subscription-key|\bauthorization"
    r"|\baccess[-_]token|\bpassword|\bsecret|\btoken)(?P<sep>[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"',;&<>]{6,})")

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: object) -> None:
    """Remember a configured key/token so that :func:`redact` removes it wherever it turns up."""
    if isinstance(value, str):
        value = value.strip()
        if len(value) >= MIN_SECRET_CHARS:
            with _lock:
                _secrets.add(value)


def registered_count() -> int:
    """How many secrets are registered (for tests; the values themselves are never exposed)."""
    with _lock:
        return len(_secrets)


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    """``text`` with every registered or given secret and every credential-shaped string replaced.

    Non-strings are converted with ``str`` first; ``None`` stays ``""``.
    """
    if text is None:
        return ""
    out = text if isinstance(text, str) else str(text)
    with _lock:
        known = sorted({*_secrets, *(s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_CHARS)},
                       key=len, reverse=True)
    for secret in known:  # longest first: a key that contains another is removed whole
        if secret in out:
            out = out.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        out = pattern.sub(REDACTED, out)
    # after the shapes, so "authorization: [REDACTED]" (a Bearer token already gone) is left alone
    return _PAIR.sub(lambda m: m.group(0) if m.group("value").startswith("[")
                     else f"{m.group('name')}{m.group('sep')}{REDACTED}", out)


#: Query parameters of an endpoint URL that are shown as they are; every other value may be a secret
#: (``?api-key=…``, ``?sig=…``, ``?code=…``) and is replaced.
SAFE_QUERY_NAMES = frozenset({"api-version", "api_version"})


def _url_secrets(url: str) -> list[str]:
    """The parts of ``url`` that may be secrets: user info, non-safe query values, the fragment."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return []
    found: list[str] = []
    if "@" in parts.netloc:
        found += [p for p in parts.netloc.rpartition("@")[0].split(":") if p]
    for piece in parts.query.split("&"):
        name, sep, value = piece.partition("=")
        if sep and value and name.lower() not in SAFE_QUERY_NAMES:
            found.append(value)
    if parts.fragment:
        found.append(parts.fragment)
    return found


def register_url_secrets(url: object) -> None:
    """Register the secret-looking parts of an endpoint URL (see :func:`redact_url`) for :func:`redact`."""
    if isinstance(url, str):
        for part in _url_secrets(url):
            register_secret(part)


def redact_url(url: object) -> str:
    """An endpoint URL as it may be shown or stored: user info, every query value but ``api-version``,
    and the fragment replaced by ``[REDACTED]``; the rest through :func:`redact`."""
    text = "" if url is None else str(url)
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return redact(text)
    if not parts.scheme or not parts.netloc:
        return redact(text)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query = []
    for piece in parts.query.split("&") if parts.query else []:
        name, sep, value = piece.partition("=")
        query.append(f"{name}={REDACTED}" if sep and value and name.lower() not in SAFE_QUERY_NAMES else piece)
    fragment = REDACTED if parts.fragment else ""
    return redact(urlunsplit((parts.scheme, netloc, parts.path, "&".join(query), fragment)))


def redact_optional(text: str | None) -> str | None:
    """:func:`redact`, keeping ``None`` as ``None``."""
    return None if text is None else redact(text)


def redact_mapping(values: Mapping[str, object]) -> dict[str, str]:
    """Every value of a header-like mapping redacted (names are kept; a secret-named header is blanked)."""
    out: dict[str, str] = {}
    for name, value in values.items():
        lowered = str(name).lower()
        if lowered in ("authorization", "api-key", "x-api-key", "ocp-apim-subscription-key", "cookie", "set-cookie"):
            out[str(name)] = REDACTED
        else:
            out[str(name)] = redact(value)
    return out
