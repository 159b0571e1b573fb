"""An uploaded image made safe to keep: decoded by Pillow, bounded in pixels, turned
upright, re-encoded without its metadata (EXIF, GPS, XMP, ICC), and a thumbnail beside it.

Re-encoding is the point: whatever rode in the file besides the pixels (a phone's GPS
position, the camera's serial number, a polyglot's payload) is not copied. Only JPEG, PNG
and WebP are opened, so Pillow's other decoders never see a byte from the network.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

# The format Pillow names, the content type we answer with, the save options.
FORMATS: dict[str, tuple[str, dict[str, object]]] = {
    "JPEG": ("image/jpeg", {"quality": 85, "optimize": True}),
    "PNG": ("image/png", {"optimize": True}),
    "WEBP": ("image/webp", {"quality": 85}),
}
# A stored photo's longest side: a phone's 12-megapixel picture stays sharp, a 200 MP one
# is scaled down before it fills the quota.
MAX_SIDE = 4096
THUMB_SIDE = 320
NOT_AN_IMAGE = "the file is not a JPEG, PNG or WebP image"


class ImageRefused(Exception):
    """The upload is not an image the hub keeps; the message says why, for a person.

    ``not_an_image``: not JPEG, PNG or WebP at all (rather than one that is corrupt or
    too large)."""

    def __init__(self, message: str, *, not_an_image: bool = False) -> None:
        super().__init__(message)
        self.not_an_image = not_an_image


@dataclass(frozen=True)
class CleanImage:
    content_type: str
    data: bytes
    thumb: bytes
    width: int
    height: int


def clean_image(source: IO[bytes], *, max_pixels: int) -> CleanImage:
    """``source`` decoded, checked and re-encoded; raises ImageRefused."""
    with warnings.catch_warnings():
        # Pillow warns above its own bound and raises above twice that; ours is lower,
        # and either of Pillow's is a refusal here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source, formats=list(FORMATS)) as opened:
                return _re_encode(opened, max_pixels=max_pixels)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRefused("the image has too many pixels (a decompression bomb?)") from None
        except UnidentifiedImageError:
            raise ImageRefused(NOT_AN_IMAGE, not_an_image=True) from None
        except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
            raise ImageRefused(f"the image cannot be decoded: {exc}") from None


def _re_encode(opened: Image.Image, *, max_pixels: int) -> CleanImage:
    kind = opened.format or ""
    if kind not in FORMATS:
        raise ImageRefused(NOT_AN_IMAGE, not_an_image=True)
    width, height = opened.size
    # The header's size, checked before a pixel is decoded.
    if width * height > max_pixels:
        raise ImageRefused(
            f"the image has {width}x{height} pixels, more than the "
            f"{max_pixels} the hub takes (photos.max_pixels)"
        )
    opened.seek(0)  # an animated PNG or WebP keeps its first frame
    upright = ImageOps.exif_transpose(opened)
    upright.info = {}  # no EXIF, XMP, ICC or text chunks ride into the new file
    if kind == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    content_type, options = FORMATS[kind]
    data = _encode(upright, kind, options)
    thumb = upright.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return CleanImage(
        content_type=content_type,
        data=data,
        thumb=_encode(thumb, kind, options),
        width=upright.width,
        height=upright.height,
    )


def _encode(image: Image.Image, kind: str, options: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind, **options)
    return buffer.getvalue()
