"""What reaches a transcript, a feed or the terminal is escaped for it (finding 8 of issue 9)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from guidecast.cli.app import _printable_args
from guidecast.errors import Loc, Problem, RoutineError, printable
from guidecast.mp3.sidecars import Caption, srt, vtt
from guidecast.publish.feed import ChapterMark, Session, build_feed, make_channel
from guidecast.publish.page import parse_vtt
from render_fixtures import run_main

TRICKY = "Knees --> chest <b>& hold</b>\n\nthen 2 & 3 <v Narrator>"


def test_vtt_cue_text_is_escaped_and_stays_one_cue() -> None:
    text = vtt([Caption(0, 1500, TRICKY), Caption(2000, 3000, "Next.")])
    blocks = text.split("\n\n")
    assert blocks[0] == "WEBVTT"
    timing, cue = blocks[1].split("\n")
    assert timing == "00:00:00.000 --> 00:00:01.500"
    assert cue == (
        "Knees --&gt; chest &lt;b&gt;&amp; hold&lt;/b&gt; then 2 &amp; 3 &lt;v Narrator&gt;"
    )
    assert blocks[2].startswith("00:00:02.000 --> ")
    # A reader that understands WebVTT gets the words back as written.
    assert [c.text for c in parse_vtt(text)] == [" ".join(TRICKY.split()), "Next."]


def test_srt_text_never_looks_like_a_timing_line() -> None:
    text = srt([Caption(0, 1500, TRICKY)])
    number, timing, *lines = text.strip("\n").split("\n")
    assert (number, timing) == ("1", "00:00:00,000 --> 00:00:01,500")
    assert len(lines) == 1 and "-->" not in lines[0]


def test_problems_show_control_characters_as_escapes() -> None:
    message = "unknown key 'a\x1b]0;pwned\x07\nr.yaml:1:1: all good\u202e'"
    shown = str(Problem(Loc("r\n.yaml", 3, 4), message))
    assert shown == (
        "r\\x0a.yaml:3:4: unknown key 'a\\x1b]0;pwned\\x07\\x0ar.yaml:1:1: all good\\u202e'"
    )
    assert str(RoutineError([Problem(Loc("a"), "x\ny"), Problem(Loc("b"), "z")])) == (
        "a:1:1: x\\x0ay\nb:1:1: z"
    )
    assert printable("Café, naïve — ok") == "Café, naïve — ok"
    assert printable("lone \ud800") == "lone \\ud800"


def test_command_line_errors_never_echo_raw_control_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = tmp_path / "x\x1b[2J\nforged.yaml:1:1: fine.yaml"
    code, out, err = run_main(["check", name], monkeypatch, capsys)
    assert code == 2
    assert "\x1b" not in out and out.count("\n") == 1, out
    routine = tmp_path / "r.yaml"
    routine.write_text("title: T\nsteps:\n  - pose: A\n    hold: 1m\n", encoding="utf-8")
    code, out, err = run_main(["plan", routine, "--length", "1\x1b[31m\nx"], monkeypatch, capsys)
    assert code == 2 and "Error: " in err
    assert "\x1b" not in err and "\\x1b[31m\\x0ax" in err
    code, out, err = run_main(
        ["render", routine, "-e", "fake", "-o", tmp_path / "a\x1b]0;t\x07" / "b.mp3"],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err


def test_log_lines_show_values_without_control_characters() -> None:
    import logging

    record = logging.LogRecord("g", logging.WARNING, "f", 1, "%s: %d", ("a\x1bb\n", 3), None)
    assert _printable_args(record)
    assert record.getMessage() == "a\\x1bb\\x0a: 3"


def test_the_feed_stays_valid_xml_whatever_a_session_holds(tmp_path: Path) -> None:
    odd = "Ctrl\x01char \ud800 \ufffe & <b>"
    session = Session(
        title=odd,
        description=odd,
        duration_ms=1000,
        guid="g",
        first_rendered=datetime(2026, 1, 1, tzinfo=UTC),
        rendered=datetime(2026, 1, 1, tzinfo=UTC),
        mp3="a.mp3",
        language="en\x00",
        chapters=(ChapterMark(odd, 0, 1000),),
        path=tmp_path / "a.session.json",
        mp3_bytes=10,
    )
    channel = make_channel(tmp_path, [session], title=odd)
    document = build_feed([session], "http://example.org", channel)
    root = ET.fromstring(document)  # parses: no character XML forbids
    assert root.findtext("channel/item/title") == "Ctrl\ufffdchar \ufffd \ufffd & <b>"
    assert feedparser.parse(document).bozo == 0
