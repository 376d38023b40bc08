"""Image files of the run history: original bytes named by content, and cached thumbnails.

Layout under the home directory::

    images/ab/<sha256>.<ext>     original bytes as received (never re-encoded), named by content
    thumbs/<sha256>-<px>.webp    small cached thumbnails for the UI

Files are written to a temporary name and renamed, so a crash never leaves a half-written image under
its name. Dimensions come from the header (PNG parsed directly), never from a full decode.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import uuid
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from imagegen.core.imagefile import EXTENSIONS, MAX_IMAGE_PIXELS, sniff_format
from imagegen.errors import StoreError

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def file_format(data: bytes) -> str:
    """File format from the bytes themselves (not from what was asked for); "bin" when unknown."""
    return sniff_format(data) or "bin"


def image_dimensions(data: bytes, fmt: str) -> tuple[int | None, int | None]:
    """(width, height) from the header only; PNG is parsed directly (no decode)."""
    if fmt == "png" and len(data) >= 24 and data[12:16] == b"IHDR":
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if fmt in ("svg", "bin"):
        return None, None
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:  # a damaged image is still stored as received
        return None, None


@dataclass(frozen=True)
class StoredImage:
    """One image file in the store."""

    sha256: str
    path: str           # relative to the home directory
    bytes: int
    width: int | None
    height: int | None
    format: str


class FileStore:
    """The ``images/`` and ``thumbs/`` directories of one home directory."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.images_dir = home / "images"
        self.thumbs_dir = home / "thumbs"
        try:
            self.images_dir.mkdir(parents=True, exist_ok=True)
            self.thumbs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data directory {home} ({exc}). "
                             "Fix: set IMAGEGEN_HOME to a writable directory.") from None

    def save_image(self, data: bytes) -> StoredImage:
        """Write original bytes under their sha256 (skipped when already there); safe to call from any thread."""
        sha = hashlib.sha256(data).hexdigest()
        fmt = file_format(data)
        rel = f"images/{sha[:2]}/{sha}.{EXTENSIONS.get(fmt, fmt)}"
        path = self.home / rel
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{sha}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                tmp.write_bytes(data)
                os.replace(tmp, path)  # atomic: a crash never leaves a half-written image under its name
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise StoreError(f"cannot write image {path} ({exc}). Fix: free disk space or fix permissions.") \
                    from None
        w, h = image_dimensions(data, fmt)
        return StoredImage(sha, rel, len(data), w, h, fmt)

    def image_path(self, ref: str, path_of_sha: Callable[[str], str | None]) -> Path:
        """Absolute path of an image from its sha256 (looked up with ``path_of_sha``) or store-relative path."""
        if _SHA_RE.match(ref):
            rel = path_of_sha(ref)
            if rel is None:
                raise StoreError(f"no image with sha256 {ref}. Fix: use a sha256 from result_rows.image_sha256.")
            ref = rel
        path = (self.home / ref).resolve()
        if not path.is_relative_to(self.home.resolve()):
            raise StoreError(f"image path {ref!r} is outside {self.home}. Fix: use result_rows.image_path.")
        return path

    def thumbnail(self, source: Path, sha256: str, max_px: int = 256) -> bytes:
        """A WEBP thumbnail of ``source`` no larger than ``max_px``, cached on disk (decoded once)."""
        cached = self.thumbs_dir / f"{sha256}-{int(max_px)}.webp"
        if cached.exists():
            return cached.read_bytes()
        from PIL import Image

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im = Image.open(source)
        except FileNotFoundError:
            raise StoreError(f"image {sha256[:12]}… is missing from {self.images_dir}") from None
        except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise StoreError(f"image {sha256[:12]}… cannot be read ({type(exc).__name__})") from None
        with im:
            if im.width * im.height > MAX_IMAGE_PIXELS:  # read from the header: never decode a bomb
                raise StoreError(f"image {sha256[:12]}… is {im.width}x{im.height}, above the "
                                 f"{MAX_IMAGE_PIXELS:,}-pixel limit")
            try:
                im.thumbnail((max_px, max_px))
            except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged data
                raise StoreError(f"image {sha256[:12]}… is damaged ({type(exc).__name__})") from None
            if im.mode not in ("RGB", "RGBA"):
                im = im.convert("RGBA" if "A" in im.getbands() or im.mode == "P" else "RGB")
            buf = io.BytesIO()
            im.save(buf, "WEBP", quality=80)
        data = buf.getvalue()
        tmp = cached.with_name(f".{cached.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, cached)
        return data

    def remove(self, rel_paths: Iterable[str], keep_shas: set[str]) -> int:
        """Delete image files (and their thumbnails) unless their sha256 is still used; return files removed."""
        removed = 0
        for rel in rel_paths:
            sha = Path(rel).stem
            if sha in keep_shas:
                continue
            (self.home / rel).unlink(missing_ok=True)
            for thumb in self.thumbs_dir.glob(f"{sha}-*"):
                thumb.unlink(missing_ok=True)
            removed += 1
        return removed
