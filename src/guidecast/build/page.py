"""A built catalog's page: per routine, the choices the catalog has, playing pre-built sessions.

The page is the server's phone page (`publish/page.py`, `web/index.html`) with a static picker:
every choice names a session the build made, so it needs no server, only the files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from ..publish.page import player_clock, routine_row_html, variant_html

__all__ = ["PickerEntry", "catalog_picker_html"]

_DIMENSIONS = ("narration", "length", "rate", "bed")


@dataclass(frozen=True)
class PickerEntry:
    """One built variant as the page offers it."""

    routine: str
    """The routine's file stem: variants of one routine share a row."""
    title: str
    description: str
    narration: str
    length: str
    """Whole minutes as text, or '' for the routine as written."""
    rate: str
    bed: str
    duration_ms: int
    session_file: str


def catalog_picker_html(entries: Sequence[PickerEntry]) -> str:
    """The catalog's routines, each a row that opens on the choices built for it."""
    routines: dict[str, list[PickerEntry]] = {}
    for entry in entries:
        routines.setdefault(entry.routine, []).append(entry)
    if not routines:
        return ""
    rows = "\n".join(
        _routine_html(group, index, expanded=len(routines) < 3)
        for index, group in enumerate(routines.values())
    )
    return f"""<section class="make" aria-labelledby="make-heading">
  <h2 id="make-heading" class="section">Choose a session</h2>
  <p class="intro">Pick a length, how much is said, the pace and a sound, then press play.</p>
  {rows}
</section>"""


def _routine_html(group: list[PickerEntry], index: int, *, expanded: bool) -> str:
    e = escape
    first = group[0]
    built = {"|".join((v.narration, v.length, v.rate, v.bed)): v.session_file for v in group}
    selects = "".join(_select(name, group) for name in _DIMENSIONS)
    shortest = min(v.duration_ms for v in group)
    longest = max(v.duration_ms for v in group)
    meta = (
        player_clock(shortest)
        if shortest == longest
        else (f"{player_clock(shortest)} to {player_clock(longest)}")
    )
    heading, body = f"routine-{index}", f"routine-body-{index}"
    title = e(first.title)
    hidden = "" if expanded else " hidden"
    data = e(json.dumps(built, separators=(",", ":"), sort_keys=True))
    desc = f'<p class="desc">{e(first.description)}</p>' if first.description else ""
    return f"""<article class="session routine" aria-labelledby="{heading}"
  data-routine="{e(first.routine)}">
  {routine_row_html(title, heading, body, f"{e(meta)} · {len(group)} sessions", expanded=expanded)}
  <div class="body" id="{body}"{hidden}>
    {desc}
    <form class="choose" action="#" data-routine="{e(first.routine)}" data-built="{data}">
      {selects}
      <button type="submit" class="primary">Play this session</button>
    </form>
    <p class="status" role="status" aria-live="polite"></p>
    <audio controls preload="metadata" aria-label="Play {title}" hidden></audio>
    <button type="button" class="keep" aria-pressed="false" hidden>Keep in my feed</button>
    {variant_html(title)}
  </div>
</article>"""


_LABELS = {"narration": "Narration", "length": "Length", "rate": "Pace", "bed": "Sound"}


def _select(name: str, group: list[PickerEntry]) -> str:
    """A select of the values this routine's variants have; one value needs no choice."""
    values = sorted({getattr(v, name) for v in group}, key=_order)
    if len(values) == 1:
        return f'<input type="hidden" name="{name}" value="{escape(values[0])}">'
    options = "".join(
        f'<option value="{escape(v)}"{" selected" if k == 0 else ""}>{escape(_shown(name, v))}'
        "</option>"
        for k, v in enumerate(values)
    )
    return f'<label>{_LABELS[name]} <select name="{name}">{options}</select></label>'


def _order(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        order = {
            "brief": 0,
            "standard": 1,
            "full": 2,
            "none": -1,
            "shortest": 0,
            "": 1,
            "longest": 2,
        }
        return (1, order.get(value, 9)) if value in order else (2, value)


def _shown(name: str, value: str) -> str:
    if name == "length":
        if value in ("shortest", "longest"):
            return value.capitalize()
        return f"{value} min" if value else "As written"
    if name == "rate":
        return f"{value}×"
    return value.capitalize() if value else "As written"
