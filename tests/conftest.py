"""Shared fixtures: paths to the test inputs and the configured sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config import Sources, load_sources

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def sources() -> Sources:
    return load_sources(ROOT / "sources.yaml")
