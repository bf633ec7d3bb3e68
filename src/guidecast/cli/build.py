"""`guidecast build`: a catalog of variants (`guidecast.yaml`) made into a site, incrementally."""

from __future__ import annotations

from pathlib import Path

import click

from ..build.catalog import build_catalog
from ..build.plan import explain, plan_catalog
from ..build.project import find_project, load_project
from ..errors import printable
from ..routine.durations import format_clock
from ..tts import default_cache_dir
from .app import _bar, cache_dir_option, cli


@cli.command()
@click.argument("where", required=False, default=Path("."), type=click.Path(path_type=Path))
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 256),
    help="Processes on this computer (each one core, its voice loaded once). [default: all cores]",
)
@click.option(
    "--scheduler",
    envvar="DASK_SCHEDULER_ADDRESS",
    help="Build on a Dask cluster, e.g. tcp://host:8786 (needs guidecast[dask]; the cache "
    "folder and the site must be on a filesystem every worker sees). [env: DASK_SCHEDULER_ADDRESS]",
)
@cache_dir_option
@click.option("--dry-run", is_flag=True, help="Say what would be built and why; build nothing.")
@click.option(
    "--explain", "why", is_flag=True, help="Say for every variant why it is built or kept."
)
@click.pass_context
def build(
    ctx: click.Context,
    /,
    where: Path,
    jobs: int | None,
    scheduler: str | None,
    cache_dir: Path | None,
    dry_run: bool,
    why: bool,
) -> None:
    """Build a catalog: every variant of a project's routines, with feeds and a page.

    WHERE is a folder holding guidecast.yaml, or the project file itself (default: here).
    Every combination of the lists under `variants:` is one session; only the variants
    whose content changed since the last build are made again (the manifest records what
    was built from what), and the site changes only when every one of them is ready.

    \b
    Examples:
      guidecast build examples/catalog/
      guidecast build examples/catalog/ --dry-run
      guidecast build --jobs 2 --explain
      guidecast build --scheduler tcp://10.0.0.5:8786 --cache-dir /shared/guidecast-cache
    """
    quiet = ctx.obj["quiet"]
    project = load_project(find_project(where))
    cache = cache_dir or default_cache_dir()
    if dry_run or why:
        planned, _, removed = plan_catalog(project, cache_dir=cache)
        lines = explain(planned) if why else [f"{p.name}: {p.reason}" for p in planned if p.todo]
        for line in lines:
            click.echo(line)
        for name in removed:
            click.echo(f"{name}: removed (no longer in the matrix)")
        if dry_run:
            todo = sum(p.todo for p in planned)
            click.echo(
                f"would build {todo} of {len(planned)} variants, remove {len(removed)}",
                err=True,
            )
            return
    report = build_catalog(
        project, cache_dir=cache, jobs=jobs, scheduler=scheduler, progress=_bar(ctx)
    )
    for name, reason in report.skipped:
        click.echo(f"note: {name} skipped: {printable(reason)}", err=True)
    for p in report.planned:
        if not p.todo and p.previous is not None and p.previous.skipped:
            click.echo(f"note: {p.name} skipped: {printable(p.previous.skipped)}", err=True)
    for name, reason in report.failed:
        click.echo(f"error: {name}: {printable(reason)}", err=True)
    if not quiet:
        made = len(report.built)
        total = sum(b.duration_ms for b in report.built)
        where_ = f" on {report.where}" if report.where else ""
        click.echo(
            f"{printable(str(project.output))}: {made} built ({format_clock(total)} of sound, "
            f"{report.synthesized} sentences synthesized){where_}, {report.kept} kept, "
            f"{len(report.skipped)} skipped, {len(report.removed)} removed, "
            f"{len(report.failed)} failed in {report.seconds:.1f}s"
            + ("" if report.changed else "; nothing changed"),
            err=True,
        )
    ctx.exit(report.exit_code)
