"""schema/routine.schema.json: valid, complete for editors, and in agreement with the loader.

The loader is the truth; the schema is what editors see. Each file in tests/bad/ holds one
mistake (`# mistake:`) and where the loader reports it (`# expect: line:col`): both must refuse
it. The schema cannot see everything the loader checks (magnitudes written as text, files on
disk, YAML 1.1 readings such as `1:30`, which safe_load turns into the number 90), so the bad
files are mistakes both can see.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from guidecast.errors import RoutineError
from guidecast.model import Narration
from guidecast.routine.durations import MAX_SESSION_MS, parse_duration, parse_range
from guidecast.routine.keys import DEFAULT_KEYS, ROUTINE_ENGINES, ROUTINE_KEYS, SOUND_KEYS
from guidecast.routine.load import load_routine, parse_routine
from guidecast.routine.sounds import BUILTIN_SOUNDS
from guidecast.routine.step_keys import FLOW_KEYS, STEP_KEYS

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "schema" / "routine.schema.json"
GOOD = [
    *sorted((ROOT / "routines").glob("*.yaml")),
    *sorted((ROOT / "examples").glob("*.yaml")),
    *sorted(ROOT.glob("tests/cases/*.yaml")),
]
BAD = sorted((ROOT / "tests" / "bad").glob("*.yaml"))
DOCS = ROOT / "docs" / "routines.md"


@cache
def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


def validator(ref: str | None = None) -> Draft202012Validator:
    """A validator for the whole schema, or for one of its `$defs`."""
    s = schema()
    if ref is None:
        return Draft202012Validator(s)
    return Draft202012Validator({"$schema": s["$schema"], "$defs": s["$defs"], "$ref": ref})


def schema_errors(data: Any) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator().iter_errors(data)]


def test_schema_is_valid_draft_2020_12() -> None:
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema())


@pytest.mark.parametrize("path", GOOD, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_good_files_validate(path: Path) -> None:
    load_routine(path)  # the loader accepts it...
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert schema_errors(data) == []  # ...and so does the schema


def test_there_are_bad_files() -> None:
    assert len(BAD) >= 20


def _header(path: Path, field: str) -> str:
    match = re.search(rf"^# {field}: (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.name} needs a '# {field}:' line"
    return match.group(1)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_file_is_refused_by_schema_and_loader(path: Path) -> None:
    line, col = map(int, _header(path, "expect").split(":"))
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    located = [(p.loc.line, p.loc.col) for p in info.value.problems]
    assert (line, col) in located, str(info.value)
    assert len(located) <= 2, f"one mistake per file: {info.value}"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert schema_errors(data), f"the schema accepts {path.name} ({_header(path, 'mistake')})"


# -- small cases both accept, and both refuse -------------------------------------------------

ONE_STEP = "title: T\nsteps:\n  - pose: P\n"

AGREED_GOOD = [
    "    hold: 90\n",
    "    hold: 1.5\n",
    "    hold: '1m 30s'\n",
    "    hold: 1M30S\n",
    "    hold: 500ms\n",
    "    hold: 2 - 4m\n",
    "    hold: 30-1m30s\n",
    "    hold: 12h\n",
    "    hold: 1m\n    sides: false\n",
    "    hold: 1m\n    sides: [Left, Right]\n",
    "    hold: 1m\n    sound: None\n",
    "    hold: 1m\n    sound: woodblock\n",
    "    hold: 1m\n    cue: no\n",
    "    hold: 1m\n    cue: 42\n",
    "    hold: 1m\n    how: One line only.\n",
    "    hold: 1m\n    reps: 1\n    rest: 5s\n",
    "    flow: {breaths: 1, cues: Breathe.}\n",
    "    flow: {breaths: 2, cues: [a, b], breath: 2s}\n",
]


@pytest.mark.parametrize("step", AGREED_GOOD)
def test_schema_and_loader_accept(step: str) -> None:
    parse_routine(ONE_STEP + step)
    assert schema_errors(yaml.safe_load(ONE_STEP + step)) == []


@pytest.mark.parametrize(
    "top",
    [
        "defaults: {countdown: 0, rate: 2, breath_cues: false, length: 1h5m}\n",
        "defaults: {countdown: 0s, narration: brief, rate: 0.5}\n",
        "language: no\n",
        "sounds: {start: none, end: NONE}\n",
        "props: a mat\n",
    ],
)
def test_schema_and_loader_accept_top_level(top: str) -> None:
    source = "title: T\n" + top + ONE_STEP[9:] + "    hold: 1m\n"
    parse_routine(source)
    assert schema_errors(yaml.safe_load(source)) == []


# -- duration grammar: the schema's patterns match the parser ---------------------------------

DURATION_TEXTS = [
    "45s", "2m", "1m30s", "1.5m", "1h", "90", "2.5", "500ms", "1h2m3s4ms", "1M30S", "45 s",
    "1m 30s", "0", "0s", "0.0m", "", "abc", "1.", ".5", "1e3", "-5s", "-5", "30s1m", "1m1m",
    "1s1s", "m", "s30", "3x", "1:30", "5 m s", "2-4m", "1m-90s",
]  # fmt: skip
RANGE_TEXTS = [
    "2-4m", "20-30s", "1m-90s", "2 - 4m", "1.5-2.5m", "30-1m30s", "20-30", "30s-2m", "0-2m",
    "2-0m", "2-", "-2m", "1-2-3m", "2-4x", "a-4m", "30s1m-2m", "45s", "0", "2m-",
]  # fmt: skip


def _loader_duration(text: str) -> bool:
    try:
        return 0 < parse_duration(text) <= MAX_SESSION_MS
    except ValueError:
        return False


def _loader_hold(text: str) -> bool:
    try:
        low, high = parse_range(text)
    except ValueError:
        return False
    # the order and the 12-hour limit of text are the loader's alone; see test below
    return low > 0 and high > 0


@pytest.mark.parametrize("text", DURATION_TEXTS)
def test_duration_pattern_matches_the_parser(text: str) -> None:
    assert validator("#/$defs/duration").is_valid(text) == _loader_duration(text)


@pytest.mark.parametrize("text", RANGE_TEXTS + DURATION_TEXTS)
def test_hold_pattern_matches_the_parser(text: str) -> None:
    assert validator("#/$defs/hold").is_valid(text) == _loader_hold(text)


@pytest.mark.parametrize(
    ("value", "valid"), [(1, True), (0.5, True), (43_200, True), (0, False), (-1, False)]
)
def test_numeric_durations(value: float, valid: bool) -> None:
    assert validator("#/$defs/duration").is_valid(value) is valid
    assert validator("#/$defs/hold").is_valid(value) is valid


def test_what_only_the_loader_sees() -> None:
    """Documented gaps: the schema accepts these; the loader refuses them."""
    hold = validator("#/$defs/hold")
    for text in ("4-2m", "13h", "1h-13h"):
        assert hold.is_valid(text)
        with pytest.raises(RoutineError):
            parse_routine(ONE_STEP + f"    hold: {text}\n")
    # YAML 1.1 turns 1:30 into 90 before the schema sees it
    assert yaml.safe_load("hold: 1:30") == {"hold": 90}
    with pytest.raises(RoutineError, match="write 1m30s"):
        parse_routine(ONE_STEP + "    hold: 1:30\n")


# -- the schema, the loader and the docs know the same keys -----------------------------------


def test_schema_keys_are_the_loaders_keys() -> None:
    s = schema()
    defs = s["$defs"]
    assert set(s["properties"]) == set(ROUTINE_KEYS)
    assert set(defs["step"]["properties"]) == set(STEP_KEYS)
    assert set(defs["flow"]["properties"]) == set(FLOW_KEYS)
    assert set(defs["defaults"]["properties"]) == set(DEFAULT_KEYS)
    assert set(s["properties"]["sounds"]["properties"]) == set(SOUND_KEYS)
    assert s["required"] == ["title", "steps"]
    assert defs["step"]["required"] == ["pose"]
    assert defs["flow"]["required"] == ["breaths", "cues"]


def test_schema_choices_are_the_loaders_choices() -> None:
    s = schema()
    assert s["properties"]["engine"]["enum"] == list(ROUTINE_ENGINES)
    narration = s["$defs"]["defaults"]["properties"]["narration"]["enum"]
    assert narration == [n.value for n in Narration]
    sound_names = s["$defs"]["sound"]["anyOf"][0]["enum"]
    assert sound_names == [*BUILTIN_SOUNDS, "none"]


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_every_key_has_a_description_and_examples_for_editors() -> None:
    missing = []
    for obj in _objects(schema()):
        if obj.get("type") == "object" and "properties" in obj:
            for key, spec in obj["properties"].items():
                target = spec
                if set(spec) == {"$ref"}:
                    target = schema()["$defs"][spec["$ref"].rsplit("/", 1)[-1]]
                if not target.get("description") or not target.get("examples"):
                    missing.append(key)
                if obj.get("additionalProperties") is not False:
                    missing.append(f"{key} (additionalProperties)")
    assert not missing


def test_examples_in_the_schema_are_valid() -> None:
    s = schema()
    for obj in _objects(s):
        props = obj.get("properties") if obj.get("type") == "object" else None
        for key, spec in (props or {}).items():
            sub = dict(spec, **{"$defs": s["$defs"]})
            check = Draft202012Validator(sub)
            for example in spec.get("examples", []):
                assert check.is_valid(example), (key, example)
    for name, definition in s["$defs"].items():
        for example in definition.get("examples", []):
            assert validator(f"#/$defs/{name}").is_valid(example), (name, example)


@pytest.mark.parametrize("key", sorted(set(ROUTINE_KEYS + STEP_KEYS + FLOW_KEYS + DEFAULT_KEYS)))
def test_docs_describe_every_key(key: str) -> None:
    assert f"`{key}`" in DOCS.read_text(encoding="utf-8")


def test_docs_show_how_to_use_the_schema_in_an_editor() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    assert "## Editor support" in docs
    assert "# yaml-language-server: $schema=../schema/routine.schema.json" in docs
    # the path in the docs' modeline works from routines/
    assert (ROOT / "routines" / "../schema/routine.schema.json").resolve() == SCHEMA_PATH
