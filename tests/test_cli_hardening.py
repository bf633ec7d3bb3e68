"""Command-line mistakes found by trying guidecast as a new user would: each exits 2 with a
message that says what to write instead, never a silent wrong session."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.routine.durations import parse_duration

ROOT = Path(__file__).resolve().parents[1]
SPINE = ROOT / "routines" / "love-your-spine.yaml"


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("render", "--bed-level"),
        ("render", "--loudness"),
        ("render", "--rate"),
        ("plan", "--rate"),
        ("say", "--rate"),
    ],
)
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf"])
def test_float_options_refuse_nan_and_inf(
    command: str, option: str, value: str, tmp_path: Path
) -> None:
    args = [command, option, value]
    args += ["hello"] if command == "say" else [str(SPINE)]
    if command == "render":
        args += ["--engine", "fake", "-o", str(tmp_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output
    assert not list(tmp_path.glob("*.mp3"))


@pytest.mark.parametrize("value", ["45", "1.5", " 30 "])
def test_length_without_a_unit_asks_for_minutes(value: str) -> None:
    result = CliRunner().invoke(cli, ["plan", str(SPINE), "--length", value])
    assert result.exit_code == 2
    number = value.strip()
    assert f"'{number}' has no unit: did you mean {number}m?" in result.output


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("14min", 14 * 60_000),
        ("14 min", 14 * 60_000),
        ("14mins", 14 * 60_000),
        ("1h30m", 90 * 60_000),
        ("1hr 30min", 90 * 60_000),
        ("90sec", 90_000),
        ("500ms", 500),
        ("1m30s", 90_000),
    ],
)
def test_spelled_out_units_are_read(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["14minutes", "1min30min", "3mn"])
def test_unknown_or_repeated_units_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=text):
        parse_duration(text)


def test_length_in_minutes_spelled_out_plans() -> None:
    result = CliRunner().invoke(cli, ["plan", str(SPINE), "--length", "45min", "--json"])
    assert result.exit_code == 0, result.output
    assert '"length_ms": 2700000' in result.output
