"""What a cue or a title says reaches the transcripts and chapters as text, never as markup
or control characters."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.mp3.sidecars import Caption, srt, vtt
from render_fixtures import write_routine

NASTY = "Breathe <script>alert(1)</script> <b>in</b>\u202e now \x1b[31m{\\an8} --> out\x07"


def test_srt_carries_no_markup_and_no_control_characters() -> None:
    text = srt([Caption(0, 1000, NASTY)])
    cue = text.splitlines()[2]
    assert "<" not in cue and ">" not in cue and "script>" not in cue
    assert "{\\" not in cue and "\x1b" not in cue and "\x07" not in cue and "\u202e" not in cue
    assert cue.startswith("Breathe alert(1) in now")
    assert text.count("-->") == 1  # the timing line's only


def test_vtt_escapes_markup_and_drops_control_characters() -> None:
    text = vtt([Caption(0, 1000, NASTY)])
    cue = text.splitlines()[3]
    assert "&lt;script&gt;" in cue and "<" not in cue
    assert "\x1b" not in cue and "\x07" not in cue and "\u202e" not in cue
    assert text.count("-->") == 1


def test_clean_text_keeps_words_and_marks_of_direction() -> None:
    from guidecast.mp3.sidecars import clean_text

    assert clean_text("שָׁלוֹם\u200f  Shalom\n") == "שָׁלוֹם\u200f Shalom"


def test_a_rendered_session_writes_clean_sidecars(tmp_path: Path) -> None:
    routine = write_routine(
        tmp_path,
        'title: Clean\nsteps:\n  - pose: "Cat \\u202eCow"\n'
        '    cue: "Breathe <script>alert(1)</script> in."\n    hold: 5s\n',
    )
    out = tmp_path / "out"
    args = ["render", str(routine), "--engine", "fake", "-o", str(out)]
    result = CliRunner().invoke(cli, [*args, "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    srt_text = (out / "session.srt").read_text(encoding="utf-8")
    assert "<script>" not in srt_text and "alert(1)" in srt_text
    assert "\u202e" not in srt_text
    chapters = json.loads((out / "session.chapters.json").read_text(encoding="utf-8"))
    assert all("\u202e" not in c["title"] for c in chapters["chapters"])
    assert any("Cat Cow" in c["title"] for c in chapters["chapters"])
