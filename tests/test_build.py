"""`guidecast build`: a project's matrix expanded as documented, built incrementally (no-op, one
edit, a dropped variant), interrupted without harm, with feeds per language and a manifest."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import feedparser
import pytest
from mutagen.mp3 import MP3

import guidecast.build.catalog
from guidecast.build.catalog import build_catalog
from guidecast.build.plan import plan_catalog
from guidecast.build.project import load_project
from guidecast.build.tasks import Assembly, Built, SpeechBatch
from guidecast.compiler.fit import length_bounds
from guidecast.compiler.options import resolve_options
from guidecast.errors import RoutineError
from guidecast.lang.speech import Estimate
from guidecast.model import Narration
from guidecast.routine.load import load_routine
from guidecast.session import render_session
from render_fixtures import STRETCH, fake_voice, run_main, write_routine

SPANISH = """\
title: Estiramiento breve
language: es
steps:
  - pose: Montaña
    cue: Ponte de pie y respira.
    hold: 30s-2m
"""

PROJECT = """\
title: Little Catalog
base_url: https://example.org/little/
engine: fake
routines: [routines/*.yaml]
variants:
  narration: [brief, standard]
  length: [natural, 3m]
"""


def project_at(tmp_path: Path, text: str = PROJECT, *, spanish: bool = False) -> Path:
    write_routine(tmp_path / "routines", STRETCH, "stretch")
    if spanish:
        write_routine(tmp_path / "routines", SPANISH, "estiramiento")
    path = tmp_path / "guidecast.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def build(path: Path, cache: Path, **kw: object) -> guidecast.build.catalog.BuildReport:
    kw.setdefault("jobs", 1)
    return build_catalog(load_project(path), cache_dir=cache, **kw)  # type: ignore[arg-type]


def stamps(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.name: (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_matrix_expands_into_one_variant_per_combination_named_by_its_values(
    tmp_path: Path,
) -> None:
    project = load_project(project_at(tmp_path, spanish=True))
    planned, manifest, removed = plan_catalog(project, cache_dir=tmp_path / "cache")
    assert manifest is None and removed == []
    assert sorted(p.name for p in planned) == sorted(
        f"{stem}_{level}_{length}"
        for stem in ("estiramiento", "stretch")
        for level in ("brief", "standard")
        for length in ("natural", "3m")
    )
    assert {p.reason for p in planned} == {"new"}
    assert len({p.key for p in planned}) == len(planned)
    three = next(p for p in planned if p.name == "stretch_standard_3m")
    assert three.options.length_ms == 180_000
    assert three.options.narration is Narration.STANDARD
    assert three.routine.title == "Quick Stretch (3 min · standard)"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "title: T\nroutines: [r/*.yaml]\nvariant:\n  rate: [1]\n",
            (3, 1),
            "did you mean 'variants'",
        ),
        ("title: T\nroutines: [nothing/*.yaml]\n", (2, 12), "matches no routine file"),
        ("title: T\nroutines: [r/*.yaml]\nvariants:\n  length: [20x]\n", (4, 12), "20x"),
        ("title: T\nroutines: [r/*.yaml]\nvariants:\n  narration: [lots]\n", (4, 15), "narration"),
        ("title: T\nroutines: [r/*.yaml]\nvariants:\n  rate: [1, 1]\n", (4, 9), "twice"),
        ("routines: [r/*.yaml]\n", (1, 1), "missing 'title'"),
    ],
)
def test_project_mistakes_are_located(
    tmp_path: Path, text: str, where: tuple[int, int], message: str
) -> None:
    write_routine(tmp_path / "r", STRETCH, "stretch")
    path = tmp_path / "guidecast.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RoutineError) as info:
        load_project(path)
    problem = info.value.problems[0]
    assert (problem.loc.line, problem.loc.col) == where
    assert message in problem.message


def test_cli_reports_a_bad_project_file_with_its_place_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project_at(tmp_path, PROJECT.replace("variants:", "variantz:"))
    code, _, err = run_main(["build", str(tmp_path)], monkeypatch, capsys)
    assert code == 2
    assert f"{path}:5:1: unknown key 'variantz' in the project; did you mean 'variants'?" in err


def test_a_build_makes_every_variant_feeds_per_language_a_page_and_a_manifest(
    tmp_path: Path,
) -> None:
    path = project_at(tmp_path, PROJECT.replace("3m", "90m"), spanish=True)
    report = build(path, tmp_path / "cache")
    site = tmp_path / "site"
    assert report.failed == []
    skipped = sorted(name for name, _ in report.skipped)
    assert skipped == [
        f"{s}_{level}_90m" for s in ("estiramiento", "stretch") for level in ("brief", "standard")
    ]
    assert all("cannot make a 1:30:00 session" in reason for _, reason in report.skipped)
    assert len(report.built) == 4
    manifest = json.loads((site / "manifest.json").read_text())
    entries = {v["name"]: v for v in manifest["variants"]}
    assert set(entries) == {p.name for p in report.planned}
    for built in report.built:
        entry = entries[built.name]
        mp3 = site / f"{built.name}.mp3"
        assert entry["files"][0] == mp3.name and entry["key"]
        audio = MP3(mp3)
        assert abs(audio.info.length * 1000 - entry["duration_ms"]) < 100
        assert -20.5 < entry["lufs"] < -17.5
    assert all(not entries[name]["files"] for name in skipped)
    english = feedparser.parse((site / "feed.xml").read_bytes())
    spanish = feedparser.parse((site / "feed-es.xml").read_bytes())
    assert not english.bozo and not spanish.bozo
    assert english.feed.language == "en" and spanish.feed.language == "es"
    assert len(english.entries) == 2 and len(spanish.entries) == 2
    for item in english.entries + spanish.entries:
        enclosure = item.enclosures[0]
        name = enclosure.href.rsplit("/", 1)[1].split("?")[0]
        assert enclosure.href.startswith("https://example.org/little/")
        assert int(enclosure.length) == (site / name).stat().st_size
    titles = sorted(e.title for e in english.entries)
    assert titles == ["Quick Stretch (brief)", "Quick Stretch (standard)"]
    page = (site / "index.html").read_text()
    found = re.findall(r'data-built="([^"]*)"', page)
    assert len(found) == 2  # a row per routine
    built_choices = {k: v for text in found for k, v in json.loads(html.unescape(text)).items()}
    assert built_choices  # the picker names pre-built sessions
    for session_file in built_choices.values():
        assert (site / session_file).is_file()
    assert not (site / ".build").exists()


def test_a_second_build_with_nothing_changed_renders_nothing_and_touches_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project_at(tmp_path)
    build(path, tmp_path / "cache")
    before = stamps(tmp_path / "site")

    def no_assembly(job: Assembly) -> Built:
        raise AssertionError(f"{job.name} assembled again")

    monkeypatch.setattr(guidecast.build.catalog, "assemble", no_assembly)
    report = build(path, tmp_path / "cache")
    assert report.built == [] and not report.changed
    assert report.kept == len(report.planned) == 4
    assert stamps(tmp_path / "site") == before


def test_editing_one_routine_rebuilds_only_its_variants(tmp_path: Path) -> None:
    path = project_at(tmp_path, spanish=True)
    build(path, tmp_path / "cache")
    site = tmp_path / "site"
    spanish_before = {p.name: p.read_bytes() for p in site.glob("estiramiento*")}
    guid_before = json.loads((site / "stretch_brief_natural.session.json").read_text())["guid"]
    routine = tmp_path / "routines" / "stretch.yaml"
    routine.write_text(routine.read_text().replace("breathe.", "breathe slowly."))
    report = build(path, tmp_path / "cache")
    assert sorted(b.name for b in report.built) == [
        "stretch_brief_3m",
        "stretch_brief_natural",
        "stretch_standard_3m",
        "stretch_standard_natural",
    ]
    assert {p.name: p.reason for p in report.planned if p.todo} == {
        b.name: "changed" for b in report.built
    }
    assert {p.name: p.read_bytes() for p in site.glob("estiramiento*")} == spanish_before
    info = json.loads((site / "stretch_brief_natural.session.json").read_text())
    assert info["guid"] == guid_before  # the same episode, made again
    assert any("breathe slowly" in c["text"] for c in info["captions"])


def test_a_variant_dropped_from_the_matrix_leaves_the_site_the_feed_and_the_manifest(
    tmp_path: Path,
) -> None:
    path = project_at(tmp_path)
    build(path, tmp_path / "cache")
    path.write_text(PROJECT.replace("[brief, standard]", "[standard]"))
    report = build(path, tmp_path / "cache")
    site = tmp_path / "site"
    assert sorted(report.removed) == ["stretch_brief_3m", "stretch_brief_natural"]
    assert not list(site.glob("stretch_brief*"))
    names = {v["name"] for v in json.loads((site / "manifest.json").read_text())["variants"]}
    assert names == {"stretch_standard_3m", "stretch_standard_natural"}
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert sorted(e.title for e in feed.entries) == [
        "Quick Stretch (3 min · standard)",
        "Quick Stretch (standard)",
    ]


def test_an_interrupted_build_leaves_the_previous_site_whole_and_the_next_one_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project_at(tmp_path)
    build(path, tmp_path / "cache")
    before = stamps(tmp_path / "site")
    routine = tmp_path / "routines" / "stretch.yaml"
    routine.write_text(routine.read_text().replace("breathe.", "breathe deeply."))
    real = guidecast.build.catalog.assemble
    calls: list[str] = []

    def interrupted(job: Assembly) -> Built:
        calls.append(job.name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(job)

    monkeypatch.setattr(guidecast.build.catalog, "assemble", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(path, tmp_path / "cache")
    assert stamps(tmp_path / "site") == before
    monkeypatch.setattr(guidecast.build.catalog, "assemble", real)
    report = build(path, tmp_path / "cache")
    assert len(report.built) == 4 and report.synthesized == 0  # the speech was kept
    assert "breathe deeply" in (tmp_path / "site" / "stretch_standard_3m.vtt").read_text()


def test_a_pool_build_makes_the_same_sessions_as_one_process(tmp_path: Path) -> None:
    one = project_at(tmp_path / "one")
    pool = project_at(tmp_path / "pool")
    cache = tmp_path / "cache"
    build(one, cache, jobs=1)
    report = build(pool, cache, jobs=2)
    assert report.where == "2 processes" and len(report.built) == 4
    assert sessions_of(tmp_path / "one" / "site") == sessions_of(tmp_path / "pool" / "site")


def test_a_sentence_two_routines_share_is_synthesized_by_one_task_only(tmp_path: Path) -> None:
    path = project_at(tmp_path)
    write_routine(tmp_path / "routines", STRETCH.replace("Quick Stretch", "Other"), "twin")
    project = load_project(path)
    planned, _, _ = plan_catalog(project, cache_dir=tmp_path / "cache")

    class Recording:
        def __init__(self) -> None:
            self.batches: list[SpeechBatch] = []

        def map(self, fn: object, items: list[SpeechBatch]) -> list[tuple[int, int]]:
            self.batches = list(items)
            return [(len(b.texts), 0) for b in self.batches]

    runner = Recording()
    guidecast.build.catalog._synthesize(runner, planned, lambda *a: None)  # type: ignore[arg-type]
    said = [b.spec.make(b.routine).clip_key(t) for b in runner.batches for t in b.texts]
    assert len({p.routine.path for p in planned}) == 2  # each says all the other says
    assert said and len(said) == len(set(said))


def sessions_of(site: Path) -> dict[str, object]:
    """What a listener gets of each session: duration, chapters, what is said when."""
    out: dict[str, object] = {}
    for path in sorted(site.glob("*.session.json")):
        info = json.loads(path.read_text())
        out[path.name] = (info["duration_ms"], info["chapters"], info["captions"], info["title"])
    return out


def test_once_built_any_length_the_routine_allows_needs_no_voice(tmp_path: Path) -> None:
    path = project_at(tmp_path, PROJECT.replace("[natural, 3m]", "[3m]"))
    cache = tmp_path / "cache"
    build(path, cache)
    routine = load_routine(tmp_path / "routines" / "stretch.yaml")
    for level in (Narration.BRIEF, Narration.STANDARD):
        bounds = length_bounds(routine, resolve_options(routine, narration=level), Estimate(1.0))
        first = -(-bounds.shortest_ms // 60_000) + 1
        last = bounds.longest_ms // 60_000
        assert last > first
        for minutes in range(first, last + 1):
            voice = fake_voice(cache)
            options = resolve_options(routine, narration=level, length_ms=minutes * 60_000)
            render_session(routine, options, voice=voice, output=tmp_path / "out")
            assert voice.synthesized == 0, (level, minutes)
            assert voice.engine.calls == []  # type: ignore[attr-defined]


def test_dry_run_and_explain_say_what_would_be_built_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project_at(tmp_path)
    cache = ["--cache-dir", str(tmp_path / "cache")]
    code, out, err = run_main(["build", str(path), "--dry-run", *cache], monkeypatch, capsys)
    assert code == 0
    assert "stretch_brief_3m: new" in out and "would build 4 of 4 variants" in err
    assert not (tmp_path / "site").exists()
    code, _, err = run_main(["build", str(tmp_path), "--jobs", "1", *cache], monkeypatch, capsys)
    assert code == 0 and "4 built" in err
    code, out, _ = run_main(["build", str(tmp_path), "--explain", *cache], monkeypatch, capsys)
    assert code == 0 and out.count(": kept") == 4
    os.utime(tmp_path / "routines" / "stretch.yaml")  # a touch changes nothing it is made of
    code, out, err = run_main(["build", str(tmp_path), "--dry-run", *cache], monkeypatch, capsys)
    assert "would build 0 of 4 variants" in err


def test_shortest_and_longest_make_each_routine_at_its_edges(tmp_path: Path) -> None:
    path = project_at(tmp_path, PROJECT.replace("[natural, 3m]", "[shortest, natural, longest]"))
    report = build(path, tmp_path / "cache")
    assert report.skipped == [] and len(report.built) == 6
    routine = load_routine(tmp_path / "routines" / "stretch.yaml")
    for level in ("brief", "standard"):
        voice = fake_voice(tmp_path / "cache")
        bounds = length_bounds(routine, resolve_options(routine, narration=Narration(level)), voice)
        lengths = {
            b.name.rsplit("_", 1)[1]: b.duration_ms for b in report.built if f"_{level}_" in b.name
        }
        assert abs(lengths["shortest"] - bounds.shortest_ms) < 1000
        assert abs(lengths["longest"] - bounds.longest_ms) < 1000
        assert lengths["shortest"] < lengths["natural"] < lengths["longest"]
    titles = {
        b.name: json.loads((tmp_path / "site" / f"{b.name}.session.json").read_text())["title"]
        for b in report.built
    }
    assert titles["stretch_brief_shortest"] == "Quick Stretch (short · brief)"


def test_the_example_catalog_expands_as_its_comment_says(tmp_path: Path) -> None:
    example = Path(__file__).parent.parent / "examples" / "catalog" / "guidecast.yaml"
    project = load_project(example)
    planned, _, _ = plan_catalog(project, cache_dir=tmp_path / "cache")
    assert len(project.routines) == 4
    assert len(planned) == 4 * 2 * 2  # routines x narration levels x lengths
    assert project.output == example.parent / "site"


def test_a_dask_workers_allocator_keeps_freed_arrays() -> None:
    """A Dask nanny's `MALLOC_TRIM_THRESHOLD_` makes every freed array a fresh mmap next time
    (page faults on every touch); a catalog task undoes it for its worker."""
    child = textwrap.dedent("""
        import resource
        import numpy as np
        from guidecast.build.tasks import tune_allocator

        def faults() -> int:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            for _ in range(50):
                np.ones(1 << 18)  # 2 MiB, made and freed
            return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

        plain = faults()
        tune_allocator()
        faults()  # the heap grows once
        print(plain, faults())
    """)
    src = Path(guidecast.build.catalog.__file__).resolve().parents[2]
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536", "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    plain, tuned = map(int, done.stdout.split())
    assert plain > 50 * 400  # 512 pages each time
    assert tuned < plain / 20
