"""A generated cover's title can be read where covers are seen: as a thumbnail of ~72 px."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from guidecast.media.cover import COVER_PX, cover_jpeg


def _title_box(title: str) -> tuple[int, int]:
    """Width and height (in cover pixels) of the title's letters."""
    image = Image.open(io.BytesIO(cover_jpeg(title, "Back Care"))).convert("RGB")
    pixels = np.asarray(image)[450:1250]  # between the circles and the subtitle
    letters = pixels.min(axis=2) > 235
    rows, columns = np.nonzero(letters)
    return int(columns.max() - columns.min()), int(rows.max() - rows.min())


@pytest.mark.parametrize(
    ("title", "wide"),
    [
        ("Love Your Spine", 0.6),
        ("Yoga", 0.3),
        ("Back Stiffness Relief and Ease for the Evening", 0.6),
    ],
)
def test_the_title_fills_the_cover_so_a_thumbnail_shows_it(title: str, wide: float) -> None:
    width, height = _title_box(title)
    # At 72 px a 1400 px cover shrinks 19x: letters 150 px tall stay about 8 px tall.
    assert width >= wide * COVER_PX, (title, width)
    assert height >= 150, (title, height)


def test_every_word_of_a_long_title_is_drawn() -> None:
    from guidecast.media.cover import _title_layout

    size, lines = _title_layout("Back Stiffness Relief and Ease for the Evening")
    assert " ".join(lines) == "Back Stiffness Relief and Ease for the Evening"
    assert size >= 150
