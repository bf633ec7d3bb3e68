"""Speech engines: gTTS with its HTTP layer mocked, Piper voices by name and path, `voices`,
and one real (slow) Piper render. No test reaches the network."""

from __future__ import annotations

import base64
import io
import json
import socket
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import requests
from click.testing import CliRunner
from mutagen.id3 import ID3

from guidecast.cli import cli
from guidecast.errors import EngineError
from guidecast.tts import GttsEngine, PiperEngine, bundled_voices, make_engine
from render_fixtures import (
    RATE,
    NetworkBlocked,
    decode,
    ffmetadata,
    ffmpeg_errors,
    run_main,
    tone_mp3,
    true_peak_dbtp,
    write_routine,
)


def test_the_network_guard_refuses_outside_connections() -> None:
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("translate.google.com", 443)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("https://translate.google.com/", timeout=1)
    with socket.create_server(("127.0.0.1", 0)) as server:  # loopback still works
        socket.create_connection(server.getsockname(), timeout=1).close()


# -- gTTS, with the HTTP layer mocked -------------------------------------------------------------

GTTS_RATE = 24_000
TONE_HZ = 440.0


def mp3_tone(seconds: float) -> bytes:
    """An MP3 like the ones Google sends: mono, 24 kHz, 32 kbit/s; here a 440 Hz tone."""
    return tone_mp3(seconds, rate=GTTS_RATE, hz=TONE_HZ, bitrate=32)


def google_reply(audio: bytes) -> bytes:
    """A batchexecute reply body in the line format gTTS parses (a `jQ1olc` line)."""
    payload = base64.b64encode(audio).decode("ascii")
    reply = [["wrb.fr", "jQ1olc", f'["{payload}"]', None, None, None, "generic"]]
    line = json.dumps(reply, separators=(",", ":"))
    return b")]}'\n\n" + str(len(line)).encode() + b"\n" + line.encode() + b"\n"


@dataclass
class FakeGoogle:
    """Stands in for `requests.Session.send`: records requests, answers with a tone or fails."""

    seconds: float = 1.0
    fail: Exception | None = None
    status: int = 200
    sent: list[list[object]] = field(default_factory=list)

    def send(self, request: requests.PreparedRequest) -> requests.Response:
        body = urllib.parse.unquote(str(request.body)).removeprefix("f.req=").rstrip("&")
        self.sent.append(json.loads(json.loads(body)[0][0][1]))
        if self.fail is not None:
            raise self.fail
        response = requests.Response()
        response.status_code = self.status
        response.request = request
        response.url = str(request.url)
        response.raw = io.BytesIO(google_reply(mp3_tone(self.seconds)))
        return response


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> FakeGoogle:
    fake = FakeGoogle()
    monkeypatch.setattr(requests.Session, "send", lambda session, request, **_: fake.send(request))
    return fake


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


def test_gtts_synthesizes_a_clip_of_the_right_length(google: FakeGoogle) -> None:
    engine = make_engine("gtts", None, "en-GB")
    assert isinstance(engine, GttsEngine)
    clip = engine.synthesize("Sit tall and breathe.", rate=1.0)
    assert clip.sample_rate == GTTS_RATE
    assert clip.samples.dtype == np.int16
    # One second of tone, plus at most the MP3's encoder delay and padding (no gapless tag).
    assert 1000 <= clip.ms <= 1100
    assert abs(dominant_hz(clip.samples, clip.sample_rate) - TONE_HZ) < 5
    assert google.sent == [["Sit tall and breathe.", "en", None, "null"]]


def test_gtts_slow_rates_ask_for_slow_speech(google: FakeGoogle) -> None:
    engine = GttsEngine()
    engine.synthesize("Slowly.", rate=0.75)
    engine.synthesize("Normally.", rate=1.0)
    assert [s[2] for s in google.sent] == [True, None]


def test_gtts_renders_a_session_through_the_cli(google: FakeGoogle, tmp_path: Path) -> None:
    routine = write_routine(
        tmp_path, "title: Online\nsteps:\n  - pose: Easy Pose\n    hold: 3s\n", "online"
    )
    args = ["render", str(routine), "-o", str(tmp_path / "out"), "-e", "gtts"]
    result = CliRunner().invoke(cli, [*args, "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert [s[0] for s in google.sent] == ["Easy Pose.", "And hold."]  # a hold heard starting
    assert ffmpeg_errors(tmp_path / "out" / "online.mp3") == ""


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectionError("Failed to establish a new connection"),
        requests.exceptions.Timeout("read timed out"),
    ],
    ids=["offline", "timeout"],
)
def test_gtts_network_failure_is_an_engine_error_suggesting_piper(
    google: FakeGoogle, failure: Exception
) -> None:
    google.fail = failure
    with pytest.raises(EngineError) as info:
        GttsEngine().synthesize("Hello.", rate=1.0)
    message = str(info.value)
    assert info.value.hint == "offline"  # the command line words the advice (--engine piper)
    assert "--" not in message
    assert "gtts" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("failure", "cause"),
    [
        (requests.exceptions.ConnectionError("no route"), "Probable cause: no internet connection"),
        (requests.exceptions.Timeout("read timed out"), "did not answer in time"),
    ],
)
def test_gtts_without_an_answer_says_what_happened(
    google: FakeGoogle, failure: Exception, cause: str
) -> None:
    google.fail = failure
    with pytest.raises(EngineError) as info:
        GttsEngine().synthesize("Hello.", rate=1.0)
    assert cause in str(info.value)
    assert "could not reach the service" in str(info.value)
    assert "Unknown" not in str(info.value)


def test_gtts_http_error_is_an_engine_error(google: FakeGoogle) -> None:
    google.status = 503
    with pytest.raises(EngineError) as info:
        GttsEngine().synthesize("Hello.", rate=1.0)
    assert "gtts" in str(info.value) and "\n" not in str(info.value)


def test_gtts_offline_through_the_cli_is_one_line_and_exit_1(
    google: FakeGoogle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    google.fail = requests.exceptions.ConnectionError("Failed to establish a new connection")
    routine = write_routine(tmp_path, "title: Offline\nsteps:\n  - pose: Cat\n    hold: 5s\n")
    args = ["render", routine, "-o", tmp_path / "out", "--engine", "gtts"]
    code, stdout, stderr = run_main(
        ["-q", *args, "--cache-dir", tmp_path / "cache"], monkeypatch, capsys
    )
    assert code == 1
    assert stdout == ""
    error, hint = stderr.splitlines()
    assert error.startswith("error: ") and hint.startswith("hint: "), stderr
    assert "--engine piper" in hint and "Traceback" not in stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# -- Piper voices ---------------------------------------------------------------------------------


def test_voices_lists_piper_with_joe_and_gtts() -> None:
    result = CliRunner().invoke(cli, ["voices"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    piper = next(i for i, line in enumerate(lines) if line.startswith("piper"))
    gtts = next(i for i, line in enumerate(lines) if line.startswith("gtts"))
    joe = next(i for i, line in enumerate(lines) if line.split()[:1] == ["joe"])
    assert piper < joe < gtts  # joe is listed under piper
    assert bundled_voices()["joe"].name in lines[joe]
    assert bundled_voices()["joe"].is_file()
    assert any(line.startswith("fake") for line in lines)


def test_piper_voice_by_path_works_like_by_name() -> None:
    by_name = PiperEngine("joe")
    by_path = PiperEngine(str(bundled_voices()["joe"]))
    assert by_path.model == by_name.model
    assert by_path.identity() == by_name.identity()  # same voice, same cache entries


def test_piper_voice_path_that_does_not_exist_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "en_GB-alba-medium.onnx"
    with pytest.raises(EngineError) as info:
        PiperEngine(str(missing))
    message = str(info.value)
    assert str(missing) in message and "not found" in message and ".onnx.json" in message


def test_piper_voice_without_its_config_is_a_clear_error(tmp_path: Path) -> None:
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"not really a model")
    with pytest.raises(EngineError) as info:
        PiperEngine(str(model))
    assert ".onnx.json" in str(info.value)


def test_unknown_piper_voice_name_lists_the_bundled_ones() -> None:
    with pytest.raises(EngineError) as info:
        PiperEngine("bob")
    assert "'bob'" in str(info.value) and "joe" in str(info.value)


def test_missing_piper_voice_through_the_cli_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = write_routine(tmp_path, "title: Voice\nsteps:\n  - pose: Cat\n    hold: 5s\n")
    missing = tmp_path / "nowhere" / "voice.onnx"
    args = ["-q", "render", routine, "-o", tmp_path / "out", "--voice", missing]
    code, _, stderr = run_main([*args, "--cache-dir", tmp_path / "cache"], monkeypatch, capsys)
    assert code == 1
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    assert str(missing) in stderr and "Traceback" not in stderr


# -- the real voice -----------------------------------------------------------------------------

TWO_STEPS = """\
title: Two Steps
steps:
  - pose: Easy Pose
    cue: Sit tall and let your breath slow down.
    hold: 4s
  - pose: Child's Pose
    cue: Rest your forehead on the mat.
    hold: 4s
"""


@pytest.mark.slow
def test_real_piper_voice_renders_a_clean_chaptered_mp3(tmp_path: Path) -> None:
    routine = write_routine(tmp_path, TWO_STEPS, "two-steps")
    args = ["render", str(routine), "-o", str(tmp_path / "out"), "--engine", "piper"]
    result = CliRunner().invoke(cli, [*args, "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    mp3 = tmp_path / "out" / "two-steps.mp3"
    assert ffmpeg_errors(mp3) == ""

    titles = ["Start", "Easy Pose", "Child's Pose"]
    chaps = sorted(ID3(mp3).getall("CHAP"), key=lambda c: c.start_time)
    assert [c.sub_frames["TIT2"].text[0] for c in chaps] == titles
    assert [c.title for c in ffmetadata(mp3).chapters] == titles
    assert chaps[0].start_time == 0

    audio = decode(mp3)
    assert abs(len(audio) - chaps[-1].end_time * RATE / 1000) <= RATE / 1000
    speech = audio[chaps[1].start_time * RATE // 1000 : chaps[2].start_time * RATE // 1000]
    assert np.sqrt(np.mean(speech**2)) > 1e-3  # the voice is there, not silence
    assert abs(pyloudnorm.Meter(RATE).integrated_loudness(audio) - -19.0) <= 1.0
    assert true_peak_dbtp(audio) <= -1.0
