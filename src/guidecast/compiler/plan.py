"""Present a laid-out timeline: the `plan` table for people and a JSON form for machines."""

from __future__ import annotations

from typing import Any

from ..lang.said import shown_speaker
from ..model import Speaker
from ..routine.durations import format_clock, format_duration
from .timeline import Layout, Silence, Sound, Speak, Timeline

__all__ = ["plan_json", "plan_table"]

_SAY_KIND = {
    "settle": "settle (time to move into the pose)",
    "count": "count-in",
    "move": "move freely",
}


def _quoted(text: str, speaker: Speaker | None) -> str:
    """“text”, and who says it when not the session's voice: “Hola.” (voice amy, es)."""
    by = shown_speaker(speaker)
    return f"“{text}” ({by})" if by else f"“{text}”"


def _speaker_json(speaker: Speaker | None) -> dict[str, Any]:
    if speaker is None:
        return {}
    found = {"rate": speaker.rate, "voice": speaker.voice, "language": speaker.language}
    return {"speaker": {k: v for k, v in found.items() if v is not None}}


def _what(event: Speak | Silence | Sound, ms: int) -> str:
    if isinstance(event, Speak):
        return _quoted(event.text, event.speaker)
    if isinstance(event, Sound):
        return f"♪ {event.sound.name or 'none'} ({format_duration(round(ms, -2))})"
    return f"· {_SAY_KIND.get(event.kind, event.kind)} {format_duration(ms)}"


def plan_table(timeline: Timeline, lay: Layout, *, verbose: bool = False) -> str:
    """Render the timeline as a table: start time, chapter, what is said or how long it is quiet."""
    o = timeline.options
    head = f"{timeline.routine.title} — {o.narration.value} narration, rate {o.rate:g}"
    if o.length_ms is not None:
        head += f", target {format_clock(o.length_ms)}"
    rows = [head, "", f"{'start':>8}  {'chapter':<32}  what"]
    chapters = {c.start_ms: c for c in lay.chapters}
    shown: set[int] = set()
    for item in lay.items:
        event = item.event
        quiet = isinstance(event, Silence) and event.kind == "pause" and not event.cues
        chapter = ""
        if item.start_ms in chapters and item.start_ms not in shown:
            chapter = chapters[item.start_ms].title
            shown.add(item.start_ms)
        if quiet and not verbose and not chapter:
            continue
        rows.append(
            f"{format_clock(item.start_ms):>8}  {chapter[:32]:<32}  {_what(event, item.ms)}"
        )
        for start, _, cue in item.cues:
            rows.append(f"{format_clock(start):>8}  {'':<32}    {_quoted(cue.text, cue.speaker)}")
    speech = sum(i.ms for i in lay.items if isinstance(i.event, Speak))
    speech += sum(ms for i in lay.items for _, ms, _ in i.cues)
    if lay.dropped_cues:
        rows += ["", f"left out, no room inside their silence: {len(lay.dropped_cues)} cues"]
        rows += [f"  “{c.text}”" for c in lay.dropped_cues]
    titled = f"{len(lay.chapters)} chapter" + ("s" if len(lay.chapters) != 1 else "")
    rows += [
        "",
        f"total {format_clock(lay.total_ms)} · {titled} · speech about {format_clock(speech)}",
    ]
    return "\n".join(rows)


def plan_json(timeline: Timeline, lay: Layout) -> dict[str, Any]:
    """The plan as plain data (times in milliseconds)."""
    o = timeline.options
    events: list[dict[str, Any]] = []
    for item in lay.items:
        e = item.event
        row: dict[str, Any] = {"start_ms": item.start_ms, "ms": item.ms}
        if isinstance(e, Speak):
            row |= {"type": "speak", "text": e.text, "step": e.step} | _speaker_json(e.speaker)
        elif isinstance(e, Sound):
            row |= {"type": "sound", "sound": e.sound.name or "none"}
        else:
            row |= {"type": "silence", "kind": e.kind, "step": e.step}
            if item.cues:
                row["cues"] = [
                    {"start_ms": s, "ms": ms, "text": c.text} | _speaker_json(c.speaker)
                    for s, ms, c in item.cues
                ]
        events.append(row)
    return {
        "title": timeline.routine.title,
        "source": timeline.routine.path,
        "options": {
            "narration": o.narration.value,
            "length_ms": o.length_ms,
            "rate": o.rate,
            "countdown_ms": o.countdown_ms,
            "countdown_beeps": o.countdown_beeps,
            "breath_cues": o.breath_cues,
        },
        "total_ms": lay.total_ms,
        "holds_ms": list(timeline.holds_ms),
        "chapters": [
            {"title": c.title, "start_ms": c.start_ms, "end_ms": c.end_ms, "step": c.step}
            for c in lay.chapters
        ],
        "events": events,
    }
