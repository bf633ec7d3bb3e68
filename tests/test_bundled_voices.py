"""Voices shipped as Python packages (`*-piper-voice` wheels): found without the network, listed,
named by their speaker, and spoken by `--voice NAME`. Each test installs a package the way pip
lays one out (a `*.dist-info` folder with its RECORD beside the package) in a folder put on
`sys.path`, so nothing is downloaded or really installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.errors import EngineError
from guidecast.tts import PiperEngine, bundled_voices
from guidecast.tts.voices import (
    installed_voices,
    remove_voice,
    resolve_voice,
    voice_for_language,
)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty site-packages folder on `sys.path`, and an empty voices folder."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("GUIDECAST_VOICES_DIR", str(tmp_path / "voices"))
    return folder


def config_for(stem: str) -> dict[str, object]:
    code = stem.split("-")[0]
    family, region = code.split("_")
    return {
        "audio": {"sample_rate": 22050},
        "language": {"code": code, "family": family, "region": region},
    }


def install_package(
    site: Path,
    dist: str,
    stems: list[str],
    *,
    model: Path | None = None,
    config: bool = True,
    version: str = "1.0.0",
) -> list[Path]:
    """Lay out a wheel of Piper voices as pip installs it: the package's data files and a
    dist-info folder whose RECORD lists them. `model` links a real `.onnx` in place of a stub."""
    package = dist.replace("-", "_")
    data = site / package / "data"
    data.mkdir(parents=True)
    (site / package / "__init__.py").write_text("")
    files = [f"{package}/__init__.py"]
    models = []
    for stem in stems:
        onnx = data / f"{stem}.onnx"
        if model is None:
            onnx.write_bytes(b"not really an onnx model\n")
        else:
            onnx.symlink_to(model)
        files.append(f"{package}/data/{stem}.onnx")
        if config:
            settings = config_for(stem)
            if model is not None:
                settings = json.loads(Path(f"{model}.json").read_text("utf-8"))
            Path(f"{onnx}.json").write_text(json.dumps(settings), "utf-8")
            files.append(f"{package}/data/{stem}.onnx.json")
        models.append(onnx)
    info = site / f"{package}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    files += [f"{info.name}/METADATA", f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in files))
    return models


def test_a_voice_package_is_found_and_named_by_its_speaker(site: Path) -> None:
    (amy,) = install_package(site, "amy-us-piper-voice", ["en_US-amy-medium"])
    voices = bundled_voices()
    assert voices["amy"] == amy
    assert list(voices) == ["joe", "amy"]  # the default stays first
    found = installed_voices()["amy"]
    assert found.bundled and found.language == "en_US" and found.model == amy
    assert resolve_voice("amy") == ("amy", amy)
    assert resolve_voice("en_US-amy-medium") == ("en_US-amy-medium", amy)


def test_piper_voice_first_names_and_several_voices_in_one_package(site: Path) -> None:
    models = install_package(
        site, "piper-voice-english", ["en_GB-alba-medium", "en_US-kristin-medium"]
    )
    voices = bundled_voices()
    assert voices["alba"] == models[0] and voices["kristin"] == models[1]


def test_a_second_voice_of_the_same_speaker_keeps_its_file_name(site: Path) -> None:
    low, medium = install_package(site, "amy-us-piper-voice", ["en_US-amy-low", "en_US-amy-medium"])
    voices = bundled_voices()
    assert voices["amy"] == low
    assert voices["en_US-amy-medium"] == medium


def test_a_model_without_its_config_and_other_packages_are_left_out(site: Path) -> None:
    install_package(site, "amy-us-piper-voice", ["en_US-amy-medium"], config=False)
    install_package(site, "not-a-voice", ["en_US-ryan-medium"])
    voices = bundled_voices()
    assert "amy" not in voices and "ryan" not in voices and "en_US-amy-medium" not in voices
    assert "joe" in voices


def test_a_package_twice_on_the_path_counts_once_the_first(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = tmp_path / "older"
    older.mkdir()
    install_package(older, "amy-us-piper-voice", ["en_US-amy-x_low"], version="0.9")
    (newer,) = install_package(site, "amy-us-piper-voice", ["en_US-amy-medium"])
    monkeypatch.syspath_prepend(str(older))
    monkeypatch.syspath_prepend(str(site))  # searched first, as Python imports it
    voices = bundled_voices()
    assert voices["amy"] == newer and "en_US-amy-x_low" not in voices


def test_guidecast_voices_lists_a_bundled_voice(site: Path) -> None:
    install_package(site, "alba-gb-piper-voice", ["en_GB-alba-medium"])
    result = CliRunner().invoke(cli, ["voices"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines() if line.startswith("  ")}
    assert "en_GB" in rows["alba"] and "(bundled)" in rows["alba"]
    assert "(bundled, default)" in rows["joe"]
    british = CliRunner().invoke(cli, ["voices", "--language", "en-GB"])
    assert "alba" in british.output and "joe" not in british.output


def test_a_bundled_voice_is_picked_for_its_language_and_joe_stays_the_english_default(
    site: Path,
) -> None:
    install_package(site, "alba-gb-piper-voice", ["en_GB-alba-medium"])
    assert voice_for_language("en-GB").name == "alba"
    assert voice_for_language("en").name == "joe"
    assert resolve_voice(None) == ("joe", bundled_voices()["joe"])


def test_removing_a_bundled_voice_is_refused(site: Path) -> None:
    (alba,) = install_package(site, "alba-gb-piper-voice", ["en_GB-alba-medium"])
    with pytest.raises(EngineError, match="bundled with guidecast"):
        remove_voice("alba")
    assert alba.is_file()


@pytest.mark.slow
def test_a_bundled_voice_speaks_with_voice_name(site: Path, tmp_path: Path) -> None:
    """A package whose model is joe's own file, under another speaker's name, renders."""
    joe = bundled_voices()["joe"]
    (model,) = install_package(site, "sam-us-piper-voice", ["en_US-sam-medium"], model=joe)
    wav = tmp_path / "stay.wav"
    result = CliRunner().invoke(cli, ["say", "Stay here.", "--voice", "sam", "-o", str(wav)])
    assert result.exit_code == 0, result.output
    assert wav.stat().st_size > 10_000
    engine = PiperEngine("sam")
    assert engine.model == model and engine.identity() != PiperEngine().identity()


def test_the_same_voice_in_two_packages_counts_once_the_first_found(site: Path) -> None:
    (first,) = install_package(site, "amy-us-piper-voice", ["en_US-amy-medium"])
    install_package(site, "piper-voice-amy", ["en_US-amy-medium"])  # listed after amy_us_...
    voices = bundled_voices()
    assert voices["amy"] == first and "en_US-amy-medium" not in voices
