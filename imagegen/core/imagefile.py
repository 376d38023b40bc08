"""Facts about image bytes as received (never re-encoded)."""

from __future__ import annotations

#: Largest image accepted or decoded anywhere, in pixels (checked from the header before any decode). The
#: largest size any catalog model documents is 3840x2160 = 8,294,400 px; this leaves room for 4096x4096.
MAX_IMAGE_PIXELS = 4096 * 4096

#: File extension per format (JPEG files are saved as .jpg).
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp", "gif": "gif", "svg": "svg"}


def sniff_format(data: bytes) -> str | None:
    """The image format from its magic bytes (png, jpeg, webp, gif, svg), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.lstrip()[:5] in (b"<?xml", b"<svg "):
        return "svg"
    return None
