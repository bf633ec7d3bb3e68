"""Cover art: the routine's own image, or a calm square card generated from its title."""

from __future__ import annotations

import contextlib
import hashlib
import io
import textwrap
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

from .. import __version__
from ..errors import ExportError
from ..store.blobs import BlobStore, blob_key

__all__ = ["COVER_PX", "MAX_COVER_PIXELS", "cover_jpeg", "cover_problem", "kept_cover"]

COVER_PX = 1400
MAX_COVER_PIXELS = 50_000_000
"""Largest cover accepted (a 48-megapixel phone photo fits): decoding it takes ~200 MB."""
_FORMATS = ("JPEG", "PNG")
_PALETTES = [
    ((38, 70, 83), (42, 157, 143)),
    ((61, 64, 91), (129, 178, 154)),
    ((53, 80, 112), (181, 101, 118)),
    ((34, 87, 122), (87, 204, 153)),
    ((72, 52, 97), (224, 159, 62)),
]


def _generated(title: str, subtitle: str) -> Image.Image:
    from PIL import Image, ImageDraw, ImageFont  # here: a render with its cover kept never draws

    digest = hashlib.sha256(title.encode()).digest()
    top, bottom = _PALETTES[digest[0] % len(_PALETTES)]
    img = Image.new("RGB", (COVER_PX, COVER_PX))
    draw = ImageDraw.Draw(img)
    for y in range(COVER_PX):
        t = y / (COVER_PX - 1)
        draw.line(
            [(0, y), (COVER_PX, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    cx = COVER_PX // 2
    for r, alpha in ((230, 40), (170, 60), (110, 90)):
        shade = tuple(min(255, c + alpha) for c in top)
        draw.ellipse([cx - r, 300 - r, cx + r, 300 + r], outline=shade, width=6)
    size, lines = _title_layout(title)
    font = ImageFont.load_default(size=size)
    step = round(size * 1.12)
    y = 560 + (_TITLE_ROOM - len(lines) * step) // 2 + step // 2
    for line in lines:
        # A dark edge keeps the letters apart from any background, even as a thumbnail.
        draw.text(
            (cx, y),
            line,
            font=font,
            fill=(252, 250, 244),
            anchor="mm",
            stroke_width=max(3, size // 24),
            stroke_fill=tuple(c // 2 for c in top),
        )
        y += step
    if subtitle:
        small = ImageFont.load_default(size=60)
        draw.text((cx, COVER_PX - 90), subtitle[:40], font=small, fill=(235, 235, 225), anchor="mm")
    return img


TITLE_MAX_PX = 230
"""The title's largest font size on a 1400 px cover: about 12 px on a 72 px thumbnail."""
_TITLE_WIDTH = COVER_PX * 0.88
_TITLE_ROOM = 600
"""Pixels of height the title's lines may take, between the circles and the subtitle."""


def _title_layout(title: str) -> tuple[int, list[str]]:
    """The largest font size, and the lines (three at most), that fit the title on a cover."""
    from PIL import ImageFont

    probe = ImageFont.load_default(size=100)
    best: tuple[int, list[str]] = (0, [])
    for width in range(8, 33, 2):
        lines = textwrap.wrap(title, width=width, break_long_words=False) or [""]
        if len(lines) > 3:
            continue  # every word stays, whole
        widest = max(probe.getlength(line) for line in lines) or 1.0
        size = min(TITLE_MAX_PX, int(100 * _TITLE_WIDTH / widest))
        size = min(size, int(_TITLE_ROOM / (len(lines) * 1.12)))
        if size > best[0]:
            best = (size, lines)
    if best[0] < 100:  # a very long title or word: broken, its first words as large as fit
        lines = textwrap.wrap(title, width=16, break_long_words=True, max_lines=3)
        widest = max(probe.getlength(line) for line in lines) or 1.0
        size = min(int(_TITLE_ROOM / 3.36), int(100 * _TITLE_WIDTH / widest))
        best = max(best, (size, lines))
    return best


def _open(path: Path) -> Image.Image:
    """Open a JPEG or PNG, reading its header only; refuse one too big to decode.

    Raises ValueError (with a message for the user) or OSError.
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(path, formats=_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValueError(
                f"is too large to decode safely (over {MAX_COVER_PIXELS // 1_000_000} megapixels)"
            ) from None
        except (SyntaxError, EOFError) as e:  # Pillow's parsers raise these on broken headers
            raise ValueError(f"is not a readable JPEG or PNG ({e})") from None
    width, height = img.size
    if width * height > MAX_COVER_PIXELS or not (width and height):
        img.close()
        raise ValueError(
            f"is {width}x{height} pixels; use one of at most "
            f"{MAX_COVER_PIXELS // 1_000_000} megapixels (1400-3000 px square is best)"
        )
    return img


def cover_problem(path: Path) -> str | None:
    """Say what is wrong with a cover image, reading only its header and chunk structure."""
    try:
        with _open(path) as img:
            img.verify()  # checks a PNG's chunks and checksums without decoding pixels
    except ValueError as e:
        return str(e)
    except (OSError, SyntaxError, EOFError) as e:
        return f"is not a readable JPEG or PNG ({e})"
    return None


def kept_cover(store: BlobStore, title: str, subtitle: str = "", image: str | None = None) -> bytes:
    """`cover_jpeg`, kept in `store` by what it is made from (drawing and compressing a cover
    takes longer than splicing a whole session)."""
    stamp: list[object] = [image]
    if image is not None:
        with contextlib.suppress(OSError):
            st = Path(image).stat()
            stamp += [st.st_size, st.st_mtime_ns]
    key = blob_key(["cover-2", __version__, title, subtitle, stamp])
    found = store.get(key)
    if found is None:
        found = cover_jpeg(title, subtitle, image)
        store.put(key, found)
    return found


def cover_jpeg(title: str, subtitle: str = "", image: str | None = None) -> bytes:
    """A square RGB JPEG of 1400-3000 px: the given image (cropped, scaled) or a generated one."""
    if image is None:
        img = _generated(title, subtitle)
    else:
        try:
            with _open(Path(image)) as source:
                source.draft("RGB", (COVER_PX, COVER_PX))  # JPEG: decode at a smaller scale
                img = source.convert("RGB")
        except ValueError as e:
            raise ExportError(image, f"the cover image {e}") from e
        except (OSError, SyntaxError, EOFError) as e:
            raise ExportError(image, f"cannot read the cover image: {e}") from e
        side = min(img.size)
        left, top = (img.width - side) // 2, (img.height - side) // 2
        img = img.crop((left, top, left + side, top + side))
        if not 1400 <= side <= 3000:
            from PIL import Image

            img = img.resize((COVER_PX, COVER_PX), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=88, optimize=True)
    return buffer.getvalue()
