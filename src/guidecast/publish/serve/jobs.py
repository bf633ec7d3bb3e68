"""Render variants on the server: a few worker threads, each variant rendered once, progress kept.

A request for a variant that is being rendered joins that render; one already rendered
(and newer than its routine file) is served as it is. The workers share one engine per voice,
so a voice loads once per server, and the first render of a routine synthesizes everything any
of its lengths can say: every later length is a splice of kept speech. At most `QUEUE_LIMIT`
renders wait, and one client (one address) has at most `PER_CLIENT` renders queued or under
way; past either a request is refused (`Busy`, answered 429) rather than making every listener
wait.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from ...compiler.fit import LENGTH_TOLERANCE_MS, every_text, length_bounds
from ...compiler.options import Options
from ...errors import GuidecastError
from ...lang.speech import Estimate
from ...model import Routine
from ...mp3.export import SessionFiles
from ...session import render_session
from ...sound.balance import keep_limited
from ...sound.mix import resolve_mix
from ...sound.render import AudioFormat, Progress, Voice
from ...sound.voice import NotKept
from ...tts import ClipCache, Engine, make_engine
from .budget import files_bytes, prune_cache
from .variants import Choice

__all__ = [
    "PER_CLIENT",
    "QUEUE_LIMIT",
    "UNKEPT_BYTES",
    "UNKEPT_LIMIT",
    "WORKERS",
    "Busy",
    "Job",
    "Renderer",
]

log = logging.getLogger(__name__)

State = Literal["queued", "rendering", "ready", "failed"]
UNKEPT_LIMIT = 12
"""Variants nobody kept in the feed that stay on disk (the most recently made); older ones
are removed when a new one is made, so that trying lengths on a phone never fills the disk."""
UNKEPT_BYTES = 512 << 20
"""Bytes those variants may take together (512 MiB); the oldest go first past it."""
PRUNE_EVERY_S = 60.0
"""The speech cache is measured (and pruned past `budget.CACHE_BYTES`) at most this often."""
WORKERS = max(1, min(4, os.cpu_count() or 1))
"""Variants rendered at once (one core each)."""
QUEUE_LIMIT = 16
"""Renders that may wait for a worker; more requests are refused until some are done."""
PER_CLIENT = 3
"""Renders one client address may have queued or under way at once."""
RETRY_AFTER_S = 30
"""What a refused client is told to wait before asking again."""
SPEECH_SHARE = 0.5
"""The part of the progress bar given to speech; encoding fills the rest."""


@dataclass(frozen=True)
class Job:
    """Where a variant's render stands."""

    choice: Choice
    state: State
    progress: float = 0.0
    """From 0 to 1."""
    stage: str = ""
    """What the render is doing: speech or encode."""
    error: str = ""
    seconds: float = 0.0
    """How long the render took, once ready."""
    client: str = ""
    """The address of the client that asked for it first."""


class Busy(GuidecastError):
    """Too many renders are waiting: the request is refused, to be tried again later."""

    retry_after = RETRY_AFTER_S


class Renderer:
    """Renders variants into a folder, `WORKERS` at a time, in worker threads."""

    def __init__(
        self,
        folder: Path,
        *,
        engine: str,
        voice: str | None,
        cache_dir: Path,
        kept: Callable[[], set[str]] = set,
    ) -> None:
        self.folder = folder
        self.kept = kept
        """The names of the variants kept in the feed, which are never removed."""
        self.engine = engine
        self.voice = voice
        self.cache_dir = cache_dir
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Choice, Routine] | None] = queue.Queue()
        self._workers: list[threading.Thread] = []
        self._engines: dict[tuple[str, str | None, str], Engine] = {}
        self.renders = 0
        """Renders started so far (a variant asked for twice is rendered once)."""
        self._pruned_at = -PRUNE_EVERY_S
        self._order: dict[str, int] = {}
        self._counter = itertools.count()

    def mp3(self, choice: Choice) -> Path:
        return self.folder / f"{choice.name}.mp3"

    def status(self, choice: Choice, modified_ns: int) -> Job | None:
        """The variant's job, a ready one when its files are there and fresh, else None."""
        with self._lock:
            job = self._jobs.get(choice.name)
        if job is not None and job.state in ("queued", "rendering"):
            return job
        if self._fresh(choice, modified_ns):
            return job if job is not None and job.state == "ready" else Job(choice, "ready", 1.0)
        return job if job is not None and job.state == "failed" else None

    def request(
        self, choice: Choice, routine: Routine, modified_ns: int, *, client: str = ""
    ) -> Job:
        """Start rendering the variant unless it is ready or on its way; return its job.

        Busy when the client already has `PER_CLIENT` renders on their way, or `QUEUE_LIMIT`
        renders wait.
        """
        with self._lock:
            job = self._jobs.get(choice.name)
            if job is not None and job.state in ("queued", "rendering"):
                return job
            if self._fresh(choice, modified_ns):
                return (
                    job if job is not None and job.state == "ready" else Job(choice, "ready", 1.0)
                )
            active = [j for j in self._jobs.values() if j.state in ("queued", "rendering")]
            mine = sum(j.client == client for j in active)
            if mine >= PER_CLIENT:
                raise Busy(
                    f"this device is already making {mine} sessions (the most at once); "
                    "try again when one is ready"
                )
            waiting = sum(j.state == "queued" for j in active)
            if waiting >= QUEUE_LIMIT:
                raise Busy(
                    f"the server is already making {len(active)} sessions; try again in a minute"
                )
            job = Job(choice, "queued", client=client)
            self._jobs[choice.name] = job
            self._order[choice.name] = next(self._counter)
            self._queue.put((choice, routine))
            if len(self._workers) < WORKERS:
                worker = threading.Thread(target=self._work, name="render", daemon=True)
                self._workers.append(worker)
                worker.start()
        return job

    def close(self) -> None:
        """Let the workers finish their renders and stop."""
        for _ in self._workers:
            self._queue.put(None)

    def _engine(self, name: str, voice: str | None, language: str) -> Engine:
        """One engine per voice for the whole server: a Piper voice loads once."""
        key = (name, voice, language)
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = make_engine(name, voice, language)
        return engine

    def _fresh(self, choice: Choice, modified_ns: int) -> bool:
        mp3 = self.mp3(choice)
        info = mp3.with_name(mp3.stem + ".session.json")
        try:
            return info.is_file() and mp3.stat().st_mtime_ns >= modified_ns
        except OSError:
            return False

    def ahead(self, choice: Choice) -> int:
        """How many renders a queued variant waits for (0: a worker is about to take it)."""
        with self._lock:
            active = [n for n, j in self._jobs.items() if j.state in ("queued", "rendering")]
            if choice.name not in active:
                return 0
            rendering = sum(self._jobs[n].state == "rendering" for n in active)
            mine = self._order.get(choice.name, 0)
            before = sum(
                self._jobs[n].state == "queued" and self._order.get(n, 0) < mine for n in active
            )
        free = max(0, WORKERS - rendering)
        return max(0, before + 1 - free)

    def _set(self, choice: Choice, **changes: object) -> None:
        with self._lock:
            job = self._jobs[choice.name]
            progress = changes.get("progress")
            if isinstance(progress, float) and progress < job.progress:
                changes["progress"] = job.progress  # a bar that goes back reads as a fault
            self._jobs[choice.name] = replace(job, **changes)  # type: ignore[arg-type]

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            choice, routine = item
            began = time.monotonic()
            self._set(choice, state="rendering")
            self.renders += 1
            try:
                after = self._render(choice, routine)
            except GuidecastError as e:
                log.error("%s: %s", choice.name, e)
                self._set(choice, state="failed", error=str(e).splitlines()[0])
            except Exception:  # a bug must fail one render, not the worker
                log.exception("cannot render %s", choice.name)
                self._set(choice, state="failed", error="internal error; see the server's log")
            else:
                seconds = time.monotonic() - began
                log.info("rendered %s in %.2fs", choice.name, seconds)
                self._prune(keep=choice.name)
                self._prune_cache()
                self._set(choice, state="ready", progress=1.0, seconds=seconds)
                try:
                    after()
                except Exception:  # what helps the next render must not stop this worker
                    log.exception("after rendering %s", choice.name)

    def _prune(self, *, keep: str) -> None:
        """Remove the files of unkept variants beyond the newest `UNKEPT_LIMIT` or bytes."""
        kept = self.kept()
        with self._lock:
            busy = {n for n, job in self._jobs.items() if job.state in ("queued", "rendering")}
        made = []
        for mp3 in self.folder.glob("*.mp3"):
            if mp3.stem not in kept:
                with contextlib.suppress(OSError):
                    made.append((mp3.stat().st_mtime_ns, mp3))
        made.sort(reverse=True)
        total = 0
        for count, (_, mp3) in enumerate(made, 1):
            total += files_bytes(mp3)
            if count <= UNKEPT_LIMIT and total <= UNKEPT_BYTES:
                continue
            if mp3.stem == keep or mp3.stem in busy:
                continue
            for path in SessionFiles(mp3).all:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            with self._lock:
                self._jobs.pop(mp3.stem, None)
            log.info("removed %s: not kept, and newer variants are", mp3.name)

    def _prune_cache(self) -> None:
        """Keep the speech cache within its budget, measuring it at most once a minute."""
        with self._lock:
            if time.monotonic() - self._pruned_at < PRUNE_EVERY_S:
                return
            self._pruned_at = time.monotonic()
        prune_cache(self.cache_dir)

    @staticmethod
    def _snapped(
        routine: Routine, options: Options, voice: Voice, progress: Progress
    ) -> tuple[int | None, list[str]]:
        """The target length moved into what both the estimate and the real voice allow, and
        the sentences of every length when they were made here (none for a warm routine).

        The choices were offered on estimated speech, and the renderer fits the length on
        estimated speech first and on the real clips next: a target both accept always
        renders. None (as written) when they share no length. The first time a routine's
        speech is found missing, everything any length can say is synthesized here, so the
        next length needs no voice (and a warm routine skips the search).
        """
        assert options.length_ms is not None
        speech = Estimate(options.rate)
        made: list[str] = []
        try:  # a warm routine: its speech is kept, nothing to look for
            real = length_bounds(routine, options, voice.kept())
        except NotKept:
            made = every_text(routine, options)
            voice.prepare(made, progress)
            real = length_bounds(routine, options, voice)
        estimated = length_bounds(routine, options, speech)
        low = max(real.shortest_ms, estimated.shortest_ms - LENGTH_TOLERANCE_MS)
        high = min(real.longest_ms, estimated.longest_ms + LENGTH_TOLERANCE_MS)
        if low > high:
            return None, made
        return min(max(options.length_ms, low), high), made

    def _render(self, choice: Choice, routine: Routine) -> Callable[[], object]:
        """Render a variant; return what is then done for the routine's other lengths, once
        the listener has this one: measuring their sentences through the limiter, so that a
        new length measures nothing."""
        fmt = AudioFormat()
        options = choice.options(routine)
        engine = self._engine(self.engine, self.voice or routine.voice, routine.language)
        voice = Voice(
            engine,
            ClipCache(self.cache_dir),
            rate=options.rate,
            sample_rate=fmt.sample_rate,
            # The voices of the routine's parts load once for the whole server too.
            engines=lambda part, language: self._engine(self.engine, part, language),
        )
        voice = voice.for_routine(routine)

        def progress(stage: str, done: int, total: int) -> None:
            part = done / total if total else 1.0
            share = (
                part * SPEECH_SHARE
                if stage == "speech"
                else SPEECH_SHARE + part * (1 - SPEECH_SHARE)
            )
            self._set(choice, stage=stage, progress=round(min(share, 1.0), 3))

        made: list[str] = []
        if options.length_ms is not None:
            length, made = self._snapped(routine, options, voice, progress)
            options = replace(options, length_ms=length)
        titled = replace(routine, title=choice.label(routine))
        done = render_session(
            titled,
            options,
            voice=voice,
            output=self.mp3(choice),
            fmt=fmt,
            mix=resolve_mix(routine, bed=choice.bed),
            progress=progress,
        )
        gap = done.loudness_gap_db
        if gap is None or not made:  # a warm routine: measured before
            return lambda: None
        return lambda: keep_limited(made, voice, fmt, gap)
