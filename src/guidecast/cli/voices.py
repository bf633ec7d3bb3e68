"""`guidecast voices`: list, install and remove Piper voices."""

from __future__ import annotations

import logging

import click

from ..tts import (
    fetch_catalog,
    install_voice,
    installed_voices,
    remove_voice,
    voices_dir,
)
from ..tts.voices import DEFAULT_VOICE, find_installed, speaks
from .app import F, _bar, cli

log = logging.getLogger(__name__)


def voice_list_options(f: F) -> F:
    """The options of `voices` and `voices list`."""
    decorators = [
        click.option(
            "--downloadable",
            "-d",
            is_flag=True,
            help="List the Piper voices you can install (needs internet).",
        ),
        click.option(
            "--language",
            "-l",
            metavar="LANG",
            help="Only voices of this language, e.g. es, es-MX, de.",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


@cli.group(invoke_without_command=True)
@voice_list_options
@click.pass_context
def voices(ctx: click.Context, /, downloadable: bool, language: str | None) -> None:
    """List speech engines and their voices; install Piper voices for other languages.

    By itself it lists the voices on this computer (no network needed): the bundled
    English voice joe, any other Piper voice installed as a Python package
    (`*-piper-voice`), and the Piper voices installed by `guidecast voices install`.
    A routine's `language:` picks an installed voice of that language when it names
    no `voice:`.

    \b
    Examples:
      guidecast voices
      guidecast voices --downloadable --language es
      guidecast voices install es_ES-davefx-medium
      guidecast render routines/back-stiffness.yaml --voice es_ES-davefx-medium
      guidecast render routines/back-stiffness.yaml --voice ~/voices/en_GB-alba-medium.onnx
    """
    if ctx.invoked_subcommand is None:
        _list_voices(downloadable, language)


@voices.command("list")
@voice_list_options
def voices_list(downloadable: bool, language: str | None) -> None:
    """List the voices on this computer, or those you can install (--downloadable).

    \b
    Examples:
      guidecast voices list
      guidecast voices list --downloadable --language de
    """
    _list_voices(downloadable, language)


def _list_voices(downloadable: bool, language: str | None) -> None:
    if downloadable:
        _list_downloadable(language)
        return
    click.echo("piper  (offline, default)")
    for voice in installed_voices().values():
        if language and not speaks(voice.language, language):
            continue
        where = (
            f"{voice.model.name} (bundled, default)"
            if voice.name == DEFAULT_VOICE
            else f"{voice.model.name} (bundled)"
            if voice.bundled
            else f"installed in {voice.model.parent}"
        )
        click.echo(f"  {voice.name:<24} {voice.language:<6} {where}")
    click.echo(f"  {'PATH.onnx':<24} any Piper voice file with its .onnx.json beside it")
    click.echo("  more: guidecast voices --downloadable, then guidecast voices install NAME")
    click.echo(f"  (installed voices live in {voices_dir()})")
    if language:
        return
    click.echo("gtts   (online: needs internet)")
    click.echo("  com        Google voice for the routine's language; other domains change")
    click.echo("             the accent: co.uk, com.au, ca, co.in, ie, co.za")
    click.echo("fake   (for tests: a tone sized by word count)")


def _list_downloadable(language: str | None) -> None:
    catalog = fetch_catalog()
    have = installed_voices()
    shown = [v for v in catalog.values() if not language or v.speaks(language)]
    if not shown:
        raise click.UsageError(
            f"no Piper voice in the catalog speaks '{language}'; "
            "try a language code such as es, de or pt-BR"
        )
    for v in shown:
        mark = "  installed" if v.name in have else ""
        click.echo(
            f"{v.name:<32} {v.language:<6} {v.language_name:<28} {v.quality:<7} "
            f"{v.size / 1e6:5.0f} MB{mark}"
        )
    count = f"{len(shown)} voice{'s' if len(shown) > 1 else ''}"
    click.echo(f"{count}; install one: guidecast voices install NAME", err=True)


@voices.command("install")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.option("--force", is_flag=True, help="Download again even if it is installed.")
@click.pass_context
def voices_install(ctx: click.Context, /, names: tuple[str, ...], force: bool) -> None:
    """Download Piper voices by name, checked by md5, to speak offline.

    The voice then works offline: give its name to --voice or a routine's `voice:`, or let
    a routine's `language:` pick it. `guidecast voices` shows the folder (set another with
    GUIDECAST_VOICES_DIR, and another catalog address with GUIDECAST_VOICES_URL).

    \b
    Examples:
      guidecast voices install es_ES-davefx-medium
      guidecast voices install de_DE-thorsten-medium fr_FR-siwis-medium
    """
    for name in names:
        have = find_installed(name)
        if have is not None and (not force or have.bundled):
            if not ctx.obj["quiet"]:
                how = "bundled with guidecast" if have.bundled else "already installed"
                click.echo(f"{name} is {how}: {have.model}")
            continue
        voice = install_voice(name, force=force, progress=_bar(ctx))
        if not ctx.obj["quiet"]:
            click.echo(f"installed {voice.name} ({voice.language}): {voice.model}")


@voices.command("remove")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.pass_context
def voices_remove(ctx: click.Context, /, names: tuple[str, ...]) -> None:
    """Delete Piper voices installed by `guidecast voices install`.

    \b
    Example:
      guidecast voices remove es_ES-davefx-medium
    """
    for name in names:
        model = remove_voice(name)
        if not ctx.obj["quiet"]:
            click.echo(f"removed {name} ({model})")
