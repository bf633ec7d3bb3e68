"""Piper's voice catalog (voices.json on Hugging Face) and installing voices from it.

piper-tts ships `piper.download_voices`, but it writes straight into the final files, checks no
checksum and has its address built in; here each file is streamed to a temporary file beside
its target, its size and md5 are checked against the catalog, and only a complete, verified
voice is renamed into place. The catalog layout is the same one piper reads.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import logging
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import GuidecastError
from ..store.atomic import staged, write_atomic
from .voices import (
    CATALOG_COPY,
    VOICE_NAME,
    InstalledVoice,
    find_installed,
    installed_voices,
    speaks,
    voices_dir,
)

__all__ = [
    "DEFAULT_URL",
    "URL_ENV",
    "CatalogError",
    "CatalogVoice",
    "UnknownVoiceError",
    "VoiceFile",
    "catalog_url",
    "fetch_catalog",
    "install_voice",
]

log = logging.getLogger(__name__)

DEFAULT_URL = "https://huggingface.co/rhasspy/piper-voices/resolve/main/"
"""Piper's voice repository (the folder piper.download_voices.VOICES_JSON is in)."""
URL_ENV = "GUIDECAST_VOICES_URL"
"""Overrides the repository: a mirror, a local folder (file:///...) or a test server."""
TIMEOUT_S = 30.0
CHUNK = 1 << 16
STALE_PART_S = 3600
"""A temporary download untouched this long belongs to a run that was killed."""

Progress = Callable[[str, int, int], None]
_MALFORMED = (ValueError, TypeError, KeyError, AttributeError, StopIteration)


class CatalogError(GuidecastError):
    """The catalog or a voice file could not be fetched, or arrived damaged."""


class UnknownVoiceError(CatalogError):
    """The name given is not a voice in the catalog: a mistake on the command line."""

    exit_code = 2


@dataclass(frozen=True)
class VoiceFile:
    """One file of a voice, as the catalog lists it."""

    path: str
    """Relative to the repository, e.g. `es/es_ES/davefx/medium/es_ES-davefx-medium.onnx`."""
    size: int
    md5: str


@dataclass(frozen=True)
class CatalogVoice:
    """A downloadable Piper voice."""

    name: str
    language: str
    """Piper's language code, e.g. `es_ES`."""
    language_name: str
    """In English, e.g. `Spanish (Spain)`."""
    quality: str
    speakers: int
    model: VoiceFile
    config: VoiceFile

    @property
    def size(self) -> int:
        return self.model.size + self.config.size

    def speaks(self, language: str) -> bool:
        """True if it speaks `language` (`es` any Spanish, `es-MX` Mexican Spanish only)."""
        return speaks(self.language, language)


def catalog_url(url: str | None = None) -> str:
    """The repository address: `url`, else $GUIDECAST_VOICES_URL, else Hugging Face."""
    base = url or os.environ.get(URL_ENV) or DEFAULT_URL
    return base if base.endswith("/") else base + "/"


@contextlib.contextmanager
def _open(url: str, what: str) -> Iterator[IO[bytes]]:
    """Open `url`, turning every network failure into one CatalogError."""
    import urllib.error  # with http and ssl, 15 ms a render never needs
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            yield response
    except urllib.error.HTTPError as e:
        raise CatalogError(
            f"could not download {what} from {url}. Probable cause: the server answered "
            f"{e.code} {e.reason}"
        ) from e
    except urllib.error.URLError as e:
        raise CatalogError(
            f"could not reach the Piper voices at {url}. Probable cause: no internet "
            f"connection ({e.reason}); installed voices still work offline"
        ) from e
    except (OSError, ValueError) as e:  # timeouts, dropped connections, malformed URLs
        raise CatalogError(f"could not download {what} from {url}. Probable cause: {e}") from None


def fetch_catalog(url: str | None = None, *, keep: Path | None = None) -> dict[str, CatalogVoice]:
    """Download Piper's voices.json: every downloadable voice, by name.

    A copy of the names goes to `keep` (default: the voices folder), so that a routine whose
    language has no voice can name one to install even when offline.
    """
    address = catalog_url(url) + "voices.json"
    with _open(address, "the Piper voices catalog") as response:
        body = response.read()
    try:
        raw: Any = json.loads(body)
        if not isinstance(raw, dict):
            raise TypeError("not a JSON object")
        voices = {}
        for name, entry in sorted(raw.items()):
            try:
                voices[name] = _parse(name, entry)
            except _MALFORMED as e:  # one odd entry should not hide all the others
                log.debug("skipping catalog entry %r: %s", name, e)
        if raw and not voices:
            raise ValueError("no entry has a language and .onnx and .onnx.json files")
    except _MALFORMED as e:
        raise CatalogError(
            f"the Piper voices catalog at {address} is not valid. Probable cause: a damaged "
            f"download or a page that is not voices.json ({type(e).__name__}: {e})"
        ) from e
    _keep_names(voices, voices_dir() if keep is None else keep)
    return voices


def _parse(name: str, entry: Any) -> CatalogVoice:
    language = entry["language"]
    region = language.get("country_english")
    files = entry["files"]

    def file(suffix: str) -> VoiceFile:
        path = next(p for p in files if p.endswith(suffix))
        return VoiceFile(path, int(files[path]["size_bytes"]), str(files[path]["md5_digest"]))

    return CatalogVoice(
        name=name,
        language=str(language["code"]),
        language_name=f"{language['name_english']} ({region})" if region else language["code"],
        quality=str(entry.get("quality", "")),
        speakers=int(entry.get("num_speakers", 1)),
        model=file(".onnx"),
        config=file(".onnx.json"),
    )


def _keep_names(voices: dict[str, CatalogVoice], folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        names = {v.name: v.language for v in voices.values()}
        write_atomic(folder / CATALOG_COPY, json.dumps(names, indent=0).encode())
    except OSError as e:  # only a convenience for offline hints
        log.debug("could not keep the catalog names in %s: %s", folder, e)


def install_voice(
    name: str,
    *,
    directory: Path | None = None,
    url: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> InstalledVoice:
    """Download a voice into `directory` (default: the voices folder), verified by md5.

    An installed voice is returned as it is unless `force`. Nothing changes in the folder
    unless both files arrive complete and match the catalog.
    """
    folder = voices_dir() if directory is None else directory
    if not VOICE_NAME.match(name):
        raise UnknownVoiceError(
            f"'{name}' is not a Piper voice name. Probable cause: names look like "
            "es_ES-davefx-medium (language_REGION-name-quality); see guidecast voices "
            "--downloadable"
        )
    have = find_installed(name, folder)
    if have is not None and (not force or have.bundled):
        return have
    catalog = fetch_catalog(url, keep=folder)
    voice = catalog.get(name)
    if voice is None:
        close = difflib.get_close_matches(name, catalog, n=3, cutoff=0.6)
        hint = (
            f"did you mean {', '.join(close)}?" if close else "see guidecast voices --downloadable"
        )
        raise UnknownVoiceError(
            f"no Piper voice named '{name}' in the catalog. Probable cause: a misspelt name; {hint}"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CatalogError(f"could not create {folder}. Probable cause: {e}") from e
    _sweep_stale_parts(folder, name)
    base = catalog_url(url)
    model = folder / f"{name}.onnx"
    # The config is renamed into place first: a voice is listed only once its model is there.
    targets = [(voice.config, Path(f"{model}.json")), (voice.model, model)]
    done: list[tuple[Path, Path]] = []
    try:
        for file, target in targets:
            with staged(target) as (out, tmp):
                _download(base, file, out, progress)
            done.append((tmp, target))
        for tmp, target in done:
            os.replace(tmp, target)
    except OSError as e:
        raise CatalogError(f"could not write {folder}. Probable cause: {e}") from e
    finally:
        for tmp, _ in done:
            tmp.unlink(missing_ok=True)
    log.info("installed Piper voice %s in %s", name, folder)
    return installed_voices(folder)[name]


def _download(base: str, file: VoiceFile, out: IO[bytes], progress: Progress | None) -> None:
    """Stream one catalog file into `out`, checking its length and md5 as it comes."""
    url = base + urllib.parse.quote(file.path)
    label = file.path.rsplit("/", 1)[-1]
    digest = hashlib.md5(usedforsecurity=False)
    got = 0
    with _open(url, label) as response:
        while chunk := response.read(CHUNK):
            got += len(chunk)
            if got > file.size:
                break
            out.write(chunk)
            digest.update(chunk)
            if progress:
                progress(label, got, file.size)
    if got != file.size or digest.hexdigest() != file.md5.lower():
        found = f"{got} bytes" if got != file.size else f"md5 {digest.hexdigest()}"
        raise CatalogError(
            f"the download of {label} from {url} is damaged ({found}; the catalog says "
            f"{file.size} bytes, md5 {file.md5}). Probable cause: the connection was cut or "
            "the file changed on the way; nothing was installed, try again"
        )


def _sweep_stale_parts(folder: Path, name: str) -> None:
    """Remove temporary downloads of this voice left by runs that were killed."""
    now = time.time()
    for part in folder.glob(f".{name}.onnx*.part"):
        with contextlib.suppress(OSError):
            if now - part.stat().st_mtime > STALE_PART_S:
                part.unlink()
