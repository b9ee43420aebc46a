"""Fixtures shared by the test modules; helpers they import live in ``tests/helpers/``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from helpers.cli import run_cli

from gridkit.data import SAMPLE_DIR, data_path


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run ``gridkit`` in-process: ``cli("validate", path, "--format", "json")``."""
    return run_cli


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The packaged sample (``gridkit/data/sample``): read it, never write into it."""
    return SAMPLE_DIR


@pytest.fixture
def data_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder where ``data/`` is the packaged data, as in the pre-package checkout.

    Commands run there name their inputs ``data/sample/...`` exactly as the README
    examples did before the data moved into the package (the golden JSON holds them).
    """
    (tmp_path / "data").symlink_to(data_path(), target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path
