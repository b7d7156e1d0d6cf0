"""Shared fixtures: where ../shared lives, and the rule that a missing ../shared skips or fails."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

import engine  # noqa: F401  (first: keeps Triton out of the process, see engine/__init__)
from tests.engine.tiny_models import register_tiny_route

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POINTE_SHARED_DIR", ROOT.parent / "shared"))
ARTIFACTS = ROOT / "tests" / "artifacts"

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a missing hub model must fail fast, never retry
# never the real per-user folder: timings, stores and history of tests stay in a temp folder
os.environ.setdefault("POINTE_STUDIO_HOME", tempfile.mkdtemp(prefix="pointe-tests-"))
register_tiny_route()  # model "tiny-random": real sampling through the pipeline, in seconds


def _need(path: Path) -> Path:
    if not path.exists():
        reason = f"reference data not found at {path} (the ../shared folder beside the checkout)"
        if os.environ.get("POINTE_REQUIRE_SHARED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """../shared/pointe-vectors: reference weights, inputs and outputs of the official code."""
    return _need(SHARED / "pointe-vectors")


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    """../shared/examples: real Point-E images and point clouds."""
    return _need(SHARED / "examples")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """tests/artifacts (git-ignored): pictures and files saved for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
