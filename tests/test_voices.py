"""Piper voices: listing, installing from the catalog (a local HTTP server stands in for Hugging
Face), checksums, offline use afterwards, and a routine's language picking a voice."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.errors import EngineError
from guidecast.tts import PiperEngine, bundled_voices, make_engine
from guidecast.tts.catalog import (
    DEFAULT_URL,
    CatalogError,
    UnknownVoiceError,
    fetch_catalog,
    install_voice,
)
from guidecast.tts.voices import (
    VOICE_NAME,
    installed_voices,
    remove_voice,
    resolve_voice,
    suggested_voice,
    voice_for_language,
)
from render_fixtures import run_main, write_routine

LANGUAGES = {
    "es_ES": ("Spanish", "Spain"),
    "es_MX": ("Spanish", "Mexico"),
    "de_DE": ("German", "Germany"),
    "en_GB": ("English", "Great Britain"),
}


def config_for(name: str) -> bytes:
    """A voice config as Piper writes it (only the parts guidecast reads)."""
    code = name.split("-")[0]
    family, region = code.split("_")
    language = {"code": code, "family": family, "region": region}
    return json.dumps({"audio": {"sample_rate": 22050}, "language": language}).encode()


def model_for(name: str) -> bytes:
    """A stand-in model: tiny, but more than one download chunk so progress is seen."""
    return (f"not really an onnx model of {name}\n" * 4000).encode()


@dataclass
class VoiceServer:
    """Piper's voice repository on loopback: voices.json and each voice's files."""

    root: Path
    url: str = ""
    catalog: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, *, model: bytes | None = None, listed_md5: str | None = None) -> None:
        """Serve a voice; `listed_md5` makes the catalog disagree with the model served."""
        match = VOICE_NAME.match(name)
        assert match, name
        family, region, speaker, quality = match.group("family", "region", "speaker", "quality")
        code = f"{family}_{region}"
        folder = f"{family}/{code}/{speaker}/{quality}"
        payload = {
            f"{folder}/{name}.onnx": model_for(name) if model is None else model,
            f"{folder}/{name}.onnx.json": config_for(name),
            f"{folder}/MODEL_CARD": b"# Model card\n",
        }
        files = {}
        for path, data in payload.items():
            (self.root / path).parent.mkdir(parents=True, exist_ok=True)
            (self.root / path).write_bytes(data)
            truth = model_for(name) if path.endswith(".onnx") and model is not None else data
            files[path] = {"size_bytes": len(truth), "md5_digest": hashlib.md5(truth).hexdigest()}
            if listed_md5 and path.endswith(".onnx"):
                files[path]["md5_digest"] = listed_md5
        english, country = LANGUAGES[code]
        self.catalog[name] = {
            "key": name,
            "name": speaker,
            "language": {
                "code": code,
                "family": family,
                "region": region,
                "name_native": english,
                "name_english": english,
                "country_english": country,
            },
            "quality": quality,
            "num_speakers": 1,
            "speaker_id_map": {},
            "files": files,
            "aliases": [],
        }
        (self.root / "voices.json").write_text(json.dumps(self.catalog), "utf-8")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VoiceServer]:
    """A voice repository with three Spanish voices and a German one, at $GUIDECAST_VOICES_URL."""
    repo = VoiceServer(tmp_path / "repo")
    repo.root.mkdir()
    for name in ("es_ES-davefx-medium", "es_ES-carlfm-x_low", "es_MX-ald-medium"):
        repo.add(name)
    repo.add("de_DE-thorsten-medium")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(repo.root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    repo.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    monkeypatch.setenv("GUIDECAST_VOICES_URL", repo.url)
    yield repo
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def voices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty voices folder, at $GUIDECAST_VOICES_DIR."""
    folder = tmp_path / "data" / "voices"
    monkeypatch.setenv("GUIDECAST_VOICES_DIR", str(folder))
    return folder


def dead_url() -> str:
    """An address where nothing listens: what 'offline' looks like, quickly."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def fake_install(folder: Path, name: str) -> Path:
    """Put a voice's files in place as `voices install` leaves them."""
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{name}.onnx"
    model.write_bytes(model_for(name))
    Path(f"{model}.json").write_bytes(config_for(name))
    return model


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "catalog.json")


# -- installing ------------------------------------------------------------------------------------


def test_install_puts_the_verified_voice_in_the_voices_folder(
    server: VoiceServer, voices: Path
) -> None:
    result = CliRunner().invoke(cli, ["voices", "install", "es_ES-davefx-medium"])
    assert result.exit_code == 0, result.output
    model = voices / "es_ES-davefx-medium.onnx"
    assert model.read_bytes() == model_for("es_ES-davefx-medium")
    assert Path(f"{model}.json").read_bytes() == config_for("es_ES-davefx-medium")
    assert leftovers(voices) == ["es_ES-davefx-medium.onnx", "es_ES-davefx-medium.onnx.json"]
    assert f"installed es_ES-davefx-medium (es_ES): {model}" in result.output

    listed = CliRunner().invoke(cli, ["voices"])
    assert listed.exit_code == 0, listed.output
    line = next(x for x in listed.output.splitlines() if "davefx" in x)
    assert line.split()[:2] == ["es_ES-davefx-medium", "es_ES"] and str(voices) in line


def test_an_installed_voice_works_offline(
    server: VoiceServer, voices: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_voice("es_ES-davefx-medium")
    monkeypatch.setenv("GUIDECAST_VOICES_URL", dead_url())
    model = voices / "es_ES-davefx-medium.onnx"
    assert PiperEngine("es_ES-davefx-medium").model == model
    by_language = make_engine("piper", None, "es")
    assert isinstance(by_language, PiperEngine)
    assert (by_language.voice, by_language.model) == ("es_ES-davefx-medium", model)

    again = CliRunner().invoke(cli, ["voices", "install", "es_ES-davefx-medium"])
    assert again.exit_code == 0, again.output
    assert "already installed" in again.output


def test_install_reports_progress_and_force_downloads_again(
    server: VoiceServer, voices: Path
) -> None:
    seen: list[tuple[str, int, int]] = []
    first = install_voice("de_DE-thorsten-medium", progress=lambda *p: seen.append(p))
    size = len(model_for("de_DE-thorsten-medium"))
    assert ("de_DE-thorsten-medium.onnx", size, size) == seen[-1]
    assert len([s for s in seen if s[0].endswith(".onnx")]) > 1  # several chunks
    first.model.write_bytes(b"changed by hand")
    assert install_voice("de_DE-thorsten-medium").model.read_bytes() == b"changed by hand"
    again = install_voice("de_DE-thorsten-medium", force=True)
    assert again.model.read_bytes() == model_for("de_DE-thorsten-medium")


def test_a_checksum_mismatch_installs_nothing_and_says_so(
    server: VoiceServer,
    voices: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.add("es_ES-davefx-medium", listed_md5="0" * 32)
    code, out, err = run_main(["voices", "install", "es_ES-davefx-medium"], monkeypatch, capsys)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "es_ES-davefx-medium.onnx" in err and "damaged" in err and "0" * 32 in err
    assert "nothing was installed" in err
    assert leftovers(voices) == []  # no partial model, no lone config
    assert "es_ES-davefx-medium" not in installed_voices()


def test_a_download_cut_short_installs_nothing(server: VoiceServer, voices: Path) -> None:
    full = model_for("es_ES-davefx-medium")
    server.add("es_ES-davefx-medium", model=full[: len(full) // 3])
    with pytest.raises(CatalogError, match="damaged") as info:
        install_voice("es_ES-davefx-medium")
    assert f"{len(full) // 3} bytes" in str(info.value)
    assert leftovers(voices) == []


def test_a_missing_file_on_the_server_installs_nothing(server: VoiceServer, voices: Path) -> None:
    for model in server.root.rglob("es_MX-ald-medium.onnx"):
        model.unlink()
    with pytest.raises(CatalogError, match="404") as info:
        install_voice("es_MX-ald-medium")
    assert info.value.exit_code == 1
    assert leftovers(voices) == []  # the config that did arrive is not left alone


def test_an_unknown_name_is_a_command_line_mistake_with_suggestions(
    server: VoiceServer,
    voices: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_main(["voices", "install", "es_ES-davefox-medium"], monkeypatch, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "'es_ES-davefox-medium'" in err and "did you mean es_ES-davefx-medium" in err


@pytest.mark.parametrize("name", ["davefx", "../es_ES-davefx-medium", "es_ES-a/b-medium", ""])
def test_a_name_that_is_not_a_voice_name_is_refused_before_any_download(
    name: str, voices: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUIDECAST_VOICES_URL", dead_url())
    with pytest.raises(UnknownVoiceError, match="not a Piper voice name"):
        install_voice(name)
    assert not voices.exists()


def test_remove_deletes_an_installed_voice_but_not_the_bundled_one(voices: Path) -> None:
    fake_install(voices, "es_ES-davefx-medium")
    result = CliRunner().invoke(cli, ["voices", "remove", "es_ES-davefx-medium"])
    assert result.exit_code == 0, result.output
    assert leftovers(voices) == []
    with pytest.raises(EngineError, match="bundled"):
        remove_voice("joe")
    with pytest.raises(EngineError, match="not installed"):
        remove_voice("es_ES-davefx-medium")


# -- listing ---------------------------------------------------------------------------------------


def test_downloadable_voices_are_listed_from_the_catalog(server: VoiceServer, voices: Path) -> None:
    fake_install(voices, "es_MX-ald-medium")
    result = CliRunner().invoke(cli, ["voices", "--downloadable"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if "_" in line.split()[0]]
    assert [r[0] for r in rows] == sorted(server.catalog)
    ald = next(r for r in rows if r[0] == "es_MX-ald-medium")
    assert ald[1:4] == ["es_MX", "Spanish", "(Mexico)"] and ald[-1] == "installed"

    spanish = CliRunner().invoke(cli, ["voices", "list", "-d", "--language", "es"])
    assert spanish.exit_code == 0, spanish.output
    assert "de_DE" not in spanish.output and spanish.output.count("es_") == 6  # 3 rows x 2
    mexican = CliRunner().invoke(cli, ["voices", "-d", "-l", "es-MX"])
    assert [row for row in mexican.output.split() if "-" in row] == ["es_MX-ald-medium"]


def test_listing_downloadable_voices_offline_is_one_line(
    voices: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for url in (dead_url(), None):  # nothing listening; Hugging Face behind the network guard
        if url:
            monkeypatch.setenv("GUIDECAST_VOICES_URL", url)
        else:
            monkeypatch.delenv("GUIDECAST_VOICES_URL")
        code, out, err = run_main(["voices", "--downloadable"], monkeypatch, capsys)
        assert code == 1 and out == ""
        assert err.count("\n") == 1 and err.startswith("error: "), err
        assert "no internet connection" in err and "Traceback" not in err
        assert (url or DEFAULT_URL) in err


def test_a_page_that_is_not_the_catalog_is_a_clear_error(server: VoiceServer, voices: Path) -> None:
    (server.root / "voices.json").write_text("<html>Sign in</html>", "utf-8")
    with pytest.raises(CatalogError, match="not valid"):
        fetch_catalog()


def test_the_default_catalog_is_the_one_piper_downloads_from() -> None:
    from piper import download_voices

    assert download_voices.VOICES_JSON.startswith(DEFAULT_URL + "voices.json")
    for name in ("es_ES-davefx-medium", "en_US-lessac-medium", "de_DE-eva_k-x_low"):
        assert download_voices.VOICE_PATTERN.match(name) and VOICE_NAME.match(name)


def test_voices_by_itself_lists_installed_voices_without_the_network(voices: Path) -> None:
    fake_install(voices, "en_GB-alba-medium")
    (voices / ".en_GB-cori-medium.onnx.x1.part").write_bytes(b"a download in progress")
    fake_install(voices, "de_DE-thorsten-medium").unlink()  # a config without its model
    plain = CliRunner().invoke(cli, ["voices"])
    assert plain.exit_code == 0, plain.output
    names = [line.split()[0] for line in plain.output.splitlines() if line.startswith("  ")]
    assert names[:3] == ["joe", "en_GB-alba-medium", "PATH.onnx"]
    assert CliRunner().invoke(cli, ["voices", "list"]).output == plain.output
    english = CliRunner().invoke(cli, ["voices", "--language", "en-GB"])
    assert "alba" in english.output and "joe" not in english.output


# -- a routine's language picks a voice --------------------------------------------------------


def test_language_picks_the_best_installed_voice(voices: Path) -> None:
    for name in ("es_ES-carlfm-x_low", "es_ES-davefx-medium", "es_MX-ald-medium"):
        fake_install(voices, name)
    fake_install(voices, "en_GB-alba-medium")
    picks = {
        "es": "es_ES-davefx-medium",  # medium before x_low
        "es-MX": "es_MX-ald-medium",
        "es_mx": "es_MX-ald-medium",
        "es-AR": "es_ES-davefx-medium",  # another Spanish when the region has none
        "en": "joe",
        "en-US": "joe",
        "en-GB": "en_GB-alba-medium",
    }
    assert {lang: voice_for_language(lang).name for lang in picks} == picks
    assert resolve_voice(None, None)[0] == "joe"
    assert resolve_voice("es_MX-ald-medium", "de")[0] == "es_MX-ald-medium"  # a voice wins


def test_a_language_without_a_voice_names_the_install_command(voices: Path) -> None:
    with pytest.raises(EngineError) as info:
        voice_for_language("es")
    message = str(info.value)
    assert message.startswith("no Piper voice for language 'es' is installed. Probable cause:")
    assert message.endswith("run: guidecast voices install es_ES-davefx-medium")
    assert "joe (en_US)" in message
    with pytest.raises(EngineError, match="guidecast voices --downloadable --language xx"):
        voice_for_language("xx")


def test_the_install_hint_uses_the_last_catalog_fetched(server: VoiceServer, voices: Path) -> None:
    assert suggested_voice("de") == "de_DE-thorsten-medium"  # known without any catalog
    server.add("en_GB-alba-medium")
    fetch_catalog()  # keeps the names for offline hints
    assert suggested_voice("es-MX") == "es_MX-ald-medium"
    assert suggested_voice("en-GB") == "en_GB-alba-medium"


def test_a_routine_in_a_language_with_no_voice_fails_in_one_line(
    tmp_path: Path,
    voices: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    routine = write_routine(
        tmp_path, "title: Hola\nlanguage: es\nsteps:\n  - pose: Gato\n    hold: 5s\n"
    )
    args = ["-q", "render", routine, "-o", tmp_path / "out", "--cache-dir", tmp_path / "cache"]
    code, out, err = run_main(args, monkeypatch, capsys)
    assert code == 1 and out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("error: no Piper voice for language 'es' is installed.")
    assert err.strip().endswith("run: guidecast voices install es_ES-davefx-medium")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_voice_and_language_in_a_routine_accept_installed_voices(
    tmp_path: Path, voices: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed voices reach the engine through --voice, `voice:` and `language:`."""
    fake_install(voices, "es_ES-davefx-medium")
    chosen: list[tuple[str | None, str]] = []

    def fake_make_engine(name: str, voice: str | None = None, language: str = "en") -> Any:
        engine = PiperEngine(voice, language)
        chosen.append((voice, engine.voice))
        raise EngineError("stop here: the test only needs the voice")

    monkeypatch.setattr("guidecast.cli.rendering.make_engine", fake_make_engine)
    body = "title: Hola\n{}steps:\n  - pose: Gato\n    hold: 5s\n"
    runs = [
        (body.format("language: es\n"), []),
        (body.format("voice: es_ES-davefx-medium\n"), []),
        (body.format(""), ["--voice", "es_ES-davefx-medium"]),
    ]
    for text, extra in runs:
        routine = write_routine(tmp_path, text)
        result = CliRunner().invoke(cli, ["render", str(routine), "-o", str(tmp_path), *extra])
        assert result.exit_code == 1 and "stop here" in str(result.exception)
    assert [engine for _, engine in chosen] == ["es_ES-davefx-medium"] * 3


def test_a_voice_named_like_a_piper_voice_but_not_installed_names_the_command() -> None:
    with pytest.raises(EngineError) as info:
        PiperEngine("es_ES-davefx-medium")
    assert "not installed" in str(info.value)
    assert str(info.value).endswith("run: guidecast voices install es_ES-davefx-medium")
    assert PiperEngine("en_US-joe-medium").model == bundled_voices()["joe"]


def test_several_routines_check_every_voice_first_and_render_the_others(
    tmp_path: Path,
    voices: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    english = write_routine(tmp_path, "title: Hi\nsteps:\n  - pose: Cat\n    hold: 5s\n", "en")
    spanish = write_routine(
        tmp_path, "title: Hola\nlanguage: es\nsteps:\n  - pose: Gato\n    hold: 5s\n", "es"
    )
    out = tmp_path / "out"
    args = ["-q", "render", english, spanish, "-o", out, "--cache-dir", tmp_path / "cache"]
    code, _, err = run_main(args, monkeypatch, capsys)
    assert code == 1 and "language 'es'" in err
    # The missing voice is found before any long work, then the others render anyway.
    assert err.index("language 'es'") < err.index("1 of 2 sessions rendered")
    assert (out / "en.mp3").is_file() and not (out / "es.mp3").exists()


@pytest.mark.slow
def test_an_installed_voice_speaks(tmp_path: Path, voices: Path) -> None:
    """The bundled model, installed again under a British name, speaks for `language: en-GB`."""
    joe = bundled_voices()["joe"]
    voices.mkdir(parents=True)
    model = voices / "en_GB-joecopy-medium.onnx"
    model.symlink_to(joe)
    config = json.loads(Path(f"{joe}.json").read_text("utf-8"))
    config["language"].update(code="en_GB", region="GB")
    Path(f"{model}.json").write_text(json.dumps(config), "utf-8")
    routine = write_routine(
        tmp_path, "title: T\nlanguage: en-GB\nsteps:\n  - pose: Cat\n    hold: 5s\n"
    )
    wav = tmp_path / "hello.wav"
    args = ["say", "Hello there.", "--routine", str(routine), "-o", str(wav)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert wav.stat().st_size > 10_000
    engine = make_engine("piper", None, "en-GB")
    assert isinstance(engine, PiperEngine) and engine.model == model
    assert engine.identity() != PiperEngine().identity()  # its own cache entries


def test_installing_the_bundled_voice_downloads_nothing(voices: Path) -> None:
    for name in ("joe", "en_US-joe-medium"):
        result = CliRunner().invoke(cli, ["voices", "install", name, "--force"])
        assert result.exit_code == 0, result.output
        assert "bundled with guidecast" in result.output
    assert not voices.exists()
