"""The routine language, second round: the defects found translating real routines again, and
what they still could not say (anchors, count-ins, pauses between breathing cycles, computed
values, own wordings, sounds and sections on the clock, pace per section)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.compiler.fit import crowded_cues
from guidecast.compiler.timeline import Layout
from guidecast.model import Narration
from guidecast.routine.load import parse_routine
from render_fixtures import planned, said_in_order

LEVELS = list(Narration)


def _texts(lay: Layout) -> list[str]:
    return [text for _, _, text in said_in_order(lay)]


CLOCK = """\
title: Clock
timing: clock
sounds: {start: none, transition: none, end: none}
steps:
  - pose: Squats
    hold: 30s
  - pose: Lunges
    hold: 30s
"""


@pytest.mark.parametrize("level", LEVELS, ids=lambda n: n.value)
def test_countdown_zero_switches_the_clocks_count_off(level: Narration) -> None:
    routine = parse_routine(CLOCK)
    assert "Three." in _texts(planned(routine, narration=level))  # on by default on the clock
    for off in (planned(routine, narration=level, countdown_ms=0),
                planned(parse_routine(CLOCK.replace("steps:", "defaults: {countdown: 0}\nsteps:")),
                        narration=level)):  # fmt: skip
        said = _texts(off)
        assert not {"Three.", "Two.", "One."} & set(said)


def test_countdown_zero_on_the_command_line_wins_over_the_routines(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CLOCK.replace("steps:", "defaults: {countdown: 5s}\nsteps:"), "utf-8")
    result = CliRunner().invoke(cli, ["plan", str(path), "--countdown", "0"])
    assert result.exit_code == 0, result.output
    assert "“Three.”" not in result.output
    assert "“Three.”" in CliRunner().invoke(cli, ["plan", str(path)]).output
