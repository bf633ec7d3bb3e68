"""Shared pytest options, and no network for any test."""

from __future__ import annotations

import os

import pytest

from render_fixtures import block_network


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach beyond loopback: gTTS is mocked, Piper is local."""
    block_network(monkeypatch)


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
