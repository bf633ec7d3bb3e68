"""The page's "Make a session" part: per routine, the choices it allows and a play button."""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape

from ...model import Narration, Routine
from ..page import html_text, isolated, player_clock, routine_row_html, variant_html
from .variants import BEDS, PACE_NAMES, RATES, allowed_minutes, default_choice, estimated_lengths

__all__ = ["picker_html"]

_LEVELS = {Narration.BRIEF: "Brief", Narration.STANDARD: "Standard", Narration.FULL: "Full"}
_BED_NAMES = {"none": "None", "drone": "Drone", "ocean": "Ocean", "rain": "Rain", "air": "Air"}


def picker_html(routines: Mapping[str, Routine], *, expanded: bool) -> str:
    """The routines listeners can render on demand, each a row that opens on its choices."""
    if not routines:
        return ""
    rows = "\n".join(
        _routine_html(stem, routine, index, expanded=expanded)
        for index, (stem, routine) in enumerate(routines.items())
    )
    return f"""<section class="make" aria-labelledby="make-heading">
  <h2 id="make-heading" class="section">Make a session</h2>
  <p class="intro">Pick a length, how much is said, the pace and a sound, then press play.</p>
  {rows}
</section>"""


def lengths(routine: Routine) -> dict[str, dict[str, list[int]]]:
    """For each narration level and pace: the first and last whole minute, and the natural
    length in ms (the page offers "as written" when no whole minute fits)."""
    table: dict[str, dict[str, list[int]]] = {}
    for level in Narration:
        table[level.value] = {}
        for rate in RATES:
            minutes = allowed_minutes(routine, level, rate)
            natural = estimated_lengths(routine, level, rate)[2]
            first, last = (minutes.start, minutes.stop - 1) if minutes else (0, -1)
            table[level.value][f"{rate:g}"] = [first, last, natural]
    return table


def _routine_html(stem: str, routine: Routine, index: int, *, expanded: bool) -> str:
    e = escape
    choice = default_choice(stem, routine)
    table = lengths(routine)
    first, last, natural = table[choice.narration.value][f"{choice.rate:g}"]
    if first <= last:
        meta = f"{first} to {last} min" if first < last else f"{first} min"
        options = "".join(
            f'<option value="{m}"{" selected" if m == choice.minutes else ""}>{m} min</option>'
            for m in range(first, last + 1)
        )
    else:
        meta = player_clock(natural)
        options = f'<option value="">As written ({player_clock(natural)})</option>'
    heading, body = f"routine-{index}", f"routine-body-{index}"
    levels = "".join(
        f'<option value="{n.value}"{" selected" if n == choice.narration else ""}>'
        f"{e(_LEVELS[n])}</option>"
        for n in Narration
    )
    paces = "".join(
        f'<option value="{r:g}"{" selected" if r == choice.rate else ""}>'
        f"{e(PACE_NAMES[r].capitalize())} ({r:g}×)</option>"
        for r in RATES
    )
    beds = "".join(
        f'<option value="{b}"{" selected" if b == choice.bed else ""}>'
        f"{_BED_NAMES.get(b, b)}</option>"
        for b in BEDS
    )
    title = html_text(routine.title)
    hidden = "" if expanded else " hidden"
    return f"""<article class="session routine" aria-labelledby="{heading}"
  data-routine="{e(stem)}" data-lengths="{e(json.dumps(table, separators=(",", ":")))}">
  {routine_row_html(title, heading, body, f"{e(meta)} · made on request", expanded=expanded)}
  <div class="body" id="{body}"{hidden}>
    {f'<p class="desc">{isolated(routine.description)}</p>' if routine.description else ""}
    <form class="choose" action="#" data-routine="{e(stem)}">
      <label>Length <select name="length">{options}</select></label>
      <label>Narration <select name="narration">{levels}</select></label>
      <label>Pace <select name="rate">{paces}</select></label>
      <label>Sound <select name="bed">{beds}</select></label>
      <button type="submit" class="primary">Play this session</button>
    </form>
    <p class="status" role="status" aria-live="polite"></p>
    <progress max="1" value="0" hidden aria-label="Making {title}"></progress>
    <audio controls preload="metadata" aria-label="Play {title}" hidden></audio>
    <button type="button" class="keep" aria-pressed="false" hidden>Keep in my feed<span
      class="tick" aria-hidden="true"> ✓</span></button>
    {variant_html(title)}
  </div>
</article>"""
