"""NAME.session.json: one typed SessionInfo written by the render and read by the feed and the
page; a damaged or tampered file is a clear error or a warning, and never carried into a new
render (finding 10 of issue 9)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.mp3.sessioninfo import (
    ChapterMark,
    SessionFileError,
    SessionInfo,
    read_session_info,
)
from guidecast.mp3.sidecars import Caption
from guidecast.publish.feed import load_sessions, make_channel
from guidecast.publish.page import render_page
from render_fixtures import SMALL, block_network, run_main, write_routine

NAME = "small-flow"
INFO = SessionInfo(
    title="Small Flow",
    description="Two lines,\nas YAML allows.",
    series="Back Care",
    duration_ms=61_500,
    guid="urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    first_rendered=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
    rendered=datetime(2026, 11, 25, 15, 40, tzinfo=UTC),
    mp3="small-flow.mp3",
    vtt="small-flow.vtt",
    chapters=(ChapterMark("Easy Pose", 0, 30_000), ChapterMark("Rest", 30_000, 61_500)),
    captions=(Caption(500, 2000, "Sit tall & breathe <slowly>."),),
    narration="standard",
    source="small-flow.yaml",
)


def test_session_info_round_trips_through_its_json(tmp_path: Path) -> None:
    path = tmp_path / "s.session.json"
    path.write_bytes(INFO.to_json())
    assert read_session_info(path) == INFO
    assert SessionInfo.from_dict(json.loads(path.read_text("utf-8"))) == INFO
    assert json.loads(path.read_text("utf-8"))["first_rendered"] == "2026-11-24T09:30:00Z"


TAMPERED = {
    "huge float": ('"duration_ms": 1e400', "'duration_ms' must be a whole number"),
    "5,000 digits": ('"duration_ms": ' + "9" * 5000, "a number out of range"),
    "NaN": ('"duration_ms": NaN', "a number out of range"),
    "year 1 with an offset": (
        '"first_rendered": "0001-01-01T00:00:00+05:00"',
        "'first_rendered' must be an ISO 8601 time",
    ),
    "year 9999 behind UTC": (
        '"rendered": "9999-12-31T23:00:00-05:00"',
        "'rendered' must be an ISO 8601 time",
    ),
    "guid a number": ('"guid": 42', "'guid' must be a non-empty string"),
    "guid over lines": ('"guid": "a\\nb"', "'guid' must be one line"),
    "title with a lone surrogate": ('"title": "T\\ud800"', "'title' contains control"),
    "chapter ends before it starts": (
        '"chapters": [{"title": "x", "start_ms": 5, "end_ms": 1}]',
        "'chapters' must hold",
    ),
    "captions not a list": ('"captions": {"a": 1}', "'captions' must be a list"),
}


def _tamper(path: Path, field: str) -> None:
    """Replace one key of a session file with raw JSON text (which json.dumps cannot write)."""
    key = field.split(":", 1)[0]
    data = json.loads(path.read_text("utf-8"))
    data[json.loads(key)] = "PLACEHOLDER"
    text = json.dumps(data, indent=2).replace(f'{key}: "PLACEHOLDER"', field)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one rendered session in out/ (and the routine and cache beside it)."""
    folder = tmp_path_factory.mktemp("rendered")
    routine = write_routine(folder, SMALL, NAME)
    args = ["render", routine, "-o", folder / "out", "-e", "fake", "--cache-dir", folder / "c"]
    with pytest.MonkeyPatch.context() as patch:
        block_network(patch)
        result = CliRunner().invoke(cli, list(map(str, args)))
    assert result.exit_code == 0, result.output
    return folder


@pytest.mark.parametrize(("field", "complaint"), TAMPERED.values(), ids=TAMPERED.keys())
def test_a_tampered_session_file_is_a_clear_error_then_replaced_by_the_next_render(
    rendered: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    field: str,
    complaint: str,
) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(rendered, folder)
    out = folder / "out"
    meta = out / f"{NAME}.session.json"
    good = read_session_info(meta)
    _tamper(meta, field)

    with pytest.raises(SessionFileError, match=complaint):
        read_session_info(meta)
    code, _, err = run_main(["feed", out, "--base-url", "http://example.org/"], monkeypatch, capsys)
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: {meta}: ") and complaint in err, err

    assert load_sessions(out, skip_broken=True) == []  # the server leaves it out

    args = ["render", folder / f"{NAME}.yaml", "-o", out, "-e", "fake", "--cache-dir", folder / "c"]
    code, _, err = run_main(args, monkeypatch, capsys)
    assert code == 0, err
    assert f"{meta}: ignored (" in caplog.text and "Traceback" not in err
    fresh = read_session_info(meta)  # sound again; nothing tampered carried over
    assert fresh.guid == good.guid  # the default guid is derived from the file name
    assert fresh.first_rendered.year >= 2026 and fresh.duration_ms == good.duration_ms


@pytest.mark.parametrize(
    "content",
    [b"[1, 2]", b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000, b""],
    ids=["a list", "not UTF-8", "nested deeply", "empty"],
)
def test_unreadable_session_files_are_session_file_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.session.json"
    path.write_bytes(content)
    with pytest.raises(SessionFileError, match="not a valid session file"):
        read_session_info(path)


def test_a_folder_named_like_a_session_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "x.session.json"
    path.mkdir()
    with pytest.raises(SessionFileError, match="not a regular file"):
        read_session_info(path)


def test_the_render_records_its_captions_and_the_page_shows_them(rendered: Path) -> None:
    out = rendered / "out"
    info = read_session_info(out / f"{NAME}.session.json")
    assert info.captions and all(c.text for c in info.captions)
    (out / f"{NAME}.vtt").write_text("WEBVTT\n\n", encoding="utf-8")  # not read any more
    sessions = load_sessions(out)
    html = render_page(
        sessions, make_channel(out, sessions), feed_url="http://h/feed.xml", directory=out
    )
    assert html.count('class="cue"') == len(info.captions)
