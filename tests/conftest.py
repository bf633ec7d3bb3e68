"""Shared pytest options, and no network for any test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from guidecast.sound.render import Voice
from render_fixtures import block_network, piper_voice_for


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach beyond loopback: gTTS is mocked, Piper is local."""
    block_network(monkeypatch)


@pytest.fixture(scope="session")
def piper_voice(tmp_path_factory: pytest.TempPathFactory) -> Voice:
    """One real Piper voice and cache for the slow tests: each sentence is synthesized once."""
    return piper_voice_for(tmp_path_factory.mktemp("piper-cache"))


@pytest.fixture(scope="session")
def _no_voices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("no-installed-voices")


@pytest.fixture(autouse=True)
def _own_voices_folder(monkeypatch: pytest.MonkeyPatch, _no_voices: Path) -> None:
    """Voices the user installed never change a test: only the bundled voice is there."""
    monkeypatch.setenv("GUIDECAST_VOICES_DIR", str(_no_voices))
    monkeypatch.delenv("GUIDECAST_VOICES_URL", raising=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="Rewrite tests/cases/*.timeline.txt from the current compiler output.",
    )
    parser.addoption(
        "--fuzz-cases",
        type=int,
        default=int(os.environ.get("GUIDECAST_FUZZ_CASES", "300")),
        help="Mutated routines tests/test_fuzz.py tries (env GUIDECAST_FUZZ_CASES). [300]",
    )
    parser.addoption(
        "--fuzz-seed",
        type=int,
        default=9,
        help="Seed of the mutation fuzz test's random series. [9]",
    )
