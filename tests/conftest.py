"""Shared pytest options, and no network for any test."""

from __future__ import annotations

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
