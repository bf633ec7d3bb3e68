"""The table of routine keys: each key declared once, and all that follows from it.

The loader reads by the table, `guidecast schema` prints the JSON Schema made from it (which
schema/routine.schema.json must equal), docs/routines.md's key tables are made from it, and
the limits and cross-key rules it states hold in the loader and in the schema alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from guidecast.cli import cli
from guidecast.errors import RULES, Problem, RoutineError, Rule
from guidecast.model import GUIDANCE_MOMENTS
from guidecast.routine.keys import (
    DEFAULTS,
    GUIDANCE_TABLE,
    PAUSE_AFTER,
    ROUTINE,
    SETTLE,
    SWITCH_SETTLE,
)
from guidecast.routine.load import load_routine, parse_routine
from guidecast.routine.schema import TABLES, docs_tables, routine_schema, schema_text, update_docs
from guidecast.routine.step_keys import BLOCK, BREATHE, FLOW, STEP
from guidecast.routine.table import Key, Table

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "schema" / "routine.schema.json"
DOCS = ROOT / "docs" / "routines.md"
REGENERATE = "regenerate it with: python scripts/make_keys.py"

# -- what is generated is what is committed -------------------------------------------------------


def test_the_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        f"schema/routine.schema.json is stale; {REGENERATE}"
    )


def test_the_docs_key_tables_are_the_generated_ones() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    assert update_docs(docs) == docs, f"the key tables in docs/routines.md are stale; {REGENERATE}"


def test_a_stale_docs_table_is_noticed() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    stale = docs.replace("| `switch_settle` | duration, 0 to 2m | `4s` |", "| `switch_settle` |", 1)
    assert stale != docs
    assert update_docs(stale) == docs


def test_every_table_has_its_place_in_the_docs() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for name in docs_tables():
        assert f"<!-- keys:{name} -->" in docs and f"<!-- /keys:{name} -->" in docs
    with pytest.raises(ValueError, match=r"key tables without markers: .*step"):
        update_docs(docs.replace("<!-- keys:step -->", ""))


def test_guidecast_schema_prints_the_committed_schema(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert result.output == SCHEMA_PATH.read_text(encoding="utf-8")
    out = tmp_path / "routine.schema.json"
    assert CliRunner().invoke(cli, ["schema", "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == routine_schema()


def test_the_schema_gives_editors_defaults_ranges_and_snippets() -> None:
    step = routine_schema()["$defs"]["step"]
    settle = step["properties"]["switch_settle"]
    assert settle["default"] == "4s" and "Default: 4s." in settle["description"]
    assert step["properties"]["reps"] | {"minimum": 1, "maximum": 100} == step["properties"]["reps"]
    assert "Range: 1 to 100." in step["properties"]["reps"]["description"]
    rate = routine_schema()["$defs"]["defaults"]["properties"]["rate"]
    assert (rate["minimum"], rate["maximum"], rate["default"]) == (0.5, 2.0, 1.0)
    assert [s["label"] for s in step["defaultSnippets"]] == ["hold", "flow"]
    assert step["dependentRequired"] == {
        "rest": ["reps"],
        "side_rest": ["sides"],
        "rep_sound": ["reps"],
    }


# -- one declaration --------------------------------------------------------------------------


def test_a_table_names_each_key_once() -> None:
    for table in TABLES:
        assert len(set(table.names)) == len(table.names), table.name


def test_a_key_of_two_places_is_one_declaration() -> None:
    for key in (SETTLE, SWITCH_SETTLE, PAUSE_AFTER):
        assert key in DEFAULTS.keys and key in STEP.keys


def test_the_guidance_table_names_the_models_moments() -> None:
    assert GUIDANCE_TABLE.names == GUIDANCE_MOMENTS


def test_every_rule_is_documented() -> None:
    assert set(RULES) == set(get_args(Rule)) - {""}
    assert all(RULES.values())


# -- the loader and the schema agree on what the table says -----------------------------------

ONE_STEP: dict[str, Any] = {"pose": "P", "hold": "1m"}


def _routine_with(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """A routine holding `values` in a mapping of `table`."""
    step = {
        "routine": {},
        "defaults": {},
        "step": {**ONE_STEP, **values},
        "flow": {"pose": "P", "flow": {"breaths": 2, "cues": ["In.", "Out."], **values}},
        "breathe": {"pose": "P", "breathe": {"pattern": "4-4", **values}},
        "block": {"block": "B", "steps": [ONE_STEP], **values},
    }[table.name]
    top = {"title": "T", "steps": [step or ONE_STEP]}
    if table is ROUTINE:
        top |= values
    if table is DEFAULTS:
        top["defaults"] = values
    return top


def _loader_problems(data: dict[str, Any]) -> list[Problem]:
    try:
        parse_routine(yaml.safe_dump(data, allow_unicode=True), "r.yaml")
    except RoutineError as e:
        return list(e.problems)
    return []


def _schema_valid(data: dict[str, Any]) -> bool:
    return Draft202012Validator(routine_schema()).is_valid(data)


LIMITED = [
    (table, key)
    for table in (ROUTINE, DEFAULTS, STEP, FLOW, BREATHE, BLOCK)
    for key in table.keys
    if "minimum" in key.kind.schema
]


@pytest.mark.parametrize(("table", "key"), LIMITED, ids=lambda v: getattr(v, "name", ""))
def test_limits_hold_in_the_loader_and_the_schema(table: Table, key: Key[Any]) -> None:
    low, high = key.kind.schema["minimum"], key.kind.schema["maximum"]
    step = 1 if key.kind.schema["type"] == "integer" else 0.25
    for value, ok in ((low, True), (high, True), (low - step, False), (high + step, False)):
        data = _routine_with(table, {key.name: value})
        found = _loader_problems(data)
        assert (not found) is ok, (key.name, value, found)
        assert all(p.rule == "out-of-range" for p in found), found
        assert _schema_valid(data) is ok, (key.name, value)


PLACED = ("routine", "defaults", "step", "flow", "breathe", "block")
DEFAULTED = [(t, k) for t in TABLES if t.name in PLACED for k in t.keys if k.default is not None]


@pytest.mark.parametrize(("table", "key"), DEFAULTED, ids=lambda v: getattr(v, "name", ""))
def test_every_default_is_a_value_its_key_accepts(table: Table, key: Key[Any]) -> None:
    data = _routine_with(table, {key.name: key.shown_default})
    assert _loader_problems(data) == []
    assert _schema_valid(data)


@pytest.mark.parametrize(("kind", "excluded"), STEP.excludes)
def test_keys_that_exclude_each_other_in_the_loader_and_the_schema(
    kind: str, excluded: tuple[str, ...]
) -> None:
    body = {"flow": {"breaths": 2, "cues": ["In.", "Out."]}, "move": "1m"}
    body |= {"breathe": {"pattern": "4-4"}}
    values = {"reps": 2, "sides": True}
    for name in excluded:
        data = {"title": "T", "steps": [{"pose": "P", kind: body[kind], name: values[name]}]}
        assert [p.rule for p in _loader_problems(data)] == ["conflicting-keys"]
        assert not _schema_valid(data)


@pytest.mark.parametrize(("name", "needed"), STEP.needs)
def test_a_key_needs_its_partner_in_the_loader_and_the_schema(name: str, needed: str) -> None:
    value = {"rep_sound": "woodblock"}.get(name, "5s")
    data = _routine_with(STEP, {name: value})
    assert [p.rule for p in _loader_problems(data)] == ["conflicting-keys"]
    assert not _schema_valid(data)
    data = _routine_with(STEP, {name: value, needed: {"reps": 2, "sides": True}[needed]})
    assert _loader_problems(data) == [] and _schema_valid(data)


def test_a_step_has_exactly_one_kind_in_the_loader_and_the_schema() -> None:
    both = {"title": "T", "steps": [{"pose": "P", "hold": "1m", "move": "1m"}]}
    none = {"title": "T", "steps": [{"pose": "P"}]}
    assert [p.rule for p in _loader_problems(both)] == ["conflicting-keys"]
    assert [p.rule for p in _loader_problems(none)] == ["missing-key"]
    assert not _schema_valid(both) and not _schema_valid(none)


# -- rule ids, like yamllint's: inline YAML and the problem expected at its place -------------


def check(source: str, problem: tuple[int, int, Rule], base: Path | None = None) -> None:
    """Assert the loader reports a problem of this rule at this line and column."""
    try:
        routine = parse_routine(source, "r.yaml", base)
    except RoutineError as e:
        found = list(e.problems)
    else:
        found = list(routine.warnings)
    assert problem in [(p.loc.line, p.loc.col, p.rule) for p in found], found


STEP_SRC = "title: T\nsteps:\n  - pose: P\n"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("steps:\n  - hodl: 3m\n", (2, 5, "unknown-key")),
        ("steps:\n  - pose: P\n    hold: 1m\n", (1, 1, "missing-key")),
        (STEP_SRC, (3, 5, "missing-key")),
        ("title: T\ntitle: U\nsteps: []\n", (2, 1, "duplicate-key")),
        ("title: [T\nsteps: []\n", (2, 6, "yaml-syntax")),
        ("title: T\nsteps:\n  - pose: P\x07\n", (3, 12, "bad-character")),
        (STEP_SRC + "    hold: 3x\n", (4, 11, "bad-duration")),
        (STEP_SRC + "    hold: 4-2m\n", (4, 11, "bad-duration")),
        (STEP_SRC + "    hold: 0\n", (4, 11, "bad-duration")),
        (STEP_SRC + "    hold: 13h\n", (4, 11, "out-of-range")),
        (STEP_SRC + "    hold: 1:30\n", (4, 11, "yaml-sexagesimal")),
        (STEP_SRC + "    hold: 1m\n    reps: 0\n", (5, 11, "out-of-range")),
        (STEP_SRC + "    hold: 1m\n    reps: two\n", (5, 11, "wrong-type")),
        (STEP_SRC + "    hold: 1m\n    sides: yes\n", (5, 12, "yaml-boolean")),
        (STEP_SRC + "    hold: 1m\n    sides: [left]\n", (5, 12, "bad-value")),
        (STEP_SRC + "    hold: 1m\n    cue:\n", (5, 9, "empty-value")),
        (STEP_SRC + "    hold: 1m\n    cue: [a, b]\n", (5, 10, "wrong-type")),
        (STEP_SRC + "    hold: 1m\n    sound: gongg\n", (5, 12, "unknown-value")),
        (STEP_SRC + "    hold: 1m\n    sound: nowhere.wav\n", (5, 12, "bad-file")),
        (STEP_SRC + "    hold: 1m\n    settle: 3m\n", (5, 13, "out-of-range")),
        (STEP_SRC + "    hold: 1m\n    flow: {breaths: 2, cues: a}\n", (5, 11, "conflicting-keys")),
        (STEP_SRC + "    hold: 1m\n    rest: 5s\n", (5, 11, "conflicting-keys")),
        (STEP_SRC + "    hold: 12h\n    reps: 2\n", (3, 3, "session-too-long")),
        (
            "title: T\ndefaults: {narration: loud}\n" + STEP_SRC[9:] + "    hold: 1m\n",
            (2, 23, "unknown-value"),
        ),
        (
            "title: T\ndefaults: {rate: 3}\n" + STEP_SRC[9:] + "    hold: 1m\n",
            (2, 18, "out-of-range"),
        ),
        (
            "title: T\ndefaults: {breath_cues: on}\n" + STEP_SRC[9:] + "    hold: 1m\n",
            (2, 25, "yaml-boolean"),
        ),
        (
            "title: T\ndefaults: {bed: ocan}\n" + STEP_SRC[9:] + "    hold: 1m\n",
            (2, 17, "unknown-value"),
        ),
        (
            "title: T\nlanguage: it\n" + STEP_SRC[9:] + "    hold: 1m\n",
            (2, 11, "unsupported-language"),
        ),
        (
            "title: T\nlanguage: xx\n" + STEP_SRC[9:] + "    hold: 1m\n",
            (2, 11, "unknown-value"),
        ),
        (
            "title: T\npronounce: {Om: '[[]]'}\n" + STEP_SRC[9:] + "    hold: 1m\n",
            (2, 17, "bad-pronunciation"),
        ),
        (
            STEP_SRC + "    flow: {breaths: 2, cues: [Left heel down, hold five., Right.]}\n",
            (4, 47, "split-sentence"),
        ),
        (
            "title: T\nsteps:\n"
            + "".join(f"{'  ' * i}  - block: B{i}\n{'  ' * i}    steps:\n" for i in range(4))
            + "          - pose: P\n            hold: 1m\n",
            (9, 11, "bad-nesting"),
        ),
        (STEP_SRC + "    hold: 1m\n---\ntitle: U\n", (6, 1, "multiple-documents")),
        ("# nothing\n", (1, 1, "empty-file")),
    ],
)
def test_each_kind_of_mistake_has_its_rule(source: str, problem: tuple[int, int, Rule]) -> None:
    check(source, problem)


@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "bad").glob("*.yaml")), ids=str)
def test_every_problem_carries_a_documented_rule(path: Path) -> None:
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    assert all(p.rule in RULES for p in info.value.problems), info.value.problems


def test_file_level_problems_carry_rules(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes("title: Café\n".encode("latin-1"))
    for path, rule in [
        (tmp_path / "missing.yaml", "unreadable"),
        (tmp_path, "unreadable"),
        (tmp_path / "latin1.yaml", "bad-encoding"),
    ]:
        with pytest.raises(RoutineError) as info:
            load_routine(path)
        assert [p.rule for p in info.value.problems] == [rule]


def test_check_shows_the_rule_and_reports_json(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(STEP_SRC + "    hodl: 3m\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    expected = f"{path}:4:5: unknown key 'hodl' in step 1; did you mean 'hold'? [unknown-key]"
    assert expected in result.output.splitlines()
    result = CliRunner().invoke(cli, ["-q", "check", "--format", "json", str(path)])
    assert result.exit_code == 2
    assert json.loads(result.output) == [
        {
            "path": str(path),
            "line": 4,
            "column": 5,
            "severity": "error",
            "rule": "unknown-key",
            "message": "unknown key 'hodl' in step 1; did you mean 'hold'?",
        }
    ]


def test_check_json_marks_warnings(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("title: T\nlanguage: it\n" + STEP_SRC[9:] + "    hold: 1m\n", "utf-8")
    result = CliRunner().invoke(cli, ["-q", "check", "--format", "json", str(path)])
    assert result.exit_code == 0
    (problem,) = json.loads(result.output)
    assert (problem["severity"], problem["rule"]) == ("warning", "unsupported-language")
    assert not problem["message"].startswith("warning")


# -- one bed resolver -----------------------------------------------------------------------------


def _wav(path: Path, samples: list[int], rate: int = 16000) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("ocan", "did you mean 'ocean'?"),
        ("waves", "neither a built-in bed"),
        ("sounds/creek", "must be one of: .wav"),
        ("creek.txt", "must be one of: .wav"),
        ("missing.wav", "not found (looked at"),
        ("silent.wav", "is silent"),
    ],
)
def test_a_bed_is_refused_in_the_same_words_in_a_routine_and_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, words: str
) -> None:
    from guidecast.errors import AudioError
    from guidecast.sound.mix import resolve_mix

    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "creek").write_bytes(b"")
    (tmp_path / "creek.txt").write_text("not a sound")
    _wav(tmp_path / "silent.wav", [0] * 48000)
    routine = tmp_path / "r.yaml"
    routine.write_text(f"title: T\ndefaults: {{bed: {name}}}\n{STEP_SRC[9:]}    hold: 1m\n")
    with pytest.raises(RoutineError) as info:
        load_routine(routine)
    (problem,) = info.value.problems
    assert words in problem.message and problem.rule in ("unknown-value", "bad-file")

    monkeypatch.chdir(tmp_path)  # the command line finds files from the current folder
    plain = load_routine(ROOT / "tests" / "cases" / "flow.yaml")
    with pytest.raises(AudioError) as error:
        resolve_mix(plain, bed=name)
    assert str(error.value) == problem.message
    result = CliRunner().invoke(cli, ["render", str(routine), "-e", "fake", "--bed", name])
    assert result.exit_code == 2 and problem.message in " ".join(result.output.split())


def test_a_bed_file_is_found_beside_the_routine_or_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random

    from guidecast.routine.sounds import bed_ref

    noise = random.Random(1)
    (tmp_path / "sounds").mkdir()
    _wav(tmp_path / "sounds" / "creek.wav", [noise.randint(-3000, 3000) for _ in range(32000)])
    routine = tmp_path / "r.yaml"
    routine.write_text(
        f"title: T\ndefaults: {{bed: sounds/creek.wav}}\n{STEP_SRC[9:]}    hold: 1m\n"
    )
    bed = load_routine(routine).defaults.bed
    assert bed is not None and bed.path == str(tmp_path / "sounds" / "creek.wav")
    monkeypatch.chdir(tmp_path)
    assert bed_ref("sounds/creek.wav").path == bed.path
    assert bed_ref(" NONE ").is_none and bed_ref("rain").name == "rain"


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        (
            "title: T\ntiming: clock\nsteps:\n  - pose: Mountain Climbers\n    hold: 5s\n    cue: "
            "Drive your knees toward your chest, one after the other, as fast as you can.\n",
            "period-too-short",
        ),
        (
            "title: T\nsteps:\n  - pose: Lizard\n    hold: 20s\n    guidance:\n      length: >-\n"
            + "        Stay right here in this low lunge with your back knee down, breathing.\n"
            * 6,
            "no-room",
        ),
    ],
)
def test_a_cue_without_room_carries_its_rule(source: str, rule: Rule) -> None:
    from guidecast.compiler.fit import crowded_cues

    found = crowded_cues(parse_routine(source, "r.yaml"))
    assert found and {p.rule for p in found} == {rule}
    assert all(p.message.startswith("warning:") == (rule == "no-room") for p in found)
