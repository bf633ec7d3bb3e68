"""Build a catalog: plan every variant against the manifest, synthesize what is missing, assemble
what changed, and publish the site (files, feeds, page, manifest) when all of it is ready.

    plan ──▶ synthesize (batches of sentences, deduplicated across variants) ──▶ assemble
    (one task per variant, into a staging folder) ──▶ publish (swap in, feeds, page, manifest)

Nothing in the site changes until the last step, so a build that is stopped or loses a worker
leaves the previous site whole; the next build finds the speech kept in the cache.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..compiler.fit import every_text
from ..model import Routine
from .plan import Planned, plan_catalog
from .project import Project
from .runner import Runner, make_runner
from .site import publish, site_key
from .tasks import Assembly, Built, SpeechBatch, VoiceSpec, assemble, synthesize

__all__ = ["BuildReport", "build_catalog"]

log = logging.getLogger(__name__)
BATCH = 24
"""Sentences per synthesis task: enough to keep a worker busy for seconds, not milliseconds."""
STAGING = ".build"

Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class BuildReport:
    """What a build did, for the summary line and the exit code."""

    output: Path
    planned: list[Planned] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    built: list[Built] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    synthesized: int = 0
    seconds: float = 0.0
    where: str = ""
    changed: bool = False
    """Whether the site was written (a build with nothing to do touches no file)."""

    @property
    def kept(self) -> int:
        return sum(not p.todo for p in self.planned)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def build_catalog(
    project: Project,
    *,
    cache_dir: Path,
    jobs: int | None = None,
    scheduler: str | None = None,
    dry_run: bool = False,
    progress: Progress = _no_progress,
) -> BuildReport:
    """Build the project's site: only the variants whose key changed, on `jobs` processes or
    the Dask cluster at `scheduler`."""
    started = time.perf_counter()
    report = BuildReport(project.output)
    planned, manifest, removed = plan_catalog(project, cache_dir=cache_dir)
    report.planned, report.removed = planned, removed
    todo = [p for p in planned if p.todo]
    key = site_key(project, planned)
    if dry_run or (not todo and not removed and manifest is not None and manifest.site == key):
        report.seconds = time.perf_counter() - started
        return report
    runner = make_runner(jobs, scheduler) if todo else None
    staging = project.output / STAGING
    try:
        if runner is not None:
            report.where = runner.where
            report.synthesized = _synthesize(runner, todo, progress)
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            _assemble(runner, todo, staging, report, progress)
        publish(project, planned, report.built, report.skipped, report.removed, site=key)
        report.changed = True
    finally:
        if runner is not None:
            runner.close()
        shutil.rmtree(staging, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _synthesize(runner: Runner, todo: list[Planned], progress: Progress) -> int:
    """Every sentence any length of the variants can say, each once, in batches.

    A sentence two routines share ("Stay here for about two minutes") is one clip in the
    cache: it goes to one batch only, so two workers never make it side by side.
    """
    wanted: dict[tuple[VoiceSpec, Routine], dict[str, None]] = {}
    for p in todo:
        options = dataclasses.replace(p.options, length_ms=None)
        texts = wanted.setdefault((p.spec, p.routine), {})
        texts.update(dict.fromkeys(every_text(p.routine, options)))
    batches: list[SpeechBatch] = []
    claimed: set[str] = set()
    for (spec, routine), texts in wanted.items():
        voice = spec.make(routine)
        missing = []
        for text in voice.missing(list(texts)):
            key = voice.clip_key(text)
            if key not in claimed:
                claimed.add(key)
                missing.append(text)
        batches += [
            SpeechBatch(spec, routine, tuple(missing[i : i + BATCH]))
            for i in range(0, len(missing), BATCH)
        ]
    total = sum(len(b.texts) for b in batches)
    done = made = 0
    progress("speech", 0, total)
    for said, count in runner.map(synthesize, batches):
        done += said
        made += count
        progress("speech", done, total)
    log.info("synthesized %d sentences for %d variants", made, len(todo))
    return made


def _sound_first(todo: list[Planned]) -> list[Planned]:
    """The variants in the order to assemble them: first one of each sound (a routine at one
    narration, pace, bed and voice), then the others, which copy most of its encoded runs.

    In the project's order, two workers would take two lengths of one sound at once and both
    encode the runs the second could have copied.
    """
    seen: set[tuple[object, ...]] = set()
    first: list[Planned] = []
    rest: list[Planned] = []
    for p in todo:
        v = p.variant
        sound = (v.routine, v.narration, v.rate, v.bed, v.voice)
        (rest if sound in seen else first).append(p)
        seen.add(sound)
    return first + rest


def _assemble(
    runner: Runner, todo: list[Planned], staging: Path, report: BuildReport, progress: Progress
) -> None:
    jobs = [
        Assembly(
            p.name,
            p.routine,
            p.options,
            p.mix,
            p.fmt,
            p.spec,
            str(staging),
            str(report.output / f"{p.name}.session.json")
            if (report.output / f"{p.name}.session.json").is_file()
            else None,
            p.variant.length_ms if isinstance(p.variant.length_ms, str) else None,
        )
        for p in _sound_first(todo)
    ]
    progress("variants", 0, len(jobs))
    for done, built in enumerate(runner.map(assemble, jobs), 1):
        if built.skipped:
            report.skipped.append((built.name, built.skipped))
        elif built.failed:
            report.failed.append((built.name, built.failed))
        else:
            report.built.append(built)
        progress("variants", done, len(jobs))
