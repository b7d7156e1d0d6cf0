"""Packaging test fixtures: packaging/ modules, and a stand-in bundle with the real layout."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
if str(PACKAGING) not in sys.path:
    sys.path.insert(0, str(PACKAGING))  # build.py imports its siblings by plain name

# A launcher that answers --selftest like the frozen app does, so installers can be exercised
# in seconds: the real bundle takes ~12 minutes to build (see test_installed_deb.py).
STAND_IN_EXE = """#!/bin/sh
if [ "${1:-}" = "--selftest" ]; then echo "SELFTEST OK: stand-in"; exit 0; fi
echo "stand-in Point-E Studio $*"
"""


def make_stand_in(folder: Path, *, windows: bool = False) -> Path:
    """A folder laid out like dist/PointE-Studio/ (executable + _internal/), a few KB in size."""
    internal = folder / "_internal"
    (internal / "resources" / "icons").mkdir(parents=True)
    (internal / "torch" / "lib").mkdir(parents=True)
    names = ["pointe-studio.exe", "pointe-studio-cli.exe"] if windows else ["pointe-studio"]
    for name in names:
        exe = folder / name
        exe.write_text(STAND_IN_EXE if not windows else "MZ stand-in", encoding="ascii")
        exe.chmod(0o755)
    (internal / "base_library.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (internal / "torch" / "lib" / "libtorch_cpu.so").write_bytes(b"\x7fELF stand-in")
    (internal / "resources" / "icons" / "app.svg").write_text("<svg/>", encoding="ascii")
    return folder


@pytest.fixture
def stand_in(tmp_path: Path) -> Path:
    return make_stand_in(tmp_path / "dist" / "PointE-Studio")


@pytest.fixture
def stand_in_windows(tmp_path: Path) -> Path:
    return make_stand_in(tmp_path / "win" / "PointE-Studio", windows=True)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
