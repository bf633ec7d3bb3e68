"""Plan a catalog build: every variant of the project with its key, against the manifest."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

from ..compiler.options import Options
from ..errors import Problem, RoutineError
from ..media.format import AudioFormat
from ..model import Routine
from ..routine.load import load_routine
from ..sound.mix import Mix
from ..sound.speakers import check_speakers
from ..tts import make_engine
from .manifest import Manifest, ManifestEntry, read_manifest
from .project import Project
from .tasks import VoiceSpec
from .variants import Variant, expand, file_digest, variant_key

__all__ = ["Planned", "explain", "plan_catalog"]


@dataclass(frozen=True)
class Planned:
    """A variant with everything it is made from, and whether the build must make it."""

    variant: Variant
    name: str
    key: str
    routine: Routine
    """With the variant's title, which its tags and the feed show."""
    options: Options
    mix: Mix
    spec: VoiceSpec
    fmt: AudioFormat
    reason: str
    """'new', 'changed', 'files missing', or 'kept' (nothing to do)."""
    previous: ManifestEntry | None = None

    @property
    def todo(self) -> bool:
        return self.reason != "kept"


def plan_catalog(
    project: Project, *, cache_dir: Path, threads: int = 1
) -> tuple[list[Planned], Manifest | None, list[str]]:
    """Every variant of the project with its key, against the site's manifest: the variants
    to make and why, and the names of those that left the matrix."""
    routines = _load_routines(project)
    digests = {path: file_digest(path) for path in project.routines}
    manifest = read_manifest(project.output)
    known = {e.name: e for e in manifest.variants} if manifest else {}
    fmt = AudioFormat(bitrate=project.bitrate)
    identities: dict[tuple[str, str | None, str], str] = {}
    parts: dict[tuple[str, Path], str] = {}
    """The identities of the voices a routine's parts speak with, by engine and routine."""
    planned: list[Planned] = []
    for variant in expand(project):
        routine = routines[variant.routine]
        engine_name = project.engine if project.engine != "piper" else routine.engine or "piper"
        voice_name = variant.voice or routine.voice
        ident_key = (engine_name, voice_name, routine.language)
        if ident_key not in identities:
            identities[ident_key] = make_engine(*ident_key).identity()
        if (engine_name, variant.routine) not in parts:
            # The voices of the routine's parts too: located in the routine, before any work.
            made = check_speakers(routine, functools.partial(make_engine, engine_name))
            parts[engine_name, variant.routine] = "".join(
                sorted(f"|{e.identity()}" for e in made.values())
            )
        options = variant.options(routine)
        titled = dataclasses.replace(
            routine, title=f"{routine.title} ({variant.label(routine, options)})"
        )
        name = variant.name(project.listed)
        key = variant_key(
            variant,
            titled,
            title=titled.title,
            fmt=fmt,
            voice_identity=identities[ident_key] + parts[engine_name, variant.routine],
            routine_digest=digests[variant.routine],
        )
        spec = VoiceSpec(
            engine_name,
            voice_name,
            routine.language,
            options.rate,
            fmt.sample_rate,
            str(cache_dir),
            threads,
        )
        previous = known.get(name)
        reason = _reason(previous, key, project.output)
        planned.append(
            Planned(
                variant,
                name,
                key,
                titled,
                options,
                variant.mix(routine),
                spec,
                fmt,
                reason,
                previous,
            )
        )
    names = {p.name for p in planned}
    removed = [name for name in known if name not in names]
    return planned, manifest, removed


def _load_routines(project: Project) -> dict[Path, Routine]:
    """Every routine of the project, checked; all their problems reported at once."""
    routines: dict[Path, Routine] = {}
    problems: list[Problem] = []
    for path in project.routines:
        try:
            routines[path] = load_routine(path)
        except RoutineError as e:
            problems += e.problems
    if problems:
        raise RoutineError(problems)
    return routines


def _reason(previous: ManifestEntry | None, key: str, output: Path) -> str:
    if previous is None:
        return "new"
    if previous.key != key:
        return "changed"
    if not all((output / f).is_file() for f in previous.files):
        return "files missing"
    return "kept"


def explain(planned: list[Planned]) -> list[str]:
    """One line per variant: rebuilt or kept, and why."""
    return [f"{p.name}: {p.reason}" + (f" (key {p.key[:12]})" if p.todo else "") for p in planned]
